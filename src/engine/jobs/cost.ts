/**
 * Longest-first dispatch for the pools (the page's and the CLI's): a sweep on N workers ends
 * when its longest run does, so that run should start first, not last. Plan order puts the
 * widest network of a width sweep last (h = 50 is about 40% of the page's width sweep), where
 * a worker starts it only once the short runs are done; started first, the short runs fill the
 * other workers beside it.
 *
 * The estimate orders jobs and nothing else: each job's result is the same whichever worker
 * runs it and whenever (runJob is a pure function of its spec), and the pools report results
 * by plan index, so only the wall-clock time changes.
 */
import type { RunConfig } from '../experiments/config';
import type { JobSpec } from './spec';
import {
  EMBEDDED_DATA_SHAPE,
  MAX_SNAPSHOT_STRIDE,
  sgdWindow,
  sgdWindowEvery,
  stepsPerEpoch,
  type DataShape,
} from '../experiments/memoryPolicy';

/*
 * Seconds of one Node thread on the WebAssembly SIMD step, fitted by hand to the bundled
 * sweeps' own timings (src/data/universality-precomputed.json: h = 10 at B = 50 trained in
 * ~4 s and analysed in ~3.4 s, h = 50 in ~7 s and ~7–12 s; momentum and Adam, which train on
 * tfjs ops, 14–30× SGD's training time). Only their ratios matter.
 */
/** A training step's fixed cost (minibatch assembly, the W2 snapshot, the loss check). */
const STEP_S = 2.8e-4;
/** One example through one weight, forward and backward (the SIMD step). */
const EXAMPLE_WEIGHT_S = 1.8e-10;
/** How much slower a step on tfjs ops is than the SIMD step (momentum and Adam). */
const TFJS_STEP_FACTOR = 15;
/** What an analysis costs at any width (velocities, profiles, the active temperature). */
const ANALYSIS_S = 3;
/** Full-set loss evaluations per flatness mode (its bracket and bisection). */
const FLATNESS_EVALS = 50;
/** One multiply-add of the window's PCA (Gram or covariance, float64). */
const PCA_FLOP_S = 4e-10;

/** The 784-h-h-10 network's weights. */
function weights(h: number, inputSize: number): number {
  return inputSize * h + h * h + 10 * h;
}

/**
 * A run's estimated cost in seconds of one thread (a rough model, for ordering only): its
 * training steps, its window's PCA and its flatness search.
 */
export function estimateRunCost(config: RunConfig, data: DataShape = EMBEDDED_DATA_SHAPE): number {
  const h = config.hidden;
  const B = config.batchSize;
  const steps = (config.warmupEpochs + config.windowEpochs) * stepsPerEpoch(B, data);
  const perStep = STEP_S + B * weights(h, data.inputSize) * EXAMPLE_WEIGHT_S;
  const train = steps * perStep * (config.optimizer === 'sgd' ? 1 : TFJS_STEP_FACTOR);
  const every = sgdWindowEvery(config, data) ?? MAX_SNAPSHOT_STRIDE;
  const snapshots = sgdWindow(config, data, B, every).snapshots;
  const dim = h * h;
  const pca = snapshots * dim * Math.min(snapshots, dim) * PCA_FLOP_S;
  // The search holds the first layer's activations, so an evaluation is the layers above it.
  const flatness =
    config.flatnessModes * FLATNESS_EVALS * data.trainCount * (h * h + 10 * h) * EXAMPLE_WEIGHT_S;
  return train + ANALYSIS_S + pca + flatness;
}

/**
 * The order to start jobs in: the costliest first, equal costs in plan order. Where any job
 * has no estimate (null: a deeper architecture, a forgetting seed) the plan order is kept, as
 * costs that cannot be compared give no better order.
 */
export function longestFirst(costs: readonly (number | null)[]): number[] {
  const order = costs.map((_, i) => i);
  if (costs.some((c) => c === null || !Number.isFinite(c))) return order;
  return order.sort((a, b) => (costs[b] as number) - (costs[a] as number) || a - b);
}

/** A job's estimated cost: a variance–flatness run's; null for the others (no model of theirs). */
export function estimateJobCost(
  spec: JobSpec,
  data: DataShape = EMBEDDED_DATA_SHAPE,
): number | null {
  return spec.kind === 'run' ? estimateRunCost(spec.config, data) : null;
}

/** `items` in the order to start them (longestFirst of their costs). */
export function inLongestFirstOrder<T>(items: readonly T[], cost: (item: T) => number | null): T[] {
  return longestFirst(items.map(cost)).map((i) => items[i]);
}
