/**
 * Curvature of the full-training-set loss in W2 (SCIENCE.md, "Curvature"): the Hessian along
 * each measured PCA mode, k_i = p_iᵀHp_i, beside the flatness F_i; the top of the Hessian
 * spectrum by Lanczos and the overlap |⟨v_j, p_i⟩|² of its eigenvectors with the PCA modes; and
 * tr H by Hutchinson. All from the exact Hessian–vector products of hessian.ts.
 *
 * The quadratic picture: a profile ln L_i(θ) = ln L⁰ + c·θ² crossing factor·L⁰ at θ = ±F_i/2 has
 * c = 4·ln(factor)/F_i², hence k_i = L_i''(0) = 2c·L⁰ = 8·ln(factor)·L⁰/F_i². `predicted` is that
 * value; the log–log fit of k_i on F_i says how far it holds (the picture's exponent is −2).
 */
import { powerLawFit } from './fits';
import type { W2Hessian } from './hessian';
import { hutchinsonTrace, type TraceEstimate } from './hutchinson';
import { lanczos } from './lanczos';

export interface CurvatureMode {
  rank: number;
  /** F_i and L_i⁰ as measured by the flatness search. */
  flatness: number;
  L0: number;
  /** k_i = p_iᵀHp_i. */
  curvature: number;
  /** 8·ln(factor)·L⁰/F_i², the quadratic picture's k_i. */
  predicted: number;
}

export interface HessianTop {
  rank: number;
  eigenvalue: number;
  /** ‖Hv − λv‖ of the Ritz pair. */
  residual: number;
}

export interface CurvatureResult {
  /** Loss at the centre where H was taken. */
  loss: number;
  modes: CurvatureMode[];
  /** k_i ∝ F_i^exponent over modes 2 … (block-bootstrap interval over ranks); picture: −2. */
  fit: { exponent: number; ci95: [number, number]; r2: number; n: number };
  /** Median of k_i/predicted over the fitted modes. */
  medianRatio: number;
  /** Top Ritz pairs of H (Hessian eigenvalues λ_1 ≥ λ_2 ≥ …). */
  top: HessianTop[];
  /** overlap[j][i] = |⟨v_j, p_{overlapRanks[i]}⟩|² (rows: Hessian eigenvectors by rank). */
  overlap: number[][];
  overlapRanks: number[];
  trace: TraceEstimate;
  lanczosIterations: number;
  timings: { curvature: number; lanczos: number; trace: number };
}

export interface CurvatureOptions {
  /** Threshold factor of the flatness search (e by default). */
  factor?: number;
  lanczosIterations?: number;
  /** Eigenpairs reported (default 20). */
  topCount?: number;
  probes?: number;
  seed?: number;
  signal?: AbortSignal;
  onProgress?: (fraction: number, stage: string) => void;
}

export interface CurvatureModeInput {
  rank: number;
  direction: Float64Array;
  flatness: number;
  L0: number;
}

export const LANCZOS_ITERATIONS = 30;
export const TOP_EIGENVALUES = 20;
export const TRACE_PROBES = 30;

const nowMs = () => globalThis.performance.now();
/** Lets the worker's message loop run (a cancel) between long synchronous pieces. */
const breathe = () => new Promise<void>((r) => setTimeout(r, 0));

function median(x: number[]): number {
  if (x.length === 0) return NaN;
  const s = [...x].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : 0.5 * (s[h - 1] + s[h]);
}

/**
 * `modes`: the measured PCA modes (rank order); `overlapModes`: the PCA modes the Hessian
 * eigenvectors are compared with (the heat map's columns).
 */
export async function curvatureAnalysis(
  hess: W2Hessian,
  modes: readonly CurvatureModeInput[],
  overlapModes: readonly { rank: number; direction: Float64Array }[],
  opts: CurvatureOptions = {},
): Promise<CurvatureResult> {
  const factor = opts.factor ?? Math.E;
  const iterations = opts.lanczosIterations ?? LANCZOS_ITERATIONS;
  const topCount = Math.min(opts.topCount ?? TOP_EIGENVALUES, iterations);
  const progress = opts.onProgress ?? (() => undefined);
  const c = 8 * Math.log(factor);
  const t0 = nowMs();
  const out: CurvatureMode[] = [];
  for (let i = 0; i < modes.length; i++) {
    opts.signal?.throwIfAborted();
    const m = modes[i];
    out.push({
      rank: m.rank,
      flatness: m.flatness,
      L0: m.L0,
      curvature: hess.quadratic(m.direction),
      predicted: Number.isFinite(m.flatness) && m.flatness > 0 ? (c * m.L0) / m.flatness ** 2 : NaN,
    });
    if (i % 5 === 4) {
      progress((0.4 * (i + 1)) / modes.length, `curvature: mode ${i + 1} of ${modes.length}`);
      await breathe();
    }
  }
  const t1 = nowMs();
  await breathe();
  const lz = lanczos(hess, {
    iterations,
    vectors: topCount,
    seed: opts.seed ?? 1,
    onProgress: (d, n) => {
      opts.signal?.throwIfAborted();
      if (d % 5 === 0) progress(0.4 + (0.4 * d) / n, `Lanczos: step ${d} of ${n}`);
    },
  });
  const t2 = nowMs();
  await breathe();
  const trace = hutchinsonTrace(
    (z) => hess.quadratic(z),
    hess.dim,
    opts.probes ?? TRACE_PROBES,
    (opts.seed ?? 1) + 1,
    opts.signal,
  );
  const t3 = nowMs();
  progress(1, 'curvature done');
  const n = hess.dim;
  const top: HessianTop[] = [];
  for (let j = 0; j < Math.min(topCount, lz.values.length); j++)
    top.push({ rank: j + 1, eigenvalue: lz.values[j], residual: lz.residuals[j] });
  const overlap = top.map((_, j) => {
    const v = lz.vectors.subarray(j * n, (j + 1) * n);
    return overlapModes.map((pm) => {
      let s = 0;
      for (let t = 0; t < n; t++) s += v[t] * pm.direction[t];
      return s * s;
    });
  });
  // Mode 1 drifts (SCIENCE.md): the fit runs over the diffusive modes, as ψ's does.
  const fitted = out.filter(
    (m) => m.rank >= 2 && Number.isFinite(m.flatness) && m.flatness > 0 && m.curvature > 0,
  );
  const f = powerLawFit(
    fitted.map((m) => m.flatness),
    fitted.map((m) => m.curvature),
    { interval: 'block-bootstrap' },
  );
  return {
    loss: hess.loss,
    modes: out,
    fit: { exponent: f.slope, ci95: f.ci95, r2: f.r2, n: f.n },
    medianRatio: median(fitted.map((m) => m.curvature / m.predicted).filter(Number.isFinite)),
    top,
    overlap,
    overlapRanks: overlapModes.map((m) => m.rank),
    trace,
    lanczosIterations: lz.iterations,
    timings: { curvature: (t1 - t0) / 1000, lanczos: (t2 - t1) / 1000, trace: (t3 - t2) / 1000 },
  };
}
