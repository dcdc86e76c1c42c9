/**
 * The variance–flatness analysis of one PCA window (SCIENCE.md, Figs. 1–2): PCA of the W2
 * trajectory, flatness along log-spaced modes, the γ and ψ power-law fits. Pure engine code,
 * used by the analysis worker and the CLI alike.
 */
import type { RunId } from './training';

export interface PowerFit {
  /** The fitted exponent, sign as named (γ and ψ are reported positive for decaying laws). */
  exponent: number;
  /** 95% interval by `method`: the block bootstrap over ranks (fits.ts, blockBootstrap.ts). */
  ci95: [number, number];
  /** How ci95 was made; absent in results saved before intervals were bootstrapped (Student t). */
  method?: IntervalMethod;
  /** The Student-t interval of the same OLS fit (too narrow for correlated residuals). */
  ciOls?: [number, number];
  /** ψ only: the exponent by total least squares (F_i carries error too). */
  tls?: { exponent: number };
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

/** Velocity statistics and active temperature of one mode (Figs. 3B, 5B). */
export interface ModeTheory {
  rank: number;
  flatness: number;
  variance: number;
  /** D_i = var(v_i), v_i(t) = θ_i(t+1) − θ_i(t) (per sampling interval). */
  D: number;
  /** τ_i = σ_i²/(D_i·T_w), T_w the window in steps. */
  tau: number;
  /** ∫ C_i(s) ds up to the first zero of C_i, in steps. */
  tauIntegral: number;
  /** τ from the velocity autocovariance summed over all lags with the window's weighting. */
  tauAcf?: number;
  /** Lag (steps) of C_i's first zero crossing, or null when none within the lags kept. */
  zeroLag: number | null;
  /** Normalised velocity autocorrelation C_i(s) for s = 0, 1, … (a few modes only; else empty). */
  C: number[];
  /** Active temperature at the profile minimum and its standard error. */
  T0: number;
  T0stderr: number;
}

/** T_i(δθ) beside L_i(δθ) along one mode, with a few individual minibatch profiles (Figs. 3A, 5A). */
export interface ModeTemperature {
  run: RunId;
  rank: number;
  flatness: number;
  deltas: number[];
  T: number[];
  stderr: number[];
  /** Overall loss on the K minibatches, L(δ). */
  loss: number[];
  /** A handful of individual minibatch losses L^μ(δ), row μ. */
  minibatchLosses: number[][];
  /** Spread of the minibatch profiles' minima (the springs' centres). */
  minima: { mean: number; std: number; values: number[]; atEdge: number };
  K: number;
}

/** The active temperature and loss along the training trajectory (Figs. 5C, 5D). */
export interface TrajectoryTheory {
  /** Mode of the final window used as the fixed direction. */
  ranks: number[];
  epochs: number[];
  steps: number[];
  loss: number[];
  /** Direction-averaged T at each checkpoint. */
  T: number[];
  correlation: number;
  /** T(δθ) along mode ranks[0] at a few checkpoints. */
  profiles: { epoch: number; deltas: number[]; T: number[] }[];
}

export interface TheoryResult {
  run: RunId;
  K: number;
  batchSize: number;
  lr: number;
  stepEvery: number;
  modes: ModeTheory[];
  fits: {
    D: PowerFit;
    tau: PowerFit;
    tauIntegral: PowerFit;
    /** β₁ + β₂: equal to ψ by the definition of τ (an identity, not a test). */
    psiPredicted: { value: number; ci95: [number, number] };
    /** τ from the velocity autocorrelation against σ²/(D·T_w): the independent check. */
    tauAgreement?: {
      medianRatio: number;
      quartiles: [number, number];
      fit: PowerFit;
      n: number;
    } | null;
    /** T_i at the minimum ∝ F_i^(−β_T); absent in results saved before it was fitted. */
    T0?: PowerFit | null;
  };
  temperature: ModeTemperature[];
  trajectory: TrajectoryTheory | null;
  timings: { velocity: number; temperature: number; trajectory: number };
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
  /** ‖ŵ‖ of the analysed block (sets the sharpness threshold of D_s, effectiveDimension.ts). */
  meanNorm?: number;
  /** Trajectory projections θ_i(t) for the top modes (decimated in time), row i = mode i+1. */
  trajectory: { steps: number[]; theta: number[][] };
  /** Loss profiles of a few representative modes (more on request). */
  profiles: ModeProfile[];
  timings: { pca: number; flatness: number; total: number };
  threshold: number;
  /** Velocity statistics and active temperature (computed after the σ²–F figure). */
  theory?: TheoryResult;
  /**
   * Langevin run only: the Einstein check along the stiffest Hessian eigenvectors at the window
   * centre (`directions: 'hessian-eigenvectors'`, curvatureRun.ts) — the directions that relax
   * within the window. Results saved before it hold the PCA-mode check here.
   */
  einstein?: EinsteinResult;
  /** Langevin run only: the same check on the window's PCA modes (3-point curvature). */
  einsteinPca?: EinsteinResult;
  /** Curvature along the modes, the top Hessian spectrum, tr H, the edge of stability. */
  curvature?: CurvatureSummary;
}

// ───────────────────────────── implementation ─────────────────────────────
import type { DataSplit } from '../data/dataset';
import { PlainFullSetLoss, measureFlatnessPlain } from '../landscape/fullSetLossPlain';
import {
  lossProfile,
  measureFlatness,
  type EvalFn,
  type ModeFlatnessResult,
} from '../landscape/flatness';
import { inverseGaussianFit } from '../landscape/profileFit';
import {
  logSpacedRanks,
  rankReachingFraction,
  spectrumFit,
  varianceFlatnessFit,
  varianceFraction,
  type IntervalMethod,
  type PowerLawFit,
} from '../landscape/fits';
import { einsteinCheck, segmentVariance, threePointCurvature } from '../landscape/einstein';
import type { EinsteinResult } from '../landscape/einstein';
import {
  EDGE_CHECKPOINTS,
  OVERLAP_MODES,
  hessianEinstein,
  windowCurvature,
  type CurvatureRunOptions,
  type CurvatureSummary,
} from './curvatureRun';
import type { MlpWeights } from '../nets/mlp';
import { velocityStatistics, theoryFits, type TheoryFit } from '../landscape/velocity';
import {
  MinibatchSlopes,
  activeTemperatureProfile,
  ensembleMinima,
  minibatchesForRelativeError,
  temperatureAlongTrajectory,
  type WeightCheckpoint,
} from '../landscape/activeTemperature';
import type { SnapshotWindow } from '../pca/snapshotWindow';
import { windowPca, type PcaResult } from '../pca/pca';
import { thresholdValue, type RunConfig } from './config';
import { checkLandscape } from './runChecks';
import type { FlatnessSearch } from '../jobs/flatness';

export type AnalysisPhase = 'pca' | 'flatness' | 'fits' | 'theory' | 'curvature';

export interface AnalysisOptions {
  /** `detail` says where in the phase it is (a PCA stage, "12 of 30 modes measured"), for the reader. */
  onProgress?: (
    phase: AnalysisPhase,
    fraction: number,
    etaSeconds: number | null,
    detail?: string,
  ) => void;
  signal?: AbortSignal;
  /**
   * Measures the flatness modes elsewhere (a worker pool splits them, jobs/flatness.ts); default
   * here, with progress. Either way each mode's search is the same, so are its numbers.
   */
  flatnessSearch?: FlatnessSearch;
}

/** Fit ranges (SCIENCE.md): γ over ranks 20–200, ψ over the diffusive modes 2–200. */
export const GAMMA_RANKS: [number, number] = [20, 200];
export const PSI_RANKS: [number, number] = [2, 200];
/** Modes whose profiles come with every result (more on request). */
export const DEFAULT_PROFILE_RANKS = [2, 10, 50];
const TRAJECTORY_MODES = 20;
/** How far from the centre the flatness search walks along a mode (measureFlatness's default). */
const FLATNESS_MAX_DISTANCE = 1e3;
const TRAJECTORY_POINTS = 800;
const PROFILE_POINTS = 61;
const VELOCITY_MAX_LAG = 320;
const TEMPERATURE_POINTS = 21;
/** Individual minibatch profiles drawn in the ensemble figure. */
const ENSEMBLE_SHOWN = 8;
/** Checkpoints (log-spaced in epochs) and minibatches for T and L along the trajectory. */
const TRAJECTORY_CHECKPOINTS = 14;
const TRAJECTORY_K = 200;

/**
 * The per-mode table (σ², F and the bracket) and the γ and ψ fits over their ranges (SCIENCE.md),
 * clipped to the last non-zero mode. Shared by every architecture's analysis.
 */
export function varianceFlatnessSummary(
  measured: readonly ModeFlatnessResult[],
  variance: readonly number[],
  lastRank: number,
): { modes: ModeFlatness[]; fits: { gamma: PowerFit; psi: PowerFit } } {
  const modes: ModeFlatness[] = measured.map((m) => ({
    rank: m.rank,
    variance: variance[m.rank - 1],
    flatness: m.flatness,
    left: m.left,
    right: m.right,
    L0: m.L0,
    theta0: m.theta0,
    evaluations: m.evaluations,
  }));
  const gammaRanks: [number, number] = [
    Math.min(GAMMA_RANKS[0], lastRank),
    Math.min(GAMMA_RANKS[1], lastRank),
  ];
  const psiRanks: [number, number] = [PSI_RANKS[0], Math.min(PSI_RANKS[1], lastRank)];
  const finite = modes.filter((m) => Number.isFinite(m.flatness) && m.flatness > 0);
  return {
    modes,
    fits: {
      gamma: toPowerFit(
        spectrumFit(variance, gammaRanks[0], Math.max(gammaRanks[0] + 1, gammaRanks[1])),
        gammaRanks,
      ),
      psi: toPowerFit(varianceFlatnessFit(finite, psiRanks[0], psiRanks[1]), psiRanks),
    },
  };
}

/** Row of mode `rank` in a PCA result's modes/projections, or −1 when it was not computed. */
export function modeRow(pca: PcaResult, rank: number): number {
  let lo = 0;
  let hi = pca.k - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const r = pca.ranks[mid];
    if (r === rank) return mid;
    if (r < rank) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** The unit vector p_rank (a view into the PCA result). */
export function modeVector(pca: PcaResult, rank: number): Float64Array {
  const row = modeRow(pca, rank);
  if (row < 0) throw new Error(`mode ${rank} was not computed`);
  return pca.modes.subarray(row * pca.dim, (row + 1) * pca.dim);
}

/** About `n` checkpoints, log-spaced in epoch so the fast early phase is resolved. */
export function pickCheckpoints<T extends { epoch: number }>(all: readonly T[], n: number): T[] {
  if (all.length <= n) return [...all];
  const first = all[0].epoch;
  const last = all[all.length - 1].epoch;
  const chosen = new Set<T>();
  for (let i = 0; i < n; i++) {
    const target = first - 1 + Math.exp(Math.log(last - first + 1) * (i / (n - 1)));
    let best = all[0];
    for (const c of all) if (Math.abs(c.epoch - target) < Math.abs(best.epoch - target)) best = c;
    chosen.add(best);
  }
  return [...chosen].sort((a, b) => a.epoch - b.epoch);
}

function toPowerFit(
  f: PowerLawFit & { tls?: { exponent: number } },
  ranks: [number, number],
): PowerFit {
  return {
    exponent: f.exponent,
    ci95: f.ci95,
    method: f.method,
    ciOls: f.ciOls,
    ...(f.tls ? { tls: f.tls } : {}),
    r2: f.r2,
    ranks: f.ranks ?? ranks,
    n: f.n,
    slope: f.slope,
    intercept: f.intercept,
  };
}

/**
 * The Einstein check of a Langevin window (einstein.ts): per measured mode the curvature of the
 * full-set loss along p_i at the window mean by a 3-point difference, the half-window variances
 * from the projections, and the equilibrium prediction. The step is h = F/20, where the profile
 * is still quadratic: on the default preset the second difference at F/20 and at 30σ agree
 * within ~10% at every rank from 2 to 1,599. A step tied to the mode's spread alone (3σ) is too
 * short at deep ranks: there k·h² ≈ 10⁻⁹ is at the float32 rounding of the full-set loss
 * (L ≈ 4·10⁻⁴) and the difference came out negative for ranks ≳ 500. Without a finite F the
 * step falls back to 30σ.
 */
async function einsteinFromWindow(
  pca: PcaResult,
  modes: readonly ModeFlatness[],
  evalFn: EvalFn,
  config: RunConfig,
  stepEvery: number,
): Promise<EinsteinResult> {
  const usable = modes.filter((m) => modeRow(pca, m.rank) >= 0 && m.variance > 0);
  const hs = usable.map((m) =>
    Number.isFinite(m.flatness) && m.flatness > 0 ? m.flatness / 20 : 30 * Math.sqrt(m.variance),
  );
  const points = usable.flatMap((m, i) => {
    const direction = modeVector(pca, m.rank);
    return [
      { direction, delta: -hs[i] },
      { direction, delta: 0 },
      { direction, delta: hs[i] },
    ];
  });
  const L = await evalFn(points);
  const half = Math.floor(pca.count / 2);
  return einsteinCheck(
    usable.map((m, i) => {
      const row = modeRow(pca, m.rank) * pca.count;
      const theta = pca.projections.subarray(row, row + pca.count);
      return {
        rank: m.rank,
        curvature: threePointCurvature(L[3 * i], L[3 * i + 1], L[3 * i + 2], hs[i]),
        measured: m.variance,
        halves: [segmentVariance(theta, 0, half), segmentVariance(theta, half, pca.count)],
        flatness: m.flatness,
      };
    }),
    { temperature: config.temperature, lr: config.langevinLr, count: pca.count, stepEvery },
  );
}

/**
 * One analysed window, kept alive by the analysis worker so that loss profiles of any mode can
 * be drawn on request without redoing the PCA.
 */
export class WindowAnalysis {
  readonly run: RunId;
  readonly pca: PcaResult;
  readonly result: AnalysisResult;
  private readonly loss: PlainFullSetLoss;
  private readonly centre: Float64Array;
  private readonly factor: number;
  private readonly snapshotSteps: number[];
  private readonly train: DataSplit;
  private readonly weights: MlpWeights;
  private readonly config: RunConfig;
  private readonly stepEvery: number;

  private constructor(
    run: RunId,
    pca: PcaResult,
    loss: PlainFullSetLoss,
    centre: Float64Array,
    factor: number,
    result: AnalysisResult,
    snapshotSteps: number[],
    context: { train: DataSplit; weights: MlpWeights; config: RunConfig; stepEvery: number },
  ) {
    this.train = context.train;
    this.weights = context.weights;
    this.config = context.config;
    this.stepEvery = context.stepEvery;
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
      new Set([
        ...logSpacedRanks(2, maxRank, config.flatnessModes),
        ...DEFAULT_PROFILE_RANKS.filter((r) => r <= maxRank),
      ]),
    ).sort((a, b) => a - b);
    const pca = windowPca(window, {
      vectors: TRAJECTORY_MODES,
      ranks: wanted,
      onProgress: (f, stage) => {
        opts.signal?.throwIfAborted();
        progress('pca', f, null, stage);
      },
    });
    if (pca.rank < 3 || pca.k < 3) {
      throw new Error(
        `W2 barely moved during the window (PCA rank ${pca.rank}): the network has probably died (every ReLU inactive) — lower α and run again`,
      );
    }
    const lastRank = pca.rank;
    const ranks = wanted.filter((r) => modeRow(pca, r) >= 0);
    const tPca = performance.now();
    opts.signal?.throwIfAborted();
    progress('flatness', 0, null);

    const centre = config.profileCentre === 'mean' ? pca.mean : Float64Array.from(window.last());
    const loss = new PlainFullSetLoss({
      images: train.images,
      labels: train.labels,
      w1: weights.W1,
      w3: weights.W3,
      hidden: weights.hidden,
      count: train.count,
    });
    const evalFn: EvalFn = (points) => loss.evaluate(centre, points);
    const factor = thresholdValue(config.thresholdFactor);
    const dim = pca.dim;
    const direction = (rank: number) => modeVector(pca, rank);
    const tFlat0 = performance.now();
    const initialStep = Math.max(1e-3, 0.5 * Math.sqrt(pca.variance[0]));
    // A window that wandered beyond the search's reach left its minimum: say which setting.
    checkLandscape(run, config, pca.variance[0], initialStep, FLATNESS_MAX_DISTANCE);
    const flatnessModes = ranks.map((rank) => ({ rank, direction: direction(rank) }));
    const report = opts.flatnessSearch
      ? {
          modes: await opts.flatnessSearch({
            hidden: weights.hidden,
            w1: weights.W1,
            w3: weights.W3,
            count: train.count,
            centre,
            modes: flatnessModes,
            options: { factor, relTol: 1e-3, initialStep, maxDistance: FLATNESS_MAX_DISTANCE },
          }),
        }
      : await measureFlatnessPlain(loss, centre, flatnessModes, {
          factor,
          relTol: 1e-3,
          initialStep,
          maxDistance: FLATNESS_MAX_DISTANCE,
          signal: opts.signal,
          onProgress: (p) => {
            const f = p.done / p.modes;
            const el = (performance.now() - tFlat0) / 1000;
            progress(
              'flatness',
              f,
              f > 0.05 ? (el / f) * (1 - f) : null,
              `${p.done} of ${p.modes} modes measured`,
            );
          },
        });
    const tFlat = performance.now();
    progress('fits', 0, null);

    const variance = Array.from(pca.variance);
    const { modes, fits } = varianceFlatnessSummary(report.modes, variance, lastRank);

    // Drift: the cosine between p_1 and the window mean ŵ.
    let dotMean = 0;
    let nMean = 0;
    for (let j = 0; j < dim; j++) {
      dotMean += pca.modes[j] * pca.mean[j];
      nMean += pca.mean[j] * pca.mean[j];
    }

    // Trajectory θ_i(t) of the top modes, decimated to a drawable number of points.
    let kTraj = 0;
    while (kTraj < pca.k && pca.ranks[kTraj] === kTraj + 1 && kTraj < TRAJECTORY_MODES) kTraj++;
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
      meanNorm: Math.sqrt(nMean),
      trajectory: { steps, theta },
      profiles: [],
      timings: { pca: (tPca - t0) / 1000, flatness: (tFlat - tFlat0) / 1000, total: 0 },
      threshold: factor,
    };
    if (run === 'langevin') {
      result.einsteinPca = await einsteinFromWindow(pca, modes, evalFn, config, stepEvery);
      result.einstein = await hessianEinstein({
        window,
        centre,
        train,
        weights,
        evalFn,
        factor,
        initialStep,
        maxDistance: FLATNESS_MAX_DISTANCE,
        temperature: config.temperature,
        lr: config.langevinLr,
        stepEvery,
        signal: opts.signal,
      });
    }
    const wa = new WindowAnalysis(run, pca, loss, centre, factor, result, steps, {
      train,
      weights,
      config,
      stepEvery,
    });
    for (const r of DEFAULT_PROFILE_RANKS) {
      if (r <= lastRank) result.profiles.push(await wa.profile(r));
    }
    result.timings.total = (performance.now() - t0) / 1000;
    progress('fits', 1, 0);
    return wa;
  }

  /** The loss profile along mode `rank` on a grid covering its flatness bracket. */
  async profile(rank: number): Promise<ModeProfile> {
    if (modeRow(this.pca, rank) < 0) {
      throw new Error(
        `mode ${rank} has no eigenvector in this analysis: choose one of the measured modes`,
      );
    }
    const dir = modeVector(this.pca, rank);
    let m = this.result.modes.find((x) => x.rank === rank);
    if (!m) {
      const rep = await measureFlatness(
        (p) => this.loss.evaluate(this.centre, p),
        [{ rank, direction: dir }],
        {
          factor: this.factor,
          initialStep: Math.max(1e-3, 0.5 * Math.sqrt(this.pca.variance[0])),
        },
      );
      const r = rep.modes[0];
      m = {
        rank,
        variance: this.pca.variance[rank - 1],
        flatness: r.flatness,
        left: r.left,
        right: r.right,
        L0: r.L0,
        theta0: r.theta0,
        evaluations: r.evaluations,
      };
    }
    const span =
      Number.isFinite(m.left) && Number.isFinite(m.right)
        ? 1.6 * Math.max(-m.left, m.right, 1e-6)
        : 1;
    const deltas = Array.from(
      { length: PROFILE_POINTS },
      (_, i) => -span + (2 * span * i) / (PROFILE_POINTS - 1),
    );
    const losses = Array.from(
      await lossProfile((p) => this.loss.evaluate(this.centre, p), dir, deltas),
    );
    // Fit ln L inside the bracket, where the inverse-Gaussian form is claimed to hold.
    const inside = deltas
      .map((d, i) => ({ d, l: losses[i] }))
      .filter((p) => p.d >= m.left && p.d <= m.right);
    const fit = inverseGaussianFit(
      inside.map((p) => p.d),
      inside.map((p) => p.l),
      this.factor,
    );
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

  /**
   * Why SGD does it (SCIENCE.md, Figs. 3 and 5): velocity statistics of the flatness modes,
   * D ∝ F^(−β₁) and τ ∝ F^(−β₂) against ψ; the active temperature along selected modes and at
   * each mode's minimum; and, given per-epoch checkpoints, T and L along the trajectory.
   */
  async theory(
    checkpoints: readonly (WeightCheckpoint & { epoch: number })[],
    opts: AnalysisOptions = {},
  ): Promise<TheoryResult> {
    const progress = opts.onProgress ?? (() => undefined);
    const cfg = this.config;
    const lr = this.run === 'langevin' ? cfg.langevinLr : cfg.lr;
    const t0 = performance.now();
    progress('theory', 0, null);
    const modesIn = this.result.modes.filter(
      (m) => Number.isFinite(m.flatness) && modeRow(this.pca, m.rank) >= 0,
    );
    // velocityStatistics addresses projection rows by 1-based index.
    const vel = velocityStatistics(
      this.pca.projections,
      this.pca.k,
      this.pca.count,
      modesIn.map((m) => modeRow(this.pca, m.rank) + 1),
      { maxLag: VELOCITY_MAX_LAG, stepEvery: this.stepEvery },
    );
    const tVel = performance.now();

    // Active temperature: K minibatches of the run's B, enough for a 5% standard error.
    // (Langevin noise is isotropic by construction: its run gets the velocity statistics only.)
    const withTemperature = this.run === 'sgd';
    const K = minibatchesForRelativeError(0.05);
    const B = cfg.batchSize;
    const slopes = !withTemperature
      ? null
      : new MinibatchSlopes({
          images: this.train.images,
          labels: this.train.labels,
          w1: this.weights.W1,
          w3: this.weights.W3,
          hidden: this.weights.hidden,
          batchSize: B,
          minibatches: K,
          seed: cfg.seed + 7,
          count: this.train.count,
        });
    const dir = (rank: number) => modeVector(this.pca, rank);
    const modes: ModeTheory[] = [];
    const temperature: ModeTemperature[] = [];
    try {
      for (let i = 0; i < modesIn.length; i++) {
        opts.signal?.throwIfAborted();
        const m = modesIn[i];
        const v = vel[i];
        const T0 = withTemperature
          ? activeTemperatureProfile(
              (await slopes!.profile(this.centre, dir(m.rank), [m.theta0])).slopes,
              lr,
              [m.theta0],
            )
          : { T: [NaN], stderr: [NaN] };
        modes.push({
          rank: m.rank,
          flatness: m.flatness,
          variance: m.variance,
          D: v.D,
          tau: v.tau,
          tauIntegral: v.tauIntegral,
          tauAcf: v.tauAcf,
          zeroLag: v.zeroLag,
          C: DEFAULT_PROFILE_RANKS.includes(m.rank) ? Array.from(v.C) : [],
          T0: T0.T[0],
          T0stderr: T0.stderr[0],
        });
        progress(
          'theory',
          (0.4 * (i + 1)) / modesIn.length,
          null,
          `velocity statistics: mode ${i + 1} of ${modesIn.length}`,
        );
      }
      for (const rank of withTemperature ? DEFAULT_PROFILE_RANKS : []) {
        const m = modesIn.find((x) => x.rank === rank);
        if (!m) continue;
        const span = 1.6 * Math.max(-m.left, m.right);
        const deltas = Array.from(
          { length: TEMPERATURE_POINTS },
          (_, j) => -span + (2 * span * j) / (TEMPERATURE_POINTS - 1),
        );
        const ens = await slopes!.profile(this.centre, dir(rank), deltas);
        const prof = activeTemperatureProfile(ens.slopes, lr, deltas);
        const mins = ensembleMinima(ens.losses, deltas);
        temperature.push({
          run: this.run,
          rank,
          flatness: m.flatness,
          deltas,
          T: prof.T,
          stderr: prof.stderr,
          loss: ens.losses.map((l) => l.reduce((a, b) => a + b, 0) / l.length),
          minibatchLosses: Array.from({ length: ENSEMBLE_SHOWN }, (_, mu) =>
            ens.losses.map((l) => l[mu]),
          ),
          minima: {
            mean: mins.mean,
            std: mins.std,
            values: Array.from(mins.minima),
            atEdge: mins.atEdge,
          },
          K,
        });
      }
    } finally {
      slopes?.dispose();
    }
    progress('theory', 0.6, null, 'temperature along the trajectory');
    const tTemp = performance.now();

    let trajectory: TrajectoryTheory | null = null;
    if (checkpoints.length >= 3 && this.run === 'sgd') {
      // From the end of the first epoch: at initialisation the final modes are meaningless.
      const picked = pickCheckpoints(
        checkpoints.filter((c) => c.epoch >= 1),
        TRAJECTORY_CHECKPOINTS,
      );
      const ranks = DEFAULT_PROFILE_RANKS.filter((r) => modeRow(this.pca, r) >= 0);
      const common = {
        images: this.train.images,
        labels: this.train.labels,
        hidden: this.weights.hidden,
        batchSize: B,
        minibatches: TRAJECTORY_K,
        seed: cfg.seed + 7,
        lr,
        count: this.train.count,
        signal: opts.signal,
      };
      const tt = await temperatureAlongTrajectory(
        { ...common, onProgress: (f) => progress('theory', 0.6 + 0.3 * f, null) },
        picked,
        ranks.map(dir),
      );
      const profiles: TrajectoryTheory['profiles'] = [];
      const m2 = modesIn.find((x) => x.rank === ranks[0]);
      const span = m2 ? 1.6 * Math.max(-m2.left, m2.right) : 1;
      const deltas = Array.from(
        { length: TEMPERATURE_POINTS },
        (_, j) => -span + (2 * span * j) / (TEMPERATURE_POINTS - 1),
      );
      for (const cp of pickCheckpoints(picked, 5)) {
        const ms = new MinibatchSlopes({ ...common, w1: cp.W1, w3: cp.W3 });
        try {
          const ens = await ms.profile(cp.W2, dir(ranks[0]), deltas);
          profiles.push({
            epoch: cp.epoch,
            deltas,
            T: activeTemperatureProfile(ens.slopes, lr, deltas).T,
          });
        } finally {
          ms.dispose();
        }
      }
      trajectory = {
        ranks,
        epochs: picked.map((c) => c.epoch),
        steps: tt.steps,
        loss: tt.loss,
        T: tt.T.map((row) => row.reduce((a, b) => a + b, 0) / row.length),
        correlation: tt.meanCorrelation,
        profiles,
      };
    }
    const tTraj = performance.now();
    const fitRanks: [number, number] = [PSI_RANKS[0], Math.min(PSI_RANKS[1], this.pca.rank)];
    const f = theoryFits(modes, fitRanks[0], fitRanks[1]);
    const toFit = (x: TheoryFit): PowerFit => toPowerFit(x, fitRanks);
    progress('theory', 1, 0);
    return {
      run: this.run,
      K,
      batchSize: B,
      lr,
      stepEvery: this.stepEvery,
      modes,
      fits: {
        D: toFit(f.D),
        tau: toFit(f.tau),
        tauIntegral: toFit(f.tauIntegral),
        psiPredicted: f.psiPredicted,
        tauAgreement: f.tauAgreement ? { ...f.tauAgreement, fit: toFit(f.tauAgreement.fit) } : null,
        T0: f.T0 ? toFit(f.T0) : null,
      },
      temperature,
      trajectory,
      timings: {
        velocity: (tVel - t0) / 1000,
        temperature: (tTemp - tVel) / 1000,
        trajectory: (tTraj - tTemp) / 1000,
      },
    };
  }

  /**
   * Curvature at the profile centre (curvatureRun.ts): k_i along every measured mode, the top of
   * the Hessian spectrum with its overlap with PCA modes 1–20, tr H; and, given the run's
   * checkpoints, λ_max along training against 2/α with the full-batch GD contrast.
   */
  async curvature(
    checkpoints: readonly (WeightCheckpoint & { epoch: number })[],
    opts: AnalysisOptions & Pick<CurvatureRunOptions, 'gdSteps' | 'gdEvery' | 'edge'> = {},
  ): Promise<CurvatureSummary> {
    const progress = opts.onProgress ?? (() => undefined);
    progress('curvature', 0, null);
    const modes = this.result.modes
      // JSON has no Infinity: a mode without a finite F is not on the F–k figure.
      .filter((m) => modeRow(this.pca, m.rank) >= 0 && Number.isFinite(m.flatness))
      .map((m) => ({
        rank: m.rank,
        flatness: m.flatness,
        L0: m.L0,
        direction: modeVector(this.pca, m.rank),
      }));
    const overlapModes: { rank: number; direction: Float64Array }[] = [];
    for (let r = 1; r <= OVERLAP_MODES; r++)
      if (modeRow(this.pca, r) >= 0)
        overlapModes.push({ rank: r, direction: modeVector(this.pca, r) });
    // From the end of the first epoch: the initialisation is not a training state.
    const after1 = checkpoints.filter((c) => c.epoch >= 1);
    const picked = pickCheckpoints(after1.length >= 2 ? after1 : checkpoints, EDGE_CHECKPOINTS);
    const lr = this.run === 'langevin' ? this.config.langevinLr : this.config.lr;
    const out = await windowCurvature(
      {
        train: this.train,
        weights: this.weights,
        centre: this.centre,
        centreKind: this.config.profileCentre,
        lr,
        factor: this.factor,
        modes,
        overlapModes,
        checkpoints: this.run === 'sgd' ? picked : [],
      },
      {
        edge: opts.edge,
        gdSteps: opts.gdSteps,
        gdEvery: opts.gdEvery,
        signal: opts.signal,
        onProgress: (f, detail) => progress('curvature', f, null, detail),
      },
    );
    progress('curvature', 1, 0);
    return out;
  }

  get steps(): number[] {
    return this.snapshotSteps;
  }

  dispose(): void {
    this.loss.dispose();
  }
}
