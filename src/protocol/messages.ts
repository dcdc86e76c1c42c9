/**
 * The one message protocol of Flat Minima Lab: UI ⇄ trainer worker, UI ⇄ analysis worker, and
 * trainer → analysis (over a MessageChannel, so snapshots never touch the UI thread).
 */
import type { BackendChoice, BackendName } from '../engine/backend';
import type { RunConfig } from '../engine/experiments/config';
import type { EpochRecord, RunId, TrainPhase } from '../engine/experiments/training';
import type {
  AnalysisPhase,
  AnalysisResult,
  ModeProfile,
  TheoryResult,
} from '../engine/experiments/analysis';
import type { CurvatureSummary } from '../engine/experiments/curvatureRun';
import type { MlpWeights } from '../engine/nets/mlp';
import type { FlatnessShare } from '../engine/jobs/flatness';
import type { ForgettingJobEvent, ForgettingJobResult } from '../engine/jobs/run';
import type { EnsembleWindow } from '../engine/jobs/ensemble';
import type { ModeFlatnessResult } from '../engine/landscape/flatness';
import type { RunResumePoint, RunSummary } from '../engine/experiments/sweeps';
import type {
  NoiseShapingConfig,
  NoiseShapingRun,
} from '../engine/experiments/noiseShapingSummary';
import type { Arch, ArchConfig, ArchResult } from '../engine/experiments/architectures';
import type {
  CurvePoint,
  ForgettingConfig,
  ForgettingPhase,
  ForgettingResult,
  RunKey,
  RunResult,
  SweepPoint,
  Task1Report,
} from '../engine/forgetting';

export type RunState = 'idle' | 'loading' | 'training' | 'analyzing' | 'done' | 'error';

export interface DatasetInfo {
  name: string;
  source: 'embedded' | 'idx';
  trainCount: number;
  testCount: number;
  /** Training images per class 0–9. */
  classCounts: number[];
}

export interface IdxFile {
  name: string;
  /**
   * The file itself. A Blob crosses to the worker as a handle, not a copy, so the page can keep
   * the reader's files and load them again into restarted workers.
   */
  data: Blob;
}

/** The weights at the end of an epoch: where a stopped run can continue from. */
export interface RunCheckpoint {
  epoch: number;
  step: number;
  weights: MlpWeights;
}

/** Everything a fresh trainer needs to continue a stopped run from one of its checkpoints. */
export interface ResumePoint {
  /** In the warm-up, or the epoch the PCA window started at (a window cannot resume half-way). */
  checkpoint: RunCheckpoint;
  /** Full-set training errors of epochs 1..checkpoint.epoch, for the exploration detector. */
  trainErrors: number[];
  /** The per-epoch checkpoints the analysis worker held then (T and L along the trajectory). */
  history: RunCheckpoint[];
  /** α and B as the reader last set them while the run streamed. */
  controls: { lr?: number; batchSize?: number };
}

// ───────────── UI → trainer ─────────────
export type TrainerCommand =
  | {
      type: 'init';
      /** Absolute URL of the embedded data asset. */
      dataUrl: string;
      /** Absolute URLs of the three tfjs wasm binaries, by file name. */
      wasmPaths: Record<string, string>;
      forcedBackend?: BackendName;
      /** Port to the analysis worker. */
      analysisPort: MessagePort;
    }
  | { type: 'loadIdx'; files: IdxFile[] }
  | { type: 'useEmbedded' }
  /** A new run, or with `resume` the continuation of a stopped one with the same config. */
  | { type: 'start'; config: RunConfig; resume?: ResumePoint }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'step'; n: number }
  /** Stops and forgets the run; answered by 'resetDone' with the same token. */
  | { type: 'reset'; token: number }
  | { type: 'set'; lr?: number; batchSize?: number }
  /** A few training images of each digit group (answered by 'forgettingSamples'). */
  | { type: 'forgettingSamples'; groups: number[][]; perGroup: number }
  /** Noise shaping (SI §S9): the four methods for each seed. One experiment at a time. */
  | { type: 'noiseShapingStart'; config: NoiseShapingConfig; seeds: number[] }
  | { type: 'noiseShapingCancel' };

export type UniversalityMode = 'optimizers' | 'widths' | 'hyper' | 'architectures';

/**
 * One run of a universality sweep: the 784-h-h-10 MLP with a full RunConfig, or a deeper
 * architecture whose settings the worker completes from the engine's defaults.
 */
export type UniversalityRunSpec =
  | { kind: 'mlp'; config: RunConfig }
  | { kind: 'arch'; arch: Arch; settings: Partial<Omit<ArchConfig, 'arch'>> };

export type UniversalityResult =
  { kind: 'mlp'; summary: RunSummary } | { kind: 'arch'; config: ArchConfig; result: ArchResult };

export interface UniversalityProgress {
  /** Index of the current run in the plan, and the plan's length. */
  run: number;
  runs: number;
  phase: 'warmup' | 'window' | 'analysis';
  /** Epochs done of the current run, of `epochs`. */
  epoch: number;
  epochs: number;
  /** Runs in flight at once on the page's pool (the one above is the earliest of them). */
  running?: number;
}

// ───────────── trainer → UI ─────────────
export interface Progress {
  phase: TrainPhase;
  epoch: number;
  step: number;
  stepsPerSecond: number;
  /** Fraction of the whole training run done, 0–1. */
  fraction: number;
  /** Seconds left for the training part, or null while unknown. */
  etaSeconds: number | null;
}

export type TrainerEvent =
  | { type: 'ready'; backend: BackendChoice }
  /**
   * Which step implementation trains this run ('webgpu-fused', the 'wasm-simd' kernel or a tfjs
   * step), and why when it is not the backend's own (a config the fused kernel does not train,
   * or a GPU fault mid-run: the run then continues on the CPU).
   */
  | { type: 'net'; impl: string; note?: string }
  | { type: 'dataset'; info: DatasetInfo }
  | { type: 'datasetError'; file: string; message: string }
  | { type: 'state'; state: 'idle' | 'training' | 'paused' | 'done' }
  | { type: 'progress'; progress: Progress }
  /** Minibatch losses, decimated: one point per `every` steps (the mean over those steps). */
  | { type: 'minibatch'; points: { step: number; loss: number }[] }
  | { type: 'epoch'; record: EpochRecord }
  /** A copy of each epoch's weights, kept by the page so a crashed run can resume. */
  | { type: 'checkpoint'; checkpoint: RunCheckpoint }
  | { type: 'exploration'; epoch: number; step: number; reason: string }
  | { type: 'windowStart'; run: RunId; step: number; expectedSnapshots: number }
  | { type: 'windowEnd'; run: RunId; step: number }
  | { type: 'diverged'; step: number; message: string }
  /**
   * The reset with this token is done: every event of the reset run was sent before this one,
   * so the page can drop them until it arrives.
   */
  | { type: 'resetDone'; token: number }
  | { type: 'error'; message: string }
  | ForgettingWorkerEvent
  | UniversalityWorkerEvent
  | NoiseShapingWorkerEvent;

// ───────────── trainer → UI: noise shaping (SI §S9) ─────────────
export type NoiseShapingWorkerEvent =
  | {
      type: 'noiseShapingState';
      state: 'running' | 'done' | 'cancelled' | 'error';
      message?: string;
    }
  /** Fraction of all seeds' runs done, and what runs now. */
  | { type: 'noiseShapingProgress'; fraction: number; message: string }
  | { type: 'noiseShapingRun'; run: NoiseShapingRun };

// ───────────── trainer → UI: the universality runs (section 7) ─────────────
export type UniversalityWorkerEvent =
  | {
      type: 'universalityState';
      state: 'running' | 'paused' | 'done' | 'cancelled' | 'error';
      message?: string;
    }
  | { type: 'universalityProgress'; progress: UniversalityProgress }
  /** One finished run of the sweep, by its index in the plan. */
  | { type: 'universalityRun'; index: number; result: UniversalityResult }
  /** A run that failed on its own (e.g. it diverged); the sweep goes on with the next. */
  | { type: 'universalityRunFailed'; index: number; message: string };

// ───────────── pool → UI: the forgetting sweep (src/ui/poolForgetting.ts) ─────────────
export interface ForgettingProgress {
  phase: ForgettingPhase;
  seed: number;
  /** Fraction of the whole sweep done, 0–1 (weighted by the engine's cost estimate). */
  fraction: number;
  etaSeconds: number | null;
  /** Seeds in flight at once on the page's pool (the phase above is the earliest one's). */
  running?: number;
}

/** Sample images of one digit group: `count` images of 28×28 bytes back to back. */
export interface TaskSamples {
  digits: number[];
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
}

export type ForgettingWorkerEvent =
  | {
      type: 'forgettingState';
      state: 'running' | 'done' | 'cancelled' | 'error';
      /** Why it was cancelled, or the error. */
      message?: string;
    }
  | {
      type: 'forgettingPhase';
      phase: ForgettingPhase;
      seed: number;
      seedIndex: number;
      message: string;
    }
  | { type: 'forgettingModes'; report: Task1Report }
  /**
   * The streamed part of the sweep, batched (at most ~10 messages a second): new points of the
   * run in progress, finished runs, updated means over seeds, and the latest progress.
   */
  | {
      type: 'forgettingBatch';
      curves: { key: RunKey; point: CurvePoint }[];
      runs: RunResult[];
      sweep: SweepPoint[];
      progress: ForgettingProgress | null;
    }
  | { type: 'forgettingDone'; result: ForgettingResult }
  | { type: 'forgettingSamples'; groups: TaskSamples[] };

// ───────────── trainer → analysis (MessageChannel) ─────────────
export type AnalysisFeed =
  | { type: 'dataset'; images: Uint8Array; labels: Uint8Array; count: number }
  | { type: 'config'; config: RunConfig }
  /** `every`: the window keeps every k-th step (Langevin sampling, or the SGD memory stride). */
  | { type: 'windowStart'; run: RunId; expectedSnapshots: number; dim: number; every: number }
  /** `count` W2 snapshots back to back, transferred zero-copy. */
  | {
      type: 'snapshots';
      run: RunId;
      firstStep: number;
      count: number;
      dim: number;
      data: Float32Array;
    }
  | { type: 'windowEnd'; run: RunId; weights: MlpWeights }
  | { type: 'checkpoint'; epoch: number; step: number; weights: MlpWeights }
  /** A resumed run's checkpoints so far, replacing any held (sent before its first step). */
  | { type: 'history'; checkpoints: RunCheckpoint[] }
  | { type: 'reset' };

// ───────────── UI → analysis ─────────────
export type AnalysisCommand =
  /** The trainer's port; the analysis runs the project's own kernels, so it needs no backend. */
  | { type: 'init'; port: MessagePort }
  | { type: 'profile'; run: RunId; rank: number; requestId: number }
  /** Drops the run's windows and analyses; answered by 'cancelled' with the same token. */
  | { type: 'cancel'; token: number }
  /** Job workers the page's pool offers the flatness search (below 2: the worker searches alone). */
  | { type: 'flatnessPool'; workers: number }
  /** A share's modes measured by a job worker, or why not (the worker then measures it itself). */
  | { type: 'flatnessShareResult'; requestId: number; modes: ModeFlatnessResult[] }
  | { type: 'flatnessShareFailed'; requestId: number; message: string };

// ───────────── analysis → UI ─────────────
export type AnalysisEvent =
  | { type: 'ready'; backend: string }
  /** The cancel with this token is done (the cancelled run's events were all sent before). */
  | { type: 'cancelled'; token: number }
  | { type: 'window'; run: RunId; snapshots: number; expected: number }
  | {
      type: 'progress';
      run: RunId;
      phase: AnalysisPhase;
      fraction: number;
      etaSeconds: number | null;
      /** Where in the phase it is: a PCA stage, modes measured so far. */
      detail?: string;
    }
  | { type: 'result'; result: AnalysisResult }
  | { type: 'theory'; run: RunId; theory: TheoryResult }
  /** Curvature of the SGD window (Hessian along the modes, top spectrum, edge of stability). */
  | { type: 'curvature'; run: RunId; curvature: CurvatureSummary }
  | { type: 'profile'; requestId: number; profile: ModeProfile }
  /** A requested profile could not be drawn (e.g. a mode without an eigenvector); the run goes on. */
  | { type: 'profileError'; requestId: number; run: RunId; rank: number; message: string }
  /** One share of a flatness search for the page's pool (answered by flatnessShareResult/Failed). */
  /** `data`: the training split's fingerprint (a job worker holding other data refuses it). */
  | { type: 'flatnessShare'; requestId: number; share: FlatnessShare; data: number }
  | { type: 'error'; message: string };

// ───────────── UI ⇄ pool job workers (issue 13) ─────────────
/** The data set every job worker of the page's pool loads: the embedded digits or IDX files. */
export type PoolData = { kind: 'embedded'; url: string } | { kind: 'idx'; files: IdxFile[] };

/** One unit of work of the page's pool: a section-7 sweep run (the trainer's former loop). */
export interface PoolTask {
  type: 'sweepRun';
  spec: UniversalityRunSpec;
  /** Its index in the sweep's plan and the plan's length (progress). */
  index: number;
  total: number;
  /** Continue from this checkpoint (a run of a GPU ensemble that stopped); an MLP run only. */
  resume?: RunResumePoint;
}

/** Some modes of a flatness search, measured on the worker's own copy of the training set. */
export interface FlatnessPoolTask {
  type: 'flatness';
  share: FlatnessShare;
  /** The analysis worker's training split's fingerprint (splitFingerprint). */
  data: number;
}

/**
 * One seed of section 6's forgetting sweep: its pretraining, task 1 and its analysis, and every
 * task-2 run of its plan (the engine's 'forgetting' job).
 */
export interface ForgettingPoolTask {
  type: 'forgetting';
  config: ForgettingConfig;
  seed: number;
  /**
   * Where the page trains on WebGPU (issue 14): the seed's task-2 runs may train as one GPU
   * ensemble on the worker's own device — 'forced' (?backend=webgpu) or 'auto' (where measured
   * faster than the CPU; never on a software adapter). Absent: the CPU.
   */
  task2Gpu?: 'forced' | 'auto';
  /** Test builds only: the task-2 ensemble loses its device before the chunk at this step. */
  loseGpuAt?: number;
}

/**
 * A sweep's runs of one width and optimizer trained together on the fused WebGPU ensemble (issue 14):
 * each run's window comes back as 'ensembleWindow' for its analysis ('analyse'), or the run as
 * 'ensembleRunFailed'; the job ends with 'ensembleDone', or 'failed' (a GPU fault: the runs
 * not handed out are trained on the CPU pool).
 */
export interface EnsemblePoolTask {
  type: 'ensemble';
  /** The runs, with their plan indices. */
  runs: { index: number; config: RunConfig }[];
  total: number;
  /**
   * Test builds only (testHooks.ts): the worker destroys its WebGPU device before the first
   * chunk that starts at or past this step; other builds ignore it.
   */
  loseGpuAt?: number;
}

/** A run's analysis (PCA, flatness, fits) from the window an ensemble trained. */
export interface AnalysePoolTask {
  type: 'analyse';
  index: number;
  total: number;
  config: RunConfig;
  window: EnsembleWindow;
}

export type PoolCommand =
  | {
      type: 'init';
      data: PoolData;
      /** Absolute URLs of the three tfjs wasm binaries, by file name. */
      wasmPaths: Record<string, string>;
      forcedBackend?: BackendName;
    }
  | {
      type: 'job';
      id: number;
      task: PoolTask | FlatnessPoolTask | ForgettingPoolTask | EnsemblePoolTask | AnalysePoolTask;
    }
  /** Aborts job `id` (answered by its 'failed' with cancelled set, or by its result). */
  | { type: 'cancel'; id: number }
  /** Hold the job at its next training step (answered by 'held'), and go on. */
  | { type: 'hold' }
  | { type: 'release' };

/**
 * Sent to a job worker of its own, outside the pool (src/ui/ensembleProbe.ts): time an ensemble
 * of `runs` runs on the fused kernel that worker would train them on, on synthetic digits, and
 * answer with 'ensembleProbed'. The worker needs no 'init' for it.
 */
export interface EnsembleProbeCommand {
  type: 'ensembleProbe';
  runs: number;
}

export interface EnsembleProbeEvent {
  type: 'ensembleProbed';
  /** The measurement, or why there is none (no WebGPU, a kernel that failed). */
  measure: { adapter: string; software: boolean; runStepsPerSec: number } | { error: string };
}

/**
 * One run of an ensemble job: its window for the analysis, or why it failed; and as it trains,
 * each checkpoint it could continue from on the CPU pool should the GPU fail.
 */
export type EnsembleMemberEvent =
  | { type: 'ensembleResumePoint'; id: number; index: number; point: RunResumePoint }
  | { type: 'ensembleWindow'; id: number; index: number; window: EnsembleWindow }
  | { type: 'ensembleRunFailed'; id: number; index: number; message: string };

export type PoolEvent =
  | { type: 'ready'; backend: string; dataset: string }
  /** The worker cannot start (no backend, data that does not load): the pool stops. */
  | { type: 'initError'; message: string }
  | { type: 'progress'; id: number; progress: UniversalityProgress }
  /** Holding (at a training step, or idle) after a 'hold'. */
  | { type: 'held' }
  | { type: 'done'; id: number; result: UniversalityResult }
  | { type: 'flatnessDone'; id: number; modes: ModeFlatnessResult[] }
  /** A forgetting job's streamed events, batched (at most ~10 messages a second). */
  | { type: 'forgettingEvents'; id: number; events: ForgettingJobEvent[] }
  | { type: 'forgettingDone'; id: number; result: ForgettingJobResult }
  | EnsembleMemberEvent
  | { type: 'ensembleDone'; id: number }
  | { type: 'failed'; id: number; message: string; cancelled: boolean };
