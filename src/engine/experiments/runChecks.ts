/**
 * Every run checked before it starts (issue 20). One validator of the settings of a
 * variance–flatness run, its memory budget from memoryPolicy.ts, read by the page (before Start
 * and autorun), the CLI and the sweeps (trainingRun refuses an unplannable config at its first
 * step); and the watches that stop a running run the moment it diverges or leaves its minimum,
 * saying in the reader's words which setting did it and what range works.
 */
// Not from activeTemperature.ts: that module imports TensorFlow.js, and the page's thread
// runs these checks.
import { CLASSES } from '../nets/mlp';
import { pcaWorkspaceDoubles } from '../pca/pca';
import type { RunConfig } from './config';
import {
  EMBEDDED_DATA_SHAPE,
  MAX_SNAPSHOT_STRIDE,
  MAX_WINDOW_SNAPSHOTS,
  MEMORY_BUDGET_BYTES,
  MIN_WINDOW_SNAPSHOTS,
  estimateRunMemory,
  formatBytes,
  langevinWindow,
  sgdWindow,
  sgdWindowEvery,
  stepsPerEpoch,
  type DataShape,
  type MemoryEstimate,
  type WindowPlan,
} from './memoryPolicy';

// The memory policy's names, for the modules that check a run here.
export {
  CHECKPOINTS_KEPT,
  EMBEDDED_DATA_SHAPE,
  MAX_SNAPSHOT_STRIDE,
  MAX_WINDOW_SNAPSHOTS,
  MEMORY_BUDGET_BYTES,
  MIN_WINDOW_SNAPSHOTS,
  dataShape,
  estimateRunMemory,
  formatBytes,
  sgdWindowEvery,
  stepsPerEpoch,
  type DataShape,
  type MemoryEstimate,
  type MemoryPart,
  type WindowPlan,
} from './memoryPolicy';

/** Chance-level cross-entropy of 10 classes: a run above it has learnt nothing or left. */
export const CHANCE_LOSS = Math.log(CLASSES);
/** A minibatch loss that stays above ten times chance level: the weights are blowing up. */
export const EXPLODING_LOSS = 10 * CHANCE_LOSS;
/** Steps whose mean minibatch loss is compared with EXPLODING_LOSS (one bad batch is not it). */
export const EXPLODING_WINDOW = 20;

export interface RunProblem {
  /** The setting to change (a RunConfig key). */
  setting: keyof RunConfig;
  message: string;
}

export interface RunPlan {
  /** Settings that cannot work together: the run must not start. */
  problems: RunProblem[];
  /** Things the run will do differently from the settings' face value (striding). */
  notes: string[];
  sgd: WindowPlan;
  langevin: WindowPlan | null;
  memory: MemoryEstimate;
  budget: number;
}

function fmt(n: number): string {
  return n.toLocaleString('en');
}

/** The hottest Langevin temperature whose equilibrium stays below chance-level loss. */
export function maxLangevinTemperature(hidden: number): number {
  return (2 * CHANCE_LOSS) / (hidden * hidden);
}

function round2(x: number): string {
  return Number(x.toPrecision(2)).toString();
}

/** The largest few parts, for a message. */
function largestParts(m: MemoryEstimate, n = 2): string {
  return [...m.parts]
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, n)
    .map((p) => `${p.what}: ${formatBytes(p.bytes)}`)
    .join('; ');
}

/**
 * Checks a run's settings together against the data set and the memory budget: what cannot
 * work is a problem naming the setting and the range that works; striding is a note.
 */
export function planRun(
  config: RunConfig,
  data: DataShape = EMBEDDED_DATA_SHAPE,
  budget = MEMORY_BUDGET_BYTES,
): RunPlan {
  const problems: RunProblem[] = [];
  const notes: string[] = [];
  const B = config.batchSize;
  const h = config.hidden;
  const dim = h * h;
  const perEpoch = stepsPerEpoch(B, data);

  if (B > data.trainCount)
    problems.push({
      setting: 'batchSize',
      message: `The minibatch size B = ${fmt(B)} is larger than the ${fmt(data.trainCount)} training images; use B ≤ ${fmt(data.trainCount)}.`,
    });

  const full = sgdWindow(config, data, B, 1);
  if (full.snapshots < MIN_WINDOW_SNAPSHOTS) {
    const epochs = Math.ceil(MIN_WINDOW_SNAPSHOTS / perEpoch);
    problems.push({
      setting: 'windowEpochs',
      message: `A ${fmt(config.windowEpochs)}-epoch window at B = ${fmt(B)} holds only ${fmt(full.snapshots)} snapshots (${fmt(perEpoch)} steps per epoch); the PCA needs at least ${MIN_WINDOW_SNAPSHOTS}. Use a window of ≥ ${fmt(epochs)} epochs or a smaller B.`,
    });
  }

  let langevin: WindowPlan | null = null;
  if (config.contrast) {
    langevin = langevinWindow(config);
    const tMax = maxLangevinTemperature(h);
    if (config.temperature > tMax)
      problems.push({
        setting: 'temperature',
        message: `The Langevin temperature T = ${config.temperature} is too hot for h = ${fmt(h)}: at equilibrium it puts about h²·T/2 = ${round2((dim * config.temperature) / 2)} nats of loss above the minimum (chance level is ${CHANCE_LOSS.toFixed(2)}), so the weights would leave the SGD solution and no flatness could be measured. Use T ≤ ${round2(tMax)} (the paper's contrast uses 1e-7).`,
      });
    if (langevin.snapshots > MAX_WINDOW_SNAPSHOTS) {
      const minEvery = Math.ceil(config.langevinSteps / MAX_WINDOW_SNAPSHOTS);
      problems.push({
        setting: 'langevinEvery',
        message: `A Langevin window of ${fmt(config.langevinSteps)} steps sampled every ${fmt(config.langevinEvery)} gives ${fmt(langevin.snapshots)} snapshots; the PCA holds at most ${fmt(MAX_WINDOW_SNAPSHOTS)}. Keep every ${fmt(minEvery)}th step or more (Langevin sampling), or use a Langevin window of ≤ ${fmt(MAX_WINDOW_SNAPSHOTS * config.langevinEvery)} steps.`,
      });
    } else if (langevin.snapshots < MIN_WINDOW_SNAPSHOTS) {
      problems.push({
        setting: 'langevinSteps',
        message: `A Langevin window of ${fmt(config.langevinSteps)} steps sampled every ${fmt(config.langevinEvery)} gives only ${fmt(langevin.snapshots)} snapshots; the PCA needs at least ${MIN_WINDOW_SNAPSHOTS}. Use a Langevin window of ≥ ${fmt(MIN_WINDOW_SNAPSHOTS * config.langevinEvery)} steps or sample more often.`,
      });
    }
  }
  let every = 1;
  const snapshotsEvery = Math.ceil(full.snapshots / MAX_WINDOW_SNAPSHOTS);
  if (snapshotsEvery > MAX_SNAPSHOT_STRIDE) {
    const maxSteps = MAX_WINDOW_SNAPSHOTS * MAX_SNAPSHOT_STRIDE;
    const minB = Math.ceil(data.trainCount / Math.floor(maxSteps / config.windowEpochs));
    const maxWindow = Math.max(1, Math.floor(maxSteps / perEpoch));
    problems.push({
      setting: 'batchSize',
      message: `The minibatch size B = ${fmt(B)} gives ${fmt(perEpoch)} steps per epoch: a ${fmt(config.windowEpochs)}-epoch window is ${fmt(full.steps)} steps, and the PCA keeps at most ${fmt(MAX_WINDOW_SNAPSHOTS)} snapshots — one every ${fmt(snapshotsEvery)} steps, coarser than the every-${MAX_SNAPSHOT_STRIDE}-steps the velocity statistics need. Use B ≥ ${fmt(minB)} with this window, or a window of ≤ ${fmt(maxWindow)} epochs at B = ${fmt(B)}.`,
    });
  } else if (problems.length === 0) {
    const e = sgdWindowEvery(config, data, B, budget);
    if (e === null) {
      const worst = estimateRunMemory(config, data, MAX_SNAPSHOT_STRIDE);
      const base = estimateRunMemory(config, data, 1);
      const blame = memoryBlame(config, data, budget);
      problems.push({
        setting: blame.setting,
        message: `${blame.lead}: this run would need about ${formatBytes(base.total)} (${largestParts(base)}), over the ${formatBytes(budget)} limit${worst.total < 0.9 * base.total ? `, and still ${formatBytes(worst.total)} keeping only every ${MAX_SNAPSHOT_STRIDE}th step of the window` : ''}. ${blame.range}`,
      });
    } else {
      every = e;
      if (every > 1) {
        const before = estimateRunMemory(config, data, 1);
        const after = estimateRunMemory(config, data, every);
        const why =
          full.snapshots > MAX_WINDOW_SNAPSHOTS
            ? `more than the ${fmt(MAX_WINDOW_SNAPSHOTS)} snapshots the PCA holds`
            : `about ${formatBytes(before.total)}, over the ${formatBytes(budget)} memory limit`;
        notes.push(
          `h = ${fmt(h)}, B = ${fmt(B)}: the ${fmt(config.windowEpochs)}-epoch window's ${fmt(full.steps)} snapshots of ${fmt(dim)} weights would need ${why}, so the PCA keeps every ${ordinal(every)} step (${fmt(Math.ceil(full.steps / every))} snapshots, about ${formatBytes(after.total)}).`,
        );
      }
    }
  }

  const memory = estimateRunMemory(config, data, every);
  return {
    problems,
    notes,
    sgd: sgdWindow(config, data, B, every),
    langevin,
    memory,
    budget,
  };
}

function ordinal(n: number): string {
  return n === 2 ? '2nd' : n === 3 ? '3rd' : `${n}th`;
}

/** Which setting to name when the budget is broken, and the range that fits. */
function memoryBlame(
  config: RunConfig,
  data: DataShape,
  budget: number,
): { setting: keyof RunConfig; lead: string; range: string } {
  const fits = (c: RunConfig) => sgdWindowEvery(c, data, c.batchSize, budget) !== null;
  let hMax = 0;
  for (let h = config.hidden - 1; h >= 2; h--) {
    if (fits({ ...config, hidden: h })) {
      hMax = h;
      break;
    }
  }
  // The ensemble grows with B, the window shrinks with it: scan both ways from the setting.
  let bFit = 0;
  for (let i = 1; i <= 2000 && !bFit; i++) {
    for (const b of [config.batchSize + i, config.batchSize - i]) {
      if (b >= 1 && b <= data.trainCount && fits({ ...config, batchSize: b })) {
        bFit = b;
        break;
      }
    }
  }
  if (config.contrast && fits({ ...config, contrast: false }))
    return {
      setting: 'langevinSteps',
      lead: `The Langevin window (${fmt(config.langevinSteps)} steps, every ${fmt(config.langevinEvery)}) at h = ${fmt(config.hidden)}`,
      range: `Sample the Langevin window more sparsely or shorten it${hMax ? `, or use h ≤ ${fmt(hMax)}` : ''}.`,
    };
  const ranges = [
    hMax ? `h ≤ ${fmt(hMax)}` : '',
    bFit ? `B ${bFit > config.batchSize ? '≥' : '≤'} ${fmt(bFit)}` : '',
  ].filter(Boolean);
  return {
    setting: 'hidden',
    lead: `The hidden width h = ${fmt(config.hidden)} with B = ${fmt(config.batchSize)} and a ${fmt(config.windowEpochs)}-epoch window`,
    range: ranges.length
      ? `Use ${ranges.join(' or ')} with these settings.`
      : 'Use a smaller width or a shorter window.',
  };
}

/** The plan's problems as one message (the CLI's error, the page's refusal). */
export function describeProblems(plan: RunPlan): string {
  return plan.problems.map((p) => p.message).join(' ');
}

/** Thrown by trainingRun when its settings cannot work (the page and CLI check first). */
export class RunSettingsError extends Error {
  constructor(readonly problems: RunProblem[]) {
    super(problems.map((p) => p.message).join(' '));
    this.name = 'RunSettingsError';
  }
}

// ───────────────────────── watches on a running run ─────────────────────────

/**
 * Watches the SGD minibatch loss: a non-finite loss, or a mean over EXPLODING_WINDOW steps
 * above EXPLODING_LOSS, is divergence. Returns the reader's message, or null.
 */
export class SgdDivergenceWatch {
  private readonly recent: number[] = [];
  private total = 0;

  constructor(private readonly config: Pick<RunConfig, 'optimizer' | 'momentum'>) {}

  /** The message when step `step` (loss `loss`, at learning rate `lr`) diverged, else null. */
  push(step: number, loss: number, lr: number): string | null {
    if (!Number.isFinite(loss))
      return sgdDivergedMessage(this.config, lr, step, 'the loss is not finite');
    this.recent.push(loss);
    this.total += loss;
    if (this.recent.length > EXPLODING_WINDOW) this.total -= this.recent.shift()!;
    const mean = this.total / this.recent.length;
    if (this.recent.length === EXPLODING_WINDOW && mean > EXPLODING_LOSS)
      return sgdDivergedMessage(
        this.config,
        lr,
        step,
        `the minibatch loss averaged ${round2(mean)} over the last ${EXPLODING_WINDOW} steps, more than ten times chance level`,
      );
    return null;
  }
}

export function sgdDivergedMessage(
  config: Pick<RunConfig, 'optimizer' | 'momentum'>,
  lr: number,
  step: number,
  what: string,
): string {
  const range =
    config.optimizer === 'adam'
      ? 'Adam trains at α ≈ 0.001'
      : config.optimizer === 'momentum'
        ? `with momentum μ = ${config.momentum} each step moves α/(1 − μ) = ${round2(lr / (1 - config.momentum))} times the gradient; α(1 − μ) = ${round2(lr * (1 - config.momentum))} matches plain SGD`
        : 'the presets train at α = 0.03–0.3';
  return `The learning rate α = ${lr} made the weights diverge at step ${fmt(step)} (${what}). Lower α: ${range}.`;
}

/**
 * A network whose hidden units are all inactive outputs logits of exactly 0 (it has no
 * biases): every image costs ln 10, and no gradient reaches W1, W2 or W3 again, so the run can
 * only waste its remaining epochs. A trained or training network never sits within 1e-5 of
 * ln 10 over the whole training set. Returns the message, or null.
 */
export function deadNetworkMessage(
  config: Pick<RunConfig, 'batchSize' | 'hidden'>,
  lr: number,
  epoch: number,
  trainLoss: number,
  trainError: number,
): string | null {
  if (!(Math.abs(trainLoss - CHANCE_LOSS) < 1e-5 && trainError >= 0.5)) return null;
  return `The network died in epoch ${fmt(epoch)}: every hidden unit is inactive for every image (the training loss is exactly ln 10 = ${CHANCE_LOSS.toFixed(4)}, chance level), so the weights can no longer move. With h = ${fmt(config.hidden)} and B = ${fmt(config.batchSize)} the learning rate α = ${lr} is too large: lower it (the presets train at α = 0.03–0.3 with B = 25–200; a smaller B needs a smaller α).`;
}

/**
 * The Langevin run's full-batch loss started at the SGD minimum; above chance level (or not
 * finite) the weights have left it and the window can measure no flatness. Returns the
 * message, or null.
 */
export function langevinLeftMinimum(
  config: Pick<RunConfig, 'langevinLr' | 'temperature' | 'hidden'>,
  langevinStep: number,
  loss: number,
): string | null {
  if (Number.isFinite(loss) && loss <= CHANCE_LOSS) return null;
  const what = Number.isFinite(loss)
    ? `its full-batch loss reached ${round2(loss)}, above the chance level ${CHANCE_LOSS.toFixed(2)}`
    : 'its loss is not finite';
  const tMax = maxLangevinTemperature(config.hidden);
  const hot = config.temperature > tMax / 10;
  return `The Langevin step α = ${config.langevinLr} made the weights diverge at step ${fmt(langevinStep)} of the Langevin run (${what}): gradient descent is stable only while α stays below 2 / (the sharpest curvature of the SGD solution). Lower the Langevin step: the default 0.5 is stable on the presets at T = 1e-7${hot ? `; T = ${config.temperature} is also close to the ${round2(tMax)} at which the equilibrium itself leaves the minimum, so lower T too` : ''}.`;
}

/**
 * The flatness search walks at most `maxDistance` from the centre, starting at half the drift
 * mode's spread: a window whose drift spread is that large has left its minimum, and its
 * landscape cannot be measured. Throws the reader's message.
 */
export function checkLandscape(
  run: 'sgd' | 'langevin',
  config: Pick<RunConfig, 'lr' | 'langevinLr' | 'temperature'>,
  topVariance: number,
  initialStep: number,
  maxDistance: number,
): void {
  if (Number.isFinite(topVariance) && initialStep < maxDistance) return;
  const spread = Number.isFinite(topVariance) ? round2(Math.sqrt(topVariance)) : 'not finite';
  const cause =
    run === 'langevin'
      ? `the Langevin step α = ${config.langevinLr} at T = ${config.temperature} is too large: lower it (the default 0.5 at T = 1e-7 stays in the minimum)`
      : `the learning rate α = ${config.lr} is too large: lower it (the presets train at α = 0.03–0.3)`;
  throw new Error(
    `The ${run === 'sgd' ? 'SGD' : 'Langevin'} window wandered ${spread} along its first mode, farther than the ${fmt(maxDistance)} the flatness search covers: the weights left the minimum, so its landscape has no measurable flatness — ${cause}.`,
  );
}

/** The deeper architectures' window (architectures.ts): every step of `dim` block weights. */
export interface BlockWindowSettings {
  batchSize: number;
  windowEpochs: number;
  flatnessModes: number;
}

/** Estimated peak of a block window's snapshots, PCA and float32 data copies, in bytes. */
export function estimateBlockWindowMemory(
  c: BlockWindowSettings,
  dim: number,
  data: DataShape,
): number {
  const m = c.windowEpochs * stepsPerEpoch(c.batchSize, data);
  const k = Math.min(m, dim, 2 + c.flatnessModes);
  return (
    4 * m * dim +
    8 * pcaWorkspaceDoubles(m, dim, k) +
    4 * (data.trainCount + data.testCount) * data.inputSize
  );
}

/**
 * Why a deeper architecture's window cannot be analysed (it keeps every step, so a window past
 * the snapshot cap or the memory budget is refused, naming B and the window), or [] when it can.
 */
export function blockWindowProblems(
  c: BlockWindowSettings,
  dim: number,
  data: DataShape,
  budget = MEMORY_BUDGET_BYTES,
): RunProblem[] {
  const fits = (x: BlockWindowSettings) =>
    x.windowEpochs * stepsPerEpoch(x.batchSize, data) <= MAX_WINDOW_SNAPSHOTS &&
    estimateBlockWindowMemory(x, dim, data) <= budget;
  if (fits(c)) return [];
  const m = c.windowEpochs * stepsPerEpoch(c.batchSize, data);
  const bytes = estimateBlockWindowMemory(c, dim, data);
  let minB = 0;
  for (let b = c.batchSize + 1; b <= data.trainCount && !minB; b++)
    if (fits({ ...c, batchSize: b })) minB = b;
  let maxWindow = 0;
  for (let w = c.windowEpochs - 1; w >= 1 && !maxWindow; w--)
    if (fits({ ...c, windowEpochs: w })) maxWindow = w;
  const why =
    m > MAX_WINDOW_SNAPSHOTS
      ? `more than the ${fmt(MAX_WINDOW_SNAPSHOTS)} snapshots the PCA holds`
      : `about ${formatBytes(bytes)}, over the ${formatBytes(budget)} limit`;
  const ranges = [
    minB ? `B ≥ ${fmt(minB)}` : '',
    maxWindow ? `a window of ≤ ${fmt(maxWindow)} epochs` : '',
  ].filter(Boolean);
  return [
    {
      setting: 'batchSize',
      message: `A ${fmt(c.windowEpochs)}-epoch window at B = ${fmt(c.batchSize)} keeps ${fmt(m)} snapshots of the block's ${fmt(dim)} weights: ${why}.${ranges.length ? ` Use ${ranges.join(' or ')}.` : ''}`,
    },
  ];
}
