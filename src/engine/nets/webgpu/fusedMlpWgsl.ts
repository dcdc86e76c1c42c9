/**
 * The fused training step (SGD, or momentum or Adam: fusedOptimizerWgsl.ts) of the paper's MLP (784-h-h-10, no biases, ReLU, softmax cross-entropy)
 * in WGSL. One workgroup owns one run: it loops over all the steps of a chunk inside a single
 * dispatch, forward, backward and update separated by workgroup-wide storage barriers, so a
 * chunk of K steps of R runs costs ONE dispatch. For B = 50, h = 50 a step is ~4 M multiply-adds:
 * per-op dispatches (the tfjs path) are latency, not arithmetic, which is what this removes.
 *
 * Layouts are the CPU path's (src/engine/nets/mlp.ts): W1 784×h, W2 h×h, W3 h×10, row-major,
 * one run after another in `weights`. Pixels are the data set's bytes packed four to a u32 and
 * mapped through the same float32 table as the CPU (PIXEL_LUT), so inputs are bit-identical.
 */
import { CLASSES } from '../mlp';
import { SGD, type OptimizerSettings } from '../netTypes';
import { optimizerWgsl } from './fusedOptimizerWgsl';

/** WebGPU's guaranteed minimum of invocations per workgroup; real GPUs allow 1,024. */
export const FUSED_WORKGROUP = 256;

/**
 * Scratch floats one run needs for a batch of `bmax`: the batch's pixels as floats (read by the
 * first layer and again by W1's gradient), activations, deltas, two gradients, per-sample loss.
 */
export function scratchFloats(hidden: number, bmax: number, inputSize: number): number {
  const h = hidden;
  return bmax * inputSize + 4 * bmax * h + 2 * bmax * CLASSES + h * h + h * CLASSES + 2 * bmax;
}

export function weightFloats(hidden: number, inputSize: number): number {
  return inputSize * hidden + hidden * hidden + hidden * CLASSES;
}

/** The shader, specialised to one shape (h, input size, largest batch) so loops have constants. */
/** Floats of workgroup memory the tiled kernel uses: WebGPU's guaranteed 16 KiB. */
const SHARED_FLOATS = 4096;

export function fusedMlpWgsl(
  hidden: number,
  inputSize: number,
  bmax: number,
  workgroupSize = FUSED_WORKGROUP,
  tiled = true,
  optimizer: OptimizerSettings = SGD,
): string {
  const opt = optimizerWgsl(optimizer);
  const H = hidden;
  const IN = inputSize;
  const C = CLASSES;
  const P = weightFloats(H, IN);
  // Scratch offsets, per run.
  const H1 = 0;
  const H2 = H1 + bmax * H;
  const D2 = H2 + bmax * H;
  const D1 = D2 + bmax * H;
  const LG = D1 + bmax * H; // logits, then d3 in place
  const G3 = LG + bmax * C;
  const G2 = G3 + H * C;
  const LS = G2 + H * H; // per-sample loss and error
  const X = LS + 2 * bmax; // the batch's pixels, B × IN
  const S = scratchFloats(H, bmax, IN);
  const WG = workgroupSize;
  // Tiled: the two 784-long products (x·W1 and W1's gradient xᵀ·d1, ~2 M multiply-adds each
  // at B = h = 50) read their operands from workgroup memory in tiles of pixels instead of
  // from storage, where every load waits on the cache after each storage barrier.
  const SH = SHARED_FLOATS - 256; // after the pixel table
  const TP1 = Math.min(IN, Math.floor(SH / (bmax + H))); // pixels per tile, x·W1
  const TP2 = Math.floor((SH - bmax * H) / bmax); // pixels per tile, xᵀ·d1 (d1 stays resident)
  const OUTS = Math.ceil((bmax * H) / WG);
  const useTiles = tiled && TP1 >= 1;
  const useTiles2 = tiled && TP2 >= 1;
  const loadXTile = (tp: number) => `
      for (var o = t; o < B * ${tp}u; o += WG) {
        let q = o % ${tp}u;
        if (p0 + q < IN) { sh[256u + o] = pxs(idx[ib + o / ${tp}u], p0 + q); }
      }`;
  const h1Phase = useTiles
    ? `
    // h1 = relu(x·W1), ${TP1} pixels at a time through workgroup memory.
    var acc1: array<f32, ${OUTS}>;
    for (var i = 0u; i < ${OUTS}u; i++) { acc1[i] = 0.0; }
    for (var p0 = 0u; p0 < IN; p0 += ${TP1}u) {
      let np = min(${TP1}u, IN - p0);
      ${loadXTile(TP1)}
      for (var o = t; o < np * H; o += WG) { sh[${256 + bmax * TP1}u + o] = weights[w1 + p0 * H + o]; }
      workgroupBarrier();
      for (var i = 0u; i < ${OUTS}u; i++) {
        let o = t + i * WG;
        if (o < B * H) {
          let b = o / H;
          let j = o % H;
          var a = acc1[i];
          for (var q = 0u; q < np; q++) { a += sh[256u + b * ${TP1}u + q] * sh[${256 + bmax * TP1}u + q * H + j]; }
          acc1[i] = a;
        }
      }
      workgroupBarrier();
    }
    for (var i = 0u; i < ${OUTS}u; i++) {
      let o = t + i * WG;
      if (o < B * H) { scratch[s0 + ${H1}u + o] = max(acc1[i], 0.0); }
    }
    storageBarrier();`
    : `
    // The batch's pixels, once: both x·W1 and W1's gradient read them from here.
    for (var o = t; o < B * IN; o += WG) { scratch[s0 + ${X}u + o] = pxs(idx[ib + o / IN], o % IN); }
    storageBarrier();
    // h1 = relu(x·W1)
    for (var o = t; o < B * H; o += WG) {
      let b = o / H;
      let j = o % H;
      var a = 0.0;
      for (var p = 0u; p < IN; p++) { a += scratch[s0 + ${X}u + b * IN + p] * weights[w1 + p * H + j]; }
      scratch[s0 + ${H1}u + o] = max(a, 0.0);
    }
    storageBarrier();`;
  const d1s = 256 + bmax * TP2; // d1's place in workgroup memory, after the pixel tile
  const w1Phase = useTiles2
    ? `
    // W1 update from gW1 = xᵀ·d1: d1 resident in workgroup memory, ${TP2} pixels at a time.
    for (var o = t; o < B * H; o += WG) { sh[${d1s}u + o] = scratch[s0 + ${D1}u + o]; }
    for (var p0 = 0u; p0 < IN; p0 += ${TP2}u) {
      let np = min(${TP2}u, IN - p0);
      ${loadXTile(TP2)}
      workgroupBarrier();
      for (var o = t; o < np * H; o += WG) {
        let q = o / H;
        let j = o % H;
        var a = 0.0;
        for (var b = 0u; b < B; b++) { a += sh[256u + b * ${TP2}u + q] * sh[${d1s}u + b * H + j]; }
        ${opt.apply('w1 + p0 * H + o', 'a')}
      }
      workgroupBarrier();
    }`
    : `
    // W1 update from gW1 = xᵀ·d1.
    for (var o = t; o < IN * H; o += WG) {
      let p = o / H;
      let j = o % H;
      var a = 0.0;
      for (var b = 0u; b < B; b++) { a += ${useTiles ? 'pxs(idx[ib + b], p)' : `scratch[s0 + ${X}u + b * IN + p]`} * scratch[s0 + ${D1}u + b * H + j]; }
      ${opt.apply('w1 + o', 'a')}
    }`;
  return /* wgsl */ `
struct Chunk { steps: u32, snap: u32, bmax: u32, pad: u32 };
struct RunParams { batch: u32, lr: f32, mu: f32, pad1: u32 };

@group(0) @binding(0) var<uniform> chunk: Chunk;
@group(0) @binding(1) var<storage, read> images: array<u32>;
// The first 256 entries are PIXEL_LUT's bits, then one label per training sample.
@group(0) @binding(2) var<storage, read> lutLabels: array<u32>;
@group(0) @binding(3) var<storage, read> idx: array<u32>;
@group(0) @binding(4) var<storage, read> params: array<RunParams>;
@group(0) @binding(5) var<storage, read_write> weights: array<f32>;
@group(0) @binding(6) var<storage, read_write> scratch: array<f32>;
// Per run and step: mean loss, error count; then (when chunk.snap) W2 after every step.
@group(0) @binding(7) var<storage, read_write> outs: array<f32>;

// Workgroup memory: PIXEL_LUT in [0, 256), then tiles.
var<workgroup> sh: array<f32, ${SHARED_FLOATS}>;

const H = ${H}u;
const IN = ${IN}u;
const C = ${C}u;
const P = ${P}u;
const S = ${S}u;
const WG = ${WG}u;
${opt.decls}
fn pxs(sample: u32, p: u32) -> f32 {
  let k = sample * IN + p;
  let byte = (images[k >> 2u] >> ((k & 3u) * 8u)) & 0xffu;
  return sh[byte];
}

@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let r = wg.x;
  let B = params[r].batch;
  let lr = params[r].lr;
  let w1 = r * P;
  let w2 = w1 + IN * H;
  let w3 = w2 + H * H;
  let s0 = r * S;
  let nRuns = arrayLength(&params);
  let outLoss = r * chunk.steps * 2u;
  let outSnap = nRuns * chunk.steps * 2u + r * chunk.steps * H * H;
  let invB = 1.0 / f32(B);
  for (var i = t; i < 256u; i += WG) { sh[i] = bitcast<f32>(lutLabels[i]); }
  workgroupBarrier();
  for (var s = 0u; s < chunk.steps; s++) {
    let ib = (r * chunk.steps + s) * chunk.bmax;${opt.prelude('r * chunk.steps + s', '\n    ')}
${h1Phase}
    // h2 = relu(h1·W2)
    for (var o = t; o < B * H; o += WG) {
      let b = o / H;
      let j = o % H;
      var acc = 0.0;
      for (var k = 0u; k < H; k++) { acc += scratch[s0 + ${H1}u + b * H + k] * weights[w2 + k * H + j]; }
      scratch[s0 + ${H2}u + o] = max(acc, 0.0);
    }
    storageBarrier();
    // logits = h2·W3
    for (var o = t; o < B * C; o += WG) {
      let b = o / C;
      let c = o % C;
      var acc = 0.0;
      for (var k = 0u; k < H; k++) { acc += scratch[s0 + ${H2}u + b * H + k] * weights[w3 + k * C + c]; }
      scratch[s0 + ${LG}u + o] = acc;
    }
    storageBarrier();
    // Softmax cross-entropy per sample; d3 = (softmax − onehot)/B replaces the logits.
    for (var b = t; b < B; b += WG) {
      let o = s0 + ${LG}u + b * C;
      var mx = scratch[o];
      var arg = 0u;
      for (var c = 1u; c < C; c++) { let v = scratch[o + c]; if (v > mx) { mx = v; arg = c; } }
      var sum = 0.0;
      for (var c = 0u; c < C; c++) { sum += exp(scratch[o + c] - mx); }
      let y = lutLabels[256u + idx[ib + b]];
      scratch[s0 + ${LS}u + 2u * b] = log(sum) + mx - scratch[o + y];
      scratch[s0 + ${LS}u + 2u * b + 1u] = select(0.0, 1.0, arg != y);
      for (var c = 0u; c < C; c++) {
        let pc = exp(scratch[o + c] - mx) / sum;
        scratch[o + c] = (pc - select(0.0, 1.0, c == y)) * invB;
      }
    }
    storageBarrier();
    // d2 = (d3·W3ᵀ) ⊙ [h2 > 0]; gW3 = h2ᵀ·d3; the batch's mean loss and errors.
    for (var o = t; o < B * H; o += WG) {
      let b = o / H;
      let j = o % H;
      var acc = 0.0;
      for (var c = 0u; c < C; c++) { acc += scratch[s0 + ${LG}u + b * C + c] * weights[w3 + j * C + c]; }
      scratch[s0 + ${D2}u + o] = select(0.0, acc, scratch[s0 + ${H2}u + o] > 0.0);
    }
    for (var o = t; o < H * C; o += WG) {
      let j = o / C;
      let c = o % C;
      var acc = 0.0;
      for (var b = 0u; b < B; b++) { acc += scratch[s0 + ${H2}u + b * H + j] * scratch[s0 + ${LG}u + b * C + c]; }
      scratch[s0 + ${G3}u + o] = acc;
    }
    if (t == 0u) {
      var l = 0.0;
      var e = 0.0;
      for (var b = 0u; b < B; b++) { l += scratch[s0 + ${LS}u + 2u * b]; e += scratch[s0 + ${LS}u + 2u * b + 1u]; }
      outs[outLoss + 2u * s] = l * invB;
      outs[outLoss + 2u * s + 1u] = e;
    }
    storageBarrier();
    // W3 update; d1 = (d2·W2ᵀ) ⊙ [h1 > 0]; gW2 = h1ᵀ·d2 (W2 is still the step's own).
    for (var o = t; o < H * C; o += WG) { ${opt.apply('w3 + o', `scratch[s0 + ${G3}u + o]`)} }
    for (var o = t; o < B * H; o += WG) {
      let b = o / H;
      let k = o % H;
      var acc = 0.0;
      for (var j = 0u; j < H; j++) { acc += scratch[s0 + ${D2}u + b * H + j] * weights[w2 + k * H + j]; }
      scratch[s0 + ${D1}u + o] = select(0.0, acc, scratch[s0 + ${H1}u + o] > 0.0);
    }
    for (var o = t; o < H * H; o += WG) {
      let k = o / H;
      let j = o % H;
      var acc = 0.0;
      for (var b = 0u; b < B; b++) { acc += scratch[s0 + ${H1}u + b * H + k] * scratch[s0 + ${D2}u + b * H + j]; }
      scratch[s0 + ${G2}u + o] = acc;
    }
    storageBarrier();
    // W2 update (and its snapshot).
    for (var o = t; o < H * H; o += WG) {
      let v = ${opt.next('w2 + o', `scratch[s0 + ${G2}u + o]`)};
      weights[w2 + o] = v;
      if (chunk.snap != 0u) { outs[outSnap + s * H * H + o] = v; }
    }
${w1Phase}
    storageBarrier();
  }
}
`;
}
