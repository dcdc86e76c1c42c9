import { afterAll, describe, expect, it } from 'vitest';
import { symmetricEigen } from '../../src/engine/pca/eigen';
import { Workspace, gemmNTjs, symvUpperJs } from '../../src/engine/pca/kernels';
import { tridiagEigenvalues } from '../../src/engine/pca/tridiagEigen';
import { knownSpectrumMatrix, randomSymmetric } from '../../src/engine/pca/synthetic';
import { Rng } from '../../src/engine/data/rng';

/** max_ij |(V Vᵀ − I)_ij| for the k × n rows of V. */
function orthogonalityError(v: Float64Array, k: number, n: number): number {
  let worst = 0;
  for (let i = 0; i < k; i++) {
    for (let j = i; j < k; j++) {
      let s = 0;
      for (let t = 0; t < n; t++) s += v[i * n + t] * v[j * n + t];
      worst = Math.max(worst, Math.abs(s - (i === j ? 1 : 0)));
    }
  }
  return worst;
}

/** max_i ‖A v_i − λ_i v_i‖₂ over the k rows of V. */
function residual(a: Float64Array, n: number, values: Float64Array, v: Float64Array, k: number) {
  let worst = 0;
  for (let i = 0; i < k; i++) {
    let r2 = 0;
    for (let r = 0; r < n; r++) {
      let s = -values[i] * v[i * n + r];
      for (let c = 0; c < n; c++) s += a[r * n + c] * v[i * n + c];
      r2 += s * s;
    }
    worst = Math.max(worst, Math.sqrt(r2));
  }
  return worst;
}

function maxAbsDiff(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]));
  return worst;
}

function descending(values: ArrayLike<number>): Float64Array {
  return Float64Array.from(values).sort().reverse();
}

/** Geometric spectrum from 1 down to `low` over n values. */
function geometric(n: number, low: number): Float64Array {
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) v[i] = n === 1 ? 1 : Math.pow(low, i / (n - 1));
  return v;
}

/** Full check of a solve with all vectors against a known spectrum. */
function checkKnown(values: Float64Array, seed: number) {
  const n = values.length;
  const { a, vectors: truth } = knownSpectrumMatrix(values, new Rng(seed));
  const res = symmetricEigen(a, n, { vectors: n });
  const scale = Math.max(...Array.from(values, Math.abs));
  const expected = descending(values);
  return {
    a,
    res,
    truth,
    valueError: maxAbsDiff(res.values, expected) / scale,
    orthogonality: orthogonalityError(res.vectors, n, n),
    residual: residual(a, n, res.values, res.vectors, n) / scale,
  };
}

describe('symmetricEigen on matrices with known spectra', () => {
  const spillsBefore = Workspace.totalSpills;
  afterAll(() => {
    // Every array the solver allocates fitted in the workspace it sized up front.
    expect(Workspace.totalSpills).toBe(spillsBefore);
  });

  for (const n of [1, 2, 5, 50, 300]) {
    it(`n = ${n}, spectrum spanning 1e-8 … 1`, () => {
      const {
        res,
        truth,
        valueError,
        orthogonality,
        residual: resid,
      } = checkKnown(geometric(n, 1e-8), 100 + n);
      expect(res.values.length).toBe(n);
      expect(res.vectors.length).toBe(n * n);
      expect(res.failures).toBe(0);
      expect(valueError).toBeLessThan(1e-12);
      expect(orthogonality).toBeLessThan(1e-8);
      expect(resid).toBeLessThan(1e-12);
      // Well-separated eigenvalues (ratio 10^(8/(n−1)) apart): the vectors themselves match.
      // The angle error is ~ε‖A‖/gap, so compare the top ones, whose gaps are largest.
      for (let i = 0; i < Math.min(n, 10); i++) {
        let dotp = 0;
        for (let t = 0; t < n; t++) dotp += res.vectors[i * n + t] * truth[i * n + t];
        expect(1 - Math.abs(dotp)).toBeLessThan(1e-12);
      }
      // Sign convention: the largest-magnitude component is positive.
      for (let i = 0; i < n; i++) {
        const row = res.vectors.subarray(i * n, (i + 1) * n);
        let best = 0;
        for (let t = 1; t < n; t++) if (Math.abs(row[t]) > Math.abs(row[best])) best = t;
        expect(row[best]).toBeGreaterThan(0);
      }
    });
  }

  it('repeated eigenvalues: multiplicity 100 and a 150-fold zero eigenvalue (n = 300)', () => {
    const values = new Float64Array(300);
    for (let i = 0; i < 50; i++) values[i] = 1 + i / 50; // distinct, 1 … 1.98
    for (let i = 50; i < 150; i++) values[i] = 0.5; // 100 copies
    // 150 zeros remain.
    const { res, valueError, orthogonality, residual: resid } = checkKnown(values, 7);
    expect(valueError).toBeLessThan(1e-12);
    expect(orthogonality).toBeLessThan(1e-8);
    expect(resid).toBeLessThan(1e-12);
    expect(res.values[50]).toBeCloseTo(0.5, 12);
    expect(res.values[149]).toBeCloseTo(0.5, 12);
    expect(Math.abs(res.values[150])).toBeLessThan(1e-13);
    // A few vectors picked inside the two degenerate eigenspaces are still orthonormal
    // eigenvectors.
    const a = knownSpectrumMatrix(values, new Rng(7)).a;
    const some = symmetricEigen(a, 300, { select: [60, 61, 99, 200, 201, 299] });
    const vals = Float64Array.from(some.selected, (i) => some.values[i]);
    expect(orthogonalityError(some.vectors, 6, 300)).toBeLessThan(1e-8);
    expect(residual(a, 300, vals, some.vectors, 6)).toBeLessThan(1e-12);
  });

  it('tight clusters (ten eigenvalues 1e-13 apart) and an indefinite spectrum', () => {
    const values = new Float64Array(200);
    for (let c = 0; c < 20; c++) {
      for (let j = 0; j < 10; j++) values[c * 10 + j] = (c - 9.5) / 10 + j * 1e-13;
    }
    const { res, valueError, orthogonality, residual: resid } = checkKnown(values, 11);
    expect(valueError).toBeLessThan(1e-12);
    expect(orthogonality).toBeLessThan(1e-8);
    expect(resid).toBeLessThan(1e-12);
    expect(res.values[0]).toBeCloseTo(0.95 + 9e-13, 14);
    expect(res.values[199]).toBeCloseTo(-0.95, 14);
  });

  it('the top-k solve equals the first k rows of the full solve', () => {
    const n = 240;
    const { a } = knownSpectrumMatrix(geometric(n, 1e-6), new Rng(3));
    const full = symmetricEigen(a, n, { vectors: n });
    const top = symmetricEigen(a, n, { vectors: 25 });
    expect(top.vectors.length).toBe(25 * n);
    expect(maxAbsDiff(top.values, full.values)).toBe(0);
    expect(maxAbsDiff(top.vectors, full.vectors.subarray(0, 25 * n))).toBeLessThan(1e-13);
    const none = symmetricEigen(a, n);
    expect(none.vectors.length).toBe(0);
    expect(maxAbsDiff(none.values, full.values)).toBe(0);
    // Scattered eigenvectors by index: the same rows as the full solve.
    const some = symmetricEigen(a, n, { select: [200, 0, 17, 17, 239] });
    expect(Array.from(some.selected)).toEqual([0, 17, 200, 239]);
    expect(full.selected.length).toBe(n);
    some.selected.forEach((idx, r) => {
      const row = some.vectors.subarray(r * n, (r + 1) * n);
      expect(maxAbsDiff(row, full.vectors.subarray(idx * n, (idx + 1) * n))).toBeLessThan(1e-10);
    });
    expect(() => symmetricEigen(a, n, { select: [n] })).toThrow(/select/);
    expect(() => symmetricEigen(a, n, { select: [1], vectors: 2 })).toThrow(/either/);
  });

  it('the 1-2-1 Laplacian: analytic eigenvalues 2 − 2cos(jπ/(n+1)) and sine eigenvectors', () => {
    const n = 150;
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      a[i * n + i] = 2;
      if (i + 1 < n) {
        a[i * n + i + 1] = -1;
        a[(i + 1) * n + i] = -1;
      }
    }
    const res = symmetricEigen(a, n, { vectors: n });
    for (let j = 0; j < n; j++) {
      // Descending: index j holds the (n − j)-th smallest.
      const jj = n - j;
      expect(res.values[j]).toBeCloseTo(2 - 2 * Math.cos((jj * Math.PI) / (n + 1)), 13);
      let dotp = 0;
      const norm = Math.sqrt((n + 1) / 2);
      for (let t = 0; t < n; t++) {
        dotp += (res.vectors[j * n + t] * Math.sin(((t + 1) * jj * Math.PI) / (n + 1))) / norm;
      }
      expect(Math.abs(dotp)).toBeCloseTo(1, 10);
    }
  });

  it('a dense random matrix (n = 400): trace, Frobenius norm and residuals agree', () => {
    const n = 400;
    const a = randomSymmetric(n, new Rng(5));
    const res = symmetricEigen(a, n, { vectors: 40 });
    let trace = 0;
    let frob = 0;
    for (let i = 0; i < n; i++) {
      trace += a[i * n + i];
      for (let j = 0; j < n; j++) frob += a[i * n + j] ** 2;
    }
    let sum = 0;
    let sumSq = 0;
    for (const v of res.values) {
      sum += v;
      sumSq += v * v;
    }
    expect(Math.abs(sum - trace)).toBeLessThan(1e-10 * n);
    expect(Math.abs(sumSq - frob) / frob).toBeLessThan(1e-12);
    expect(orthogonalityError(res.vectors, 40, n)).toBeLessThan(1e-12);
    expect(residual(a, n, res.values, res.vectors, 40)).toBeLessThan(1e-11);
  });

  it('reads only the upper triangle, leaves the input alone unless inPlace', () => {
    const n = 60;
    const { a } = knownSpectrumMatrix(geometric(n, 1e-3), new Rng(9));
    for (const kernels of ['wasm', 'js'] as const) {
      const clean = symmetricEigen(a, n, { vectors: 5, kernels });
      const garbage = a.slice();
      for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) garbage[i * n + j] = 1e6 * (i - j);
      const before = garbage.slice();
      const res = symmetricEigen(garbage, n, { vectors: 5, kernels });
      expect(maxAbsDiff(garbage, before)).toBe(0);
      expect(maxAbsDiff(res.values, clean.values)).toBe(0);
      expect(maxAbsDiff(res.vectors, clean.vectors)).toBe(0);
      const inPlace = symmetricEigen(garbage, n, { vectors: 5, inPlace: true, kernels });
      expect(maxAbsDiff(inPlace.values, clean.values)).toBe(0);
      // The JS kernels work in place; the wasm ones always copy into wasm memory.
      if (kernels === 'js') expect(maxAbsDiff(garbage, before)).toBeGreaterThan(0);
      else expect(maxAbsDiff(garbage, before)).toBe(0);
    }
  });

  it('WebAssembly SIMD kernels are used in Node and agree with the JS kernels', () => {
    expect(new Workspace(16).usesWasm).toBe(true);
    expect(new Workspace(16, 'js').usesWasm).toBe(false);
    // Odd sizes exercise every edge path (leftover rows/columns, odd mat-vec lengths).
    for (const n of [37, 130]) {
      const a = randomSymmetric(n, new Rng(n));
      const w = symmetricEigen(a, n, { vectors: 11, kernels: 'wasm' });
      const j = symmetricEigen(a, n, { vectors: 11, kernels: 'js' });
      expect(maxAbsDiff(w.values, j.values)).toBeLessThan(1e-13);
      expect(maxAbsDiff(w.vectors, j.vectors)).toBeLessThan(1e-11);
    }
  });

  it('scale invariance: 1e-30·A and 1e250·A give scaled eigenvalues', () => {
    const n = 40;
    const { a } = knownSpectrumMatrix(geometric(n, 1e-8), new Rng(13));
    const base = symmetricEigen(a, n, { vectors: 3 });
    for (const s of [1e-30, 1e250]) {
      const res = symmetricEigen(
        a.map((x) => x * s),
        n,
        { vectors: 3 },
      );
      for (let i = 0; i < n; i++) {
        expect(Math.abs(res.values[i] / s - base.values[i])).toBeLessThan(1e-14);
      }
      expect(maxAbsDiff(res.vectors, base.vectors)).toBeLessThan(1e-12);
    }
  });

  it('special and invalid inputs', () => {
    const zero = symmetricEigen(new Float64Array(9), 3, { vectors: 2 });
    expect(Array.from(zero.values)).toEqual([0, 0, 0]);
    expect(Array.from(zero.vectors)).toEqual([1, 0, 0, 0, 1, 0]);
    const diag = symmetricEigen(Float64Array.from([1, 0, 0, 0, 3, 0, 0, 0, 2]), 3, { vectors: 3 });
    expect(Array.from(diag.values)).toEqual([3, 2, 1]);
    expect(Array.from(diag.vectors)).toEqual([0, 1, 0, 0, 0, 1, 1, 0, 0]);
    expect(symmetricEigen(new Float64Array(0), 0).values.length).toBe(0);
    expect(() => symmetricEigen(new Float64Array(4), 3)).toThrow(/too short/);
    expect(() => symmetricEigen(new Float64Array(4), 2, { vectors: 3 })).toThrow(/vectors/);
    expect(() => symmetricEigen(Float64Array.from([1, NaN, NaN, 1]), 2)).toThrow(/NaN/);
    expect(() => symmetricEigen(Float64Array.from([Infinity, 0, 0, 1]), 2)).toThrow(/Infinity/);
  });

  it('progress is reported and cancellation by throwing propagates', () => {
    const n = 200;
    const a = randomSymmetric(n, new Rng(1));
    const seen: number[] = [];
    symmetricEigen(a, n, { vectors: 10, onProgress: (f) => seen.push(f) });
    expect(seen.length).toBeGreaterThan(3);
    expect(seen[0]).toBe(0);
    expect(seen[seen.length - 1]).toBe(1);
    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThanOrEqual(seen[i - 1]);
    expect(() =>
      symmetricEigen(a, n, {
        onProgress: (f) => {
          if (f > 0.3) throw new Error('cancelled');
        },
      }),
    ).toThrow('cancelled');
  });
});

describe('tridiagonal eigenvalues (QL)', () => {
  it('splits at zero off-diagonals and sorts descending', () => {
    const d = Float64Array.from([1, 5, -2, 4]);
    const e = Float64Array.from([0, 0, 0, 0]);
    const spec = tridiagEigenvalues(d, e, 4);
    expect(Array.from(spec.values)).toEqual([5, 4, 1, -2]);
    expect(Array.from(spec.blockLo)).toEqual([1, 3, 0, 2]);
  });
});

describe('kernels: wasm SIMD against plain JS', () => {
  it('gemmNT (full and upper), dotRows, axpyRows and symvUpper agree on ragged sizes and offsets', () => {
    const rng = new Rng(4);
    for (const [m, nn, kk] of [
      [1, 1, 1],
      [7, 5, 3],
      [13, 21, 300],
      [66, 530, 70],
    ]) {
      for (const upper of [false, true]) {
        const ws = new Workspace(2 * (m + nn) * kk + 2 * m * nn + 64);
        const lda = kk + 3;
        const a = ws.alloc(m * lda + 5);
        const b = ws.alloc(nn * kk + 2);
        const c = ws.alloc(m * (nn + 1) + 1);
        for (let i = 0; i < a.length; i++) a[i] = rng.normal();
        for (let i = 0; i < b.length; i++) b[i] = rng.normal();
        for (let i = 0; i < c.length; i++) c[i] = rng.normal();
        const cj = Float64Array.from(c);
        ws.gemmNT(m, nn, kk, -0.5, a, 5, lda, b, 2, kk, c, 1, nn + 1, upper);
        gemmNTjs(
          m,
          nn,
          kk,
          -0.5,
          Float64Array.from(a),
          5,
          lda,
          Float64Array.from(b),
          2,
          kk,
          cj,
          1,
          nn + 1,
          upper,
        );
        let worst = 0;
        for (let i = 0; i < m; i++) {
          for (let j = upper ? i : 0; j < nn; j++) {
            const idx = 1 + i * (nn + 1) + j;
            worst = Math.max(worst, Math.abs(c[idx] - cj[idx]));
          }
        }
        expect(worst).toBeLessThan(1e-12 * Math.sqrt(kk));
        expect(ws.spilled).toBe(0);
      }
    }
    for (const [r, len] of [
      [1, 1],
      [3, 7],
      [4, 8],
      [9, 33],
      [17, 300],
    ]) {
      const [wa, js] = [new Workspace(r * len + len + r + 16), new Workspace(0, 'js')];
      const z = wa.alloc(r * len + 1);
      const b = wa.alloc(len + 2);
      const c = wa.alloc(r);
      for (let i = 0; i < z.length; i++) z[i] = rng.normal();
      for (let i = 0; i < b.length; i++) b[i] = rng.normal();
      const coef = Float64Array.from({ length: r }, () => rng.normal());
      const [zj, bj, cj] = [Float64Array.from(z), Float64Array.from(b), new Float64Array(r)];
      wa.dotRows(r, len, z, 1, len, b, 2, c);
      js.dotRows(r, len, zj, 1, len, bj, 2, cj);
      for (let q = 0; q < r; q++) {
        let sum = 0;
        for (let t = 0; t < len; t++) sum += z[1 + q * len + t] * b[2 + t];
        expect(Math.abs(c[q] - sum)).toBeLessThan(1e-12 * len);
        expect(Math.abs(cj[q] - sum)).toBeLessThan(1e-12 * len);
      }
      wa.axpyRows(r, len, z, 1, len, coef, -0.5, b, 2);
      js.axpyRows(r, len, zj, 1, len, coef, -0.5, bj, 2);
      for (let i = 0; i < b.length; i++) expect(Math.abs(b[i] - bj[i])).toBeLessThan(1e-12 * r);
      expect(b[0]).toBe(bj[0]);
      expect(b[1]).toBe(bj[1]);
    }
    for (const n of [1, 3, 4, 5, 9, 64, 101]) {
      const ws = new Workspace(n * n + 3 * n + 16);
      const a = ws.alloc(n * n + 1);
      const x = ws.alloc(n + 1);
      const y = ws.alloc(n);
      for (let i = 0; i < a.length; i++) a[i] = rng.normal();
      for (let i = 0; i < x.length; i++) x[i] = rng.normal();
      ws.symvUpper(n, a, 1, n, x, 1, y, 0);
      const yj = new Float64Array(n);
      symvUpperJs(n, a, 1, n, x, 1, yj, 0);
      // Against the definition, reading the upper triangle only.
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let j = 0; j < n; j++) s += a[1 + Math.min(i, j) * n + Math.max(i, j)] * x[1 + j];
        expect(Math.abs(y[i] - s)).toBeLessThan(1e-12);
        expect(Math.abs(yj[i] - s)).toBeLessThan(1e-12);
      }
    }
  });
});
