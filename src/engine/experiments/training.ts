/**
 * The training run as an async stream of typed events: warm-up until the exploration phase,
 * then the PCA window (a W2 snapshot after every step), then optionally the Langevin contrast
 * started from the SGD solution. The worker, the CLI and the tests all consume this same
 * generator; pausing is simply not pulling the next event.
 *
 * No TensorFlow.js here: the networks come from `TrainingOptions.nets`, by default the tfjs ones
 * of trainingTf.ts (imported when a run starts). The trainer worker passes its own, which build
 * the WebAssembly SIMD step without loading tfjs and load it only for a tfjs step.
 */
import type { Dataset, DataSplit } from '../data/dataset';
import { MinibatchSampler } from '../data/batches';
import { PIXEL_LUT } from '../data/batches';
import { CLASSES, type MlpWeights } from '../nets/mlp';
import {
  allocBatch,
  optimizerSettings,
  type OptimizerSettings,
  type StepImpl,
  type UploadBatch,
} from '../nets/netTypes';
import type { TfMlp } from '../nets/tfMlp';
import { SimdMlp } from '../nets/simdMlp';
import { ExplorationDetector } from '../landscape/phase';
import type { RunConfig } from './config';
import {
  RunSettingsError,
  SgdDivergenceWatch,
  dataShape,
  deadNetworkMessage,
  langevinLeftMinimum,
  planRun,
  sgdDivergedMessage,
  sgdWindowEvery,
} from './runChecks';

export type TrainPhase = 'warmup' | 'window' | 'langevin-burnin' | 'langevin-window';
export type RunId = 'sgd' | 'langevin';

export interface EpochRecord {
  epoch: number;
  step: number;
  trainLoss: number;
  trainError: number;
  testLoss: number;
  testError: number;
}

export type TrainingEvent =
  | {
      type: 'step';
      step: number;
      epoch: number;
      phase: TrainPhase;
      loss: number;
      /** W2 after the step when this step belongs to a PCA window (otherwise absent). */
      w2?: Float32Array;
    }
  | { type: 'epoch'; record: EpochRecord }
  /** All weights at the end of each epoch (for T and L along the trajectory, Figs. 5C/5D). */
  | { type: 'checkpoint'; epoch: number; step: number; weights: MlpWeights }
  | { type: 'exploration'; epoch: number; step: number; reason: string }
  /** A PCA window opens: it will keep every `every`-th step, `expectedSnapshots` in all. */
  | { type: 'windowStart'; run: RunId; step: number; expectedSnapshots: number; every: number }
  | { type: 'windowEnd'; run: RunId; step: number; weights: MlpWeights }
  /** `run`: which dynamics diverged (the SGD window's analysis survives a Langevin failure). */
  | { type: 'diverged'; run: RunId; step: number; message: string; restoredStep: number }
  | { type: 'done'; step: number };

/** Copies the samples at `idx` into the upload layout (x, xᵀ, one-hot labels). */
export function fillBatch(
  split: DataSplit,
  idx: ArrayLike<number>,
  count: number,
  out: UploadBatch,
): void {
  const P = split.images.length / split.count;
  out.size = count;
  out.oneHot.fill(0, 0, count * CLASSES);
  for (let i = 0; i < count; i++) {
    const s = idx[i];
    const src = s * P;
    const dst = i * P;
    for (let j = 0; j < P; j++) {
      const v = PIXEL_LUT[split.images[src + j]];
      out.x[dst + j] = v;
      out.xT[j * count + i] = v;
    }
    const y = split.labels[s];
    out.labels[i] = y;
    out.oneHot[i * CLASSES + y] = 1;
  }
}

/** Fills a batch with the contiguous samples [start, start+count) — for whole-set evaluation. */
export function fillRange(split: DataSplit, start: number, count: number, out: UploadBatch): void {
  const P = split.images.length / split.count;
  out.size = count;
  const base = start * P;
  for (let i = 0; i < count * P; i++) out.x[i] = PIXEL_LUT[split.images[base + i]];
  for (let i = 0; i < count; i++) out.labels[i] = split.labels[start + i];
}

const EVAL_CHUNK = 1000;

/** How a training step is computed: tfjs ops on the active backend, or one WebAssembly SIMD kernel. */
export type TrainStepImpl = StepImpl | 'wasm-simd';
export type TrainNet = TfMlp | SimdMlp;

/** Langevin dynamics on W2 (nets/langevin.ts): one step, the weights, the tensors' release. */
export interface LangevinDynamics {
  step(readW2: boolean): Promise<{ loss: number; w2?: Float32Array }>;
  getWeights(): Promise<MlpWeights>;
  dispose(): void;
}

/**
 * Where a run's networks come from: the step (createNet's choice: `choice` 'auto' takes the
 * WebAssembly SIMD step on the CPU backends) and the Langevin contrast's dynamics.
 */
export interface RunNets {
  net(
    weights: MlpWeights,
    choice: 'auto' | 'tfjs' | TrainStepImpl,
    optimizer: OptimizerSettings,
  ): Promise<TrainNet>;
  langevin(
    start: MlpWeights,
    train: DataSplit,
    temperature: number,
    lr: number,
    seed: number,
  ): Promise<LangevinDynamics>;
}

/** The tfjs networks on tfjs's active backend (trainingTf.ts), loaded when first asked for. */
async function tfRunNets(): Promise<RunNets> {
  return (await import('./trainingTf')).TF_RUN_NETS;
}

/** The optimizer settings of a run (older configs without the fields train with SGD). */
export function configOptimizer(
  config: Pick<RunConfig, 'optimizer' | 'momentum'>,
): OptimizerSettings {
  return optimizerSettings(config.optimizer ?? 'sgd', config.momentum ?? 0.9);
}
/**
 * Data sets up to this size (train + test, as float32) stay resident on the backend for the
 * per-epoch evaluation: one forward pass each instead of re-uploading every epoch. The embedded
 * digits take 31 MB; full MNIST (220 MB) is evaluated in chunks instead.
 */
const RESIDENT_EVAL_BYTES = 64 * 1024 * 1024;
/** A split's inputs on the tfjs backend (TfMlp.uploadInputs). */
type Resident = ReturnType<TfMlp['uploadInputs']>;
const CHECKPOINT_EVERY = 100;

/** One SGD step's result (null from trainStep when the loss or W2 was not finite). */
export interface TrainStepResult {
  loss: number;
  errors: number;
  w2?: Float32Array;
  epochEnded: boolean;
}

/**
 * What trainingRun drives: SgdTrainer steps one at a time on the CPU; the fused WebGPU trainer
 * (fusedTrainer.ts) steps in chunks and hands the steps out one by one.
 */
export interface RunTrainer {
  /** Which step implementation trains now (it may change mid-run, e.g. a GPU falling back). */
  readonly impl: string;
  readonly sampler: Pick<MinibatchSampler, 'batchSize' | 'stepsPerEpoch'>;
  lr: number;
  readonly step: number;
  readonly epoch: number;
  resumeAt(epoch: number, step: number): void;
  setBatchSize(b: number): void;
  /** `inWindow`: this step lies in the PCA window (a chunked trainer keeps W2 for the chunk). */
  trainStep(wantW2: boolean, inWindow: boolean): Promise<TrainStepResult | null>;
  restoreCheckpoint(): number;
  evaluateEpoch(): Promise<EpochRecord>;
  /** The weights now, a copy the caller may keep (only asked for at the end of an epoch). */
  getWeights(): Promise<MlpWeights>;
  dispose(): void;
}

/** A step-at-a-time SGD trainer with live-adjustable α and B. */
export class SgdTrainer implements RunTrainer {
  readonly net: TrainNet;
  readonly sampler: MinibatchSampler;
  lr: number;
  step = 0;
  private readonly data: Dataset;
  private batch: UploadBatch;
  private readonly evalScratch: UploadBatch;
  private idx: Uint32Array;
  private checkpoint: { step: number; weights: MlpWeights } | null = null;
  private resident: { train: Resident; test: Resident } | null = null;

  constructor(net: TrainNet, data: Dataset, config: RunConfig) {
    this.net = net;
    this.data = data;
    this.lr = config.lr;
    this.sampler = new MinibatchSampler(
      data.train.count,
      config.batchSize,
      config.seed,
      config.sampling ?? 'epoch',
    );
    this.batch = allocBatch(config.batchSize, net.inputSize);
    this.idx = new Uint32Array(config.batchSize);
    this.evalScratch = allocBatch(EVAL_CHUNK, net.inputSize);
    const P = net.inputSize;
    if (
      !(net instanceof SimdMlp) &&
      (data.train.count + data.test.count) * P * 4 <= RESIDENT_EVAL_BYTES
    ) {
      this.resident = { train: net.uploadInputs(data.train), test: net.uploadInputs(data.test) };
    }
  }

  get impl(): string {
    return this.net.impl;
  }

  getWeights(): Promise<MlpWeights> {
    return this.net.getWeights();
  }

  dispose(): void {
    this.resident?.train.dispose();
    this.resident?.test.dispose();
    this.resident = null;
  }

  get epoch(): number {
    return this.sampler.epoch;
  }

  /** Continues from the end of epoch `epoch` (`step` steps in): the weights are the caller's. */
  resumeAt(epoch: number, step: number): void {
    this.sampler.seekEpoch(epoch, step);
    this.step = step;
  }

  setBatchSize(b: number): void {
    this.sampler.setBatchSize(b);
    if (b > this.idx.length) {
      this.batch = allocBatch(b, this.net.inputSize);
      this.idx = new Uint32Array(b);
    }
  }

  /**
   * One SGD step; W2 after it when `wantW2` (outside the PCA window nobody needs it, and the
   * copy costs more than the SIMD step itself). Returns null when the loss or W2 was not finite.
   */
  async trainStep(wantW2 = true): Promise<TrainStepResult | null> {
    if (this.step % CHECKPOINT_EVERY === 0) {
      this.checkpoint = { step: this.step, weights: await this.net.getWeights() };
    }
    const before = this.sampler.epoch;
    const B = this.sampler.nextInto(this.idx);
    let r: { loss: number; errors: number; w2?: Float32Array };
    if (this.net instanceof SimdMlp) {
      r = wantW2
        ? await this.net.stepIndices(this.data.train, this.idx, B, this.lr)
        : this.net.stepIndicesSync(this.data.train, this.idx, B, this.lr);
    } else {
      fillBatch(this.data.train, this.idx, B, this.batch);
      r = await this.net.step(this.batch, this.lr);
    }
    // Non-finite weights show up as a non-finite loss one step later when W2 is not read.
    if (!Number.isFinite(r.loss) || (r.w2 && !allFinite(r.w2))) return null;
    this.step++;
    return { loss: r.loss, errors: r.errors, w2: r.w2, epochEnded: this.sampler.epoch !== before };
  }

  /** Restores the last checkpoint with finite weights; returns its step. */
  restoreCheckpoint(): number {
    if (!this.checkpoint) return this.step;
    this.net.setWeights(this.checkpoint.weights);
    this.step = this.checkpoint.step;
    return this.step;
  }

  async evaluateEpoch(): Promise<EpochRecord> {
    const fill = (split: DataSplit) => (start: number, count: number, out: UploadBatch) =>
      fillRange(split, start, count, out);
    const r = this.resident;
    const net = this.net;
    const evaluate = async (split: DataSplit, resident: Resident | undefined) =>
      net instanceof SimdMlp
        ? net.evaluateSplit(split)
        : resident
          ? net.evaluateResident(resident, split.labels)
          : net.evaluate(split.count, EVAL_CHUNK, fill(split), this.evalScratch);
    const tr = await evaluate(this.data.train, r?.train);
    const te = await evaluate(this.data.test, r?.test);
    return {
      epoch: this.sampler.epoch,
      step: this.step,
      trainLoss: tr.loss,
      trainError: tr.errors / this.data.train.count,
      testLoss: te.loss,
      testError: te.errors / this.data.test.count,
    };
  }
}

function allFinite(a: Float32Array): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
  return true;
}

/** Per-step knobs a user may turn while the run streams. */
export interface LiveControls {
  lr?: number;
  batchSize?: number;
}

export interface TrainingOptions {
  /** Read before every step: α or B changed from the UI between steps. */
  controls?: () => LiveControls;
  stepImpl?: 'auto' | 'tfjs' | TrainStepImpl;
  /** Told which step implementation trains, once the network is built. */
  onNet?: (impl: string) => void;
  /** Start from these weights instead of a fresh initialisation. */
  initial: MlpWeights;
  /**
   * Another trainer for the run built around the CPU one (which it may fall back to), e.g. the
   * fused WebGPU trainer; it owns `cpu` from then on. Absent: the CPU trainer trains.
   */
  trainer?: (cpu: SgdTrainer) => Promise<RunTrainer>;
  /**
   * Continue a run from its checkpoint at the end of epoch `epoch` (the weights are `initial`),
   * e.g. after a worker crashed. `trainErrors` are the full-set training errors of epochs
   * 1..epoch, replayed into the exploration detector; the checkpoint must be in the warm-up or
   * at the epoch the PCA window starts (a window's snapshots cannot be resumed half-way).
   */
  resume?: { epoch: number; step: number; trainErrors: readonly number[] };
  /** The run's networks; absent: the tfjs ones on tfjs's active backend (trainingTf.ts). */
  nets?: RunNets;
}

/**
 * The variance–flatness training protocol (SCIENCE.md): SGD until the exploration phase, a
 * window of `windowEpochs` epochs with a W2 snapshot after every step, then (if configured)
 * Langevin dynamics on W2 from the SGD solution with its own burn-in and window.
 */
export async function* trainingRun(
  config: RunConfig,
  data: Dataset,
  opts: TrainingOptions,
): AsyncGenerator<TrainingEvent, void, void> {
  // Settings that cannot work are refused before the first step, not after the warm-up.
  const shape = dataShape(data);
  const plan = planRun(config, shape);
  if (plan.problems.length) throw new RunSettingsError(plan.problems);
  const nets = opts.nets ?? (await tfRunNets());
  const net = await nets.net(
    opts.initial,
    opts.stepImpl ?? config.stepImpl ?? 'auto',
    configOptimizer(config),
  );
  let trainer: RunTrainer | null = null;
  try {
    const cpu = new SgdTrainer(net, data, config);
    trainer = cpu;
    if (opts.trainer) trainer = await opts.trainer(cpu);
    opts.onNet?.(trainer.impl);
    const resume = opts.resume;
    if (resume) trainer.resumeAt(resume.epoch, resume.step);
    else {
      yield { type: 'epoch', record: await trainer.evaluateEpoch() };
      yield { type: 'checkpoint', epoch: 0, step: 0, weights: await trainer.getWeights() };
    }
    // Widened on purpose: beginWindow changes it, which narrowing cannot see.
    let phase = 'warmup' as TrainPhase;
    let windowStartEpoch = -1;
    const detector = new ExplorationDetector({
      mode: config.phaseMode,
      errorThreshold: config.errorThreshold,
      warmupEpochs: config.warmupEpochs,
    });
    const sgd = trainer;
    const watch = new SgdDivergenceWatch(config);
    // The window keeps every `every`-th step: the memory budget's spacing for the B in force
    // when it opens (B may have changed live since the run was planned).
    let every = 1;
    let windowStep = 0;
    function* beginWindow(epoch: number, step: number): Generator<TrainingEvent> {
      yield { type: 'exploration', epoch, step, reason: detector.reason ?? '' };
      const B = sgd.sampler.batchSize;
      const e = sgdWindowEvery(config, shape, B);
      if (e === null)
        throw new RunSettingsError(planRun({ ...config, batchSize: B }, shape).problems);
      every = e;
      windowStep = 0;
      phase = 'window';
      windowStartEpoch = epoch;
      yield {
        type: 'windowStart',
        run: 'sgd',
        step,
        expectedSnapshots: Math.ceil((config.windowEpochs * sgd.sampler.stepsPerEpoch) / every),
        every,
      };
    }
    if (resume) {
      if (resume.trainErrors.length !== resume.epoch)
        throw new Error(
          `resume: ${resume.trainErrors.length} training errors for a checkpoint at epoch ${resume.epoch}`,
        );
      for (let e = 0; e < resume.epoch; e++) {
        if (!detector.recordEpoch(resume.trainErrors[e])) continue;
        if (e !== resume.epoch - 1)
          throw new Error(
            `resume: the checkpoint at epoch ${resume.epoch} is inside the PCA window (it started after epoch ${e + 1})`,
          );
        yield* beginWindow(resume.epoch, resume.step);
      }
    }
    while (true) {
      const live = opts.controls?.();
      if (live?.lr !== undefined) trainer.lr = live.lr;
      if (live?.batchSize !== undefined && live.batchSize !== trainer.sampler.batchSize) {
        trainer.setBatchSize(live.batchSize);
      }
      const keep = phase === 'window' && windowStep++ % every === 0;
      const r = await trainer.trainStep(keep, phase === 'window');
      const failed = trainer.step + (r ? 0 : 1);
      const diverged = r
        ? watch.push(failed, r.loss, trainer.lr)
        : sgdDivergedMessage(config, trainer.lr, failed, 'the loss is not finite');
      if (diverged) {
        const restored = trainer.restoreCheckpoint();
        yield {
          type: 'diverged',
          run: 'sgd',
          step: failed,
          restoredStep: restored,
          message: `${diverged} Weights restored from step ${restored}.`,
        };
        return;
      }
      if (!r) return;
      yield {
        type: 'step',
        step: trainer.step,
        epoch: trainer.epoch,
        phase,
        loss: r.loss,
        w2: keep ? r.w2 : undefined,
      };
      if (!r.epochEnded) continue;
      const record = await trainer.evaluateEpoch();
      yield { type: 'epoch', record };
      const dead = deadNetworkMessage(
        config,
        trainer.lr,
        record.epoch,
        record.trainLoss,
        record.trainError,
      );
      if (dead) {
        yield {
          type: 'diverged',
          run: 'sgd',
          step: trainer.step,
          restoredStep: trainer.step,
          message: dead,
        };
        return;
      }
      yield {
        type: 'checkpoint',
        epoch: record.epoch,
        step: trainer.step,
        weights: await trainer.getWeights(),
      };
      if (phase === 'warmup') {
        if (detector.recordEpoch(record.trainError)) yield* beginWindow(record.epoch, trainer.step);
      } else if (record.epoch - windowStartEpoch >= config.windowEpochs) {
        const weights = await trainer.getWeights();
        yield { type: 'windowEnd', run: 'sgd', step: trainer.step, weights };
        if (config.contrast) yield* langevinRun(config, data, weights, trainer.step, nets);
        yield { type: 'done', step: trainer.step };
        return;
      }
    }
  } finally {
    trainer?.dispose();
    net.dispose();
  }
}

/** Langevin contrast: full-batch GD on W2 plus isotropic Gaussian noise of temperature T. */
async function* langevinRun(
  config: RunConfig,
  data: Dataset,
  start: MlpWeights,
  step0: number,
  nets: RunNets,
): AsyncGenerator<TrainingEvent, void, void> {
  const lv = await nets.langevin(
    start,
    data.train,
    config.temperature,
    config.langevinLr,
    config.seed + 1,
  );
  try {
    let step = step0;
    const total = config.langevinBurnIn + config.langevinSteps;
    for (let i = 0; i < total; i++) {
      if (i === config.langevinBurnIn) {
        yield {
          type: 'windowStart',
          run: 'langevin',
          step,
          expectedSnapshots: Math.floor(config.langevinSteps / config.langevinEvery),
          every: config.langevinEvery,
        };
      }
      const inWindow = i >= config.langevinBurnIn;
      const keep =
        inWindow && (i - config.langevinBurnIn) % config.langevinEvery === config.langevinEvery - 1;
      const r = await lv.step(keep);
      step++;
      // The loss is the full-batch loss before this step: it left the minimum at step i.
      const left = langevinLeftMinimum(config, Math.max(1, i), r.loss);
      if (left) {
        yield { type: 'diverged', run: 'langevin', step, restoredStep: step0, message: left };
        return;
      }
      yield {
        type: 'step',
        step,
        epoch: -1,
        phase: inWindow ? 'langevin-window' : 'langevin-burnin',
        loss: r.loss,
        w2: r.w2,
      };
    }
    yield { type: 'windowEnd', run: 'langevin', step, weights: await lv.getWeights() };
  } finally {
    lv.dispose();
  }
}
