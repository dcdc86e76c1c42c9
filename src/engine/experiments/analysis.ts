/**
 * The variance–flatness analysis of one PCA window (SCIENCE.md, Figs. 1–2): PCA of the W2
 * trajectory, flatness along log-spaced modes, the γ and ψ power-law fits. Pure engine code,
 * used by the analysis worker and the CLI alike.
 */
import type { RunId } from './training';

export interface PowerFit {
  /** The fitted exponent, sign as named (γ and ψ are reported positive for decaying laws). */
  exponent: number;
  ci95: [number, number];
  r2: number;
  /** Rank range the fit was made over (inclusive). */
  ranks: [number, number];
  /** Number of points in the fit. */
  n: number;
  /** Log-log line: log10 y = intercept + slope · log10 x. */
  slope: number;
  intercept: number;
}

export interface ModeFlatness {
  rank: number;
  variance: number;
  flatness: number;
  /** θ^l and θ^u: where the profile crosses factor·L⁰ on each side of its minimum. */
  left: number;
  right: number;
  /** Minimum of the profile near δθ = 0, and where it lies. */
  L0: number;
  theta0: number;
  evaluations: number;
}

export interface ModeProfile {
  run: RunId;
  rank: number;
  variance: number;
  deltas: number[];
  losses: number[];
  L0: number;
  left: number;
  right: number;
  flatness: number;
  threshold: number;
  /** Quadratic fit of ln L: ln L ≈ a + b·δ + c·δ², with its R². */
  fit: { a: number; b: number; c: number; r2: number };
}

export interface AnalysisResult {
  run: RunId;
  snapshots: number;
  dim: number;
  method: 'gram' | 'covariance';
  /** All eigenvalues σ_i² of the window covariance, rank order. */
  variance: number[];
  modes: ModeFlatness[];
  fits: { gamma: PowerFit; psi: PowerFit };
  /** Share of the variance of modes ≥ 2 held by modes 2–35. */
  varianceFraction35: number;
  /** Rank (counting from mode 2) at which the cumulative variance excluding mode 1 reaches 90%. */
  rank90: number;
  /** Cosine between p_1 and the window mean ŵ: the drift mode is nearly parallel to ŵ. */
  driftAlignment: number;
  /** Trajectory projections θ_i(t) for the top modes (decimated in time), row i = mode i+1. */
  trajectory: { steps: number[]; theta: number[][] };
  /** Loss profiles of a few representative modes (more on request). */
  profiles: ModeProfile[];
  timings: { pca: number; flatness: number; total: number };
  threshold: number;
}

// ───────────────────────────── implementation ─────────────────────────────
import type { DataSplit } from '../data/dataset';
import { FullSetLoss } from '../landscape/fullSetLoss';
import { inverseGaussianFit, lossProfile, measureFlatness, type EvalFn } from '../landscape/flatness';
import {
  logSpacedRanks,
  rankReachingFraction,
  spectrumFit,
  varianceFlatnessFit,
  varianceFraction,
  type PowerLawFit,
} from '../landscape/fits';
import type { MlpWeights } from '../nets/mlp';
import type { SnapshotWindow } from '../pca/snapshotWindow';
import { windowPca, type PcaResult } from '../pca/pca';
import { thresholdValue, type RunConfig } from './config';

export type AnalysisPhase = 'pca' | 'flatness' | 'fits';

export interface AnalysisOptions {
  onProgress?: (phase: AnalysisPhase, fraction: number, etaSeconds: number | null) => void;
  signal?: AbortSignal;
}

/** Fit ranges (SCIENCE.md): γ over ranks 20–200, ψ over the diffusive modes 2–200. */
export const GAMMA_RANKS: [number, number] = [20, 200];
export const PSI_RANKS: [number, number] = [2, 200];
/** Modes whose profiles come with every result (more on request). */
export const DEFAULT_PROFILE_RANKS = [2, 10, 50];
const TRAJECTORY_MODES = 20;
const TRAJECTORY_POINTS = 800;
const PROFILE_POINTS = 61;

function toPowerFit(f: PowerLawFit, ranks: [number, number]): PowerFit {
  return {
    exponent: f.exponent,
    ci95: f.ci95,
    r2: f.r2,
    ranks: f.ranks ?? ranks,
    n: f.n,
    slope: f.slope,
    intercept: f.intercept,
  };
}

/**
 * One analysed window, kept alive by the analysis worker so that loss profiles of any mode can
 * be drawn on request without redoing the PCA.
 */
export class WindowAnalysis {
  readonly run: RunId;
  readonly pca: PcaResult;
  readonly result: AnalysisResult;
  private readonly loss: FullSetLoss;
  private readonly centre: Float64Array;
  private readonly factor: number;
  private readonly snapshotSteps: number[];

  private constructor(
    run: RunId,
    pca: PcaResult,
    loss: FullSetLoss,
    centre: Float64Array,
    factor: number,
    result: AnalysisResult,
    snapshotSteps: number[],
  ) {
    this.run = run;
    this.pca = pca;
    this.loss = loss;
    this.centre = centre;
    this.factor = factor;
    this.result = result;
    this.snapshotSteps = snapshotSteps;
  }

  /** PCA, flatness of log-spaced modes, fits and default profiles of one window. */
  static async analyze(
    run: RunId,
    window: SnapshotWindow,
    weights: MlpWeights,
    train: DataSplit,
    config: RunConfig,
    firstStep: number,
    stepEvery: number,
    opts: AnalysisOptions = {},
  ): Promise<WindowAnalysis> {
    const t0 = performance.now();
    const progress = opts.onProgress ?? (() => undefined);
    progress('pca', 0, null);
    // The rank is at most min(m − 1, dim): the flatness ranks are log-spaced up to there, and
    // eigenvectors are formed only up to the largest rank needed.
    const maxRank = Math.max(2, Math.min(window.count - 1, window.dim));
    const wanted = Array.from(
      new Set([...logSpacedRanks(2, maxRank, config.flatnessModes), ...DEFAULT_PROFILE_RANKS.filter((r) => r <= maxRank)]),
    ).sort((a, b) => a - b);
    const pca = windowPca(window, {
      vectors: Math.max(TRAJECTORY_MODES, wanted[wanted.length - 1]),
      onProgress: (f) => {
        opts.signal?.throwIfAborted();
        progress('pca', f, null);
      },
    });
    if (pca.rank < 3 || pca.k < 3) {
      throw new Error(
        `W2 barely moved during the window (PCA rank ${pca.rank}): the network has probably died (every ReLU inactive) — lower α and run again`,
      );
    }
    const lastRank = Math.min(pca.rank, pca.k);
    const ranks = wanted.filter((r) => r <= lastRank);
    const tPca = performance.now();
    opts.signal?.throwIfAborted();
    progress('flatness', 0, null);

    const centre = config.profileCentre === 'mean' ? pca.mean : Float64Array.from(window.last());
    const loss = new FullSetLoss({ images: train.images, labels: train.labels, w1: weights.W1, w3: weights.W3, hidden: weights.hidden, count: train.count });
    const evalFn: EvalFn = (points) => loss.evaluate(centre, points);
    const factor = thresholdValue(config.thresholdFactor);
    const dim = pca.dim;
    const direction = (rank: number) => pca.modes.subarray((rank - 1) * dim, rank * dim);
    const tFlat0 = performance.now();
    const report = await measureFlatness(
      evalFn,
      ranks.map((rank) => ({ rank, direction: direction(rank) })),
      {
        factor,
        relTol: 1e-3,
        initialStep: Math.max(1e-3, 0.5 * Math.sqrt(pca.variance[0])),
        signal: opts.signal,
        onProgress: (p) => {
          const f = p.done / p.modes;
          const el = (performance.now() - tFlat0) / 1000;
          progress('flatness', f, f > 0.05 ? (el / f) * (1 - f) : null);
        },
      },
    );
    const tFlat = performance.now();
    progress('fits', 0, null);

    const modes: ModeFlatness[] = report.modes.map((m) => ({
      rank: m.rank,
      variance: pca.variance[m.rank - 1],
      flatness: m.flatness,
      left: m.left,
      right: m.right,
      L0: m.L0,
      theta0: m.theta0,
      evaluations: m.evaluations,
    }));
    const variance = Array.from(pca.variance);
    const gammaRanks: [number, number] = [Math.min(GAMMA_RANKS[0], lastRank), Math.min(GAMMA_RANKS[1], lastRank)];
    const psiRanks: [number, number] = [PSI_RANKS[0], Math.min(PSI_RANKS[1], lastRank)];
    const finiteModes = modes.filter((m) => Number.isFinite(m.flatness) && m.flatness > 0);
    const fits = {
      gamma: toPowerFit(spectrumFit(variance, gammaRanks[0], Math.max(gammaRanks[0] + 1, gammaRanks[1])), gammaRanks),
      psi: toPowerFit(varianceFlatnessFit(finiteModes, psiRanks[0], psiRanks[1]), psiRanks),
    };

    // Drift: the cosine between p_1 and the window mean ŵ.
    let dotMean = 0;
    let nMean = 0;
    for (let j = 0; j < dim; j++) {
      dotMean += pca.modes[j] * pca.mean[j];
      nMean += pca.mean[j] * pca.mean[j];
    }

    // Trajectory θ_i(t) of the top modes, decimated to a drawable number of points.
    const kTraj = Math.min(TRAJECTORY_MODES, pca.k);
    const stride = Math.max(1, Math.ceil(pca.count / TRAJECTORY_POINTS));
    const steps: number[] = [];
    for (let t = 0; t < pca.count; t += stride) steps.push(firstStep + t * stepEvery);
    const theta: number[][] = [];
    for (let i = 0; i < kTraj; i++) {
      const row: number[] = [];
      for (let t = 0; t < pca.count; t += stride) row.push(pca.projections[i * pca.count + t]);
      theta.push(row);
    }

    const result: AnalysisResult = {
      run,
      snapshots: pca.count,
      dim,
      method: pca.method,
      variance,
      modes,
      fits,
      varianceFraction35: varianceFraction(variance, 2, 35),
      rank90: rankReachingFraction(variance, 0.9),
      driftAlignment: Math.abs(dotMean) / Math.sqrt(nMean || 1),
      trajectory: { steps, theta },
      profiles: [],
      timings: { pca: (tPca - t0) / 1000, flatness: (tFlat - tFlat0) / 1000, total: 0 },
      threshold: factor,
    };
    const wa = new WindowAnalysis(run, pca, loss, centre, factor, result, steps);
    for (const r of DEFAULT_PROFILE_RANKS) {
      if (r <= lastRank) result.profiles.push(await wa.profile(r));
    }
    result.timings.total = (performance.now() - t0) / 1000;
    progress('fits', 1, 0);
    return wa;
  }

  /** The loss profile along mode `rank` on a grid covering its flatness bracket. */
  async profile(rank: number): Promise<ModeProfile> {
    if (rank < 1 || rank > this.pca.k) throw new Error(`mode ${rank} has no eigenvector (top ${this.pca.k} kept)`);
    const dim = this.pca.dim;
    const dir = this.pca.modes.subarray((rank - 1) * dim, rank * dim);
    let m = this.result.modes.find((x) => x.rank === rank);
    if (!m) {
      const rep = await measureFlatness((p) => this.loss.evaluate(this.centre, p), [{ rank, direction: dir }], {
        factor: this.factor,
        initialStep: Math.max(1e-3, 0.5 * Math.sqrt(this.pca.variance[0])),
      });
      const r = rep.modes[0];
      m = { rank, variance: this.pca.variance[rank - 1], flatness: r.flatness, left: r.left, right: r.right, L0: r.L0, theta0: r.theta0, evaluations: r.evaluations };
    }
    const span = Number.isFinite(m.left) && Number.isFinite(m.right) ? 1.6 * Math.max(-m.left, m.right, 1e-6) : 1;
    const deltas = Array.from({ length: PROFILE_POINTS }, (_, i) => -span + (2 * span * i) / (PROFILE_POINTS - 1));
    const losses = Array.from(await lossProfile((p) => this.loss.evaluate(this.centre, p), dir, deltas));
    // Fit ln L inside the bracket, where the inverse-Gaussian form is claimed to hold.
    const inside = deltas.map((d, i) => ({ d, l: losses[i] })).filter((p) => p.d >= m.left && p.d <= m.right);
    const fit = inverseGaussianFit(inside.map((p) => p.d), inside.map((p) => p.l), this.factor);
    return {
      run: this.run,
      rank,
      variance: this.pca.variance[rank - 1],
      deltas,
      losses,
      L0: m.L0,
      left: m.left,
      right: m.right,
      flatness: m.flatness,
      threshold: this.factor,
      fit: { a: fit.a, b: fit.b, c: fit.c, r2: fit.r2 },
    };
  }

  get steps(): number[] {
    return this.snapshotSteps;
  }

  dispose(): void {
    this.loss.dispose();
  }
}
