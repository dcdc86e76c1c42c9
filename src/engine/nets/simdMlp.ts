/**
 * The paper's MLP (784-h-h-10, ReLU, softmax cross-entropy, no biases, plain SGD) with the whole
 * training step in WebAssembly SIMD (f32x4), assembled here in TypeScript like
 * ../pca/wasmKernels.ts: no toolchain, no binary blob, no dependency.
 *
 * Why: the tfjs step spends most of its time in per-op overhead (~31 ops for a 2.5-MFLOP step);
 * here a step is two calls into one module plus B×10 scalar softmax values in JS:
 *
 *   fwd  per sample: the input row's non-zero pixels are compacted into a list (p, x) — an
 *        MNIST digit is ~80% zeros — and H1 = relu(Σ x·W1[p]) runs over that list; likewise
 *        H2 = relu(H1·W2) and Z = H2·W3 run over the non-zero entries of H1 and H2 (ReLU
 *        zeroes about half).
 *   JS   loss, error count and D3 = (softmax(Z) − onehot)·(α/B), with exactly the float64
 *        arithmetic of softmaxCrossEntropy in ./mlp.
 *   bwd  D2 = (D3·W3ᵀ)⊙[H2>0], D1 = (D2·W2ᵀ)⊙[H1>0] (the old W3, W2; D1 over D2's non-zeros),
 *        then W3 −= H2ᵀ·D3, and W2 −= H1ᵀ·D2 and W1 −= Xᵀ·D1 over the lists: regrouped by
 *        column (a counting sort), each touched weight row is accumulated in registers over the
 *        samples, in sample order, and written once.
 *
 * The module is specialised on h: rows are padded to hp = 4·⌈h/4⌉ floats (the pad columns of
 * every weight stay exactly zero) and each row operation is unrolled over its f32x4 vectors in
 * column blocks that fit the register file. Everything is float32 with one rounding per
 * multiply and per add (no fused multiply-add, no relaxed SIMD), so a run is bit-for-bit
 * repeatable; PlainMlp and the tfjs step agree to float32 rounding.
 *
 * `stepIndices` / `evaluateSplit` read a split's pixel bytes directly (b/255 in float32, the
 * same values as PIXEL_LUT): building the float batch in JS (fillBatch) costs about as much as
 * this whole step.
 *
 * Where WebAssembly SIMD is missing or a Content-Security-Policy forbids compiling,
 * `SimdMlp.available()` is false and the caller keeps to the tfjs step.
 */
import { CLASSES, chunkedStats, type BatchStats, type MlpWeights } from './mlp';
import type { DataSplit } from '../data/dataset';
import type { StepResult, UploadBatch } from './tfMlp';

// ---- A minimal WebAssembly binary writer -------------------------------------------------

import {
  FunctionBody,
  I32,
  V128,
  coreOps,
  functionType,
  memoryModule,
  section,
  simd,
  uleb,
  vec,
  type Bytes,
} from '../wasm/binary';

/** Instruction encoders (the subset used below). */
const op = {
  ...coreOps,
  i32Mul: [0x6c],
  i32And: [0x71],
  i32Shl: [0x74],
  i32Ne: [0x47],
  i32Eqz: [0x45],
  i32GeU: [0x4f],
  // Memory immediates: alignment exponent, then the offset.
  i32Load: (offset = 0): Bytes => [0x28, 2, ...uleb(offset)],
  i32Store: (offset = 0): Bytes => [0x36, 2, ...uleb(offset)],
  f32Load: (offset = 0): Bytes => [0x2a, 2, ...uleb(offset)],
  f32Store: (offset = 0): Bytes => [0x38, 2, ...uleb(offset)],
  vLoad: (offset = 0): Bytes => [...simd(0x00), 4, ...uleb(offset)],
  vLoad32Splat: (offset = 0): Bytes => [...simd(0x09), 2, ...uleb(offset)],
  vStore: (offset = 0): Bytes => [...simd(0x0b), 4, ...uleb(offset)],
  /** A v128 store without the 16-byte alignment hint. */
  vStoreU: (offset = 0): Bytes => [...simd(0x0b), 0, ...uleb(offset)],
  i32x4Const: (lanes: number[]): Bytes => [
    ...simd(0x0c),
    ...lanes.flatMap((v) => [v & 255, (v >>> 8) & 255, (v >>> 16) & 255, (v >>> 24) & 255]),
  ],
  shuffle: (lanes: number[]): Bytes => [...simd(0x0d), ...lanes],
  swizzle: simd(0x0e),
  v128AnyTrue: simd(0x53),
  i32x4Add: simd(0xae),
  i32Popcnt: [0x69],
  i16x8ExtendLowU8: simd(0x89),
  i16x8ExtendHighU8: simd(0x8a),
  i32x4ExtendLowU16: simd(0xa9),
  i32x4ExtendHighU16: simd(0xaa),
  f32x4Div: simd(0xe7),
  f32x4ConvertU32: simd(0xfb),
  vZero: [...simd(0x0c), ...new Array<number>(16).fill(0)],
  f32x4ExtractLane: (lane: number): Bytes => [...simd(0x1f), lane],
  f32x4Ne: simd(0x42),
  f32x4Gt: simd(0x44),
  vAnd: simd(0x4e),
  i32x4Bitmask: simd(0xa4),
  f32x4Add: simd(0xe4),
  f32x4Sub: simd(0xe5),
  f32x4Mul: simd(0xe6),
  f32x4Max: simd(0xe9),
};

/** A function body being written: numbered locals after the parameters, then code. */
class Fn extends FunctionBody {
  /** `while (i <u end) { body(); i += step }` — `end` is code that pushes the bound. */
  loopPtr(i: number, end: Bytes, step: number, body: () => void): void {
    this.emit(op.block, op.loop, op.get(i), end, op.i32GeU, op.brIf(1));
    body();
    this.emit(op.get(i), op.i32(step), op.i32Add, op.set(i), op.br(0), op.end, op.end);
  }
  /** `for (i = 0; i < n; i++) body()` (signed compare; n is code that pushes the bound). */
  loopCount(i: number, n: Bytes, body: () => void): void {
    this.emit(op.i32(0), op.set(i));
    this.emit(op.block, op.loop, op.get(i), n, op.i32GeS, op.brIf(1));
    body();
    this.emit(op.get(i), op.i32(1), op.i32Add, op.set(i), op.br(0), op.end, op.end);
  }
  /** p += step. */
  bump(p: number, step: number | Bytes): void {
    this.emit(op.get(p), typeof step === 'number' ? op.i32(step) : step, op.i32Add, op.set(p));
  }
}

// ---- The step kernels ------------------------------------------------------------------------

/** Logit rows are padded from 10 to 12 floats (three f32x4). */
const ZW = 12;
const ZB = ZW * 4;
/** The compaction shuffle table (16 masks × 16 bytes) lives at address 0. */
const TABLE = 0;
const TABLE_BYTES = 256;

/** For each 4-bit mask, the i8x16.swizzle that moves the selected i32 lanes to the front. */
function compactionTable(): number[] {
  const out: number[] = [];
  for (let m = 0; m < 16; m++) {
    const bytes: number[] = [];
    for (let lane = 0; lane < 4; lane++)
      if (m & (1 << lane)) for (let b = 0; b < 4; b++) bytes.push(4 * lane + b);
    while (bytes.length < 16) bytes.push(0x80); // out of range: swizzle writes 0
    out.push(...bytes);
  }
  return out;
}

/** A run of consecutive f32x4 columns handled with one set of register accumulators. */
interface Block {
  /** Byte offset of the block's first vector within a row. */
  off: number;
  /** Number of f32x4 vectors. */
  n: number;
}

/** Splits `vectors` f32x4 columns into near-equal blocks of at most `maxWidth` vectors. */
function blocksOf(vectors: number, maxWidth: number): Block[] {
  const nb = Math.ceil(vectors / maxWidth);
  const out: Block[] = [];
  let v = 0;
  for (let b = 0; b < nb; b++) {
    const n = Math.floor(vectors / nb) + (b < vectors % nb ? 1 : 0);
    out.push({ off: 16 * v, n });
    v += n;
  }
  return out;
}

interface Geometry {
  h: number;
  /** h padded to a multiple of 4. */
  hp: number;
  /** Bytes per padded hidden row (4·hp). */
  rb: number;
  /** Column blocks of a hidden row. */
  blocks: Block[];
}

/**
 * The emitters shared by both kernels. A "list" is a run of 8-byte entries (index: i32,
 * value: f32): the non-zero entries of a row in increasing index order.
 */
class Kernel {
  readonly f: Fn;
  readonly acc: number[] = [];
  readonly sv: number;
  readonly zero: number;
  readonly v: number;
  readonly iv: number;
  readonly lo: number;
  private readonly m: number;
  private readonly e: number;
  private readonly a: number;
  constructor(
    nParams: number,
    readonly g: Geometry,
  ) {
    this.f = new Fn(nParams);
    const f = this.f;
    this.sv = f.local(V128);
    this.zero = f.local(V128);
    this.v = f.local(V128);
    this.iv = f.local(V128);
    this.lo = f.local(V128);
    this.m = f.local(I32);
    this.e = f.local(I32);
    this.a = f.local(I32);
    const maxN = Math.max(3, ...g.blocks.map((b) => b.n));
    for (let j = 0; j < maxN; j++) this.acc.push(f.local(V128));
    f.emit(op.vZero, op.set(this.zero));
  }

  /** acc[j] += sv · load(addr + off + 16j) for n vectors. */
  macc(n: number, addr: number, off: number): void {
    const { f, acc, sv } = this;
    for (let j = 0; j < n; j++) {
      f.emit(
        op.get(acc[j]),
        op.get(sv),
        op.get(addr),
        op.vLoad(off + 16 * j),
        op.f32x4Mul,
        op.f32x4Add,
        op.set(acc[j]),
      );
    }
  }

  zeroAcc(n: number): void {
    for (let j = 0; j < n; j++) this.f.emit(op.vZero, op.set(this.acc[j]));
  }

  /**
   * Appends the non-zero lanes of the f32x4 in `v` to the list at `ptr` (advanced), indexed by
   * the i32x4 in `iv`: two swizzles through the table, two interleaving shuffles, two stores
   * (32 bytes, so lists need 32 bytes of slack).
   */
  private compactV(ptr: number): void {
    const { f, v, iv, lo, m } = this;
    f.emit(op.get(v), op.get(this.zero), op.f32x4Ne, op.i32x4Bitmask, op.tee(m));
    f.emit(op.i32(4), op.i32Shl, op.vLoad(TABLE), op.set(lo)); // lo = the swizzle for m
    f.emit(
      op.get(iv),
      op.get(lo),
      op.swizzle,
      op.get(v),
      op.get(lo),
      op.swizzle,
      op.set(v),
      op.set(lo),
    );
    f.emit(op.get(ptr), op.get(lo), op.get(v), op.shuffle(INTERLEAVE_LO), op.vStoreU(0));
    f.emit(op.get(ptr), op.get(lo), op.get(v), op.shuffle(INTERLEAVE_HI), op.vStoreU(16));
    f.emit(op.get(ptr), op.get(m), op.i32Popcnt, op.i32(3), op.i32Shl, op.i32Add, op.set(ptr));
  }

  /**
   * The list of a whole hidden row at `row` (hp floats), indices 0..hp−1, appended at `ptr`.
   */
  compactRow(row: number, ptr: number): void {
    const { f } = this;
    for (let q = 0; q < this.g.hp / 4; q++) {
      f.emit(op.get(row), op.vLoad(16 * q), op.set(this.v));
      f.emit(op.i32x4Const([4 * q, 4 * q + 1, 4 * q + 2, 4 * q + 3]), op.set(this.iv));
      this.compactV(ptr);
    }
  }

  /**
   * The list of `nGroups` groups of four floats from `src` on (a param or local), appended at
   * `ptr`; all-zero groups are skipped by a branch (most of an MNIST digit).
   */
  compactLong(src: number, nGroups: Bytes, ptr: number, cur: number, end: number): void {
    const { f } = this;
    f.emit(op.get(src), op.tee(cur), nGroups, op.i32(4), op.i32Shl, op.i32Add, op.set(end));
    f.emit(op.i32x4Const([0, 1, 2, 3]), op.set(this.iv));
    f.loopPtr(cur, op.get(end), 16, () => {
      f.emit(op.get(cur), op.vLoad(), op.tee(this.v), op.v128AnyTrue, op.if);
      this.compactV(ptr);
      f.emit(op.end);
      f.emit(op.get(this.iv), op.i32x4Const([4, 4, 4, 4]), op.i32x4Add, op.set(this.iv));
    });
  }

  /**
   * Like compactLong, from `nGroups` groups of 16 pixel bytes: each byte b becomes the float
   * b / 255 (f32 division, correctly rounded: the same value as PIXEL_LUT[b]); all-zero
   * groups of 16 are skipped by a branch.
   */
  compactBytes(src: number, nGroups: Bytes, ptr: number, cur: number, end: number): void {
    const { f } = this;
    const v8 = f.local(V128);
    const ivb = f.local(V128);
    const w16 = f.local(V128);
    const k255 = f.local(V128);
    f.emit(op.i32x4Const([0x437f0000, 0x437f0000, 0x437f0000, 0x437f0000]), op.set(k255)); // 255.0f
    f.emit(op.get(src), op.tee(cur), nGroups, op.i32(4), op.i32Shl, op.i32Add, op.set(end));
    f.emit(op.i32x4Const([0, 1, 2, 3]), op.set(ivb));
    f.loopPtr(cur, op.get(end), 16, () => {
      f.emit(op.get(cur), op.vLoad(), op.tee(v8), op.v128AnyTrue, op.if);
      for (let half = 0; half < 2; half++) {
        f.emit(op.get(v8), half ? op.i16x8ExtendHighU8 : op.i16x8ExtendLowU8, op.set(w16));
        for (let q = 0; q < 2; q++) {
          f.emit(op.get(w16), q ? op.i32x4ExtendHighU16 : op.i32x4ExtendLowU16, op.f32x4ConvertU32);
          f.emit(op.get(k255), op.f32x4Div, op.set(this.v));
          const d = 4 * (2 * half + q);
          f.emit(op.get(ivb), op.i32x4Const([d, d, d, d]), op.i32x4Add, op.set(this.iv));
          this.compactV(ptr);
        }
      }
      f.emit(op.end);
      f.emit(op.get(ivb), op.i32x4Const([16, 16, 16, 16]), op.i32x4Add, op.set(ivb));
    });
  }

  /**
   * out[blk] = Σ_{(i, x) in list [begin, end)} x · W[i] over the row blocks, W rows `stride`
   * bytes apart from `w`; `store(acc, off)` emits the store of each finished accumulator.
   */
  sparseRows(
    begin: number,
    end: Bytes,
    w: number,
    stride: number,
    blocks: Block[],
    store: (acc: number, off: number) => void,
  ): void {
    const { f, e, a } = this;
    for (const blk of blocks) {
      this.zeroAcc(blk.n);
      f.emit(op.get(begin), op.set(e));
      f.loopPtr(e, end, 8, () => {
        f.emit(op.get(e), op.vLoad32Splat(4), op.set(this.sv));
        f.emit(
          op.get(e),
          op.i32Load(0),
          op.i32(stride),
          op.i32Mul,
          op.get(w),
          op.i32Add,
          op.set(a),
        );
        this.macc(blk.n, a, blk.off);
      });
      for (let j = 0; j < blk.n; j++) store(this.acc[j], blk.off + 16 * j);
    }
  }

  /**
   * W[i] −= Σ_s x_si · D[s] for every column i < nCols with list entries: the per-sample lists
   * (rowStart[s] .. rowStart[s+1], s < B) regrouped by column with a counting sort into csc
   * (entries: byte offset of D's row s, x), in sample order within each column.
   * Locals t0..t4 are scratch.
   */
  sparseUpdate(
    p: { B: number; rowStart: number; cnt: number; csc: number; d: number; w: number },
    nCols: Bytes,
    t: number[],
  ): void {
    const { f, e, a } = this;
    const [pa, pe, run, c, soff] = t;
    const rb = this.g.rb;
    f.emit(op.get(p.cnt), op.tee(pa), nCols, op.i32(4), op.i32Mul, op.i32Add, op.set(pe));
    f.loopPtr(pa, op.get(pe), 4, () => f.emit(op.get(pa), op.i32(0), op.i32Store()));
    // Count: cnt[i] = number of entries of column i.
    f.emit(op.get(p.rowStart), op.i32Load(), op.set(e));
    f.emit(
      op.get(p.rowStart),
      op.get(p.B),
      op.i32(4),
      op.i32Mul,
      op.i32Add,
      op.i32Load(),
      op.set(run),
    );
    f.loopPtr(e, op.get(run), 8, () => {
      f.emit(op.get(e), op.i32Load(0), op.i32(4), op.i32Mul, op.get(p.cnt), op.i32Add, op.tee(a));
      f.emit(op.get(a), op.i32Load(), op.i32(1), op.i32Add, op.i32Store());
    });
    // Exclusive prefix sums, as csc addresses.
    f.emit(op.get(p.csc), op.set(run), op.get(p.cnt), op.set(pa));
    f.loopPtr(pa, op.get(pe), 4, () => {
      f.emit(op.get(pa), op.i32Load(), op.set(c), op.get(pa), op.get(run), op.i32Store());
      f.emit(op.get(run), op.get(c), op.i32(8), op.i32Mul, op.i32Add, op.set(run));
    });
    // Scatter, sample by sample (the lists are consecutive: one pass over all entries).
    f.emit(op.get(p.rowStart), op.set(pa), op.i32(0), op.set(soff));
    f.emit(op.get(p.rowStart), op.get(p.B), op.i32(4), op.i32Mul, op.i32Add, op.set(c));
    f.loopPtr(pa, op.get(c), 4, () => {
      f.emit(op.get(pa), op.i32Load(0), op.set(e));
      f.loopPtr(e, [...op.get(pa), ...op.i32Load(4)], 8, () => {
        f.emit(op.get(e), op.i32Load(0), op.i32(4), op.i32Mul, op.get(p.cnt), op.i32Add, op.tee(a));
        f.emit(op.i32Load(), op.tee(run), op.get(soff), op.i32Store(0));
        f.emit(op.get(run), op.get(e), op.f32Load(4), op.f32Store(4));
        f.emit(op.get(a), op.get(run), op.i32(8), op.i32Add, op.i32Store());
      });
      f.bump(soff, rb);
    });
    // Update: cnt[i] now ends column i's range; each touched row of W is written once.
    const rowPtr = soff;
    const end = c;
    f.emit(op.get(p.csc), op.set(run), op.get(p.cnt), op.set(pa), op.get(p.w), op.set(rowPtr));
    f.loopPtr(pa, op.get(pe), 4, () => {
      f.emit(op.get(pa), op.i32Load(), op.tee(end), op.get(run), op.i32Ne, op.if);
      for (const blk of this.g.blocks) {
        this.zeroAcc(blk.n);
        f.emit(op.get(run), op.set(e));
        f.loopPtr(e, op.get(end), 8, () => {
          f.emit(op.get(e), op.vLoad32Splat(4), op.set(this.sv));
          f.emit(op.get(e), op.i32Load(0), op.get(p.d), op.i32Add, op.set(a));
          this.macc(blk.n, a, blk.off);
        });
        for (let j = 0; j < blk.n; j++) {
          const o = blk.off + 16 * j;
          f.emit(
            op.get(rowPtr),
            op.get(rowPtr),
            op.vLoad(o),
            op.get(this.acc[j]),
            op.f32x4Sub,
            op.vStore(o),
          );
        }
      }
      f.emit(op.get(end), op.set(run), op.end);
      f.bump(rowPtr, rb);
    });
  }

  /** Stores max(acc, 0) at row + off. */
  reluStore(row: number): (acc: number, off: number) => void {
    return (acc, off) =>
      this.f.emit(op.get(row), op.get(acc), op.get(this.zero), op.f32x4Max, op.vStore(off));
  }

  /** Stores acc ⊙ [ref > 0] at row + off. */
  maskStore(row: number, ref: number): (acc: number, off: number) => void {
    return (acc, off) =>
      this.f.emit(
        op.get(row),
        op.get(acc),
        op.get(ref),
        op.vLoad(off),
        op.get(this.zero),
        op.f32x4Gt,
        op.vAnd,
        op.vStore(off),
      );
  }
}

const INTERLEAVE_LO = [0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23];
const INTERLEAVE_HI = [8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31];

const FWD = {
  B: 0,
  nG: 1,
  x: 2,
  xs: 3,
  w1: 4,
  w2: 5,
  w3: 6,
  xl: 7,
  rsx: 8,
  hl: 9,
  rsh: 10,
  h1: 11,
  h2: 12,
  z: 13,
  tl: 14,
  keep: 15,
};

/**
 * fwd(B, nGroups, x, xStride, w1, w2, w3, xl, rsx, hl, rsh, h1, h2, z, tl, keep) → 0.
 * For each sample s < B (input row at x + s·xStride: nGroups groups of four floats, or with
 * `bytes` (export fwdU8) of sixteen pixel bytes):
 *   X list of the row (at xl on; rsx[s] = its start) → H1[s] = relu(Σ x·W1[p]);
 *   H1 list (at hl on; rsh[s]) → H2[s] = relu(Σ h·W2[k]); H2 list (scratch at tl) →
 *   Z[s] = Σ h·W3[k] (12 floats, pads zero).
 * With keep = 0 every sample reuses the list space from xl and hl on (evaluation).
 * rsx[B] and rsh[B] end the lists.
 */
function fwdBody(g: Geometry, bytes: boolean): number[] {
  const P = FWD;
  const K = new Kernel(16, g);
  const f = K.f;
  const [s, xr, cur, end, xp, hlp, tp, h1r, h2r, zr, rsxp, rshp, xb, hb] = Array.from(
    { length: 14 },
    () => f.local(I32),
  );
  f.emit(op.get(P.xl), op.set(xp), op.get(P.hl), op.set(hlp), op.get(P.x), op.set(xr));
  f.emit(op.get(P.h1), op.set(h1r), op.get(P.h2), op.set(h2r), op.get(P.z), op.set(zr));
  f.emit(op.get(P.rsx), op.set(rsxp), op.get(P.rsh), op.set(rshp));
  f.loopCount(s, op.get(P.B), () => {
    f.emit(
      op.get(P.keep),
      op.i32Eqz,
      op.if,
      op.get(P.xl),
      op.set(xp),
      op.get(P.hl),
      op.set(hlp),
      op.end,
    );
    f.emit(
      op.get(rsxp),
      op.get(xp),
      op.tee(xb),
      op.i32Store(),
      op.get(rshp),
      op.get(hlp),
      op.tee(hb),
      op.i32Store(),
    );
    if (bytes) K.compactBytes(xr, op.get(P.nG), xp, cur, end);
    else K.compactLong(xr, op.get(P.nG), xp, cur, end);
    K.sparseRows(xb, op.get(xp), P.w1, g.rb, g.blocks, K.reluStore(h1r));
    K.compactRow(h1r, hlp);
    K.sparseRows(hb, op.get(hlp), P.w2, g.rb, g.blocks, K.reluStore(h2r));
    f.emit(op.get(P.tl), op.tee(tp), op.set(cur));
    K.compactRow(h2r, tp);
    K.sparseRows(cur, op.get(tp), P.w3, ZB, [{ off: 0, n: 3 }], (acc, off) =>
      f.emit(op.get(zr), op.get(acc), op.vStore(off)),
    );
    f.bump(xr, op.get(P.xs));
    f.bump(h1r, g.rb);
    f.bump(h2r, g.rb);
    f.bump(zr, ZB);
    f.bump(rsxp, 4);
    f.bump(rshp, 4);
  });
  f.emit(
    op.get(rsxp),
    op.get(xp),
    op.i32Store(),
    op.get(rshp),
    op.get(hlp),
    op.i32Store(),
    op.i32(0),
  );
  return f.bytes();
}

const BWD = {
  B: 0,
  n: 1,
  w1: 2,
  w2: 3,
  w2t: 4,
  w3: 5,
  w3t: 6,
  h1: 7,
  h2: 8,
  d3: 9,
  d2: 10,
  d1: 11,
  rsx: 12,
  rsh: 13,
  tl: 14,
  cntx: 15,
  cscx: 16,
  cnth: 17,
  csch: 18,
  w2out: 19,
};

/**
 * bwd(B, n, w1, w2, w2t, w3, w3t, h1, h2, d3, d2, d1, rsx, rsh, tl, cntx, cscx, cnth, csch,
 * w2out), after fwd with keep = 1 and with D3 = (softmax − onehot)·α/B written at d3 (rows of
 * 12 floats, pads zero):
 *   D2 = (D3·W3ᵀ)⊙[H2>0], D1 = (D2·W2ᵀ)⊙[H1>0] (the old W3, W2), then W3 −= H2ᵀ·D3,
 *   W2 −= H1ᵀ·D2 and W1 −= Xᵀ·D1 (over the H1 and X lists), and W2 packed to h×h at w2out.
 * w2t (hp×hp), w3t (10×hp), tl, cnt* and csc* are scratch.
 */
function bwdBody(g: Geometry): number[] {
  const P = BWD;
  const K = new Kernel(20, g);
  const f = K.f;
  const [k, pa, pb, pe, qa, qb, s, h1r, h2r, d1r, d2r, d3r, tp, t0, t1, t2, t3, t4] = Array.from(
    { length: 18 },
    () => f.local(I32),
  );
  const { h, rb, hp } = g;
  const { acc, sv } = K;

  // W3ᵀ: w3t[c·rb + 4k] = W3[k, c].
  f.emit(op.get(P.w3), op.set(pa), op.get(P.w3t), op.set(pb));
  f.loopCount(k, op.i32(h), () => {
    for (let cc = 0; cc < CLASSES; cc++)
      f.emit(op.get(pb), op.get(pa), op.f32Load(4 * cc), op.f32Store(cc * rb));
    f.bump(pa, ZB);
    f.bump(pb, 4);
  });
  // W2ᵀ: w2t[j·rb + 4m] = W2[m, j].
  f.emit(op.get(P.w2), op.set(pa), op.get(P.w2t), op.set(pb));
  f.loopCount(k, op.i32(h), () => {
    f.emit(op.get(pa), op.tee(qa), op.i32(4 * h), op.i32Add, op.set(pe), op.get(pb), op.set(qb));
    f.loopPtr(qa, op.get(pe), 4, () => {
      f.emit(op.get(qb), op.get(qa), op.f32Load(0), op.f32Store(0));
      f.bump(qb, rb);
    });
    f.bump(pa, rb);
    f.bump(pb, 4);
  });
  // Per sample: D2 (dense over the ten classes), its list, then D1 over it.
  f.emit(op.get(P.h1), op.set(h1r), op.get(P.h2), op.set(h2r), op.get(P.d1), op.set(d1r));
  f.emit(op.get(P.d2), op.set(d2r), op.get(P.d3), op.set(d3r));
  f.loopCount(s, op.get(P.B), () => {
    const mask2 = K.maskStore(d2r, h2r);
    for (const blk of g.blocks) {
      K.zeroAcc(blk.n);
      for (let cc = 0; cc < CLASSES; cc++) {
        f.emit(op.get(d3r), op.vLoad32Splat(4 * cc), op.set(sv));
        K.macc(blk.n, P.w3t, cc * rb + blk.off);
      }
      for (let j = 0; j < blk.n; j++) mask2(acc[j], blk.off + 16 * j);
    }
    f.emit(op.get(P.tl), op.tee(tp), op.set(t0));
    K.compactRow(d2r, tp);
    K.sparseRows(t0, op.get(tp), P.w2t, rb, g.blocks, K.maskStore(d1r, h1r));
    f.bump(h1r, rb);
    f.bump(h2r, rb);
    f.bump(d1r, rb);
    f.bump(d2r, rb);
    f.bump(d3r, ZB);
  });
  // W3[k] −= Σ_s H2[s, k] · D3[s] (dense: 3 vectors a row).
  f.emit(op.get(P.B), op.i32(ZB), op.i32Mul, op.get(P.d3), op.i32Add, op.set(pe));
  f.loopCount(k, op.i32(h), () => {
    K.zeroAcc(3);
    f.emit(
      op.get(P.h2),
      op.get(k),
      op.i32(4),
      op.i32Mul,
      op.i32Add,
      op.set(pa),
      op.get(P.d3),
      op.set(pb),
    );
    f.loopPtr(pb, op.get(pe), ZB, () => {
      f.emit(op.get(pa), op.vLoad32Splat(0), op.set(sv));
      K.macc(3, pb, 0);
      f.bump(pa, rb);
    });
    f.emit(op.get(k), op.i32(ZB), op.i32Mul, op.get(P.w3), op.i32Add, op.set(qa));
    for (let j = 0; j < 3; j++) {
      f.emit(
        op.get(qa),
        op.get(qa),
        op.vLoad(16 * j),
        op.get(acc[j]),
        op.f32x4Sub,
        op.vStore(16 * j),
      );
    }
  });
  const tmp = [t0, t1, t2, t3, t4];
  // W2 −= H1ᵀ·D2 and W1 −= Xᵀ·D1 over the lists.
  K.sparseUpdate(
    { B: P.B, rowStart: P.rsh, cnt: P.cnth, csc: P.csch, d: P.d2, w: P.w2 },
    op.i32(h),
    tmp,
  );
  K.sparseUpdate(
    { B: P.B, rowStart: P.rsx, cnt: P.cntx, csc: P.cscx, d: P.d1, w: P.w1 },
    op.get(P.n),
    tmp,
  );
  // W2 packed to h×h (ascending rows: each row's pad lanes are overwritten by the next row).
  f.emit(op.get(P.w2), op.set(pa), op.get(P.w2out), op.set(pb));
  f.loopCount(k, op.i32(h), () => {
    for (let q = 0; q < hp / 4; q++)
      f.emit(op.get(pb), op.get(pa), op.vLoad(16 * q), op.vStoreU(16 * q));
    f.bump(pa, rb);
    f.bump(pb, 4 * h);
  });
  return f.bytes();
}

/**
 * Widest column block (f32x4 vectors) kept in registers: 7 + 6 for h = 50. A single block of
 * 13 (~150 µs a step against ~100) spills: V8 gives wasm SIMD 16 xmm registers.
 */
const DEFAULT_BLOCK = 7;

function moduleBytes(h: number, maxBlock: number): Uint8Array<ArrayBuffer> {
  const hp = 4 * Math.ceil(h / 4);
  const g: Geometry = { h, hp, rb: 4 * hp, blocks: blocksOf(hp / 4, maxBlock) };
  const type = (params: number, results: number[]): Bytes =>
    functionType(new Array<number>(params).fill(I32), results);
  return memoryModule(
    [
      { name: 'fwd', type: type(16, [I32]), body: fwdBody(g, false) },
      { name: 'fwdU8', type: type(16, [I32]), body: fwdBody(g, true) },
      { name: 'bwd', type: type(20, []), body: bwdBody(g) },
    ],
    // Active data segment: the compaction table at TABLE.
    section(11, vec([[0x00, ...op.i32(TABLE), 0x0b, ...vec(compactionTable().map((b) => [b]))]])),
  );
}

interface StepExports {
  fwd(
    B: number,
    nGroups: number,
    x: number,
    xStride: number,
    w1: number,
    w2: number,
    w3: number,
    xl: number,
    rsx: number,
    hl: number,
    rsh: number,
    h1: number,
    h2: number,
    z: number,
    tl: number,
    keep: number,
  ): number;
  /** fwd with the input as pixel bytes (b → b/255), rows xStride bytes apart. */
  fwdU8(
    B: number,
    nGroups: number,
    x: number,
    xStride: number,
    w1: number,
    w2: number,
    w3: number,
    xl: number,
    rsx: number,
    hl: number,
    rsh: number,
    h1: number,
    h2: number,
    z: number,
    tl: number,
    keep: number,
  ): number;
  bwd(
    B: number,
    n: number,
    w1: number,
    w2: number,
    w2t: number,
    w3: number,
    w3t: number,
    h1: number,
    h2: number,
    d3: number,
    d2: number,
    d1: number,
    rsx: number,
    rsh: number,
    tl: number,
    cntx: number,
    cscx: number,
    cnth: number,
    csch: number,
    w2out: number,
  ): void;
}

const modules = new Map<string, WebAssembly.Module | null>();

/** The compiled step module for width h (cached), or null where wasm SIMD cannot be compiled. */
function stepModule(h: number, maxBlock = DEFAULT_BLOCK): WebAssembly.Module | null {
  const key = `${h}/${maxBlock}`;
  const hit = modules.get(key);
  if (hit !== undefined) return hit;
  let mod: WebAssembly.Module | null = null;
  try {
    if (typeof WebAssembly === 'object') {
      const bytes = moduleBytes(h, maxBlock);
      if (WebAssembly.validate(bytes)) mod = new WebAssembly.Module(bytes);
    }
  } catch {
    mod = null; // no SIMD, or a Content-Security-Policy without 'wasm-unsafe-eval'
  }
  modules.set(key, mod);
  return mod;
}

// ---- The network -------------------------------------------------------------------------

const align16 = (n: number): number => (n + 15) & ~15;
const PAGE = 65536;

/** Byte offsets of everything in the module's memory for a batch capacity. */
interface Layout {
  cap: number;
  w1: number;
  w2: number;
  w2t: number;
  w3: number;
  w3t: number;
  cntx: number;
  cnth: number;
  tl: number;
  w2out: number;
  x: number;
  /** The input as pixel bytes (stepIndices, evaluateSplit), rows xbStride bytes apart. */
  xb: number;
  h1: number;
  h2: number;
  z: number;
  d3: number;
  d2: number;
  d1: number;
  rsx: number;
  rsh: number;
  xl: number;
  hl: number;
  cscx: number;
  csch: number;
  end: number;
  /** Where the batch-dependent regions begin (the weights come first and never move). */
  varStart: number;
}

/** Anything with a shape and a synchronous read-back, e.g. a tf.Tensor2D (see evaluateResident). */
export interface ResidentInputs {
  readonly shape: readonly number[];
  dataSync(): ArrayLike<number>;
}

export type SimdImpl = 'wasm-simd';

export interface SimdMlpOptions {
  /** Widest column block in f32x4 vectors (default 7; for benchmarks). */
  maxBlock?: number;
}

const probed = new Map<number, boolean>();

export class SimdMlp {
  readonly hidden: number;
  readonly inputSize: number;
  readonly impl: SimdImpl = 'wasm-simd';
  private readonly hp: number;
  private readonly rowBytes: number;
  /** Input row stride in bytes (the input padded to a multiple of 4 floats). */
  private readonly xStride: number;
  /** Byte-input row stride (the input padded to a multiple of 16 bytes). */
  private readonly xbStride: number;
  private readonly memory: WebAssembly.Memory;
  private readonly k: StepExports;
  private lay: Layout;
  private f32: Float32Array;
  private u8: Uint8Array;
  /** Labels of a stepIndices batch. */
  private labels = new Int32Array(64);
  private readonly exps = new Float64Array(CLASSES);
  private disposed = false;

  /**
   * Whether the step module for this hidden width compiles and runs here: false without
   * WebAssembly SIMD or under a Content-Security-Policy that forbids compiling wasm (and, on
   * a browser's main thread, where synchronous compilation of a module this size is refused).
   */
  static available(hidden = 50): boolean {
    const hit = probed.get(hidden);
    if (hit !== undefined) return hit;
    let ok: boolean;
    try {
      // One real step on a 2-sample batch: compiles, instantiates and runs both kernels.
      const n = 6;
      const w: MlpWeights = {
        hidden,
        W1: new Float32Array(n * hidden).map((_, i) => ((i % 7) - 3) / 4),
        W2: new Float32Array(hidden * hidden).map((_, i) => ((i % 5) - 2) / 3),
        W3: new Float32Array(hidden * CLASSES).map((_, i) => ((i % 3) - 1) / 2),
      };
      const net = new SimdMlp(w);
      const x = new Float32Array([0, 1, 0.5, 0, 0, 0.25, 1, 0, 0, 0, 0.75, 0.5]);
      const batch: UploadBatch = {
        size: 2,
        x,
        xT: x,
        labels: new Int32Array([3, 7]),
        oneHot: new Float32Array(20),
      };
      const s = net.stepSync(batch, 0.1);
      const after = net.getWeightsSync();
      net.dispose();
      ok = Number.isFinite(s.loss) && after.W2.every(Number.isFinite);
    } catch {
      ok = false;
    }
    probed.set(hidden, ok);
    return ok;
  }

  constructor(weights: MlpWeights, options: SimdMlpOptions = {}) {
    const h = weights.hidden;
    if (!Number.isInteger(h) || h < 1) throw new Error(`SimdMlp: bad hidden width ${h}`);
    const n = weights.W1.length / h;
    if (!Number.isInteger(n) || n < 1)
      throw new Error(`SimdMlp: W1 has ${weights.W1.length} weights for h = ${h}`);
    if (weights.W2.length !== h * h || weights.W3.length !== h * CLASSES) {
      throw new Error(`SimdMlp: W2/W3 do not match h = ${h}`);
    }
    const mod = stepModule(h, options.maxBlock ?? DEFAULT_BLOCK);
    if (!mod) throw new Error('SimdMlp: WebAssembly SIMD is not available here');
    this.hidden = h;
    this.inputSize = n;
    this.hp = 4 * Math.ceil(h / 4);
    this.rowBytes = 4 * this.hp;
    this.xStride = 16 * Math.ceil(n / 4);
    this.xbStride = 16 * Math.ceil(n / 16);
    this.lay = this.layout(64);
    this.memory = new WebAssembly.Memory({ initial: Math.ceil(this.lay.end / PAGE) });
    const inst = new WebAssembly.Instance(mod, { env: { memory: this.memory } });
    this.k = inst.exports as unknown as StepExports;
    this.f32 = new Float32Array(this.memory.buffer);
    this.u8 = new Uint8Array(this.memory.buffer);
    this.setWeights(weights);
  }

  private layout(cap: number): Layout {
    const n = this.inputSize;
    const np = this.xStride >> 2;
    const hp = this.hp;
    const rb = this.rowBytes;
    let at = TABLE_BYTES;
    const take = (bytes: number): number => {
      const o = at;
      at = align16(at + bytes);
      return o;
    };
    const w1 = take(n * rb);
    const w2 = take(this.hp * rb);
    const w2t = take(this.hp * rb);
    const w3 = take(this.hp * ZB);
    const w3t = take(ZW * rb);
    const cntx = take(4 * n + 16);
    const cnth = take(4 * hp + 16);
    // Lists hold at most one 8-byte entry per column; compaction writes 32 bytes past the end.
    const tl = take(8 * hp + 32);
    const w2out = take(4 * this.hidden * this.hidden + 16);
    const varStart = at;
    const x = take(cap * this.xStride);
    const xb = take(cap * this.xbStride);
    const h1 = take(cap * rb);
    const h2 = take(cap * rb);
    const z = take(cap * ZB);
    const d3 = take(cap * ZB);
    const d2 = take(cap * rb);
    const d1 = take(cap * rb);
    const rsx = take(4 * (cap + 1));
    const rsh = take(4 * (cap + 1));
    const xl = take(8 * cap * np + 32);
    const hl = take(8 * cap * hp + 32);
    const cscx = take(8 * cap * np);
    const csch = take(8 * cap * hp);
    return {
      cap,
      w1,
      w2,
      w2t,
      w3,
      w3t,
      cntx,
      cnth,
      tl,
      w2out,
      x,
      xb,
      h1,
      h2,
      z,
      d3,
      d2,
      d1,
      rsx,
      rsh,
      xl,
      hl,
      cscx,
      csch,
      end: at,
      varStart,
    };
  }

  /** Room for batches of `batch` samples (the weights stay where they are). */
  private ensure(batch: number): void {
    if (batch <= this.lay.cap) return;
    const lay = this.layout(Math.max(batch, 2 * this.lay.cap));
    if (lay.end >= 0x7fff0000) throw new Error(`SimdMlp: batch of ${batch} does not fit in memory`);
    const have = this.memory.buffer.byteLength;
    if (lay.end > have) this.memory.grow(Math.ceil((lay.end - have) / PAGE));
    this.lay = lay;
    this.f32 = new Float32Array(this.memory.buffer);
    this.u8 = new Uint8Array(this.memory.buffer);
    if (this.labels.length < lay.cap) this.labels = new Int32Array(lay.cap);
    // Relocated regions must start clean (the input's pad columns are never written).
    this.f32.fill(0, lay.varStart >> 2, lay.end >> 2);
  }

  /** Copies `count` input rows (row-major, inputSize floats each) to the x region. */
  private loadInputs(src: Float32Array, from: number, count: number): void {
    const n = this.inputSize;
    const base = this.lay.x >> 2;
    if (this.xStride === 4 * n) {
      this.f32.set(src.subarray(from * n, (from + count) * n), base);
    } else {
      const stride = this.xStride >> 2;
      for (let s = 0; s < count; s++) {
        this.f32.set(src.subarray((from + s) * n, (from + s + 1) * n), base + s * stride);
      }
    }
  }

  private forward(count: number, keep: boolean, bytes = false): void {
    const L = this.lay;
    (bytes ? this.k.fwdU8 : this.k.fwd)(
      count,
      bytes ? this.xbStride >> 4 : this.xStride >> 4,
      bytes ? L.xb : L.x,
      bytes ? this.xbStride : this.xStride,
      L.w1,
      L.w2,
      L.w3,
      L.xl,
      L.rsx,
      L.hl,
      L.rsh,
      L.h1,
      L.h2,
      L.z,
      L.tl,
      keep ? 1 : 0,
    );
  }

  /**
   * Loss and errors from the logits of `count` samples (the float64 arithmetic of
   * softmaxCrossEntropy); with a `scale` (not null), also writes D3 = (softmax − onehot)·scale.
   * Returns the summed (not mean) loss.
   */
  private softmax(
    labels: ArrayLike<number>,
    labelFrom: number,
    count: number,
    scale: number | null,
  ): BatchStats {
    const f = this.f32;
    const ex = this.exps;
    const z0 = this.lay.z >> 2;
    const d0 = this.lay.d3 >> 2;
    let loss = 0;
    let errors = 0;
    for (let i = 0; i < count; i++) {
      const o = z0 + i * ZW;
      let max = -Infinity;
      let arg = 0;
      for (let c = 0; c < CLASSES; c++) {
        if (f[o + c] > max) {
          max = f[o + c];
          arg = c;
        }
      }
      let sum = 0;
      for (let c = 0; c < CLASSES; c++) {
        const v = Math.exp(f[o + c] - max);
        ex[c] = v;
        sum += v;
      }
      const y = labels[labelFrom + i];
      loss += Math.log(sum) + max - f[o + y];
      if (arg !== y) errors++;
      if (scale !== null) {
        const d = d0 + i * ZW;
        for (let c = 0; c < CLASSES; c++) f[d + c] = (ex[c] / sum - (c === y ? 1 : 0)) * scale;
        f[d + 10] = 0;
        f[d + 11] = 0;
      }
    }
    return { loss, errors };
  }

  /**
   * One SGD step on the given batch at learning rate lr. Returns the minibatch loss and error
   * count measured before the update and W2 after it (a fresh array the caller owns).
   */
  async step(batch: UploadBatch, lr: number): Promise<StepResult> {
    const stats = this.stepSync(batch, lr);
    return { ...stats, w2: this.readW2() };
  }

  /** The step without the promise or the W2 copy (benchmarks, tests). */
  stepSync(batch: UploadBatch, lr: number): BatchStats {
    this.live();
    const B = batch.size;
    if (!(B >= 1)) throw new Error(`SimdMlp: empty batch`);
    this.ensure(B);
    this.loadInputs(batch.x, 0, B);
    this.forward(B, true);
    const s = this.softmax(batch.labels, 0, B, lr / B);
    this.backward(B);
    return { loss: s.loss / B, errors: s.errors };
  }

  /** The backward pass and the update, after forward(B, keep) and softmax with a scale. */
  private backward(B: number): void {
    const L = this.lay;
    this.k.bwd(
      B,
      this.inputSize,
      L.w1,
      L.w2,
      L.w2t,
      L.w3,
      L.w3t,
      L.h1,
      L.h2,
      L.d3,
      L.d2,
      L.d1,
      L.rsx,
      L.rsh,
      L.tl,
      L.cntx,
      L.cscx,
      L.cnth,
      L.csch,
      L.w2out,
    );
  }

  /**
   * One SGD step on the samples `idx[0..count)` of a split, read straight from its pixel bytes:
   * the same step as fillBatch + step(), bit for bit (b/255 in float32 is PIXEL_LUT[b]), without
   * building the float batch (its xT and one-hot rows) in JS, which costs more than the step.
   */
  async stepIndices(
    split: DataSplit,
    idx: ArrayLike<number>,
    count: number,
    lr: number,
  ): Promise<StepResult> {
    const stats = this.stepIndicesSync(split, idx, count, lr);
    return { ...stats, w2: this.readW2() };
  }

  stepIndicesSync(split: DataSplit, idx: ArrayLike<number>, count: number, lr: number): BatchStats {
    this.live();
    const P = this.checkSplit(split);
    if (!(count >= 1)) throw new Error(`SimdMlp: empty batch`);
    this.ensure(count);
    const { images, labels } = split;
    const base = this.lay.xb;
    for (let i = 0; i < count; i++) {
      const s = idx[i] * P;
      this.u8.set(images.subarray(s, s + P), base + i * this.xbStride);
      this.labels[i] = labels[idx[i]];
    }
    this.forward(count, true, true);
    const s = this.softmax(this.labels, 0, count, lr / count);
    this.backward(count);
    return { loss: s.loss / count, errors: s.errors };
  }

  /** Loss and error count of samples [start, start + count) of a split, from its pixel bytes. */
  async evaluateSplit(
    split: DataSplit,
    start = 0,
    count = split.count - start,
  ): Promise<BatchStats> {
    this.live();
    const P = this.checkSplit(split);
    const cap = this.lay.cap;
    const base = this.lay.xb;
    let loss = 0;
    let errors = 0;
    for (let from = start; from < start + count; from += cap) {
      const m = Math.min(cap, start + count - from);
      if (this.xbStride === P) {
        this.u8.set(split.images.subarray(from * P, (from + m) * P), base);
      } else {
        for (let i = 0; i < m; i++) {
          const s = (from + i) * P;
          this.u8.set(split.images.subarray(s, s + P), base + i * this.xbStride);
        }
      }
      this.forward(m, false, true);
      const s = this.softmax(split.labels, from, m, null);
      loss += s.loss;
      errors += s.errors;
    }
    return { loss: loss / count, errors };
  }

  private checkSplit(split: DataSplit): number {
    const P = split.images.length / split.count;
    if (P !== this.inputSize) {
      throw new Error(`SimdMlp: the split has ${P} pixels an image, the network ${this.inputSize}`);
    }
    return P;
  }

  /** Loss and error count of `count` samples in row-major `x` (inputSize floats each). */
  evaluateArray(x: ArrayLike<number>, labels: ArrayLike<number>, count: number): BatchStats {
    this.live();
    const src = x instanceof Float32Array ? x : Float32Array.from(x);
    const cap = this.lay.cap;
    let loss = 0;
    let errors = 0;
    for (let from = 0; from < count; from += cap) {
      const m = Math.min(cap, count - from);
      this.loadInputs(src, from, m);
      this.forward(m, false);
      const s = this.softmax(labels, from, m, null);
      loss += s.loss;
      errors += s.errors;
    }
    return { loss: loss / count, errors };
  }

  /** Loss and error count of resident inputs (e.g. a tf.Tensor2D [count, inputSize]). */
  async evaluateResident(X: ResidentInputs, labels: ArrayLike<number>): Promise<BatchStats> {
    const [count, n] = X.shape;
    if (n !== this.inputSize)
      throw new Error(`SimdMlp: inputs have ${n} columns, expected ${this.inputSize}`);
    return this.evaluateArray(X.dataSync(), labels, count);
  }

  /**
   * Loss and error count over a whole data set, evaluated in chunks so memory stays bounded.
   * `fill(start, count, out)` writes `count` samples starting at `start` into `out`.
   */
  async evaluate(
    total: number,
    chunk: number,
    fill: (start: number, count: number, out: UploadBatch) => void,
    scratch: UploadBatch,
  ): Promise<BatchStats> {
    return chunkedStats(total, chunk, (start, count) => {
      fill(start, count, scratch);
      return this.evaluateArray(scratch.x, scratch.labels, count);
    });
  }

  /** W2 as packed by the last step (bwd writes it to w2out). */
  private readW2(): Float32Array {
    const at = this.lay.w2out >> 2;
    return this.f32.slice(at, at + this.hidden * this.hidden);
  }

  /** rows × cols floats from a padded region (row stride `stride` floats) into `out`. */
  private unpad(at: number, rows: number, cols: number, stride: number, out: Float32Array): void {
    const f = this.f32;
    let src = at >> 2;
    if (cols === stride) {
      out.set(f.subarray(src, src + rows * cols));
      return;
    }
    let dst = 0;
    for (let r = 0; r < rows; r++, src += stride)
      for (let c = 0; c < cols; c++) out[dst++] = f[src + c];
  }

  private pad(src: Float32Array, at: number, rows: number, cols: number, stride: number): void {
    const f = this.f32;
    const base = at >> 2;
    if (cols === stride) {
      f.set(src.subarray(0, rows * cols), base);
      return;
    }
    for (let r = 0; r < rows; r++) {
      f.set(src.subarray(r * cols, (r + 1) * cols), base + r * stride);
    }
  }

  async getWeights(): Promise<MlpWeights> {
    return this.getWeightsSync();
  }

  getWeightsSync(): MlpWeights {
    this.live();
    const h = this.hidden;
    const W1 = new Float32Array(this.inputSize * h);
    const W2 = new Float32Array(h * h);
    const W3 = new Float32Array(h * CLASSES);
    this.unpad(this.lay.w1, this.inputSize, h, this.hp, W1);
    this.unpad(this.lay.w2, h, h, this.hp, W2);
    this.unpad(this.lay.w3, h, CLASSES, ZW, W3);
    return { hidden: h, W1, W2, W3 };
  }

  setWeights(w: MlpWeights): void {
    this.live();
    const h = this.hidden;
    if (
      w.hidden !== h ||
      w.W1.length !== this.inputSize * h ||
      w.W2.length !== h * h ||
      w.W3.length !== h * CLASSES
    ) {
      throw new Error('SimdMlp.setWeights: shapes do not match the network');
    }
    const L = this.lay;
    // Pads must be exactly zero: they are what keeps the padded columns out of every product.
    this.f32.fill(0, L.w1 >> 2, L.varStart >> 2);
    this.pad(w.W1, L.w1, this.inputSize, h, this.hp);
    this.pad(w.W2, L.w2, h, h, this.hp);
    this.pad(w.W3, L.w3, h, CLASSES, ZW);
    this.f32.set(w.W2, L.w2out >> 2);
  }

  dispose(): void {
    this.disposed = true;
  }

  private live(): void {
    if (this.disposed) throw new Error('SimdMlp: used after dispose()');
  }
}
