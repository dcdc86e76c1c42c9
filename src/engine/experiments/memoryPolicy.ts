/**
 * The memory policy of a variance–flatness run, one for the page, the CLI and the sweeps: the
 * budget, the snapshot caps, the estimate of a run's peak and the SGD window's stride, checked
 * before a run starts (planRun in runChecks.ts) and applied when the window opens (trainingRun).
 *
 * The budget: a browser tab is killed near 4 GB, and a run's analysis shares it with two
 * workers, the data and the figures, so one run's estimated peak may use at most
 * MEMORY_BUDGET_BYTES. What grows with the settings is the PCA window (m snapshots of the
 * h² weights of W2, float32), the PCA's float64 workspace (the centred data twice plus the m×m
 * Gram or h²×h² covariance matrix), the active-temperature ensemble (801 minibatches of B
 * samples, their h hidden activations each), and the scratch of the plain kernels that compute
 * them (the full-set loss and the ensemble at the centre, their GEMM workspaces, the trainer's
 * SIMD step), and the Hessians of the curvature figures. A share of the flatness search that
 * runs on the page's pool is memory in the pool's workers, not the run's: the pool's sizing
 * counts it per worker (flatnessShareWorkerBytes; ui/poolStore.ts, poolSweeps.ts). When the
 * window is what breaks the budget, the window keeps every k-th step (k ≤ MAX_SNAPSHOT_STRIDE):
 * the PCA then sees the same trajectory sampled more coarsely, which leaves the covariance and
 * its spectrum unbiased. Beyond that stride the velocity statistics (Fig. 3, correlation times
 * of a few steps) are no longer resolved, so the run is refused instead.
 */
// Not from activeTemperature.ts: that module imports TensorFlow.js, and the page's thread
// runs these checks.
import { LANCZOS_ITERATIONS, TOP_EIGENVALUES } from '../landscape/curvature';
import { LAMBDA_MAX_ITERATIONS } from '../landscape/edgeOfStability';
import { hessianBytes, hessianCentreBytes } from '../landscape/hessian';
import { lanczosBytes } from '../landscape/lanczos';
import { minibatchesForRelativeError } from '../landscape/minibatchCount';
import { firstLayerWorkspaceDoubles } from '../nets/firstLayerPlain';
import { hiddenProductsDoubles } from '../landscape/w2Kernels';
import { CLASSES, INPUT_SIZE } from '../nets/mlp';
import {
  INITIAL_CAPACITY,
  grownCapacity,
  stepMemoryBytes,
  stepShape,
} from '../nets/simdStep/layout';
import { workspaceBytes } from '../pca/kernels';
import { pcaWorkspaceDoubles } from '../pca/pca';
import { DEFAULT_MAX_SNAPSHOTS } from '../pca/snapshotWindow';
import type { Dataset } from '../data/dataset';
import type { RunConfig } from './config';

/** What the estimate needs to know about the data set. */
export interface DataShape {
  trainCount: number;
  testCount: number;
  /** Pixels per image (784 for MNIST). */
  inputSize: number;
}

/** The embedded digits: 8,000 training and 2,000 test images. */
export const EMBEDDED_DATA_SHAPE: DataShape = {
  trainCount: 8000,
  testCount: 2000,
  inputSize: INPUT_SIZE,
};

/** The shape of a loaded data set. */
export function dataShape(data: Pick<Dataset, 'train' | 'test'>): DataShape {
  return {
    trainCount: data.train.count,
    testCount: data.test.count,
    inputSize: data.train.count > 0 ? data.train.images.length / data.train.count : INPUT_SIZE,
  };
}

export const MEMORY_BUDGET_BYTES = 2 ** 30;
/**
 * Snapshots one PCA window may hold: the Gram eigensolver's time grows as m³. The window's own
 * default capacity, so a window sized by this policy is never refused by the window.
 */
export const MAX_WINDOW_SNAPSHOTS = DEFAULT_MAX_SNAPSHOTS;
/** Coarsest snapshot spacing that still resolves the velocity correlations (steps). */
export const MAX_SNAPSHOT_STRIDE = 5;
/** Fewer snapshots than this leave no spectrum to fit. */
export const MIN_WINDOW_SNAPSHOTS = 10;
/** Per-epoch weight checkpoints the analysis keeps for T and L along the trajectory. */
export const CHECKPOINTS_KEPT = 120;
/** Modes whose eigenvectors the analysis forms besides the flatness ranks (trajectory plots). */
const TRAJECTORY_MODES = 20;
const PROFILE_MODES = 3;
/** FullSetLoss keeps its largest intermediate under this (fullSetLoss.ts). */
const FLATNESS_INTERMEDIATE_BYTES = 64 * 1024 * 1024;
/** Data sets up to this size stay resident as float32 for the per-epoch evaluation. */
const RESIDENT_EVAL_BYTES = 64 * 1024 * 1024;
/** Relative standard error the active-temperature ensemble is sized for (analysis.ts). */
const TEMPERATURE_REL_ERROR = 0.05;
/** Largest chunk of H1·p the temperature ensemble holds (minibatchSlopesPlain.ts's default). */
const TEMPERATURE_CHUNK_BYTES = 16 * 1024 * 1024;

/**
 * What the full-set loss of the flatness search (PlainFullSetLoss) holds besides H1 and its
 * per-direction products (counted with flatness): A = H1·centre (N·h float32) and the logits
 * z₀ (N·C float64) at the centre, a copy of each kept direction (h² float64) and of the centre,
 * the labels (int32), W3 (float64) and the GEMM workspace of its products H1·V.
 * `kept`: the directions whose products it keeps (its directionCapacity).
 */
export function fullSetLossScratchBytes(count: number, hidden: number, kept: number): number {
  const h = hidden;
  return (
    count * h * 4 +
    count * CLASSES * 8 +
    (kept + 1) * h * h * 8 +
    count * 4 +
    h * CLASSES * 8 +
    CLASSES * 8 +
    workspaceBytes(hiddenProductsDoubles(count, h))
  );
}

/** PlainFullSetLoss.bytesPerDirection: H1·d (float32), its logits' slope q and the interval. */
function flatnessBytesPerDirection(count: number, hidden: number): number {
  return count * (4 * hidden + 8 * CLASSES + 16);
}

/**
 * What the active-temperature ensemble (MinibatchSlopes, K minibatches of B) holds besides its
 * H1 (counted with the ensemble): A = H1·centre (K·B·h float32), one chunk of H1·p (whole
 * minibatches, at most TEMPERATURE_CHUNK_BYTES), the K·B sample indices and labels (32-bit),
 * a copy of the centre, W3 (float64) and the GEMM workspace of its products.
 */
export function temperatureScratchBytes(K: number, B: number, hidden: number): number {
  const h = hidden;
  const rows = K * B;
  const chunk = Math.max(1, Math.min(K, Math.floor(TEMPERATURE_CHUNK_BYTES / (4 * B * h))));
  return (
    rows * h * 4 +
    chunk * B * h * 4 +
    rows * 8 +
    h * h * 8 +
    h * CLASSES * 8 +
    workspaceBytes(hiddenProductsDoubles(rows, h))
  );
}

/**
 * The trainer's WebAssembly SIMD step (SimdMlp) after batches of B: its module memory (the
 * padded weights, and per sample of its batch capacity the input, activations, deltas and the
 * sparse lists) and its labels. The tfjs step, where SIMD is missing, is the fixed cost of tfjs.
 */
export function trainerStepBytes(hidden: number, inputSize: number, batchSize: number): number {
  const capacity = grownCapacity(INITIAL_CAPACITY, batchSize);
  return stepMemoryBytes(stepShape(hidden, inputSize), batchSize) + 4 * capacity + 8 * CLASSES;
}

/** Directions whose products the full-set loss keeps within FLATNESS_INTERMEDIATE_BYTES. */
function flatnessKept(count: number, hidden: number): number {
  return Math.max(
    1,
    Math.floor(FLATNESS_INTERMEDIATE_BYTES / flatnessBytesPerDirection(count, hidden)),
  );
}

/**
 * One full-set loss of the flatness search on `count` training examples: its H1 (float32),
 * the per-direction products it keeps (up to FLATNESS_INTERMEDIATE_BYTES) and its scratch.
 */
export function flatnessSearchBytes(count: number, hidden: number): number {
  return (
    count * hidden * 4 +
    FLATNESS_INTERMEDIATE_BYTES +
    fullSetLossScratchBytes(count, hidden, flatnessKept(count, hidden))
  );
}

/**
 * What a job worker of the page's pool holds while it measures a share of a run's flatness
 * search (jobs/flatness.ts measureShare): its own copy of the data set (pixels and labels,
 * both splits) and a full-set loss of its own on `count` examples. That memory is in the pool's
 * workers, not the run's, so the pool's sizing counts it per worker (poolSizing's run bytes,
 * ui/poolStore.ts flatnessShareBytes), not estimateRunMemory.
 */
export function flatnessShareWorkerBytes(count: number, hidden: number, data: DataShape): number {
  return (
    (data.trainCount + data.testCount) * (data.inputSize + 1) + flatnessSearchBytes(count, hidden)
  );
}

/**
 * The curvature figures after an SGD window (curvatureRun.ts windowCurvature), at their peak.
 * The Hessian at the centre (H1 as float64, its masks and probabilities) stays referenced by
 * windowCurvature to the end, and with the edge-of-stability figure so does the full-batch GD
 * run's starting Hessian (another H1 from another checkpoint's W1). On top of those, the largest
 * of: building a Hessian's H1 (float32, with the first layer's GEMM workspace, before its float64
 * copy), the Lanczos run at the centre (its basis and Ritz vectors) with Hutchinson's probe, and
 * a GD step (another centre's arrays, the weights and gradient, a λ_max Lanczos run).
 */
export function curvatureBytes(count: number, hidden: number, inputSize: number): number {
  const dim = hidden * hidden;
  const hess = hessianBytes(count, hidden, CLASSES);
  const build =
    count * hidden * 4 + workspaceBytes(firstLayerWorkspaceDoubles(count, inputSize, hidden));
  const atCentre =
    hess + Math.max(build, lanczosBytes(dim, LANCZOS_ITERATIONS, TOP_EIGENVALUES) + 8 * dim);
  const gdStep =
    hessianCentreBytes(count, hidden, CLASSES) +
    2 * 8 * dim +
    lanczosBytes(dim, LAMBDA_MAX_ITERATIONS, 0);
  const edge = 2 * hess + Math.max(build, gdStep);
  return Math.max(atCentre, edge);
}

export interface MemoryPart {
  /** What the bytes hold, in words. */
  what: string;
  bytes: number;
}

export interface MemoryEstimate {
  /** Estimated peak over the run, bytes. */
  total: number;
  /** The parts of the larger phase (SGD analysis, or Langevin window and analysis). */
  parts: MemoryPart[];
}

/** Snapshots and spacing of one PCA window. */
export interface WindowPlan {
  /** Steps the window spans. */
  steps: number;
  /** Keep every `every`-th step. */
  every: number;
  /** Snapshots kept: ⌈steps / every⌉ (⌊steps / every⌋ for Langevin, which keeps the k-th). */
  snapshots: number;
}

export function stepsPerEpoch(batchSize: number, data: DataShape): number {
  return Math.max(1, Math.floor(data.trainCount / batchSize));
}

/** Bytes as the reader reads them: "512 MB", "2.7 GB". */
export function formatBytes(bytes: number): string {
  if (bytes >= 0.95 * 2 ** 30) return `${(bytes / 2 ** 30).toFixed(1)} GB`;
  return `${Math.max(1, Math.round(bytes / 2 ** 20)).toLocaleString('en')} MB`;
}

function fmt(n: number): string {
  return n.toLocaleString('en');
}

/** Modes the analysis forms eigenvectors for (an upper bound: the log-spaced ranks may merge). */
function modesFormed(config: RunConfig, size: number): number {
  return Math.min(size, TRAJECTORY_MODES + config.flatnessModes + PROFILE_MODES);
}

/** Bytes of one window's snapshots, PCA workspace and PCA results. */
function windowParts(label: string, m: number, dim: number, config: RunConfig): MemoryPart[] {
  const k = modesFormed(config, Math.min(m, dim));
  return [
    { what: `${label} window (${fmt(m)} snapshots × ${fmt(dim)} weights)`, bytes: 4 * m * dim },
    { what: `${label} PCA workspace`, bytes: 8 * pcaWorkspaceDoubles(m, dim, k) },
    { what: `${label} PCA modes and projections`, bytes: 8 * (k * dim + k * m + 3 * dim) },
  ];
}

/**
 * The estimated peak memory of a run with these settings, the SGD window keeping every
 * `sgdEvery`-th step. Counts what grows with the settings (windows, PCA, flatness and theory
 * buffers, checkpoints, data); the fixed cost of the page and tfjs comes on top.
 */
export function estimateRunMemory(
  config: RunConfig,
  data: DataShape,
  sgdEvery = 1,
): MemoryEstimate {
  const h = config.hidden;
  const dim = h * h;
  const P = data.inputSize;
  const sgd = sgdWindow(config, data, config.batchSize, sgdEvery);
  const evalBytes = (data.trainCount + data.testCount) * P * 4;
  const shared: MemoryPart[] = [
    {
      what: 'the data (trainer and analysis copies)',
      bytes:
        (data.trainCount + data.testCount) * (P + 1) +
        data.trainCount * (P + 1) +
        (evalBytes <= RESIDENT_EVAL_BYTES ? evalBytes : 0),
    },
    {
      what: `${CHECKPOINTS_KEPT} weight checkpoints`,
      bytes: CHECKPOINTS_KEPT * 4 * (P * h + dim + h * CLASSES),
    },
    {
      what: 'flatness (full-set activations)',
      bytes: data.trainCount * h * 4 + FLATNESS_INTERMEDIATE_BYTES,
    },
    {
      what: 'flatness scratch (the full-set loss at the centre, its GEMM workspace)',
      bytes: fullSetLossScratchBytes(data.trainCount, h, flatnessKept(data.trainCount, h)),
    },
    {
      what: `the trainer's SIMD step (batches of ${fmt(config.batchSize)})`,
      bytes: trainerStepBytes(h, P, config.batchSize),
    },
  ];
  const K = minibatchesForRelativeError(TEMPERATURE_REL_ERROR);
  const sgdPhase: MemoryPart[] = [
    ...shared,
    ...windowParts('SGD', sgd.snapshots, dim, config),
    {
      what: `active-temperature ensemble (${fmt(K)} minibatches of B = ${fmt(config.batchSize)})`,
      bytes: K * config.batchSize * h * 4,
    },
    {
      what: 'active-temperature scratch (the ensemble at the centre, a chunk along a mode)',
      bytes: temperatureScratchBytes(K, config.batchSize, h),
    },
    {
      what: 'curvature (the Hessian at the centre and at the GD start, Lanczos)',
      bytes: curvatureBytes(data.trainCount, h, P),
    },
  ];
  let parts = sgdPhase;
  if (config.contrast) {
    const lv = langevinWindow(config);
    const kSgd = modesFormed(config, Math.min(sgd.snapshots, dim));
    const lvPhase: MemoryPart[] = [
      ...shared,
      {
        what: 'the SGD analysis kept for its figures',
        bytes: 8 * (kSgd * dim + kSgd * sgd.snapshots + 3 * dim),
      },
      {
        what: 'Langevin dynamics (full-set activations)',
        bytes: data.trainCount * 4 * (2 * h + CLASSES),
      },
      ...windowParts('Langevin', lv.snapshots, dim, config),
    ];
    if (sum(lvPhase) > sum(sgdPhase)) parts = lvPhase;
  }
  return { total: sum(parts), parts };
}

function sum(parts: readonly MemoryPart[]): number {
  return parts.reduce((a, p) => a + p.bytes, 0);
}

export function sgdWindow(
  config: RunConfig,
  data: DataShape,
  batchSize: number,
  every: number,
): WindowPlan {
  const steps = config.windowEpochs * stepsPerEpoch(batchSize, data);
  return { steps, every, snapshots: Math.ceil(steps / every) };
}

export function langevinWindow(config: RunConfig): WindowPlan {
  const every = config.langevinEvery;
  return {
    steps: config.langevinSteps,
    every,
    snapshots: Math.floor(config.langevinSteps / every),
  };
}

/**
 * The SGD window's snapshot spacing for `batchSize` (the live B when the window opens): the
 * smallest stride ≤ MAX_SNAPSHOT_STRIDE within the snapshot cap and the memory budget, or null
 * when none is.
 */
export function sgdWindowEvery(
  config: RunConfig,
  data: DataShape,
  batchSize = config.batchSize,
  budget = MEMORY_BUDGET_BYTES,
): number | null {
  const c = batchSize === config.batchSize ? config : { ...config, batchSize };
  for (let every = 1; every <= MAX_SNAPSHOT_STRIDE; every++) {
    const w = sgdWindow(c, data, batchSize, every);
    if (w.snapshots > MAX_WINDOW_SNAPSHOTS) continue;
    if (estimateRunMemory(c, data, every).total <= budget) return every;
  }
  return null;
}
