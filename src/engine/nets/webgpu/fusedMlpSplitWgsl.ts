/**
 * The split fused training step (SGD, or momentum or Adam: fusedOptimizerWgsl.ts) (784-h-h-10, no biases, ReLU, softmax cross-entropy) in WGSL: one
 * step of a run is spread over many workgroups in two dispatches, so a single run uses many of
 * the GPU's multiprocessors instead of one (fusedMlpWgsl.ts keeps a whole run in one
 * workgroup, which leaves one run latency-bound on one multiprocessor).
 *
 * - `forward` (one workgroup per sample and run): everything that is per sample — x·W1, h2,
 *   logits, softmax cross-entropy, and the deltas d3, d2, d1 — with weights only read. The
 *   784-long products are split over ⌊WG/h⌋ groups of threads and summed in workgroup memory.
 * - `update` (a thread per weight and run): the batch sums that make the gradients (xᵀ·d1,
 *   h1ᵀ·d2, h2ᵀ·d3) and the SGD update, the batch's mean loss, W2's snapshot. W1's part takes
 *   whole pixel rows per workgroup, with d1 and the rows' pixels staged in workgroup memory.
 *
 * Steps follow one another inside one compute pass: a dispatch boundary orders the storage
 * writes of one dispatch before the reads of the next, so K steps are 2K dispatches in one
 * submission. The step number comes from a uniform bound with a dynamic offset per step.
 *
 * Layouts are the CPU path's (src/engine/nets/mlp.ts), as in fusedMlpWgsl.ts; pixels go through
 * the same float32 table (PIXEL_LUT), so inputs are bit-identical.
 */
import { CLASSES } from '../mlp';
import { SGD, type OptimizerSettings } from '../netTypes';
import { weightFloats } from './fusedMlpWgsl';
import { optimizerWgsl } from './fusedOptimizerWgsl';

/** WebGPU's guaranteed minimum of invocations per workgroup. */
export const SPLIT_WORKGROUP = 256;

/** Scratch floats one run needs: the batch's pixels, h1, h2, d1, d2, d3, per-sample loss/error. */
export function splitScratchFloats(hidden: number, bmax: number, inputSize: number): number {
  return bmax * inputSize + 4 * bmax * hidden + bmax * CLASSES + 2 * bmax;
}

/**
 * Workgroups of `update` per run: ⌊WG/h⌋ pixel rows of W1 per workgroup, then one thread per
 * weight of W2 and W3.
 */
export function splitUpdateGroups(
  hidden: number,
  inputSize: number,
  workgroupSize: number,
): number {
  const ppw = Math.max(1, Math.floor(workgroupSize / hidden));
  return (
    Math.ceil(inputSize / ppw) + Math.ceil((hidden * hidden + hidden * CLASSES) / workgroupSize)
  );
}

/**
 * WGSL statements that leave `let ${name} = Σ_{i<n} term(i)` with `unroll` independent
 * accumulators: constant trip counts and several loads in flight per thread, since each
 * term's load waits on the cache and a plain loop issues them one after another.
 */
function dot(name: string, n: number, term: (i: string) => string, unroll = 4): string {
  const U = Math.max(1, Math.min(unroll, n));
  const main = n - (n % U);
  const acc = Array.from({ length: U }, (_, u) => `${name}${u}`);
  const lines = acc.map((a) => `var ${a} = 0.0;`);
  if (main > 0)
    lines.push(
      `for (var i = 0u; i < ${main}u; i += ${U}u) { ${acc.map((a, u) => `${a} += ${term(u ? `(i + ${u}u)` : 'i')};`).join(' ')} }`,
    );
  for (let k = main; k < n; k++) lines.push(`${acc[k - main]} += ${term(`${k}u`)};`);
  lines.push(`let ${name} = ${acc.join(' + ')};`);
  return lines.join('\n    ');
}

/**
 * WGSL for out[j] = Σ_{k<K} term(k, j), j < N, inside one workgroup of WG threads: ⌊WG/N⌋
 * groups (at most K) each sum every G-th k into `part`, then one thread per j adds the groups'
 * sums up and runs `finish` (with the total in `a`). Short dependent chains of loads instead of
 * one K-long chain per thread.
 */
function grouped(
  N: number,
  K: number,
  WG: number,
  term: (k: string, j: string) => string,
  finish: string,
): string {
  const G = Math.max(1, Math.min(K, Math.floor(WG / N)));
  const per = Math.ceil(K / G);
  const guarded = (i: string) => {
    const k = `(g + ${i} * ${G}u)`;
    return K % G === 0
      ? term(k, 'j')
      : `select(0.0, ${term(`min(${k}, ${K - 1}u)`, 'j')}, ${k} < ${K}u)`;
  };
  return `for (var o = t; o < ${G * N}u; o += WG) {
    let g = o / ${N}u;
    let j = o % ${N}u;
    ${dot('a', per, guarded, 8)}
    part[o] = a;
  }
  workgroupBarrier();
  for (var j = t; j < ${N}u; j += WG) {
    var a = 0.0;
    for (var g = 0u; g < ${G}u; g++) { a += part[g * ${N}u + j]; }
    ${finish}
  }`;
}

/** Workgroup floats `grouped` needs for an N-long output from a K-long sum. */
function groupedFloats(N: number, K: number, WG: number): number {
  return Math.max(1, Math.min(K, Math.floor(WG / N))) * N;
}

/** Floats of workgroup memory `update` may use to stage d1 and the pixels (16 KiB, the minimum). */
const STAGE_FLOATS = 4000;

/** The shader (entry points `forward` and `update`), specialised to one shape and R runs. */
export function fusedMlpSplitWgsl(
  hidden: number,
  inputSize: number,
  bmax: number,
  runs: number,
  workgroupSize = SPLIT_WORKGROUP,
  optimizer: OptimizerSettings = SGD,
): string {
  const opt = optimizerWgsl(optimizer);
  const H = hidden;
  const IN = inputSize;
  const C = CLASSES;
  const WG = workgroupSize;
  // Thread groups that share x·W1's 784-long sums: group g takes pixels g, g + G, …; the pixel
  // row is padded with zeros to NI·G so every group runs the same constant count.
  const G = Math.max(1, Math.floor(WG / H));
  const NI = Math.ceil(IN / G);
  const X = 0;
  const H1 = X + bmax * IN;
  const H2 = H1 + bmax * H;
  const D1 = H2 + bmax * H;
  const D2 = D1 + bmax * H;
  const D3 = D2 + bmax * H;
  const LS = D3 + bmax * C;
  // update: the W1 part takes PPW whole pixel rows per workgroup, with d1 and those pixels of the
  // batch staged in workgroup memory when they fit; W2 and W3 follow, one thread per weight.
  const PPW = Math.max(1, Math.floor(WG / H));
  const NW1 = Math.ceil(IN / PPW);
  const stage = bmax * (H + PPW) <= STAGE_FLOATS;
  // Sums over the batch run to BMAX: rows past a run's own B are never written (forward returns
  // first) and stay zero, so they add nothing.
  const w1Update = stage
    ? `
    for (var i = t; i < BMAX * H; i += WG) { d1s[i] = scratch[s0 + ${D1}u + i]; }
    for (var i = t; i < BMAX * PPW; i += WG) {
      let p = p0 + i % PPW;
      xt[i] = select(0.0, scratch[s0 + ${X}u + (i / PPW) * IN + min(p, IN - 1u)], p < IN);
    }
    workgroupBarrier();
    for (var o = t; o < PPW * H; o += WG) {
      let q = o / H;
      let j = o % H;
      if (p0 + q < IN) {
    ${dot('a', bmax, (b) => `xt[${b} * PPW + q] * d1s[${b} * H + j]`)}
        ${opt.apply('w1 + (p0 + q) * H + j', 'a')}
      }
    }`
    : `
    for (var o = t; o < PPW * H; o += WG) {
      let q = o / H;
      let j = o % H;
      if (p0 + q < IN) {
    ${dot('a', bmax, (b) => `scratch[s0 + ${X}u + ${b} * IN + p0 + q] * scratch[s0 + ${D1}u + ${b} * H + j]`, 8)}
        ${opt.apply('w1 + (p0 + q) * H + j', 'a')}
      }
    }`;
  return /* wgsl */ `
// Per step (one 256-byte slot each, bound with a dynamic offset): the step's number in the chunk,
// the chunk's length, whether W2 snapshots are written.
struct Step { s: u32, steps: u32, snap: u32, pad: u32 };
struct RunParams { batch: u32, lr: f32, mu: f32, pad1: u32 };

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<storage, read> images: array<u32>;
// The first 256 entries are PIXEL_LUT's bits, then one label per training sample.
@group(0) @binding(2) var<storage, read> lutLabels: array<u32>;
// Minibatch indices, step-major: [step][run][bmax].
@group(0) @binding(3) var<storage, read> idx: array<u32>;
@group(0) @binding(4) var<storage, read> params: array<RunParams>;
@group(0) @binding(5) var<storage, read_write> weights: array<f32>;
@group(0) @binding(6) var<storage, read_write> scratch: array<f32>;
// Per run and step: mean loss, error count (run-major); then (when step.snap) W2 after every step.
@group(0) @binding(7) var<storage, read_write> outs: array<f32>;

const H = ${H}u;
const IN = ${IN}u;
const C = ${C}u;
const P = ${weightFloats(H, IN)}u;
const S = ${splitScratchFloats(H, bmax, IN)}u;
const R = ${runs}u;
const BMAX = ${bmax}u;
const WG = ${WG}u;
const G = ${G}u;
const PPW = ${PPW}u;
const NW1 = ${NW1}u;
${opt.decls}
var<workgroup> xs: array<f32, ${NI * G}>;
var<workgroup> part: array<f32, ${Math.max(G * H, groupedFloats(H, H, WG), groupedFloats(C, H, WG))}>;
var<workgroup> h1s: array<f32, ${H}>;
var<workgroup> h2s: array<f32, ${H}>;
var<workgroup> zs: array<f32, ${C}>;
var<workgroup> d2s: array<f32, ${H}>;
${stage ? `var<workgroup> d1s: array<f32, ${bmax * H}>;\nvar<workgroup> xt: array<f32, ${bmax * PPW}>;` : ''}

@compute @workgroup_size(${WG})
fn forward(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let b = wg.x;
  let r = wg.y;
  let B = params[r].batch;
  if (b >= B) { return; }
  let sample = idx[(step.s * R + r) * BMAX + b];
  let s0 = r * S;
  let w1 = r * P;
  let w2 = w1 + IN * H;
  let w3 = w2 + H * H;
  // The sample's pixels: in workgroup memory for x·W1, in scratch for W1's gradient.
  for (var p = t; p < ${NI * G}u; p += WG) {
    var v = 0.0;
    if (p < IN) {
      let k = sample * IN + p;
      v = bitcast<f32>(lutLabels[(images[k >> 2u] >> ((k & 3u) * 8u)) & 0xffu]);
      scratch[s0 + ${X}u + b * IN + p] = v;
    }
    xs[p] = v;
  }
  workgroupBarrier();
  // h1 = relu(x·W1): G partial sums per unit, then their total.
  for (var o = t; o < G * H; o += WG) {
    let g = o / H;
    let j = o % H;
    ${dot('a', NI, (i) => `xs[g + ${i} * G] * weights[w1 + min(g + ${i} * G, IN - 1u) * H + j]`, 8)}
    part[o] = a;
  }
  workgroupBarrier();
  for (var j = t; j < H; j += WG) {
    var a = 0.0;
    for (var g = 0u; g < G; g++) { a += part[g * H + j]; }
    let v = max(a, 0.0);
    h1s[j] = v;
    scratch[s0 + ${H1}u + b * H + j] = v;
  }
  workgroupBarrier();
  // h2 = relu(h1·W2)
  ${grouped(
    H,
    H,
    WG,
    (k, j) => `h1s[${k}] * weights[w2 + ${k} * H + ${j}]`,
    `let v = max(a, 0.0);
    h2s[j] = v;
    scratch[s0 + ${H2}u + b * H + j] = v;`,
  )}
  workgroupBarrier();
  // logits = h2·W3
  ${grouped(C, H, WG, (k, c) => `h2s[${k}] * weights[w3 + ${k} * C + ${c}]`, 'zs[j] = a;')}
  workgroupBarrier();
  // Softmax cross-entropy; d3 = (softmax − onehot)/B replaces the logits.
  if (t == 0u) {
    var mx = zs[0];
    var arg = 0u;
    for (var c = 1u; c < C; c++) { if (zs[c] > mx) { mx = zs[c]; arg = c; } }
    var sum = 0.0;
    for (var c = 0u; c < C; c++) { sum += exp(zs[c] - mx); }
    let y = lutLabels[256u + sample];
    scratch[s0 + ${LS}u + 2u * b] = log(sum) + mx - zs[y];
    scratch[s0 + ${LS}u + 2u * b + 1u] = select(0.0, 1.0, arg != y);
    let invB = 1.0 / f32(B);
    for (var c = 0u; c < C; c++) {
      let d = (exp(zs[c] - mx) / sum - select(0.0, 1.0, c == y)) * invB;
      zs[c] = d;
      scratch[s0 + ${D3}u + b * C + c] = d;
    }
  }
  workgroupBarrier();
  // d2 = (d3·W3ᵀ) ⊙ [h2 > 0]
  for (var j = t; j < H; j += WG) {
    ${dot('a', C, (c) => `zs[${c}] * weights[w3 + j * C + ${c}]`)}
    let v = select(0.0, a, h2s[j] > 0.0);
    d2s[j] = v;
    scratch[s0 + ${D2}u + b * H + j] = v;
  }
  workgroupBarrier();
  // d1 = (d2·W2ᵀ) ⊙ [h1 > 0]
  ${grouped(H, H, WG, (j, k) => `d2s[${j}] * weights[w2 + ${k} * H + ${j}]`, `scratch[s0 + ${D1}u + b * H + j] = select(0.0, a, h1s[j] > 0.0);`)}
}

@compute @workgroup_size(${WG})
fn update(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let r = wg.y;
  let B = params[r].batch;
  let lr = params[r].lr;
  let s0 = r * S;
  let w1 = r * P;${opt.prelude('r * step.steps + step.s', '\n  ')}
  if (wg.x < NW1) {
    // W1 -= lr · xᵀ·d1 for pixels p0 … p0 + PPW − 1.
    let p0 = wg.x * PPW;
    if (wg.x == 0u && t == 0u) {
      var l = 0.0;
      var e = 0.0;
      for (var b = 0u; b < B; b++) { l += scratch[s0 + ${LS}u + 2u * b]; e += scratch[s0 + ${LS}u + 2u * b + 1u]; }
      let at = 2u * (r * step.steps + step.s);
      outs[at] = l / f32(B);
      outs[at + 1u] = e;
    }${w1Update}
    return;
  }
  let o = IN * H + (wg.x - NW1) * WG + t;
  if (o < IN * H + H * H) {
    // W2 -= lr · h1ᵀ·d2, and its snapshot
    let q = o - IN * H;
    let k = q / H;
    let j = q % H;
    ${dot('a', bmax, (b) => `scratch[s0 + ${H1}u + ${b} * H + k] * scratch[s0 + ${D2}u + ${b} * H + j]`, 8)}
    let v = ${opt.next('w1 + o', 'a')};
    weights[w1 + o] = v;
    if (step.snap != 0u) {
      outs[2u * R * step.steps + (r * step.steps + step.s) * H * H + q] = v;
    }
  } else if (o < P) {
    // W3 -= lr · h2ᵀ·d3
    let q = o - IN * H - H * H;
    let j = q / C;
    let c = q % C;
    ${dot('a', bmax, (b) => `scratch[s0 + ${H2}u + ${b} * H + j] * scratch[s0 + ${D3}u + ${b} * C + c]`, 8)}
    ${opt.apply('w1 + o', 'a')}
  }
}
`;
}
