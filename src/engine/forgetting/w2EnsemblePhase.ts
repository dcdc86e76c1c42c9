/**
 * Phase 4 of a forgetting seed (experiment.ts, task2Phase) with the seed's task-2 runs stepped
 * together as one ensemble (w2EnsembleKernel.ts; issue 14): on the GPU the ~100 runs of a seed
 * share each step's dispatch, where task2Phase trains them one after another.
 *
 * Same runs, same numbers: every run starts at w1*, on the minibatches of the seed's task-2
 * sampler (seed + 303, as W2Trainer draws them), and records its test errors at step 0, every
 * `curveEvery` steps and at the end; its validation errors, displacement and penalty are taken
 * at its last W2 as task2Phase takes them. The events are task2Phase's, in its order (each run's
 * curve points, then the run) — they go out once the ensemble has finished, so a fault part-way
 * leaves nothing half-shown and the caller can train the runs again elsewhere. Progress goes
 * out chunk by chunk.
 *
 * A failure of the kernel (it cannot be built, a lost device, an uncaptured GPU error) is thrown
 * as a Task2EnsembleFault; a diverged run or a cancel is thrown as task2Phase throws it.
 */
import { MinibatchSampler } from '../data/batches';
import type { DataSplit } from '../data/dataset';
import type { ForgettingConfig } from './config';
import {
  constrainedRanks,
  displacement,
  makePenalty,
  type CurvePoint,
  type ForgettingSetup,
  type PhaseEvent,
  type RunKey,
  type RunResult,
  type SeedContext,
} from './experiment';
import { EwcPenalty, ldcShrink } from './penalties';
import { hiddenLayer, type FrozenLayers } from './w2Trainer';
import type {
  W2EnsembleFactory,
  W2EnsembleKernel,
  W2EnsembleShared,
  W2EvalSet,
  W2Prox,
} from './w2EnsembleKernel';

/** The ensemble's kernel failed; the runs can be trained elsewhere (task2Phase). */
export class Task2EnsembleFault extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'Task2EnsembleFault';
  }
}

/** Steps per kernel chunk (a curve segment of `curveEvery` steps is one or more chunks). */
export const TASK2_MAX_CHUNK = 64;

async function h1Of(split: DataSplit, frozen: FrozenLayers): Promise<Float32Array> {
  const t = hiddenLayer(split, frozen.W1, frozen.hidden);
  try {
    return (await t.data()) as Float32Array;
  } finally {
    t.dispose();
  }
}

/** What the ensemble shares (H1 of the training and evaluation sets, W3, w1*, LDC's modes). */
export async function task2Shared(
  config: ForgettingConfig,
  setup: ForgettingSetup,
  ctx: SeedContext,
  keys: readonly RunKey[],
): Promise<W2EnsembleShared> {
  const { task1, task2 } = setup;
  const h = config.hidden;
  const dim = h * h;
  const M = Math.max(0, ...keys.map((k) => (k.method === 'ldc' ? (k.nc ?? 0) : 0)));
  const modes = new Float32Array(M * dim);
  constrainedRanks(config, M).forEach((rank, i) =>
    modes.set(ctx.pca.modes.subarray((rank - 1) * dim, rank * dim), i * dim),
  );
  // score's sets: the tasks' test sets (the curves), then their validation sets (the choice).
  const sets: [DataSplit, number[]][] = [
    [task1.test, task1.classes],
    [task2.test, task2.classes],
    [task1.validation, task1.classes],
    [task2.validation, task2.classes],
  ];
  const evalSets: W2EvalSet[] = [];
  for (const [split, own] of sets)
    evalSets.push({
      h1: await h1Of(split, ctx.frozen),
      labels: split.labels,
      count: split.count,
      own,
    });
  return {
    hidden: h,
    lr: config.lr,
    batchSize: Math.min(config.batchSize, task2.train.count),
    trainH1: await h1Of(task2.train, ctx.frozen),
    trainLabels: task2.train.labels,
    trainCount: task2.train.count,
    W3: ctx.frozen.W3,
    anchor: Float32Array.from(ctx.anchor),
    modes,
    modeCount: M,
    evalSets,
  };
}

/** Each run's proximal step at α, as its penalty (penalties.ts) would take it. */
export function task2Prox(
  config: ForgettingConfig,
  ctx: SeedContext,
  keys: readonly RunKey[],
): W2Prox[] {
  return keys.map((key): W2Prox => {
    if (key.method === 'ewc')
      return {
        kind: 'ewc',
        shrink: Float32Array.from(
          new EwcPenalty(ctx.anchor, ctx.fisher, key.lambda).shrink(config.lr),
        ),
      };
    if (key.method === 'ldc') {
      const ranks = constrainedRanks(config, key.nc ?? 0);
      const F = ranks.map((r) => ctx.modes[r - 1].flatness);
      return {
        kind: 'ldc',
        nc: ranks.length,
        shrink: Float32Array.from(ldcShrink(F, key.lambda, config.lr)),
      };
    }
    return { kind: 'none' };
  });
}

/** Awaits a kernel call; its failure becomes a Task2EnsembleFault. */
async function gpu<T>(what: string, p: () => Promise<T>): Promise<T> {
  try {
    return await p();
  } catch (e) {
    const m = e instanceof Error ? e.message : String(e);
    throw new Task2EnsembleFault(`${what}: ${m}`, { cause: e });
  }
}

/** Error rate of `wrong` out of `count` (NaN for an empty set, as taskErrors gives). */
const rate = (wrong: number, count: number): number => (count === 0 ? NaN : wrong / count);

/**
 * task2Phase's runs `keys` of one seed, trained together on the kernel `factory` builds.
 * `shared`: task2Shared's data, when the caller already made it (e.g. to weigh the ensemble).
 */
export async function* task2EnsemblePhase(
  config: ForgettingConfig,
  setup: ForgettingSetup,
  ctx: SeedContext,
  keys: readonly RunKey[],
  stream: boolean,
  factory: W2EnsembleFactory,
  signal?: AbortSignal,
  shared?: W2EnsembleShared,
): AsyncGenerator<PhaseEvent, RunResult[], void> {
  const t0 = performance.now();
  const data = shared ?? (await task2Shared(config, setup, ctx, keys));
  const prox = task2Prox(config, ctx, keys);
  const R = keys.length;
  const B = data.batchSize;
  const sampler = new MinibatchSampler(data.trainCount, B, ctx.report.seed + 303);
  const kernel: W2EnsembleKernel = await gpu('the task-2 ensemble could not be built', () =>
    factory(data, prox, TASK2_MAX_CHUNK),
  );
  try {
    const curves: CurvePoint[][] = keys.map(() => []);
    const sets = data.evalSets;
    let step = 0;
    let counts: Uint32Array = new Uint32Array(0);
    /** Run r's error rate on evaluation set `set` at the last score (own: its own classes). */
    const err = (r: number, set: number, own: 0 | 1) =>
      rate(counts[(r * sets.length + set) * 2 + own], sets[set].count);
    const record = async () => {
      counts = await gpu('scoring the task-2 ensemble failed', () => kernel.score());
      for (let r = 0; r < R; r++)
        curves[r].push({
          step,
          eps1: err(r, 0, 0),
          eps2: err(r, 1, 0),
          eps1Own: err(r, 0, 1),
          eps2Own: err(r, 1, 1),
        });
    };
    await record();
    const one = new Uint32Array(B);
    while (step < config.task2Steps) {
      const segment = Math.min(config.curveEvery, config.task2Steps - step);
      for (let done = 0; done < segment;) {
        signal?.throwIfAborted();
        const n = Math.min(kernel.maxChunk, segment - done);
        const idx = new Uint32Array(n * B);
        for (let s = 0; s < n; s++) {
          sampler.nextInto(one);
          idx.set(one, s * B);
        }
        await gpu('the task-2 ensemble failed', () => kernel.runChunk(idx, n));
        done += n;
        // task2Phase's units: 1.3 per step and run (seedUnits).
        yield { type: 'units', phase: 'task2', units: 1.3 * n * R };
      }
      step += segment;
      await record();
    }
    const W = await gpu('reading the task-2 ensemble failed', () => kernel.readW2());
    if (kernel.error) throw new Task2EnsembleFault(kernel.error);
    const dim = data.hidden * data.hidden;
    const seconds = (performance.now() - t0) / 1000 / R;
    const out: RunResult[] = [];
    for (let r = 0; r < R; r++) {
      const key = keys[r];
      const w = W.slice(r * dim, (r + 1) * dim);
      if (!w.every(Number.isFinite))
        throw new Error(`task 2 diverged (${key.method}, λ = ${key.lambda}): lower α`);
      const last = curves[r][curves[r].length - 1];
      const val = (set: number, own: 0 | 1) => err(r, set, own);
      out.push({
        ...key,
        eps1: last.eps1,
        eps2: last.eps2,
        eps1Own: last.eps1Own,
        eps2Own: last.eps2Own,
        valEps1: val(2, 0),
        valEps2: val(3, 0),
        valEps1Own: val(2, 1),
        valEps2Own: val(3, 1),
        curve: curves[r],
        displacement: displacement(w, ctx.anchor, ctx.pca, config.displacementModes),
        penalty: makePenalty(config, key, ctx).value(w),
        // The ensemble's time shared out: its runs trained side by side.
        seconds,
      });
    }
    for (let r = 0; r < R; r++) {
      if (stream) for (const point of out[r].curve) yield { type: 'curve', key: keys[r], point };
      yield { type: 'run', run: out[r] };
    }
    return out;
  } finally {
    try {
      kernel.dispose();
    } catch {
      // A lost device may refuse to destroy its buffers; they go with it.
    }
  }
}
