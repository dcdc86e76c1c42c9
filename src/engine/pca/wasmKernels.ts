/**
 * WebAssembly SIMD (f64x2) versions of the two hot kernels, assembled here from a few dozen
 * instructions (no toolchain, no binary blob): a 4×4-tile matrix-multiply inner kernel on a
 * packed operand and a four-row symmetric mat-vec step. V8 runs them ~3–4× (GEMM) and ~2×
 * (mat-vec) faster than the equivalent plain-JS loops, which cannot vectorise.
 *
 * Everything is validated before use; where WebAssembly or its SIMD proposal is missing (or
 * a Content-Security-Policy forbids compiling), `wasmKernelModule()` returns null and the
 * engine keeps to its JS kernels.
 */

import {
  F64,
  FunctionBody as Body,
  I32,
  V128,
  op as wasmOp,
  functionType,
  memoryModule,
  type Bytes,
} from '../wasm/binary';

/** The shared encoders, with v128 loads and stores at the f64 alignment hint (2^3). */
const op = {
  ...wasmOp,
  v128Load: (offset = 0): Bytes => wasmOp.v128Load(offset, 3),
  v128Store: (offset = 0): Bytes => wasmOp.v128Store(offset, 3),
};

// ---- Kernels --------------------------------------------------------------------------------

/**
 * gemm4(a, lda, bp, kLen, nTiles, c, ldc, alpha): for t < nTiles, the 4×4 tile
 *   C[r, 4t + q] += alpha · Σ_k A[r, k] · Bp[t][k][q],   r, q < 4, k < kLen,
 * with A rows at byte address a + r·lda, Bp packed as nTiles blocks of kLen × 4 doubles
 * (contiguous from bp) and C rows at c + r·ldc (byte strides). Eight f64x2 accumulators.
 *
 *   (func $gemm4 (export "gemm4") (param $a i32) (param $lda i32) (param $bp i32)
 *       (param $kLen i32) (param $nTiles i32) (param $c i32) (param $ldc i32) (param $alpha f64)
 *     (local.set $alpha_v (f64x2.splat (local.get $alpha)))
 *     ;; row_r = a + r·lda;  kEnd = 8·kLen
 *     (block (loop (br_if 1 (i32.ge_s (local.get $t) (local.get $nTiles)))     ;; tiles
 *       ;; acc_0..7 = v128.const 0
 *       (block (loop (br_if 1 (i32.ge_s (local.get $koff) (local.get $kEnd)))  ;; k
 *         (local.set $b01 (v128.load (local.get $pb)))
 *         (local.set $b23 (v128.load offset=16 (local.get $pb)))
 *         ;; for r < 4: av = (v128.load64_splat (i32.add (local.get $row_r) (local.get $koff)))
 *         ;;   acc_2r += av·b01;  acc_2r+1 += av·b23   (f64x2.mul, f64x2.add)
 *         ;; koff += 8; pb += 32
 *         (br 0)))
 *       ;; for r < 4, h < 2: (v128.store offset=16h (rowAddr)
 *       ;;   (f64x2.add (v128.load offset=16h (rowAddr)) (f64x2.mul (acc_2r+h) (alpha_v))))
 *       ;; pc += 32; t += 1
 *       (br 0))))
 */
function gemm4(): Bytes {
  const P = { a: 0, lda: 1, bp: 2, kLen: 3, nTiles: 4, c: 5, ldc: 6, alpha: 7 };
  const f = new Body(8);
  const t = f.local(I32);
  const koff = f.local(I32);
  const kEnd = f.local(I32);
  const pb = f.local(I32);
  const pc = f.local(I32);
  const row = [f.local(I32), f.local(I32), f.local(I32), f.local(I32)];
  const acc: number[] = [];
  for (let i = 0; i < 8; i++) acc.push(f.local(V128));
  const b01 = f.local(V128);
  const b23 = f.local(V128);
  const av = f.local(V128);
  const alpha = f.local(V128);

  f.emit(op.get(P.alpha), op.f64x2Splat, op.set(alpha));
  // Row pointers (k offset added in the loop), kEnd = 8·kLen.
  f.emit(op.get(P.a), op.set(row[0]));
  for (let r = 1; r < 4; r++) f.emit(op.get(row[r - 1]), op.get(P.lda), op.i32Add, op.set(row[r]));
  emitByteEnd(f, P.kLen, kEnd, false);
  f.emit(op.get(P.bp), op.set(pb), op.get(P.c), op.set(pc), op.i32(0), op.set(t));
  f.emit(op.block, op.loop); // over tiles
  f.emit(op.get(t), op.get(P.nTiles), op.i32GeS, op.brIf(1));
  for (const x of acc) f.emit(op.v128Zero, op.set(x));
  f.emit(op.i32(0), op.set(koff));
  f.emit(op.block, op.loop); // over k
  f.emit(op.get(koff), op.get(kEnd), op.i32GeS, op.brIf(1));
  f.emit(op.get(pb), op.v128Load(0), op.set(b01));
  f.emit(op.get(pb), op.v128Load(16), op.set(b23));
  for (let r = 0; r < 4; r++) {
    f.emit(op.get(row[r]), op.get(koff), op.i32Add, op.v128Load64Splat(0), op.set(av));
    f.emit(
      op.get(acc[2 * r]),
      op.get(av),
      op.get(b01),
      op.f64x2Mul,
      op.f64x2Add,
      op.set(acc[2 * r]),
    );
    f.emit(
      op.get(acc[2 * r + 1]),
      op.get(av),
      op.get(b23),
      op.f64x2Mul,
      op.f64x2Add,
      op.set(acc[2 * r + 1]),
    );
  }
  f.emit(op.get(koff), op.i32(8), op.i32Add, op.set(koff));
  f.emit(op.get(pb), op.i32(32), op.i32Add, op.set(pb));
  f.emit(op.br(0), op.end, op.end);
  // C tile += alpha · acc, row r at pc + r·ldc.
  const rowAddr = f.local(I32);
  f.emit(op.get(pc), op.set(rowAddr));
  for (let r = 0; r < 4; r++) {
    if (r > 0) f.emit(op.get(rowAddr), op.get(P.ldc), op.i32Add, op.set(rowAddr));
    for (let h = 0; h < 2; h++) {
      f.emit(op.get(rowAddr), op.get(rowAddr), op.v128Load(16 * h));
      f.emit(op.get(acc[2 * r + h]), op.get(alpha), op.f64x2Mul, op.f64x2Add, op.v128Store(16 * h));
    }
  }
  f.emit(op.get(pc), op.i32(32), op.i32Add, op.set(pc));
  f.emit(op.get(t), op.i32(1), op.i32Add, op.set(t));
  f.emit(op.br(0), op.end, op.end);
  return f.bytes();
}

/**
 * symv4(a, ld, x, y, len, x0, x1, x2, x3, s): for the four rows at byte address a + r·ld
 * (r < 4) and columns c < len (contiguous doubles):
 *   y[c] += Σ_r A[r, c]·x_r   and   s[r] = Σ_c A[r, c]·x[c]   (s: four doubles at s).
 *
 *   (func $symv4 (export "symv4") (param $a i32) (param $ld i32) (param $x i32) (param $y i32)
 *       (param $len i32) (param $x0 f64) (param $x1 f64) (param $x2 f64) (param $x3 f64)
 *       (param $s i32)
 *     ;; xs_r = (f64x2.splat (local.get $x_r)); sum_r = 0; cEnd = 8·(len & −2)
 *     (block (loop (br_if 1 (i32.ge_s (local.get $coff) (local.get $cEnd)))   ;; two columns
 *       (local.set $xv (v128.load (i32.add (local.get $x) (local.get $coff))))
 *       ;; av_r = (v128.load (row_r + coff));  sum_r += av_r · xv
 *       ;; (v128.store (y + coff) (f64x2.add (v128.load (y + coff)) (Σ_r av_r · xs_r)))
 *       (br 0)))
 *     ;; ss_r = (f64.add (f64x2.extract_lane 0 sum_r) (f64x2.extract_lane 1 sum_r))
 *     ;; (if odd len) the last column in scalar f64.load / f64.mul / f64.add
 *     ;; (f64.store offset=8r (local.get $s) (local.get $ss_r))
 *   )
 */
function symv4(): Bytes {
  const P = { a: 0, ld: 1, x: 2, y: 3, len: 4, x0: 5, s: 9 };
  const f = new Body(10);
  const row = [f.local(I32), f.local(I32), f.local(I32), f.local(I32)];
  const coff = f.local(I32);
  const cEnd = f.local(I32);
  const xs = [f.local(V128), f.local(V128), f.local(V128), f.local(V128)];
  const sum = [f.local(V128), f.local(V128), f.local(V128), f.local(V128)];
  const av = [f.local(V128), f.local(V128), f.local(V128), f.local(V128)];
  const xv = f.local(V128);
  const yAddr = f.local(I32);
  const ss = [f.local(F64), f.local(F64), f.local(F64), f.local(F64)];
  const ax = f.local(F64);
  const ty = f.local(F64);

  f.emit(op.get(P.a), op.set(row[0]));
  for (let r = 1; r < 4; r++) f.emit(op.get(row[r - 1]), op.get(P.ld), op.i32Add, op.set(row[r]));
  for (let r = 0; r < 4; r++) {
    f.emit(op.get(P.x0 + r), op.f64x2Splat, op.set(xs[r]), op.v128Zero, op.set(sum[r]));
  }
  // cEnd = 8·(len − len mod 2): byte offset where the paired loop stops.
  emitByteEnd(f, P.len, cEnd, true);
  f.emit(op.i32(0), op.set(coff));
  f.emit(op.block, op.loop);
  f.emit(op.get(coff), op.get(cEnd), op.i32GeS, op.brIf(1));
  f.emit(op.get(P.x), op.get(coff), op.i32Add, op.v128Load(0), op.set(xv));
  for (let r = 0; r < 4; r++) {
    f.emit(op.get(row[r]), op.get(coff), op.i32Add, op.v128Load(0), op.set(av[r]));
    f.emit(op.get(sum[r]), op.get(av[r]), op.get(xv), op.f64x2Mul, op.f64x2Add, op.set(sum[r]));
  }
  // y[c .. c+1] += a0·x0 + a1·x1 + a2·x2 + a3·x3
  f.emit(op.get(P.y), op.get(coff), op.i32Add, op.tee(yAddr), op.get(yAddr), op.v128Load(0));
  f.emit(op.get(av[0]), op.get(xs[0]), op.f64x2Mul, op.get(av[1]), op.get(xs[1]), op.f64x2Mul);
  f.emit(op.f64x2Add, op.get(av[2]), op.get(xs[2]), op.f64x2Mul, op.get(av[3]), op.get(xs[3]));
  f.emit(op.f64x2Mul, op.f64x2Add, op.f64x2Add, op.f64x2Add, op.v128Store(0));
  f.emit(op.get(coff), op.i32(16), op.i32Add, op.set(coff));
  f.emit(op.br(0), op.end, op.end);
  // Horizontal sums.
  for (let r = 0; r < 4; r++) {
    f.emit(op.get(sum[r]), op.f64x2ExtractLane(0), op.get(sum[r]), op.f64x2ExtractLane(1));
    f.emit(op.f64Add, op.set(ss[r]));
  }
  // Odd last column.
  emitByteEnd(f, P.len, cEnd, false);
  f.emit(op.get(coff), op.get(cEnd), op.i32LtS, op.if);
  f.emit(op.get(P.y), op.get(coff), op.i32Add, op.tee(yAddr), op.f64Load(0), op.set(ty));
  for (let r = 0; r < 4; r++) {
    f.emit(op.get(row[r]), op.get(coff), op.i32Add, op.f64Load(0), op.set(ax));
    f.emit(op.get(ss[r]), op.get(ax), op.get(P.x), op.get(coff), op.i32Add, op.f64Load(0));
    f.emit(op.f64Mul, op.f64Add, op.set(ss[r]));
    f.emit(op.get(ty), op.get(ax), op.get(P.x0 + r), op.f64Mul, op.f64Add, op.set(ty));
  }
  f.emit(op.get(yAddr), op.get(ty), op.f64Store(0));
  f.emit(op.end);
  for (let r = 0; r < 4; r++) f.emit(op.get(P.s), op.get(ss[r]), op.f64Store(8 * r));
  return f.bytes();
}

/**
 * dot4(z, ld, b, len, out): out[r] = Σ_c Z[r, c]·b[c] for the four rows at z + r·ld.
 *
 *   (func $dot4 (export "dot4") (param $z i32) (param $ld i32) (param $b i32) (param $len i32)
 *       (param $out i32)
 *     (block (loop (br_if 1 (i32.ge_s (local.get $coff) (local.get $cEnd)))   ;; two columns
 *       (local.set $bv (v128.load (i32.add (local.get $b) (local.get $coff))))
 *       ;; sum_r = (f64x2.add sum_r (f64x2.mul (v128.load (row_r + coff)) (local.get $bv)))
 *       (br 0)))
 *     ;; horizontal sums, the odd last column in scalar f64, (f64.store offset=8r (out) ss_r)
 *   )
 */
function dot4(): Bytes {
  const P = { z: 0, ld: 1, b: 2, len: 3, out: 4 };
  const f = new Body(5);
  const row = [f.local(I32), f.local(I32), f.local(I32), f.local(I32)];
  const coff = f.local(I32);
  const cEnd = f.local(I32);
  const sum = [f.local(V128), f.local(V128), f.local(V128), f.local(V128)];
  const bv = f.local(V128);
  const ss = [f.local(F64), f.local(F64), f.local(F64), f.local(F64)];
  const bx = f.local(F64);
  f.emit(op.get(P.z), op.set(row[0]));
  for (let r = 1; r < 4; r++) f.emit(op.get(row[r - 1]), op.get(P.ld), op.i32Add, op.set(row[r]));
  for (let r = 0; r < 4; r++) f.emit(op.v128Zero, op.set(sum[r]));
  emitByteEnd(f, P.len, cEnd, true);
  f.emit(op.i32(0), op.set(coff));
  f.emit(op.block, op.loop);
  f.emit(op.get(coff), op.get(cEnd), op.i32GeS, op.brIf(1));
  f.emit(op.get(P.b), op.get(coff), op.i32Add, op.v128Load(0), op.set(bv));
  for (let r = 0; r < 4; r++) {
    f.emit(op.get(sum[r]), op.get(row[r]), op.get(coff), op.i32Add, op.v128Load(0));
    f.emit(op.get(bv), op.f64x2Mul, op.f64x2Add, op.set(sum[r]));
  }
  f.emit(op.get(coff), op.i32(16), op.i32Add, op.set(coff));
  f.emit(op.br(0), op.end, op.end);
  for (let r = 0; r < 4; r++) {
    f.emit(op.get(sum[r]), op.f64x2ExtractLane(0), op.get(sum[r]), op.f64x2ExtractLane(1));
    f.emit(op.f64Add, op.set(ss[r]));
  }
  emitByteEnd(f, P.len, cEnd, false);
  f.emit(op.get(coff), op.get(cEnd), op.i32LtS, op.if);
  f.emit(op.get(P.b), op.get(coff), op.i32Add, op.f64Load(0), op.set(bx));
  for (let r = 0; r < 4; r++) {
    f.emit(op.get(ss[r]), op.get(row[r]), op.get(coff), op.i32Add, op.f64Load(0));
    f.emit(op.get(bx), op.f64Mul, op.f64Add, op.set(ss[r]));
  }
  f.emit(op.end);
  for (let r = 0; r < 4; r++) f.emit(op.get(P.out), op.get(ss[r]), op.f64Store(8 * r));
  return f.bytes();
}

/**
 * axpy4(z, ld, b, len, c0, c1, c2, c3): b[c] += Σ_r c_r · Z[r, c] for the four rows at
 * z + r·ld.
 *
 *   (func $axpy4 (export "axpy4") (param $z i32) (param $ld i32) (param $b i32) (param $len i32)
 *       (param $c0 f64) (param $c1 f64) (param $c2 f64) (param $c3 f64)
 *     ;; cs_r = (f64x2.splat (local.get $c_r))
 *     (block (loop (br_if 1 (i32.ge_s (local.get $coff) (local.get $cEnd)))   ;; two columns
 *       ;; (v128.store (b + coff) (f64x2.add (v128.load (b + coff))
 *       ;;   Σ_r (f64x2.mul (v128.load (row_r + coff)) (local.get $cs_r))))
 *       (br 0)))
 *     ;; the odd last column in scalar f64
 *   )
 */
function axpy4(): Bytes {
  const P = { z: 0, ld: 1, b: 2, len: 3, c0: 4 };
  const f = new Body(8);
  const row = [f.local(I32), f.local(I32), f.local(I32), f.local(I32)];
  const coff = f.local(I32);
  const cEnd = f.local(I32);
  const cs = [f.local(V128), f.local(V128), f.local(V128), f.local(V128)];
  const bAddr = f.local(I32);
  const acc = f.local(F64);
  f.emit(op.get(P.z), op.set(row[0]));
  for (let r = 1; r < 4; r++) f.emit(op.get(row[r - 1]), op.get(P.ld), op.i32Add, op.set(row[r]));
  for (let r = 0; r < 4; r++) f.emit(op.get(P.c0 + r), op.f64x2Splat, op.set(cs[r]));
  emitByteEnd(f, P.len, cEnd, true);
  f.emit(op.i32(0), op.set(coff));
  f.emit(op.block, op.loop);
  f.emit(op.get(coff), op.get(cEnd), op.i32GeS, op.brIf(1));
  f.emit(op.get(P.b), op.get(coff), op.i32Add, op.tee(bAddr), op.get(bAddr), op.v128Load(0));
  for (let r = 0; r < 4; r++) {
    f.emit(op.get(row[r]), op.get(coff), op.i32Add, op.v128Load(0), op.get(cs[r]), op.f64x2Mul);
  }
  f.emit(op.f64x2Add, op.f64x2Add, op.f64x2Add, op.f64x2Add, op.v128Store(0));
  f.emit(op.get(coff), op.i32(16), op.i32Add, op.set(coff));
  f.emit(op.br(0), op.end, op.end);
  emitByteEnd(f, P.len, cEnd, false);
  f.emit(op.get(coff), op.get(cEnd), op.i32LtS, op.if);
  f.emit(op.get(P.b), op.get(coff), op.i32Add, op.tee(bAddr), op.f64Load(0), op.set(acc));
  for (let r = 0; r < 4; r++) {
    f.emit(op.get(acc), op.get(row[r]), op.get(coff), op.i32Add, op.f64Load(0));
    f.emit(op.get(P.c0 + r), op.f64Mul, op.f64Add, op.set(acc));
  }
  f.emit(op.get(bAddr), op.get(acc), op.f64Store(0));
  f.emit(op.end);
  return f.bytes();
}

/** Set local `dst` to 8·len bytes, or to 8·(len rounded down to even) when `even`. */
function emitByteEnd(f: Body, len: number, dst: number, even: boolean): void {
  f.emit(op.get(len));
  if (even) f.emit(op.i32(-2), op.i32And);
  f.emit(op.tee(dst), op.get(dst), op.i32Add, op.tee(dst), op.get(dst), op.i32Add);
  f.emit(op.tee(dst), op.get(dst), op.i32Add, op.set(dst));
}

function moduleBytes(): Uint8Array<ArrayBuffer> {
  return memoryModule([
    { name: 'gemm4', type: functionType([I32, I32, I32, I32, I32, I32, I32, F64]), body: gemm4() },
    {
      name: 'symv4',
      type: functionType([I32, I32, I32, I32, I32, F64, F64, F64, F64, I32]),
      body: symv4(),
    },
    { name: 'dot4', type: functionType([I32, I32, I32, I32, I32]), body: dot4() },
    { name: 'axpy4', type: functionType([I32, I32, I32, I32, F64, F64, F64, F64]), body: axpy4() },
  ]);
}

// ---- Instantiation --------------------------------------------------------------------------

export interface WasmKernels {
  memory: WebAssembly.Memory;
  /** All of memory as doubles (re-read after growth: `f64()`). */
  f64(): Float64Array;
  gemm4(
    a: number,
    lda: number,
    bp: number,
    kLen: number,
    nTiles: number,
    c: number,
    ldc: number,
    alpha: number,
  ): void;
  symv4(
    a: number,
    ld: number,
    x: number,
    y: number,
    len: number,
    x0: number,
    x1: number,
    x2: number,
    x3: number,
    s: number,
  ): void;
  dot4(z: number, ld: number, b: number, len: number, out: number): void;
  axpy4(
    z: number,
    ld: number,
    b: number,
    len: number,
    c0: number,
    c1: number,
    c2: number,
    c3: number,
  ): void;
}

let compiled: WebAssembly.Module | null | undefined;

/** The compiled kernel module, or null where WebAssembly SIMD is unavailable. */
export function wasmKernelModule(): WebAssembly.Module | null {
  if (compiled !== undefined) return compiled;
  compiled = null;
  try {
    if (typeof WebAssembly === 'object') {
      const bytes = moduleBytes();
      if (WebAssembly.validate(bytes)) compiled = new WebAssembly.Module(bytes);
    }
  } catch {
    compiled = null;
  }
  return compiled;
}

/** Kernels bound to a fresh memory of at least `bytes` bytes, or null without wasm SIMD. */
export function instantiateKernels(bytes: number): WasmKernels | null {
  const mod = wasmKernelModule();
  if (!mod) return null;
  // Stay below 2 GiB, so that every byte address is a non-negative i32.
  const pages = Math.max(1, Math.ceil(bytes / 65536));
  if (pages >= 32768) return null;
  let memory: WebAssembly.Memory;
  let instance: WebAssembly.Instance;
  try {
    memory = new WebAssembly.Memory({ initial: pages });
    instance = new WebAssembly.Instance(mod, { env: { memory } });
  } catch {
    return null; // e.g. out of memory: fall back to JS arrays
  }
  const ex = instance.exports as unknown as Omit<WasmKernels, 'memory' | 'f64'>;
  return {
    memory,
    f64: () => new Float64Array(memory.buffer),
    gemm4: ex.gemm4,
    symv4: ex.symv4,
    dot4: ex.dot4,
    axpy4: ex.axpy4,
  };
}
