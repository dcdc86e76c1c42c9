/**
 * The task-2 ensemble's WGSL (forgetting/w2EnsembleKernel.ts): W2 alone trains, W1 and W3 are
 * frozen, so a step starts from the batch's H1 rows (computed once per seed on the CPU) and every
 * run of a seed shares the batch. One workgroup owns one run and loops over all steps of a chunk
 * in ONE dispatch (as fusedMlpWgsl.ts does for the whole network), phases separated by storage
 * barriers; after the SGD step comes the run's proximal step (none, EWC or LDC).
 *
 * Batches larger than BATCH_TILE go through in tiles (W2's gradient accumulated in scratch), so a
 * run's scratch stays bounded whatever B is. The second entry point, `score`, counts every run's
 * misclassified examples of the evaluation sets, one thread per example.
 *
 * Buffers (at most seven storage buffers, within WebGPU's guaranteed eight per stage):
 * - `h1`: the training set's H1 (N × h); `consts`: W3 (h × 10), w1* (h²), the modes (M × h²);
 * - `ints`: the N labels, then the chunk's shared indices (steps × B);
 * - `runs`: per run (kind, N_c, offset of its shrink, 0), then the shrinks' bits (packW2Runs);
 * - `w2` (R × h²), `scratch` (R × w2ScratchFloats), `loss` (R × steps of the chunk, run-major).
 */
import { CLASSES } from '../mlp';
import type { W2EvalSet, W2Prox } from '../../forgetting/w2EnsembleKernel';

/** Samples per tile of a step: larger batches accumulate W2's gradient over tiles. */
export const BATCH_TILE = 256;
/** Threads per workgroup of the scoring entry point (one per evaluation example). */
export const SCORE_WORKGROUP = 64;
/** u32s of one evaluation set's record in the scoring buffer. */
export const SET_RECORD = 16;
/** The proximal step's kind, as `runs` stores it. */
export const PROX_KIND = { none: 0, ewc: 1, ldc: 2 } as const;

/** The shader's specialisation: what every run of one seed shares. */
export interface W2Shape {
  hidden: number;
  batchSize: number;
  trainCount: number;
  modeCount: number;
  workgroupSize: number;
}

/** Samples per tile and tiles per step for a batch of B. */
export function batchTiles(B: number): { tile: number; tiles: number } {
  const tile = Math.min(B, BATCH_TILE);
  return { tile, tiles: Math.ceil(B / tile) };
}

/**
 * Scratch floats per run: W2's gradient (only when B spans several tiles), a tile's H2 (then
 * D2 in place), logits (then D3 in place), per-sample losses, LDC's mode coefficients and the
 * partial sums of their dot products (at most one per thread, or one per mode).
 */
export function w2ScratchFloats(
  hidden: number,
  batchSize: number,
  modeCount: number,
  workgroupSize: number,
): number {
  const { tile, tiles } = batchTiles(batchSize);
  const h = hidden;
  const M = Math.max(1, modeCount);
  return (
    (tiles > 1 ? h * h : 0) + tile * h + tile * CLASSES + tile + M + Math.max(M, workgroupSize)
  );
}

/**
 * The `runs` buffer: four u32 per run (kind, N_c, where its shrink starts, 0), then every EWC's
 * (h²) and LDC's (N_c) shrink as float bits, in run order. `none` has no shrink (offset 0).
 */
export function packW2Runs(runs: readonly W2Prox[]): Uint32Array<ArrayBuffer> {
  let n = 4 * runs.length;
  for (const r of runs) if (r.kind !== 'none') n += r.shrink.length;
  const buf = new ArrayBuffer(Math.max(16, n * 4));
  const u = new Uint32Array(buf);
  const f = new Float32Array(buf);
  let at = 4 * runs.length;
  runs.forEach((r, i) => {
    u[4 * i] = PROX_KIND[r.kind];
    if (r.kind === 'none') return;
    u[4 * i + 1] = r.kind === 'ldc' ? r.nc : 0;
    u[4 * i + 2] = at;
    f.set(r.shrink, at);
    at += r.shrink.length;
  });
  return u;
}

/** The evaluation sets packed for `score`: their H1 rows end to end, records and labels. */
export interface PackedEvalSets {
  h1: Float32Array<ArrayBuffer>;
  /**
   * Per set SET_RECORD u32s: first workgroup, workgroups, first example, examples, own classes
   * (count, then up to ten in the caller's order); then every example's label.
   */
  ints: Uint32Array<ArrayBuffer>;
  /** Workgroups of one run's scoring dispatch (a set's examples never share a workgroup). */
  groups: number;
}

export function packEvalSets(sets: readonly W2EvalSet[], hidden: number): PackedEvalSets {
  const examples = sets.reduce((a, s) => a + s.count, 0);
  const h1 = new Float32Array(Math.max(4, examples * hidden));
  const ints = new Uint32Array(Math.max(4, SET_RECORD * sets.length + examples));
  let group = 0;
  let first = 0;
  sets.forEach((s, i) => {
    if (s.own.length > CLASSES) throw new Error('an evaluation set has more than ten classes');
    const groups = Math.ceil(s.count / SCORE_WORKGROUP);
    const o = SET_RECORD * i;
    ints.set([group, groups, first, s.count, s.own.length, ...s.own], o);
    h1.set(s.h1.subarray(0, s.count * hidden), first * hidden);
    for (let e = 0; e < s.count; e++) ints[SET_RECORD * sets.length + first + e] = s.labels[e];
    group += groups;
    first += s.count;
  });
  return { h1, ints, groups: group };
}

/** Floats of `consts` before the modes: W3, then w1*. */
export function modesOffset(hidden: number): number {
  return hidden * CLASSES + hidden * hidden;
}

/** The step's shader, specialised to the seed's shape (nothing in it depends on the runs). */
export function fusedW2StepWgsl(shape: W2Shape): string {
  const { hidden: H, batchSize: B, trainCount: N, modeCount: M, workgroupSize: WG } = shape;
  const C = CLASSES;
  const { tile: BT, tiles } = batchTiles(B);
  const S = w2ScratchFloats(H, B, M, WG);
  // Scratch offsets, per run.
  const G = 0;
  const A = tiles > 1 ? H * H : 0; // H2, then D2 in place
  const LG = A + BT * H; // logits, then D3 in place
  const LS = LG + BT * C;
  const CM = LS + BT;
  const PT = CM + Math.max(1, M);
  const AN = H * C; // w1* in consts
  const MO = modesOffset(H);
  // One tile: W2 steps in the gradient's own loop. Several: the gradient accumulates over the
  // tiles (every tile's forward pass needs the step's W2) and W2 steps after the last.
  const gradient =
    tiles === 1
      ? `
      for (var o = t; o < HH; o += WG) {
        let k = o / H;
        let j = o % H;
        var acc = 0.0;
        for (var b = 0u; b < nb; b++) { acc += h1[ints[ib + b0 + b] * H + k] * scratch[s0 + ${A}u + b * H + j]; }
        w2[w + o] = prox(w2[w + o] - acc, o, kind, so);
      }`
      : `
      for (var o = t; o < HH; o += WG) {
        let k = o / H;
        let j = o % H;
        var acc = 0.0;
        for (var b = 0u; b < nb; b++) { acc += h1[ints[ib + b0 + b] * H + k] * scratch[s0 + ${A}u + b * H + j]; }
        if (b0 > 0u) { acc += scratch[s0 + ${G}u + o]; }
        if (b0 + nb < B) { scratch[s0 + ${G}u + o] = acc; } else { w2[w + o] = prox(w2[w + o] - acc, o, kind, so); }
      }`;
  return /* wgsl */ `
struct Chunk { steps: u32, lr: f32, pad0: u32, pad1: u32 };

@group(0) @binding(0) var<uniform> chunk: Chunk;
@group(0) @binding(1) var<storage, read> h1: array<f32>;
// W3 (h × 10), w1* (h²), the modes (M × h²).
@group(0) @binding(2) var<storage, read> consts: array<f32>;
// The N labels, then the chunk's indices (steps × B).
@group(0) @binding(3) var<storage, read> ints: array<u32>;
// Per run (kind, N_c, shrink offset, 0), then the shrinks' bits.
@group(0) @binding(4) var<storage, read> runs: array<u32>;
@group(0) @binding(5) var<storage, read_write> w2: array<f32>;
@group(0) @binding(6) var<storage, read_write> scratch: array<f32>;
@group(0) @binding(7) var<storage, read_write> loss: array<f32>;

const H = ${H}u;
const HH = ${H * H}u;
const C = ${C}u;
const B = ${B}u;
const BT = ${BT}u;
const N = ${N}u;
const S = ${S}u;
const WG = ${WG}u;

// EWC's pull towards w1* after the SGD step (none and LDC leave the entry as it is here).
fn prox(v: f32, o: u32, kind: u32, so: u32) -> f32 {
  if (kind == ${PROX_KIND.ewc}u) { return v - bitcast<f32>(runs[so + o]) * (v - consts[${AN}u + o]); }
  return v;
}

@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let r = wg.x;
  let kind = runs[4u * r];
  let nc = runs[4u * r + 1u];
  let so = runs[4u * r + 2u];
  let w = r * HH;
  let s0 = r * S;
  let scale = chunk.lr / f32(B);
  for (var s = 0u; s < chunk.steps; s++) {
    let ib = N + s * B;
    var lsum = 0.0;
    for (var b0 = 0u; b0 < B; b0 += BT) {
      let nb = min(BT, B - b0);
      // H2 = relu(Hb·W2)
      for (var o = t; o < nb * H; o += WG) {
        let b = o / H;
        let j = o % H;
        let x = ints[ib + b0 + b] * H;
        var acc = 0.0;
        for (var k = 0u; k < H; k++) { acc += h1[x + k] * w2[w + k * H + j]; }
        scratch[s0 + ${A}u + o] = max(acc, 0.0);
      }
      storageBarrier();
      // Z = H2·W3
      for (var o = t; o < nb * C; o += WG) {
        let b = o / C;
        let c = o % C;
        var acc = 0.0;
        for (var k = 0u; k < H; k++) { acc += scratch[s0 + ${A}u + b * H + k] * consts[k * C + c]; }
        scratch[s0 + ${LG}u + o] = acc;
      }
      storageBarrier();
      // Softmax cross-entropy per sample; D3 = (softmax − Y)·α/B replaces the logits.
      for (var b = t; b < nb; b += WG) {
        let o = s0 + ${LG}u + b * C;
        var mx = scratch[o];
        for (var c = 1u; c < C; c++) { mx = max(mx, scratch[o + c]); }
        var sum = 0.0;
        for (var c = 0u; c < C; c++) { sum += exp(scratch[o + c] - mx); }
        let y = ints[ints[ib + b0 + b]];
        scratch[s0 + ${LS}u + b] = log(sum) + mx - scratch[o + y];
        for (var c = 0u; c < C; c++) {
          let p = exp(scratch[o + c] - mx) / sum;
          scratch[o + c] = (p - select(0.0, 1.0, c == y)) * scale;
        }
      }
      storageBarrier();
      // D2 = (D3·W3ᵀ) ⊙ [H2 > 0], in H2's place; thread 0 adds up the tile's losses.
      for (var o = t; o < nb * H; o += WG) {
        let b = o / H;
        let j = o % H;
        var acc = 0.0;
        for (var c = 0u; c < C; c++) { acc += scratch[s0 + ${LG}u + b * C + c] * consts[j * C + c]; }
        scratch[s0 + ${A}u + o] = select(0.0, acc, scratch[s0 + ${A}u + o] > 0.0);
      }
      if (t == 0u) { for (var b = 0u; b < nb; b++) { lsum += scratch[s0 + ${LS}u + b]; } }
      storageBarrier();
      // W2 ← W2 − Hbᵀ·D2, then EWC's pull.${gradient}
      storageBarrier();
    }
    if (t == 0u) { loss[r * chunk.steps + s] = lsum / f32(B); }
    // LDC: c_i = s_i (W − w1*)·p_i for the first N_c modes (nc is 0 for the other kinds), each
    // dot product split over \`lanes\` threads (all of them for one mode, one for ≥ WG modes) …
    let lanes = max(1u, WG / max(nc, 1u));
    let slots = WG / lanes;
    let slot = t / lanes;
    let lane = t % lanes;
    if (slot < slots) {
      for (var m = slot; m < nc; m += slots) {
        let p = ${MO}u + m * HH;
        var acc = 0.0;
        for (var i = lane; i < HH; i += lanes) { acc += (w2[w + i] - consts[${AN}u + i]) * consts[p + i]; }
        scratch[s0 + ${PT}u + m * lanes + lane] = acc;
      }
    }
    storageBarrier();
    for (var m = t; m < nc; m += WG) {
      var acc = 0.0;
      for (var l = 0u; l < lanes; l++) { acc += scratch[s0 + ${PT}u + m * lanes + l]; }
      scratch[s0 + ${CM}u + m] = acc * bitcast<f32>(runs[so + m]);
    }
    storageBarrier();
    // … then W ← W − Σ_i c_i p_i, one mode after another as the reference subtracts them.
    if (nc > 0u) {
      for (var o = t; o < HH; o += WG) {
        var v = w2[w + o];
        for (var m = 0u; m < nc; m++) { v -= scratch[s0 + ${CM}u + m] * consts[${MO}u + m * HH + o]; }
        w2[w + o] = v;
      }
    }
    storageBarrier();
  }
}
`;
}

/**
 * The scoring shader: workgroup (x, run) takes SCORE_WORKGROUP examples of one evaluation set,
 * counts its 10-way and own-class errors in workgroup atomics and adds them to the run's counts.
 * Argmax ties go to the lower class; over the own classes, to the first in the set's order.
 */
export function fusedW2ScoreWgsl(hidden: number, sets: number): string {
  const H = hidden;
  const C = CLASSES;
  const SW = SCORE_WORKGROUP;
  return /* wgsl */ `
@group(0) @binding(0) var<storage, read> evalH1: array<f32>;
// Per set SET_RECORD u32s (first workgroup, workgroups, first example, examples, own count,
// own classes), then the labels.
@group(0) @binding(1) var<storage, read> evalInts: array<u32>;
@group(0) @binding(2) var<storage, read> consts: array<f32>;
@group(0) @binding(3) var<storage, read> w2: array<f32>;
// Per run and set: 10-way errors, own-class errors.
@group(0) @binding(4) var<storage, read_write> counts: array<atomic<u32>>;

const H = ${H}u;
const HH = ${H * H}u;
const C = ${C}u;
const SETS = ${sets}u;
const REC = ${SET_RECORD}u;

var<workgroup> wrong: array<atomic<u32>, 2>;

@compute @workgroup_size(${SW})
fn score(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let r = wg.y;
  var si = 0u;
  for (var i = 0u; i < SETS; i++) {
    let g0 = evalInts[REC * i];
    if (wg.x >= g0 && wg.x < g0 + evalInts[REC * i + 1u]) { si = i; }
  }
  let rec = REC * si;
  let li = (wg.x - evalInts[rec]) * ${SW}u + t;
  if (li < evalInts[rec + 3u]) {
    let e = evalInts[rec + 2u] + li;
    let x = e * H;
    let w = r * HH;
    var z: array<f32, ${C}>;
    for (var c = 0u; c < C; c++) { z[c] = 0.0; }
    for (var j = 0u; j < H; j++) {
      var a = 0.0;
      for (var k = 0u; k < H; k++) { a += evalH1[x + k] * w2[w + k * H + j]; }
      a = max(a, 0.0);
      for (var c = 0u; c < C; c++) { z[c] += a * consts[j * C + c]; }
    }
    var arg = 0u;
    for (var c = 1u; c < C; c++) { if (z[c] > z[arg]) { arg = c; } }
    let nOwn = evalInts[rec + 4u];
    var argOwn = evalInts[rec + 5u];
    for (var i = 0u; i < nOwn; i++) {
      let c = evalInts[rec + 5u + i];
      if (z[c] > z[argOwn]) { argOwn = c; }
    }
    let y = evalInts[REC * SETS + e];
    if (arg != y) { atomicAdd(&wrong[0], 1u); }
    if (argOwn != y) { atomicAdd(&wrong[1], 1u); }
  }
  workgroupBarrier();
  if (t == 0u) {
    let o = (r * SETS + si) * 2u;
    atomicAdd(&counts[o], atomicLoad(&wrong[0]));
    atomicAdd(&counts[o + 1u], atomicLoad(&wrong[1]));
  }
}
`;
}
