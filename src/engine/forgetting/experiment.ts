/**
 * The catastrophic-forgetting experiment (SCIENCE.md, Fig. 4) as an async stream of typed
 * events. Per seed:
 *  1. pretrain: the whole 784-h-h-10 network, plain SGD on all digits (or the two tasks'
 *     digits) for `pretrainEpochs`; then W1 and W3 are frozen;
 *  2. task 1: W2 re-initialised and trained alone on task 1 for `task1Epochs` (the exploration
 *     phase, by epochs), then a window of `windowEpochs` with a W2 snapshot after every step;
 *  3. analysis: PCA of the window (p_i, σ_i²), flatness F_i of task 1's overall training loss
 *     along each mode around w1* (measured, or estimated from σ_i), the EWC Fisher diagonal
 *     at w1*, and both tasks' test errors at w1*;
 *  4. task 2 from w1*, the same minibatches for every run: no constraint; EWC at each λ of
 *     `ewcLambdas`; LDC at each (N_c, λ) of `ncList` × `lambdas`. Each penalty is applied as
 *     an exact proximal step after every SGD step (penalties.ts).
 * Seeds are the outer loop; a 'sweepPoint' is re-emitted with the running mean over the seeds
 * done so far after each run, so a live trade-off plot fills in and then sharpens.
 *
 * Validation: before anything trains, validationFraction of each task digit's training examples
 * is held out (tasks.ts, holdOutValidation; a fixed draw, the same for every seed and method).
 * Pretraining, task 1, its PCA, flatness and Fisher, and task 2 never see them; every run is
 * scored on them at its end, and each method's setting is chosen on them (selection.ts).
 *
 * Seeds: seed s initialises the network (initMlp(h, s)) and orders the pretraining batches;
 * W2's re-initialisation, the task-1 batches and the task-2 batches use derived seeds
 * s + 101, s + 202, s + 303. Within a seed every method and λ sees identical task-2 batches.
 */
import { filterClasses, type Dataset } from '../data/dataset';
import { DEFAULT_CONFIG, thresholdValue, type RunConfig } from '../experiments/config';
import { SgdTrainer } from '../experiments/training';
import { FullSetLoss } from '../landscape/fullSetLoss';
import { measureFlatness } from '../landscape/flatness';
import { powerLawFit, varianceFlatnessFit } from '../landscape/fits';
import { initMlp } from '../nets/mlp';
import { TfMlp } from '../nets/tfMlp';
import { windowPca, type PcaResult } from '../pca/pca';
import { SnapshotWindow } from '../pca/snapshotWindow';
import { checkForgettingConfig, type ForgettingConfig } from './config';
import { fisherDiagonal, fisherStats } from './fisher';
import { EwcPenalty, LdcPenalty, NoPenalty, type Method, type Penalty } from './penalties';
import { TaskScorer, type TaskErrors } from './scoring';
import { aggregate, mean, sweepKey, type ForgettingSummary, type SweepPoint } from './selection';
import { forgettingSummary, setupCounts } from './summary';
import { holdOutValidation, type HeldOutTask, type Task } from './tasks';
import { W2Trainer, reinitW2, type FrozenLayers } from './w2Trainer';

export type ForgettingPhase = 'pretrain' | 'task1' | 'window' | 'analysis' | 'task2' | 'summary';

/** One task-1 PCA mode. */
export interface Task1Mode {
  rank: number;
  /** σ_i², the variance of the window along p_i. */
  variance: number;
  /** The F_i the constraints use (measured or estimated; NaN/Infinity = unusable, no constraint). */
  flatness: number;
  /**
   * Where `flatness` comes from: measured along the mode; 'fit' — the mode has no usable
   * measured flatness (its profile has no minimum, as along the drift mode), so F is read off
   * the ln F–ln σ² line through the measured modes; 'estimated' — flatnessSource 'estimated'.
   */
  source: 'measured' | 'fit' | 'estimated';
  /** The measured flatness and its crossings θ^l, θ^u relative to w1* (NaN when not measured). */
  measured: number;
  left: number;
  right: number;
}

export interface CurvePoint {
  step: number;
  /** Task-1 and task-2 test errors, 10-way output. */
  eps1: number;
  eps2: number;
  /** The same restricted to each task's own classes. */
  eps1Own: number;
  eps2Own: number;
}

export interface RunKey {
  method: Method;
  /** 0 for the unconstrained run. */
  lambda: number;
  /** Constrained modes (LDC); null for 'none' and 'ewc'. */
  nc: number | null;
  seed: number;
}

export interface RunResult extends RunKey {
  /** Test errors at the end of task-2 training. */
  eps1: number;
  eps2: number;
  eps1Own: number;
  eps2Own: number;
  /** The same on the held-out validation data: what the settings are chosen on. */
  valEps1: number;
  valEps2: number;
  valEps1Own: number;
  valEps2Own: number;
  curve: CurvePoint[];
  /** (w_end − w1*)·p_i for ranks 1..displacementModes. */
  displacement: number[];
  /** The penalty P(w_end) (0 for 'none'). */
  penalty: number;
  seconds: number;
}

export interface Task1Report {
  seed: number;
  /** Pretrained network's 10-way test error on all test digits of the pretraining data. */
  pretrainTestError: number;
  /** Task-1 training error (10-way) at the end of the window. */
  task1TrainError: number;
  /** Both tasks' test errors at w1*, before task 2. */
  atAnchor: { task1: TaskErrors; task2: TaskErrors };
  snapshots: number;
  pcaRank: number;
  modes: Task1Mode[];
  /** σ² ∝ F^(−ψ) over the measured diffusive modes (NaN when fewer than 3). */
  psi: { value: number; r2: number; n: number };
  /** The constant c of the estimate F_i = c·σ_i^(−2/ψ) (flatnessSource 'estimated'; else NaN). */
  estimateScale: number;
  fisher: { mean: number; max: number; zeros: number };
  flatnessSource: ForgettingConfig['flatnessSource'];
}

export interface ForgettingTimings {
  pretrain: number;
  task1: number;
  analysis: number;
  task2: number;
  total: number;
  runs: number;
}

export interface ForgettingResult {
  config: ForgettingConfig;
  /** Example counts: `train` excludes the held-out `validation` examples. */
  tasks: { classes: number[]; train: number; validation: number; test: number }[];
  /** The held-out draw, the same for every method and seed. */
  validation: { fraction: number; seed: number; heldOut: number };
  task1: Task1Report[];
  runs: RunResult[];
  sweep: SweepPoint[];
  summary: ForgettingSummary;
  timings: ForgettingTimings;
}

export type ForgettingEvent =
  | { type: 'phase'; phase: ForgettingPhase; seed: number; seedIndex: number; message: string }
  | {
      type: 'progress';
      phase: ForgettingPhase;
      seed: number;
      fraction: number;
      etaSeconds: number | null;
    }
  | { type: 'task1Modes'; report: Task1Report }
  | { type: 'curve'; key: RunKey; point: CurvePoint }
  | { type: 'run'; run: RunResult }
  | { type: 'sweepPoint'; point: SweepPoint }
  | { type: 'done'; result: ForgettingResult };

export interface ForgettingOptions {
  signal?: AbortSignal;
  /** Emit a 'curve' event for every curve point (default true; the 'run' event has the whole curve). */
  streamCurves?: boolean;
}

/** The runs of one seed, in order. */
export function runPlan(config: ForgettingConfig, seed: number): RunKey[] {
  const plan: RunKey[] = [{ method: 'none', lambda: 0, nc: null, seed }];
  for (const lambda of config.ewcLambdas) plan.push({ method: 'ewc', lambda, nc: null, seed });
  for (const nc of config.ncList)
    for (const lambda of config.lambdas) plan.push({ method: 'ldc', lambda, nc, seed });
  return plan;
}

/** Ranks constrained by LDC with N_c modes. */
export function constrainedRanks(
  config: Pick<ForgettingConfig, 'includeDrift'>,
  nc: number,
): number[] {
  const first = config.includeDrift ? 1 : 2;
  return Array.from({ length: nc }, (_, i) => first + i);
}

const ESTIMATE_ANCHOR_RANKS = [2, 3, 4, 5, 6];

/** What one seed's task-2 runs need: its frozen layers, w1*, the task-1 PCA, F_i and Fisher. */
export interface SeedContext {
  frozen: FrozenLayers;
  anchor: Float64Array;
  pca: PcaResult;
  modes: Task1Mode[];
  fisher: Float64Array;
  report: Task1Report;
}

/** The data and sizes every phase shares, fixed by the config (the held-out draw included). */
export interface ForgettingSetup {
  task1: HeldOutTask;
  task2: HeldOutTask;
  /** The pretraining data: everything but the held-out validation examples. */
  trainData: Dataset;
  heldOut: number;
  /** PCA modes the task-1 analysis keeps (N_c and the displacement need). */
  modeCount: number;
  maxNc: number;
  firstRank: number;
}

/** Checks the config and holds out the validation draw. */
export function forgettingSetup(config: ForgettingConfig, data: Dataset): ForgettingSetup {
  checkForgettingConfig(config);
  const split = holdOutValidation(
    data,
    [config.task1, config.task2],
    config.validationFraction,
    config.validationSeed,
  );
  const maxNc = Math.max(0, ...config.ncList);
  const firstRank = config.includeDrift ? 1 : 2;
  return {
    task1: split.tasks[0],
    task2: split.tasks[1],
    trainData: split.pretrain,
    heldOut: split.heldOut.length,
    modeCount: Math.max(config.displacementModes, maxNc + firstRank - 1),
    maxNc,
    firstRank,
  };
}

/**
 * What the phases yield besides the public events: work done, in the progress weights of
 * forgettingRun (the job runner ignores both).
 */
export type PhaseEvent = ForgettingEvent | { type: 'units'; phase: ForgettingPhase; units: number };

/** Seconds spent per phase of one seed. */
type PhaseSeconds = Pick<ForgettingTimings, 'pretrain' | 'task1' | 'analysis' | 'task2'>;

/**
 * Phases 1–3 of one seed: pretraining, task 1 and its window, then the PCA, task 1's flatness,
 * the Fisher diagonal and the errors at w1*. Returns the context every task-2 run starts from.
 */
export async function* seedContextPhase(
  config: ForgettingConfig,
  setup: ForgettingSetup,
  seed: number,
  seedIndex: number,
  seconds: PhaseSeconds,
  signal?: AbortSignal,
): AsyncGenerator<PhaseEvent, SeedContext, void> {
  const { task1, task2, trainData, modeCount, maxNc, firstRank } = setup;
  const h = config.hidden;
  let tp = performance.now();
  yield {
    type: 'phase',
    phase: 'pretrain',
    seed,
    seedIndex,
    message: `seed ${seed}: training the whole network on ${config.pretrain === 'all' ? 'all digits' : 'the digits of both tasks'} for ${config.pretrainEpochs} epochs`,
  };
  const pre = await pretrain(config, trainData, seed, signal);
  seconds.pretrain += (performance.now() - tp) / 1000;
  yield { type: 'units', phase: 'pretrain', units: 5 * pretrainSteps(config, setup) };

  tp = performance.now();
  yield {
    type: 'phase',
    phase: 'task1',
    seed,
    seedIndex,
    message: `seed ${seed}: W1, W3 frozen; W2 re-initialised and trained on digits ${task1.classes.join(',')} for ${config.task1Epochs} epochs`,
  };
  const frozen: FrozenLayers = { hidden: h, W1: pre.W1, W3: pre.W3 };
  const scorer = new TaskScorer([task1, task2], frozen);
  const t1 = new W2Trainer(frozen, task1.train, reinitW2(h, seed + 101), {
    lr: config.lr,
    batchSize: config.batchSize,
    seed: seed + 202,
  });
  try {
    const spe = t1.stepsPerEpoch;
    for (let e = 0; e < config.task1Epochs; e++) {
      signal?.throwIfAborted();
      await t1.train(spe);
      yield { type: 'units', phase: 'task1', units: spe };
    }
    yield {
      type: 'phase',
      phase: 'window',
      seed,
      seedIndex,
      message: `seed ${seed}: task-1 PCA window of ${config.windowEpochs} epochs (${config.windowEpochs * spe} snapshots)`,
    };
    const win = new SnapshotWindow(h * h, {
      maxSnapshots: Math.max(1, config.windowEpochs * spe),
    });
    for (let e = 0; e < config.windowEpochs; e++) {
      signal?.throwIfAborted();
      await t1.train(spe, async () => win.add(await t1.getW2()));
      yield { type: 'units', phase: 'window', units: spe };
    }
    await checkFinite(t1, 'task 1');
    const task1TrainError = await trainError(t1, task1);
    seconds.task1 += (performance.now() - tp) / 1000;

    tp = performance.now();
    yield {
      type: 'phase',
      phase: 'analysis',
      seed,
      seedIndex,
      message: `seed ${seed}: PCA of the window, flatness of task 1 along ${modeCount} modes, Fisher diagonal`,
    };
    const pca = windowPca(win, { vectors: modeCount });
    if (pca.rank < maxNc + firstRank - 1) {
      throw new Error(
        `the task-1 window has PCA rank ${pca.rank}, fewer than the ${maxNc + firstRank - 1} modes N_c = ${maxNc} needs: lengthen the window or lower N_c`,
      );
    }
    const anchor = config.anchor === 'mean' ? pca.mean : Float64Array.from(win.last());
    const modes = await task1Flatness(
      config,
      pca,
      anchor,
      frozen,
      task1,
      Math.min(modeCount, pca.k),
      signal,
    );
    t1.setW2(Float32Array.from(anchor));
    const [e1, e2] = await scorer.score(t1);
    const fisher = fisherDiagonal({
      h1: await t1.trainH1(),
      labels: task1.train.labels,
      count: task1.train.count,
      hidden: h,
      w2: Float32Array.from(anchor),
      w3: pre.W3,
    });
    const measured = modes.modes.filter(
      (m) => m.rank >= 2 && Number.isFinite(m.measured) && m.measured > 0,
    );
    const fit =
      measured.length >= 3
        ? varianceFlatnessFit(
            measured.map((m) => ({ rank: m.rank, variance: m.variance, flatness: m.measured })),
            2,
            pca.rank,
          )
        : null;
    const report: Task1Report = {
      seed,
      pretrainTestError: pre.testError,
      task1TrainError,
      atAnchor: { task1: e1, task2: e2 },
      snapshots: win.count,
      pcaRank: pca.rank,
      modes: modes.modes,
      psi: fit ? { value: fit.exponent, r2: fit.r2, n: fit.n } : { value: NaN, r2: NaN, n: 0 },
      estimateScale: modes.scale,
      fisher: fisherStats(fisher),
      flatnessSource: config.flatnessSource,
    };
    seconds.analysis += (performance.now() - tp) / 1000;
    yield { type: 'units', phase: 'analysis', units: analysisUnits(config, setup) };
    return { frozen, anchor, pca, modes: modes.modes, fisher, report };
  } finally {
    t1.dispose();
    scorer.dispose();
  }
}

/**
 * Phase 4: the task-2 runs `keys` (all of one seed) from w1*. Every run restarts the same
 * trainer at w1* with the first minibatch order again, so a run's numbers do not depend on
 * which other runs share the call — what lets a pool or a queue split a seed's runs.
 */
export async function* task2Phase(
  config: ForgettingConfig,
  setup: ForgettingSetup,
  ctx: SeedContext,
  keys: readonly RunKey[],
  stream: boolean,
  signal?: AbortSignal,
): AsyncGenerator<PhaseEvent, RunResult[], void> {
  const { task1, task2 } = setup;
  const scorer = new TaskScorer([task1, task2], ctx.frozen);
  const valScorer = new TaskScorer([task1, task2], ctx.frozen, 'validation');
  const t2 = new W2Trainer(ctx.frozen, task2.train, Float32Array.from(ctx.anchor), {
    lr: config.lr,
    batchSize: config.batchSize,
    seed: ctx.report.seed + 303,
  });
  const out: RunResult[] = [];
  try {
    for (const key of keys) {
      signal?.throwIfAborted();
      const tr = performance.now();
      const penalty = makePenalty(config, key, ctx);
      t2.reset(Float32Array.from(ctx.anchor));
      t2.setProximal(penalty.proximalSpec(config.lr));
      const curve: CurvePoint[] = [];
      const record = async (): Promise<CurvePoint> => {
        const [a, b] = await scorer.score(t2);
        const p = { step: t2.step, eps1: a.eps, eps2: b.eps, eps1Own: a.epsOwn, eps2Own: b.epsOwn };
        curve.push(p);
        return p;
      };
      let p = await record();
      if (stream) yield { type: 'curve', key, point: p };
      while (t2.step < config.task2Steps) {
        signal?.throwIfAborted();
        await t2.train(Math.min(config.curveEvery, config.task2Steps - t2.step));
        p = await record();
        if (stream) yield { type: 'curve', key, point: p };
      }
      const w = await t2.getW2();
      if (!w.every(Number.isFinite))
        throw new Error(`task 2 diverged (${key.method}, λ = ${key.lambda}): lower α`);
      const last = curve[curve.length - 1];
      const [v1, v2] = await valScorer.score(t2);
      const run: RunResult = {
        ...key,
        eps1: last.eps1,
        eps2: last.eps2,
        eps1Own: last.eps1Own,
        eps2Own: last.eps2Own,
        valEps1: v1.eps,
        valEps2: v2.eps,
        valEps1Own: v1.epsOwn,
        valEps2Own: v2.epsOwn,
        curve,
        displacement: displacement(w, ctx.anchor, ctx.pca, config.displacementModes),
        penalty: penalty.value(w),
        seconds: (performance.now() - tr) / 1000,
      };
      out.push(run);
      yield { type: 'run', run };
      yield { type: 'units', phase: 'task2', units: seedUnits(config, setup).perRun };
    }
    return out;
  } finally {
    t2.dispose();
    scorer.dispose();
    valScorer.dispose();
  }
}

function pretrainSteps(config: ForgettingConfig, setup: ForgettingSetup): number {
  const train = setup.trainData.train;
  const count =
    config.pretrain === 'all'
      ? train.count
      : filterClasses(train, [...config.task1, ...config.task2]).count;
  return config.pretrainEpochs * Math.floor(count / config.batchSize);
}

function analysisUnits(config: ForgettingConfig, setup: ForgettingSetup): number {
  return 70 * (config.flatnessSource === 'estimated' ? 5 : setup.modeCount);
}

/**
 * A seed's work in progress units (roughly seconds on wasm; a pretraining step ≈ 5 W2 steps):
 * its context (pretraining, task 1 and its analysis) and each task-2 run. What the serial sweep
 * and a job report their progress fraction in.
 */
export function seedUnits(
  config: ForgettingConfig,
  setup: ForgettingSetup,
): { context: number; perRun: number } {
  const task1Steps =
    (config.task1Epochs + config.windowEpochs) *
    Math.floor(setup.task1.train.count / config.batchSize);
  return {
    context: 5 * pretrainSteps(config, setup) + task1Steps + analysisUnits(config, setup),
    perRun: config.task2Steps * 1.3,
  };
}

/** Runs the whole sweep. Cancelling the signal throws its reason from the generator. */
export async function* forgettingRun(
  config: ForgettingConfig,
  data: Dataset,
  opts: ForgettingOptions = {},
): AsyncGenerator<ForgettingEvent, ForgettingResult, void> {
  const setup = forgettingSetup(config, data);
  const signal = opts.signal;
  const stream = opts.streamCurves ?? true;
  const t0 = performance.now();
  const timings: ForgettingTimings = {
    pretrain: 0,
    task1: 0,
    analysis: 0,
    task2: 0,
    total: 0,
    runs: 0,
  };
  const runs: RunResult[] = [];
  const bySweep = new Map<string, RunResult[]>();
  const reports: Task1Report[] = [];
  const plan = config.seeds.map((s) => runPlan(config, s));
  const units = seedUnits(config, setup);
  const perSeedUnits = units.context + plan[0].length * units.perRun;
  const totalUnits = perSeedUnits * config.seeds.length;
  let doneUnits = 0;
  /** Passes the public events on; work done becomes a progress event. */
  const relay = (e: PhaseEvent, seed: number): ForgettingEvent => {
    if (e.type !== 'units') return e;
    doneUnits += e.units;
    const fraction = Math.min(1, doneUnits / totalUnits);
    const el = (performance.now() - t0) / 1000;
    return {
      type: 'progress',
      phase: e.phase,
      seed,
      fraction,
      etaSeconds: fraction > 0.02 ? (el / fraction) * (1 - fraction) : null,
    };
  };

  for (let si = 0; si < config.seeds.length; si++) {
    const seed = config.seeds[si];
    signal?.throwIfAborted();
    const ctxPhase = seedContextPhase(config, setup, seed, si, timings, signal);
    let step = await ctxPhase.next();
    while (!step.done) {
      yield relay(step.value, seed);
      step = await ctxPhase.next();
    }
    const ctx = step.value;
    reports.push(ctx.report);
    yield { type: 'task1Modes', report: ctx.report };

    const tp = performance.now();
    yield {
      type: 'phase',
      phase: 'task2',
      seed,
      seedIndex: si,
      message: `seed ${seed}: ${plan[si].length} task-2 runs of ${config.task2Steps} steps on digits ${setup.task2.classes.join(',')}`,
    };
    for await (const e of task2Phase(config, setup, ctx, plan[si], stream, signal)) {
      yield relay(e, seed);
      if (e.type === 'run') {
        runs.push(e.run);
        const k = sweepKey(e.run);
        const list = bySweep.get(k) ?? [];
        list.push(e.run);
        bySweep.set(k, list);
        yield { type: 'sweepPoint', point: aggregate(list) };
      }
    }
    timings.task2 += (performance.now() - tp) / 1000;
  }

  yield {
    type: 'phase',
    phase: 'summary',
    seed: config.seeds[config.seeds.length - 1],
    seedIndex: config.seeds.length - 1,
    message: 'summary',
  };
  timings.total = (performance.now() - t0) / 1000;
  const result = forgettingSummary(config, setupCounts(setup), reports, runs, timings);
  yield { type: 'done', result };
  return result;
}

/** Trains the whole network; returns W1, W3 and its test error. */
async function pretrain(
  config: ForgettingConfig,
  data: Dataset,
  seed: number,
  signal: AbortSignal | undefined,
): Promise<{ W1: Float32Array; W3: Float32Array; testError: number }> {
  const classes = [...config.task1, ...config.task2];
  const pdata: Dataset =
    config.pretrain === 'all'
      ? data
      : {
          ...data,
          train: filterClasses(data.train, classes),
          test: filterClasses(data.test, classes),
        };
  const rc: RunConfig = {
    ...DEFAULT_CONFIG,
    hidden: config.hidden,
    batchSize: config.batchSize,
    lr: config.lr,
    seed,
  };
  const net = new TfMlp(initMlp(config.hidden, seed));
  const tr = new SgdTrainer(net, pdata, rc);
  try {
    const steps = config.pretrainEpochs * tr.sampler.stepsPerEpoch;
    for (let i = 0; i < steps; i++) {
      if (i % 50 === 0) signal?.throwIfAborted();
      const r = await tr.trainStep();
      if (!r)
        throw new Error(`pretraining diverged at step ${tr.step + 1}: lower α (now ${config.lr})`);
    }
    const rec = await tr.evaluateEpoch();
    const w = await net.getWeights();
    return { W1: w.W1, W3: w.W3, testError: rec.testError };
  } finally {
    tr.dispose();
    net.dispose();
  }
}

async function checkFinite(t: W2Trainer, what: string): Promise<void> {
  const w = await t.getW2();
  if (!w.every(Number.isFinite)) throw new Error(`${what} diverged: W2 is not finite — lower α`);
}

async function trainError(t: W2Trainer, task: Task): Promise<number> {
  const z = await t.trainLogits();
  let wrong = 0;
  for (let s = 0; s < task.train.count; s++) {
    let arg = 0;
    for (let c = 1; c < 10; c++) if (z[s * 10 + c] > z[s * 10 + arg]) arg = c;
    if (arg !== task.train.labels[s]) wrong++;
  }
  return wrong / task.train.count;
}

/**
 * Flatness of task 1's overall training loss along modes 1..count around w1*. 'measured': every
 * mode measured. 'estimated': only the anchor ranks 2–6 are measured; every F_i is then
 * c·σ_i^(−2/ψ), with c the geometric-mean fit over the anchor ranks (the overall scale of F is
 * otherwise arbitrary and would just rescale λ).
 */
async function task1Flatness(
  config: ForgettingConfig,
  pca: PcaResult,
  anchor: Float64Array,
  frozen: FrozenLayers,
  task1: Task,
  count: number,
  signal: AbortSignal | undefined,
): Promise<{ modes: Task1Mode[]; scale: number }> {
  const loss = new FullSetLoss({
    images: task1.train.images,
    labels: task1.train.labels,
    w1: frozen.W1,
    w3: frozen.W3,
    hidden: frozen.hidden,
  });
  const estimated = config.flatnessSource === 'estimated';
  const ranks = estimated
    ? ESTIMATE_ANCHOR_RANKS.filter((r) => r <= count)
    : Array.from({ length: count }, (_, i) => i + 1);
  try {
    const rep = await measureFlatness(
      (p) => loss.evaluate(anchor, p),
      ranks.map((rank) => ({
        rank,
        direction: pca.modes.subarray((rank - 1) * pca.dim, rank * pca.dim),
      })),
      {
        factor: thresholdValue(config.thresholdFactor),
        relTol: 1e-2,
        initialStep: Math.max(1e-3, 0.5 * Math.sqrt(pca.variance[0])),
        signal,
      },
    );
    const byRank = new Map(rep.modes.map((m) => [m.rank, m]));
    let scale = NaN;
    if (estimated) {
      const logs: number[] = [];
      for (const r of ranks) {
        const m = byRank.get(r);
        const v = pca.variance[r - 1];
        if (m && Number.isFinite(m.flatness) && m.flatness > 0 && v > 0)
          logs.push(Math.log(m.flatness) + Math.log(v) / config.psi);
      }
      if (logs.length === 0)
        throw new Error('no anchor mode has a finite flatness: cannot estimate F from σ');
      scale = Math.exp(mean(logs));
    }
    // A measured flatness is usable when it is finite and its basin [θ^l, θ^u] contains w1*
    // (θ^l < 0 < θ^u). Along the drift mode p_1 ∥ ŵ it usually is not: the loss keeps falling
    // as W2 grows, so the profile has no minimum (F NaN or infinite) or one far from w1* whose
    // basin excludes it. Such modes take F from the least-squares line ln F = a + b·ln σ²
    // through the usable modes of rank ≥ 2 (Eq. 8 with the fitted ψ = −1/b).
    const usable = (
      m: { flatness: number; left: number; right: number } | undefined,
    ): m is { flatness: number; left: number; right: number } =>
      m !== undefined && Number.isFinite(m.flatness) && m.flatness > 0 && m.left < 0 && m.right > 0;
    const vs: number[] = [];
    const fs: number[] = [];
    for (const r of ranks) {
      const m = byRank.get(r);
      const v = pca.variance[r - 1];
      if (r >= 2 && usable(m) && v > 0) {
        vs.push(v);
        fs.push(m.flatness);
      }
    }
    // NaN slope and prefactor (fewer than 2 distinct σ²) leave the unusable modes without F.
    const line = powerLawFit(vs, fs);
    const modes: Task1Mode[] = [];
    for (let rank = 1; rank <= count; rank++) {
      const m = byRank.get(rank);
      const variance = pca.variance[rank - 1];
      const est = variance > 0 ? scale * variance ** (-1 / config.psi) : Infinity;
      const fitted = variance > 0 ? line.prefactor * variance ** line.slope : NaN;
      let flatness: number;
      let source: Task1Mode['source'];
      if (estimated) {
        flatness = est;
        source = 'estimated';
      } else if (usable(m)) {
        flatness = m.flatness;
        source = 'measured';
      } else {
        flatness = fitted;
        source = 'fit';
      }
      modes.push({
        rank,
        variance,
        flatness,
        source,
        measured: m?.flatness ?? NaN,
        left: m ? m.left : NaN,
        right: m ? m.right : NaN,
      });
    }
    return { modes, scale };
  } finally {
    loss.dispose();
  }
}

/** The penalty of run `key` around the seed's w1* (float64). */
export function makePenalty(config: ForgettingConfig, key: RunKey, ctx: SeedContext): Penalty {
  const dim = ctx.anchor.length;
  if (key.method === 'none') return new NoPenalty(dim);
  if (key.method === 'ewc') return new EwcPenalty(ctx.anchor, ctx.fisher, key.lambda);
  const ranks = constrainedRanks(config, key.nc ?? 0);
  const P = new Float64Array(ranks.length * dim);
  const F = new Float64Array(ranks.length);
  ranks.forEach((r, i) => {
    P.set(ctx.pca.modes.subarray((r - 1) * dim, r * dim), i * dim);
    F[i] = ctx.modes[r - 1].flatness;
  });
  return new LdcPenalty(ctx.anchor, P, F, key.lambda);
}

/** (w − w1*)·p_i for ranks 1..count (as many as the PCA holds). */
export function displacement(
  w: ArrayLike<number>,
  anchor: Float64Array,
  pca: PcaResult,
  count: number,
): number[] {
  const n = Math.min(count, pca.k);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const o = i * pca.dim;
    let s = 0;
    for (let j = 0; j < pca.dim; j++) s += (w[j] - anchor[j]) * pca.modes[o + j];
    out.push(s);
  }
  return out;
}
