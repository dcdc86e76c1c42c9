/**
 * Curvature of the full-set loss in W2 (issue 16): the R-operator Hessian–vector product against
 * finite differences of the exact gradient and against the full Hessian built column by column;
 * Lanczos on a matrix with a known spectrum; Hutchinson's trace against the exact trace.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/engine/data/rng';
import { W2Hessian, type SymmetricOperator } from '../../src/engine/landscape/hessian';
import { lanczos } from '../../src/engine/landscape/lanczos';
import { hutchinsonTrace } from '../../src/engine/landscape/hutchinson';
import { curvatureAnalysis } from '../../src/engine/landscape/curvature';
import { gradientDescentEdge } from '../../src/engine/landscape/edgeOfStability';
import { symmetricEigen } from '../../src/engine/pca/eigen';
import { knownSpectrumMatrix } from '../../src/engine/pca/synthetic';

/** A tiny net's fixed first layer: N samples of non-negative, sparse activations. */
function tinyNet(N: number, h: number, C: number, seed: number) {
  const rng = new Rng(seed);
  const h1 = new Float64Array(N * h);
  for (let i = 0; i < h1.length; i++) h1[i] = Math.max(0, rng.normal());
  const labels = Array.from({ length: N }, () => rng.int(C));
  const w3 = Array.from({ length: h * C }, () => rng.normal() / Math.sqrt(h));
  const w2 = Array.from({ length: h * h }, () => rng.normal() / Math.sqrt(h));
  return { h1, labels, w3, w2 };
}

function norm(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}

function randomUnit(n: number, rng: Rng): Float64Array {
  const v = Float64Array.from({ length: n }, () => rng.normal());
  const s = norm(v);
  return v.map((x) => x / s);
}

/** Loss at W2 by a direct forward pass (independent of the class's own). */
function lossAt(
  h1: Float64Array,
  labels: number[],
  w3: number[],
  w2: ArrayLike<number>,
  h: number,
  C: number,
) {
  let L = 0;
  for (let s = 0; s < labels.length; s++) {
    const z = new Array<number>(C).fill(0);
    for (let j = 0; j < h; j++) {
      let a = 0;
      for (let i = 0; i < h; i++) a += h1[s * h + i] * w2[i * h + j];
      if (a > 0) for (let c = 0; c < C; c++) z[c] += a * w3[j * C + c];
    }
    const m = Math.max(...z);
    L += m + Math.log(z.reduce((acc, v) => acc + Math.exp(v - m), 0)) - z[labels[s]];
  }
  return L / labels.length;
}

describe('W2 Hessian by the R-operator', () => {
  const h = 6;
  const C = 4;
  const net = tinyNet(40, h, C, 3);
  const H = new W2Hessian(net.h1, net.labels, net.w3, net.w2, h, C);
  const n = h * h;

  it('the loss and gradient match a direct forward pass and its central differences', () => {
    expect(H.loss).toBeCloseTo(lossAt(net.h1, net.labels, net.w3, net.w2, h, C), 12);
    const g = H.gradient();
    const eps = 1e-6;
    for (const k of [0, 7, 20, 35]) {
      const wp = net.w2.slice();
      const wm = net.w2.slice();
      wp[k] += eps;
      wm[k] -= eps;
      const fd =
        (lossAt(net.h1, net.labels, net.w3, wp, h, C) -
          lossAt(net.h1, net.labels, net.w3, wm, h, C)) /
        (2 * eps);
      expect(Math.abs(fd - g[k])).toBeLessThan(1e-7 * Math.max(1, Math.abs(g[k])));
    }
  });

  it('Hv equals the central difference of gradients to relative 1e-4', () => {
    const rng = new Rng(5);
    for (let trial = 0; trial < 4; trial++) {
      const v = randomUnit(n, rng);
      const eps = 1e-5;
      const wp = Float64Array.from(net.w2, (w, i) => w + eps * v[i]);
      const wm = Float64Array.from(net.w2, (w, i) => w - eps * v[i]);
      const gp = H.at(wp).gradient();
      const gm = H.at(wm).gradient();
      const fd = gp.map((x, i) => (x - gm[i]) / (2 * eps));
      const hv = H.hvp(v);
      const diff = norm(hv.map((x, i) => x - fd[i]));
      expect(diff / norm(hv)).toBeLessThan(1e-4);
      // The forward-only quadratic form is the same number.
      let vhv = 0;
      for (let i = 0; i < n; i++) vhv += v[i] * hv[i];
      expect(H.quadratic(v)).toBeCloseTo(vhv, 12);
    }
  });

  it('the Hessian built column by column is symmetric, matches differenced gradients and is PSD', () => {
    const full = new Float64Array(n * n);
    const e = new Float64Array(n);
    const col = new Float64Array(n);
    const eps = 1e-5;
    let maxFd = 0;
    let scale = 0;
    for (let k = 0; k < n; k++) {
      e.fill(0);
      e[k] = 1;
      H.apply(e, col);
      for (let i = 0; i < n; i++) full[i * n + k] = col[i];
      const wp = Float64Array.from(net.w2);
      const wm = Float64Array.from(net.w2);
      wp[k] += eps;
      wm[k] -= eps;
      const gp = H.at(wp).gradient();
      const gm = H.at(wm).gradient();
      for (let i = 0; i < n; i++) {
        maxFd = Math.max(maxFd, Math.abs((gp[i] - gm[i]) / (2 * eps) - col[i]));
        scale = Math.max(scale, Math.abs(col[i]));
      }
    }
    expect(maxFd / scale).toBeLessThan(1e-4);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < i; j++)
        expect(Math.abs(full[i * n + j] - full[j * n + i])).toBeLessThan(1e-12 * scale);
    const eig = symmetricEigen(full, n, { kernels: 'js' });
    // relu'' = 0: the W2 block is its Gauss–Newton matrix, positive semi-definite.
    expect(eig.values[n - 1]).toBeGreaterThan(-1e-12 * eig.values[0]);
    // Lanczos with n iterations reproduces the top of that spectrum; Hutchinson its trace.
    const lz = lanczos(H, { iterations: 20, vectors: 3, seed: 2 });
    for (let j = 0; j < 3; j++) expect(lz.values[j]).toBeCloseTo(eig.values[j], 8);
    let tr = 0;
    for (let i = 0; i < n; i++) tr += full[i * n + i];
    const est = hutchinsonTrace((z) => H.quadratic(z), n, 200, 9);
    expect(Math.abs(est.value - tr)).toBeLessThan(3 * est.stderr);
    expect(est.stderr).toBeGreaterThan(0);
    expect(est.stderr).toBeLessThan(0.2 * tr);
  });

  it('rejects inconsistent sizes with a clear message', () => {
    expect(() => new W2Hessian(net.h1, net.labels, net.w3, net.w2.slice(1), h, C)).toThrow(
      /W2 has 35 entries, expected 6×6/,
    );
    expect(
      () => new W2Hessian(net.h1, [...net.labels.slice(0, 39), 9], net.w3, net.w2, h, C),
    ).toThrow(/label 9/);
  });
});

describe('Lanczos with full reorthogonalisation', () => {
  it('finds the top of a known spectrum, with small residuals and no ghost copies', () => {
    const n = 200;
    const rng = new Rng(11);
    // Eigenvalues 100, 90, …, 10 above a bulk in [0, 1]: 30 iterations resolve the ten outliers.
    const values = Float64Array.from({ length: n }, (_, i) => (i < 10 ? 100 - 10 * i : rng.next()));
    const A = knownSpectrumMatrix(values, rng).a;
    const op: SymmetricOperator = {
      dim: n,
      apply: (v, out) => {
        for (let i = 0; i < n; i++) {
          let s = 0;
          for (let j = 0; j < n; j++) s += A[i * n + j] * v[j];
          out[i] = s;
        }
      },
    };
    const lz = lanczos(op, { iterations: 30, vectors: 10, seed: 4 });
    for (let j = 0; j < 10; j++) {
      expect(lz.values[j]).toBeCloseTo(100 - 10 * j, 6);
      expect(lz.residuals[j]).toBeLessThan(1e-4);
      // The Ritz vector is an eigenvector: ‖Av − λv‖ small.
      const v = lz.vectors.subarray(j * n, (j + 1) * n);
      const av = new Float64Array(n);
      op.apply(v, av);
      expect(norm(av.map((x, i) => x - lz.values[j] * v[i]))).toBeLessThan(1e-4);
    }
    expect(lz.values[10]).toBeLessThan(1.0001);
  });
});

describe('curvature analysis and the GD edge of stability on a tiny net', () => {
  const h = 5;
  const C = 3;
  const net = tinyNet(30, h, C, 8);
  const H = new W2Hessian(net.h1, net.labels, net.w3, net.w2, h, C);

  it('k_i = p_iᵀHp_i along given directions; overlaps of the top eigenvector sum to 1 over a basis', async () => {
    const n = h * h;
    const basis = Array.from({ length: n }, (_, i) => {
      const d = new Float64Array(n);
      d[i] = 1;
      return { rank: i + 1, direction: d };
    });
    const res = await curvatureAnalysis(
      H,
      basis.map((b) => ({ ...b, flatness: 1, L0: H.loss })),
      basis,
      { lanczosIterations: 20, topCount: 3, probes: 10 },
    );
    const col = H.hvp(basis[3].direction);
    expect(res.modes[3].curvature).toBeCloseTo(col[3], 12);
    const sum = res.overlap[0].reduce((a, b) => a + b, 0);
    expect(sum).toBeCloseTo(1, 10);
    expect(res.top[0].eigenvalue).toBeGreaterThanOrEqual(res.top[1].eigenvalue);
    expect(res.modes[0].predicted).toBeCloseTo(8 * H.loss, 12);
  });

  it('full-batch GD lowers the loss and reports λ_max at the requested steps', async () => {
    const pts = await gradientDescentEdge(H, { lr: 0.05, steps: 20, every: 10, iterations: 10 });
    expect(pts.map((p) => p.step)).toEqual([0, 10, 20]);
    expect(pts[2].loss).toBeLessThan(pts[0].loss);
    for (const p of pts) expect(p.lambdaMax).toBeGreaterThan(0);
    await expect(gradientDescentEdge(H, { lr: 0, steps: 1, every: 1 })).rejects.toThrow(
      /step size/,
    );
  });
});
