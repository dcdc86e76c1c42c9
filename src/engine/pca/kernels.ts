/**
 * Dense float64 kernels for the PCA engine: a register-tiled, cache-blocked "NT" matrix
 * multiply (C += α·A·Bᵀ with A and B stored by rows, so every inner loop walks contiguous
 * memory) and a symmetric matrix–vector product that reads only the upper triangle.
 *
 * Two implementations of each: plain JS (always available) and WebAssembly SIMD
 * (wasmKernels.ts). The wasm ones can only touch wasm memory, so the engine allocates its
 * big arrays from a `Workspace`, whose methods use wasm when every operand lives in its
 * memory and the JS kernels otherwise.
 *
 * Plain JavaScript does not vectorise, so the JS speed comes from keeping a 3×4 tile of C
 * in locals (12 accumulators, 7 loads per 24 flops) and from blocking so that the rows
 * being combined stay in L1/L2: ~5–6 GFLOP/s on the project's 2-core AMD EPYC, against
 * ~15–25 GFLOP/s for the f64x2 wasm kernel.
 */

import { instantiateKernels, type WasmKernels } from './wasmKernels';

/** Inner-dimension block: 3 + 4 rows × KC doubles stay in L1. */
const KC = 256;
/** Rows of B per block: JC × KC doubles (1 MiB) stay in L2. */
const JC = 512;

/**
 * C[i, j] += alpha · Σ_k A[i, k] · B[j, k]   for 0 ≤ i < m, 0 ≤ j < nn, 0 ≤ k < kk,
 * with X[r, s] stored at x[xOff + r·ldx + s].
 *
 * With `upper` set, only entries with j ≥ i are needed: tiles lying entirely below the
 * diagonal are skipped; tiles straddling it also write some entries with j < i, so the
 * caller must treat the strict lower triangle of C as scratch.
 */
export function gemmNTjs(
  m: number,
  nn: number,
  kk: number,
  alpha: number,
  a: Float64Array,
  aOff: number,
  lda: number,
  b: Float64Array,
  bOff: number,
  ldb: number,
  c: Float64Array,
  cOff: number,
  ldc: number,
  upper = false,
): void {
  if (m <= 0 || nn <= 0 || kk <= 0) return;
  for (let k0 = 0; k0 < kk; k0 += KC) {
    const k1 = Math.min(kk, k0 + KC);
    for (let j0 = 0; j0 < nn; j0 += JC) {
      const j1 = Math.min(nn, j0 + JC);
      if (upper && j1 <= 0) continue;
      // Rows i with some j in [j0, j1) and j ≥ i: i < j1.
      const iEnd = upper ? Math.min(m, j1) : m;
      let i = 0;
      for (; i + 3 <= iEnd; i += 3) {
        const a0 = aOff + i * lda;
        const a1 = a0 + lda;
        const a2 = a1 + lda;
        // First j tile touching j ≥ i (tiles aligned to j0).
        let jStart = j0;
        if (upper && i > j0) jStart = j0 + (((i - j0) >> 2) << 2);
        let j = jStart;
        for (; j + 4 <= j1; j += 4) {
          const b0 = bOff + j * ldb;
          const b1 = b0 + ldb;
          const b2 = b1 + ldb;
          const b3 = b2 + ldb;
          let c00 = 0,
            c01 = 0,
            c02 = 0,
            c03 = 0;
          let c10 = 0,
            c11 = 0,
            c12 = 0,
            c13 = 0;
          let c20 = 0,
            c21 = 0,
            c22 = 0,
            c23 = 0;
          for (let k = k0; k < k1; k++) {
            const y0 = b[b0 + k];
            const y1 = b[b1 + k];
            const y2 = b[b2 + k];
            const y3 = b[b3 + k];
            let x = a[a0 + k];
            c00 += x * y0;
            c01 += x * y1;
            c02 += x * y2;
            c03 += x * y3;
            x = a[a1 + k];
            c10 += x * y0;
            c11 += x * y1;
            c12 += x * y2;
            c13 += x * y3;
            x = a[a2 + k];
            c20 += x * y0;
            c21 += x * y1;
            c22 += x * y2;
            c23 += x * y3;
          }
          let r = cOff + i * ldc + j;
          c[r] += alpha * c00;
          c[r + 1] += alpha * c01;
          c[r + 2] += alpha * c02;
          c[r + 3] += alpha * c03;
          r += ldc;
          c[r] += alpha * c10;
          c[r + 1] += alpha * c11;
          c[r + 2] += alpha * c12;
          c[r + 3] += alpha * c13;
          r += ldc;
          c[r] += alpha * c20;
          c[r + 1] += alpha * c21;
          c[r + 2] += alpha * c22;
          c[r + 3] += alpha * c23;
        }
        // Leftover columns (fewer than 4).
        for (; j < j1; j++) {
          const bj = bOff + j * ldb;
          let s0 = 0,
            s1 = 0,
            s2 = 0;
          for (let k = k0; k < k1; k++) {
            const y = b[bj + k];
            s0 += a[a0 + k] * y;
            s1 += a[a1 + k] * y;
            s2 += a[a2 + k] * y;
          }
          const r = cOff + i * ldc + j;
          c[r] += alpha * s0;
          c[r + ldc] += alpha * s1;
          c[r + 2 * ldc] += alpha * s2;
        }
      }
      // Leftover rows (fewer than 3).
      for (; i < iEnd; i++) {
        const ai = aOff + i * lda;
        const jStart = upper ? Math.max(j0, i) : j0;
        for (let j = jStart; j < j1; j++) {
          const bj = bOff + j * ldb;
          let s = 0;
          for (let k = k0; k < k1; k++) s += a[ai + k] * b[bj + k];
          c[cOff + i * ldc + j] += alpha * s;
        }
      }
    }
  }
}

/**
 * y = A·x for the symmetric N×N matrix A whose upper triangle (r ≤ s) is stored at
 * a[off + r·ld + s]; the strict lower triangle is never read. One pass over the triangle,
 * four rows at a time: each element feeds both the row dot product and the column axpy.
 */
export function symvUpperJs(
  nDim: number,
  a: Float64Array,
  off: number,
  ld: number,
  x: Float64Array,
  xOff: number,
  y: Float64Array,
  yOff: number,
): void {
  for (let i = 0; i < nDim; i++) y[yOff + i] = 0;
  let i = 0;
  for (; i + 4 <= nDim; i += 4) {
    const r0 = off + i * ld;
    const r1 = r0 + ld;
    const r2 = r1 + ld;
    const r3 = r2 + ld;
    const x0 = x[xOff + i];
    const x1 = x[xOff + i + 1];
    const x2 = x[xOff + i + 2];
    const x3 = x[xOff + i + 3];
    // The 4×4 diagonal block.
    const a00 = a[r0 + i],
      a01 = a[r0 + i + 1],
      a02 = a[r0 + i + 2],
      a03 = a[r0 + i + 3];
    const a11 = a[r1 + i + 1],
      a12 = a[r1 + i + 2],
      a13 = a[r1 + i + 3];
    const a22 = a[r2 + i + 2],
      a23 = a[r2 + i + 3];
    const a33 = a[r3 + i + 3];
    let s0 = a00 * x0 + a01 * x1 + a02 * x2 + a03 * x3;
    let s1 = a01 * x0 + a11 * x1 + a12 * x2 + a13 * x3;
    let s2 = a02 * x0 + a12 * x1 + a22 * x2 + a23 * x3;
    let s3 = a03 * x0 + a13 * x1 + a23 * x2 + a33 * x3;
    const d = yOff - xOff;
    for (let j = xOff + i + 4, jEnd = xOff + nDim, c = i + 4; j < jEnd; j++, c++) {
      const v0 = a[r0 + c];
      const v1 = a[r1 + c];
      const v2 = a[r2 + c];
      const v3 = a[r3 + c];
      const xj = x[j];
      s0 += v0 * xj;
      s1 += v1 * xj;
      s2 += v2 * xj;
      s3 += v3 * xj;
      y[j + d] += v0 * x0 + v1 * x1 + v2 * x2 + v3 * x3;
    }
    y[yOff + i] += s0;
    y[yOff + i + 1] += s1;
    y[yOff + i + 2] += s2;
    y[yOff + i + 3] += s3;
  }
  for (; i < nDim; i++) {
    const r = off + i * ld;
    const xi = x[xOff + i];
    let s = a[r + i] * xi;
    for (let c = i + 1; c < nDim; c++) {
      const v = a[r + c];
      s += v * x[xOff + c];
      y[yOff + c] += v * xi;
    }
    y[yOff + i] += s;
  }
}

/** Σ_k x[xOff + k] · y[yOff + k], k < len, with two accumulators. */
export function dot(
  len: number,
  x: Float64Array,
  xOff: number,
  y: Float64Array,
  yOff: number,
): number {
  let s0 = 0;
  let s1 = 0;
  let k = 0;
  for (; k + 2 <= len; k += 2) {
    s0 += x[xOff + k] * y[yOff + k];
    s1 += x[xOff + k + 1] * y[yOff + k + 1];
  }
  if (k < len) s0 += x[xOff + k] * y[yOff + k];
  return s0 + s1;
}

/** y[yOff + k] += alpha · x[xOff + k], k < len. */
export function axpy(
  len: number,
  alpha: number,
  x: Float64Array,
  xOff: number,
  y: Float64Array,
  yOff: number,
): void {
  for (let k = 0; k < len; k++) y[yOff + k] += alpha * x[xOff + k];
}

/** out[q] = z_q · x for the r rows z_q = z[zOff + q·ld …] of length len; four rows a pass. */
export function dotRowsJs(
  r: number,
  len: number,
  z: Float64Array,
  zOff: number,
  ld: number,
  x: Float64Array,
  xOff: number,
  out: Float64Array,
): void {
  let q = 0;
  for (; q + 4 <= r; q += 4) {
    const z0 = zOff + q * ld;
    const z1 = z0 + ld;
    const z2 = z1 + ld;
    const z3 = z2 + ld;
    let s0 = 0,
      s1 = 0,
      s2 = 0,
      s3 = 0;
    for (let t = 0; t < len; t++) {
      const v = x[xOff + t];
      s0 += z[z0 + t] * v;
      s1 += z[z1 + t] * v;
      s2 += z[z2 + t] * v;
      s3 += z[z3 + t] * v;
    }
    out[q] = s0;
    out[q + 1] = s1;
    out[q + 2] = s2;
    out[q + 3] = s3;
  }
  for (; q < r; q++) out[q] = dot(len, z, zOff + q * ld, x, xOff);
}

/** b[bOff + t] += scale · Σ_q coef[q] · z_q[t] over the r rows z_q = z[zOff + q·ld …]. */
export function axpyRowsJs(
  r: number,
  len: number,
  z: Float64Array,
  zOff: number,
  ld: number,
  coef: ArrayLike<number>,
  scale: number,
  b: Float64Array,
  bOff: number,
): void {
  let q = 0;
  for (; q + 4 <= r; q += 4) {
    const z0 = zOff + q * ld;
    const z1 = z0 + ld;
    const z2 = z1 + ld;
    const z3 = z2 + ld;
    const c0 = scale * coef[q];
    const c1 = scale * coef[q + 1];
    const c2 = scale * coef[q + 2];
    const c3 = scale * coef[q + 3];
    for (let t = 0; t < len; t++) {
      b[bOff + t] += c0 * z[z0 + t] + c1 * z[z1 + t] + c2 * z[z2 + t] + c3 * z[z3 + t];
    }
  }
  for (; q < r; q++) axpy(len, scale * coef[q], z, zOff + q * ld, b, bOff);
}

/** Which kernels a computation may use: 'auto' = wasm SIMD where available, else JS. */
export type KernelChoice = 'auto' | 'js' | 'wasm';

/**
 * Bytes of the WebAssembly memory a Workspace for `doubles` doubles takes: the caller's arrays
 * (each padded to a 16-byte boundary: 2 doubles per allocation, for up to 64 of them), the
 * GEMM's packing area (KC·JC doubles, 1 MiB) and 4 doubles of scratch, in whole pages. The
 * memory policy (experiments/memoryPolicy.ts) counts workspaces by it.
 */
export function workspaceBytes(doubles: number): number {
  return 65536 * Math.max(1, Math.ceil((8 * (doubles + KC * JC + 64 + 2 * 64)) / 65536));
}

/**
 * Scratch memory for one computation, plus kernels that run on it. With wasm kernels it is
 * one WebAssembly memory sized up front (it never grows, so views stay valid) and released
 * with the workspace; without, `alloc` hands out ordinary Float64Arrays.
 */
export class Workspace {
  private readonly wasm: WasmKernels | null;
  private readonly heap: Float64Array;
  private top = 0;
  private readonly pack: number; // index of the GEMM packing area (KC·JC doubles)
  private readonly scratch: number; // 4 doubles for symv row sums
  /** Allocations that did not fit and fell back to JS memory (0 when sized right). */
  spilled = 0;
  /** Spills over all workspaces (a diagnostic: a non-zero count means a sizing bug). */
  static totalSpills = 0;

  /** `doubles`: total size of the arrays the caller will `alloc`. */
  constructor(doubles: number, choice: KernelChoice = 'auto') {
    let wasm: WasmKernels | null = null;
    if (choice !== 'js') {
      wasm = instantiateKernels(workspaceBytes(doubles));
      if (!wasm && choice === 'wasm') {
        throw new Error('Workspace: WebAssembly SIMD kernels are not available here');
      }
    }
    this.wasm = wasm;
    this.heap = wasm ? wasm.f64() : new Float64Array(0);
    this.pack = this.reserve(KC * JC);
    this.scratch = this.reserve(4);
  }

  /** Whether the wasm SIMD kernels are in use. */
  get usesWasm(): boolean {
    return this.wasm !== null;
  }

  /** A zeroed array of n doubles (a view into wasm memory when wasm is used). */
  alloc(n: number): Float64Array {
    if (!this.wasm) return new Float64Array(n);
    const start = this.reserve(n);
    if (start < 0) {
      this.spilled++;
      Workspace.totalSpills++;
      return new Float64Array(n);
    }
    return this.heap.subarray(start, start + n);
  }

  private reserve(n: number): number {
    if (!this.wasm) return -1;
    const start = (this.top + 1) & ~1; // 16-byte aligned
    if (start + n > this.heap.length) return -1;
    this.top = start + n;
    return start;
  }

  /** Index of `x[off]` in the wasm heap, or −1 when x is not a view of it. */
  private at(x: Float64Array, off: number): number {
    return this.wasm && x.buffer === this.heap.buffer ? x.byteOffset / 8 + off : -1;
  }

  /** C += α·A·Bᵀ; see `gemmNTjs` for the arguments. */
  gemmNT(
    m: number,
    nn: number,
    kk: number,
    alpha: number,
    a: Float64Array,
    aOff: number,
    lda: number,
    b: Float64Array,
    bOff: number,
    ldb: number,
    c: Float64Array,
    cOff: number,
    ldc: number,
    upper = false,
  ): void {
    const ia = this.at(a, aOff);
    const ib = this.at(b, bOff);
    const ic = this.at(c, cOff);
    if (!this.wasm || ia < 0 || ib < 0 || ic < 0 || this.pack < 0) {
      gemmNTjs(m, nn, kk, alpha, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, upper);
      return;
    }
    if (m <= 0 || nn <= 0 || kk <= 0) return;
    const h = this.heap;
    const w = this.wasm;
    const pk = this.pack;
    for (let k0 = 0; k0 < kk; k0 += KC) {
      const kc = Math.min(KC, kk - k0);
      for (let j0 = 0; j0 < nn; j0 += JC) {
        const j1 = Math.min(nn, j0 + JC);
        const iEnd = upper ? Math.min(m, j1) : m;
        const nT = (j1 - j0) >> 2;
        // Pack B[j0 … j0+4nT, k0 … k0+kc) as nT tiles of kc × 4.
        for (let t = 0; t < nT; t++) {
          const dst = pk + t * kc * 4;
          for (let q = 0; q < 4; q++) {
            const src = ib + (j0 + 4 * t + q) * ldb + k0;
            for (let k = 0; k < kc; k++) h[dst + 4 * k + q] = h[src + k];
          }
        }
        let i = 0;
        for (; i + 4 <= iEnd; i += 4) {
          const t0 = upper && i > j0 ? (i - j0) >> 2 : 0;
          if (t0 >= nT) continue;
          w.gemm4(
            8 * (ia + i * lda + k0),
            8 * lda,
            8 * (pk + t0 * kc * 4),
            kc,
            nT - t0,
            8 * (ic + i * ldc + j0 + 4 * t0),
            8 * ldc,
            alpha,
          );
        }
        // Leftover rows (fewer than 4), all columns of the block.
        for (let r = i; r < iEnd; r++) {
          for (let j = upper ? Math.max(j0, r) : j0; j < j1; j++) {
            let s = 0;
            const ar = ia + r * lda + k0;
            const bj = ib + j * ldb + k0;
            for (let k = 0; k < kc; k++) s += h[ar + k] * h[bj + k];
            h[ic + r * ldc + j] += alpha * s;
          }
        }
        // Leftover columns (fewer than 4) for the rows done in wasm.
        for (let j = j0 + 4 * nT; j < j1; j++) {
          const bj = ib + j * ldb + k0;
          const rEnd = upper ? Math.min(i, j + 1) : i;
          for (let r = 0; r < rEnd; r++) {
            let s = 0;
            const ar = ia + r * lda + k0;
            for (let k = 0; k < kc; k++) s += h[ar + k] * h[bj + k];
            h[ic + r * ldc + j] += alpha * s;
          }
        }
      }
    }
  }

  /** out[q] = z_q · x over r rows of z; see `dotRowsJs`. */
  dotRows(
    r: number,
    len: number,
    z: Float64Array,
    zOff: number,
    ld: number,
    x: Float64Array,
    xOff: number,
    out: Float64Array,
  ): void {
    const iz = this.at(z, zOff);
    const ix = this.at(x, xOff);
    const io = this.at(out, 0);
    if (!this.wasm || iz < 0 || ix < 0 || io < 0 || len === 0) {
      dotRowsJs(r, len, z, zOff, ld, x, xOff, out);
      return;
    }
    let q = 0;
    for (; q + 4 <= r; q += 4) this.wasm.dot4(8 * (iz + q * ld), 8 * ld, 8 * ix, len, 8 * (io + q));
    for (; q < r; q++) out[q] = dot(len, z, zOff + q * ld, x, xOff);
  }

  /** b += scale · Σ_q coef[q] z_q over r rows of z; see `axpyRowsJs`. */
  axpyRows(
    r: number,
    len: number,
    z: Float64Array,
    zOff: number,
    ld: number,
    coef: ArrayLike<number>,
    scale: number,
    b: Float64Array,
    bOff: number,
  ): void {
    const iz = this.at(z, zOff);
    const ib = this.at(b, bOff);
    if (!this.wasm || iz < 0 || ib < 0 || len === 0) {
      axpyRowsJs(r, len, z, zOff, ld, coef, scale, b, bOff);
      return;
    }
    const w = this.wasm;
    let q = 0;
    for (; q + 4 <= r; q += 4) {
      const c0 = scale * coef[q];
      const c1 = scale * coef[q + 1];
      const c2 = scale * coef[q + 2];
      const c3 = scale * coef[q + 3];
      w.axpy4(8 * (iz + q * ld), 8 * ld, 8 * ib, len, c0, c1, c2, c3);
    }
    for (; q < r; q++) axpy(len, scale * coef[q], z, zOff + q * ld, b, bOff);
  }

  /** Classical Gram–Schmidt step b ← b − Σ_q (z_q·b) z_q over r rows; c receives z_q·b. */
  projectOut(
    r: number,
    len: number,
    z: Float64Array,
    zOff: number,
    ld: number,
    b: Float64Array,
    c: Float64Array,
  ): void {
    this.dotRows(r, len, z, zOff, ld, b, 0, c);
    this.axpyRows(r, len, z, zOff, ld, c, -1, b, 0);
  }

  /** y = A·x, A symmetric with its upper triangle stored; see `symvUpperJs`. */
  symvUpper(
    nDim: number,
    a: Float64Array,
    off: number,
    ld: number,
    x: Float64Array,
    xOff: number,
    y: Float64Array,
    yOff: number,
  ): void {
    const ia = this.at(a, off);
    const ix = this.at(x, xOff);
    const iy = this.at(y, yOff);
    if (!this.wasm || ia < 0 || ix < 0 || iy < 0) {
      symvUpperJs(nDim, a, off, ld, x, xOff, y, yOff);
      return;
    }
    const h = this.heap;
    const w = this.wasm;
    const sc = this.scratch;
    for (let i = 0; i < nDim; i++) h[iy + i] = 0;
    let i = 0;
    for (; i + 4 <= nDim; i += 4) {
      const r0 = ia + i * ld;
      const r1 = r0 + ld;
      const r2 = r1 + ld;
      const r3 = r2 + ld;
      const x0 = h[ix + i];
      const x1 = h[ix + i + 1];
      const x2 = h[ix + i + 2];
      const x3 = h[ix + i + 3];
      const a00 = h[r0 + i],
        a01 = h[r0 + i + 1],
        a02 = h[r0 + i + 2],
        a03 = h[r0 + i + 3];
      const a11 = h[r1 + i + 1],
        a12 = h[r1 + i + 2],
        a13 = h[r1 + i + 3];
      const a22 = h[r2 + i + 2],
        a23 = h[r2 + i + 3];
      const a33 = h[r3 + i + 3];
      let s0 = a00 * x0 + a01 * x1 + a02 * x2 + a03 * x3;
      let s1 = a01 * x0 + a11 * x1 + a12 * x2 + a13 * x3;
      let s2 = a02 * x0 + a12 * x1 + a22 * x2 + a23 * x3;
      let s3 = a03 * x0 + a13 * x1 + a23 * x2 + a33 * x3;
      const len = nDim - i - 4;
      if (len > 0) {
        w.symv4(
          8 * (r0 + i + 4),
          8 * ld,
          8 * (ix + i + 4),
          8 * (iy + i + 4),
          len,
          x0,
          x1,
          x2,
          x3,
          8 * sc,
        );
        s0 += h[sc];
        s1 += h[sc + 1];
        s2 += h[sc + 2];
        s3 += h[sc + 3];
      }
      h[iy + i] += s0;
      h[iy + i + 1] += s1;
      h[iy + i + 2] += s2;
      h[iy + i + 3] += s3;
    }
    for (; i < nDim; i++) {
      const r = ia + i * ld;
      const xi = h[ix + i];
      let s = h[r + i] * xi;
      for (let c = i + 1; c < nDim; c++) {
        const v = h[r + c];
        s += v * h[ix + c];
        h[iy + c] += v * xi;
      }
      h[iy + i] += s;
    }
  }
}
