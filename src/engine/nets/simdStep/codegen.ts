/**
 * The WebAssembly code generator of the SIMD training step (../simdMlp.ts runs it): the
 * emitters shared by both kernels (class Kernel), the bodies of `fwd`, `fwdU8` and `bwd`, the
 * module bytes and the compiled-module cache. The memory regions the kernels address are laid
 * out in ./layout.ts. Each emitter carries its WebAssembly text-format (WAT) equivalent.
 */
import { CLASSES } from '../mlp';
import {
  FunctionBody,
  I32,
  V128,
  functionType,
  memoryModule,
  op,
  section,
  vec,
  type Bytes,
} from '../../wasm/binary';
import { TABLE, ZB } from './layout';

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
  readonly f: FunctionBody;
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
    this.f = new FunctionBody(nParams);
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
    f.emit(op.v128Zero, op.set(this.zero));
  }

  /**
   * acc[j] += sv · load(addr + off + 16j) for n vectors; per vector j:
   *   (local.set $acc_j (f32x4.add (local.get $acc_j)
   *     (f32x4.mul (local.get $sv) (v128.load offset=off+16j align=16 (local.get $addr)))))
   */
  macc(n: number, addr: number, off: number): void {
    const { f, acc, sv } = this;
    for (let j = 0; j < n; j++) {
      f.emit(
        op.get(acc[j]),
        op.get(sv),
        op.get(addr),
        op.v128Load(off + 16 * j),
        op.f32x4Mul,
        op.f32x4Add,
        op.set(acc[j]),
      );
    }
  }

  zeroAcc(n: number): void {
    for (let j = 0; j < n; j++) this.f.emit(op.v128Zero, op.set(this.acc[j]));
  }

  /**
   * Appends the non-zero lanes of the f32x4 in `v` to the list at `ptr` (advanced), indexed by
   * the i32x4 in `iv`: two swizzles through the table, two interleaving shuffles, two stores
   * (32 bytes, so lists need 32 bytes of slack).
   *   (local.set $lo (v128.load offset=TABLE (i32.shl (local.tee $m (i32x4.bitmask
   *     (f32x4.ne (local.get $v) (local.get $zero))))) (i32.const 4))))
   *   (local.set $v (i8x16.swizzle (local.get $v) (local.get $lo)))
   *   (local.set $lo (i8x16.swizzle (local.get $iv) (local.get $lo)))
   *   (v128.store align=1 (local.get $ptr) (i8x16.shuffle 0 1 2 3 16 17 18 19 …
   *     (local.get $lo) (local.get $v)))                 ;; (index, value) pairs 0 and 1
   *   (v128.store offset=16 align=1 (local.get $ptr) (i8x16.shuffle 8 9 10 11 24 … ))
   *   (local.set $ptr (i32.add (local.get $ptr) (i32.shl (i32.popcnt (local.get $m)) (i32.const 3))))
   */
  private compactV(ptr: number): void {
    const { f, v, iv, lo, m } = this;
    f.emit(op.get(v), op.get(this.zero), op.f32x4Ne, op.i32x4Bitmask, op.tee(m));
    f.emit(op.i32(4), op.i32Shl, op.v128Load(TABLE), op.set(lo)); // lo = the swizzle for m
    f.emit(
      op.get(iv),
      op.get(lo),
      op.i8x16Swizzle,
      op.get(v),
      op.get(lo),
      op.i8x16Swizzle,
      op.set(v),
      op.set(lo),
    );
    f.emit(op.get(ptr), op.get(lo), op.get(v), op.i8x16Shuffle(INTERLEAVE_LO), op.v128Store(0, 0));
    f.emit(op.get(ptr), op.get(lo), op.get(v), op.i8x16Shuffle(INTERLEAVE_HI), op.v128Store(16, 0));
    f.emit(op.get(ptr), op.get(m), op.i32Popcnt, op.i32(3), op.i32Shl, op.i32Add, op.set(ptr));
  }

  /**
   * The list of a whole hidden row at `row` (hp floats), indices 0..hp−1, appended at `ptr`.
   */
  compactRow(row: number, ptr: number): void {
    const { f } = this;
    for (let q = 0; q < this.g.hp / 4; q++) {
      f.emit(op.get(row), op.v128Load(16 * q), op.set(this.v));
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
      f.emit(op.get(cur), op.v128Load(), op.tee(this.v), op.v128AnyTrue, op.if);
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
      f.emit(op.get(cur), op.v128Load(), op.tee(v8), op.v128AnyTrue, op.if);
      for (let half = 0; half < 2; half++) {
        f.emit(op.get(v8), half ? op.i16x8ExtendHighI8x16U : op.i16x8ExtendLowI8x16U, op.set(w16));
        for (let q = 0; q < 2; q++) {
          f.emit(
            op.get(w16),
            q ? op.i32x4ExtendHighI16x8U : op.i32x4ExtendLowI16x8U,
            op.f32x4ConvertI32x4U,
          );
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
   * Per block:
   *   ;; acc_j = 0 …
   *   (local.set $e (local.get $begin))
   *   (block (loop
   *     (br_if 1 (i32.ge_u (local.get $e) end))
   *     (local.set $sv (v128.load32_splat offset=4 (local.get $e)))          ;; x
   *     (local.set $a (i32.add (i32.mul (i32.load (local.get $e)) (i32.const stride)) (local.get $w)))
   *     ;; macc: acc_j += sv · W[i][block vector j] …
   *     (local.set $e (i32.add (local.get $e) (i32.const 8))) (br 0)))
   *   ;; store(acc_j, off + 16j) …
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
        f.emit(op.get(e), op.v128Load32Splat(4), op.set(this.sv));
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
   * Locals t0..t4 are scratch. Four loops, each `(block (loop (br_if 1 (i32.ge_u …)) … (br 0)))`:
   *   ;; 1. cnt[i] = 0;  2. for each list entry (i, x): cnt[i] += 1
   *   ;; 3. exclusive prefix sums: cnt[i] = csc + 8·Σ_{k<i} count_k
   *   ;; 4. scatter: (i32.store (cnt[i]) (byte offset of D[s])), (f32.store offset=4 … x),
   *   ;;    cnt[i] += 8
   *   ;; then per column i with entries, per row block: acc_j = Σ x · D[s][j] (as in
   *   ;; sparseRows) and (v128.store offset=o (local.get $row) (f32x4.sub (v128.load offset=o
   *   ;; (local.get $row)) (local.get $acc_j)))
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
          f.emit(op.get(e), op.v128Load32Splat(4), op.set(this.sv));
          f.emit(op.get(e), op.i32Load(0), op.get(p.d), op.i32Add, op.set(a));
          this.macc(blk.n, a, blk.off);
        });
        for (let j = 0; j < blk.n; j++) {
          const o = blk.off + 16 * j;
          f.emit(
            op.get(rowPtr),
            op.get(rowPtr),
            op.v128Load(o),
            op.get(this.acc[j]),
            op.f32x4Sub,
            op.v128Store(o),
          );
        }
      }
      f.emit(op.get(end), op.set(run), op.end);
      f.bump(rowPtr, rb);
    });
  }

  /** Stores max(acc, 0) at row + off:
   *   (v128.store offset=off (local.get $row) (f32x4.max (local.get $acc) (local.get $zero)))
   */
  reluStore(row: number): (acc: number, off: number) => void {
    return (acc, off) =>
      this.f.emit(op.get(row), op.get(acc), op.get(this.zero), op.f32x4Max, op.v128Store(off));
  }

  /** Stores acc ⊙ [ref > 0] at row + off:
   *   (v128.store offset=off (local.get $row) (v128.and (local.get $acc)
   *     (f32x4.gt (v128.load offset=off (local.get $ref)) (local.get $zero))))
   */
  maskStore(row: number, ref: number): (acc: number, off: number) => void {
    return (acc, off) =>
      this.f.emit(
        op.get(row),
        op.get(acc),
        op.get(ref),
        op.v128Load(off),
        op.get(this.zero),
        op.f32x4Gt,
        op.v128And,
        op.v128Store(off),
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
 *
 *   (func $fwd (export "fwd") (param $B i32) (param $nG i32) (param $x i32) (param $xs i32)
 *       (param $w1 i32) (param $w2 i32) (param $w3 i32) (param $xl i32) (param $rsx i32)
 *       (param $hl i32) (param $rsh i32) (param $h1 i32) (param $h2 i32) (param $z i32)
 *       (param $tl i32) (param $keep i32) (result i32)
 *     (local.set $s (i32.const 0))
 *     (block (loop (br_if 1 (i32.ge_s (local.get $s) (local.get $B)))
 *       (if (i32.eqz (local.get $keep)) (then (local.set $xp (local.get $xl)) (local.set $hlp (local.get $hl))))
 *       (i32.store (local.get $rsxp) (local.tee $xb (local.get $xp)))
 *       (i32.store (local.get $rshp) (local.tee $hb (local.get $hlp)))
 *       ;; compactLong (fwd) or compactBytes (fwdU8): the X list at $xp
 *       ;; sparseRows over W1 → H1 row (f32x4.max …, 0);  compactRow H1 → list at $hlp
 *       ;; sparseRows over W2 → H2 row;  compactRow H2 → list at $tl;  sparseRows over W3 → Z row
 *       ;; advance $xr, $h1r, $h2r, $zr, $rsxp, $rshp; $s += 1
 *       (br 0)))
 *     (i32.store (local.get $rsxp) (local.get $xp)) (i32.store (local.get $rshp) (local.get $hlp))
 *     (i32.const 0))
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
      f.emit(op.get(zr), op.get(acc), op.v128Store(off)),
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
 *
 *   (func $bwd (export "bwd") (param $B i32) (param $n i32) (param $w1 i32) … (param $w2out i32)
 *     ;; W3ᵀ into w3t, W2ᵀ into w2t: (f32.store (dst) (f32.load (src))) in two counted loops
 *     (block (loop (br_if 1 (i32.ge_s (local.get $s) (local.get $B)))       ;; per sample
 *       ;; D2 row: acc_j = Σ_c (v128.load32_splat offset=4c (d3 row)) · w3t[c] (macc), then
 *       ;;   maskStore against the H2 row;  compactRow D2 → list at $tl
 *       ;; D1 row: sparseRows of that list over w2t, maskStore against the H1 row
 *       (br 0)))
 *     ;; W3 −= H2ᵀ·D3: per hidden unit k, acc_0..2 = Σ_s H2[s,k]·D3[s], (f32x4.sub …) into W3[k]
 *     ;; sparseUpdate over the H1 lists (W2 −= H1ᵀ·D2) and the X lists (W1 −= Xᵀ·D1)
 *     ;; W2 packed to h×h at $w2out: (v128.store align=1 (dst) (v128.load (src))) per vector
 *   )
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
        f.emit(op.get(d3r), op.v128Load32Splat(4 * cc), op.set(sv));
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
      f.emit(op.get(pa), op.v128Load32Splat(0), op.set(sv));
      K.macc(3, pb, 0);
      f.bump(pa, rb);
    });
    f.emit(op.get(k), op.i32(ZB), op.i32Mul, op.get(P.w3), op.i32Add, op.set(qa));
    for (let j = 0; j < 3; j++) {
      f.emit(
        op.get(qa),
        op.get(qa),
        op.v128Load(16 * j),
        op.get(acc[j]),
        op.f32x4Sub,
        op.v128Store(16 * j),
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
      f.emit(op.get(pb), op.get(pa), op.v128Load(16 * q), op.v128Store(16 * q, 0));
    f.bump(pa, rb);
    f.bump(pb, 4 * h);
  });
  return f.bytes();
}

/**
 * Widest column block (f32x4 vectors) kept in registers: 7 + 6 for h = 50. A single block of
 * 13 (~150 µs a step against ~100) spills: V8 gives wasm SIMD 16 xmm registers.
 */
export const DEFAULT_BLOCK = 7;

export function moduleBytes(h: number, maxBlock: number): Uint8Array<ArrayBuffer> {
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

export interface StepExports {
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
export function stepModule(h: number, maxBlock = DEFAULT_BLOCK): WebAssembly.Module | null {
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
