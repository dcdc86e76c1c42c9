/**
 * Where a forgetting seed's task-2 runs train (issue 14): on the GPU as one ensemble
 * (w2EnsemblePhase.ts) or one after another on the CPU (task2Phase), the faster on measured
 * throughput of the real workload — this seed's data, runs and penalties.
 *
 * A seed's job runs on one worker, so the CPU side is one core stepping the runs in turn: its
 * run-steps/s is R over the summed seconds of a step of each run. The GPU side is the
 * ensemble's run-steps/s over one chunk after a warm-up step. A software adapter is never
 * chosen unless forced; `?backend=webgpu` (the CLI's `--gpu on`) forces the ensemble.
 */
import type { ForgettingConfig } from './config';
import type { ForgettingSetup, RunKey, SeedContext } from './experiment';
import { makePenalty } from './experiment';
import { W2Trainer } from './w2Trainer';
import type { W2EnsembleFactory, W2EnsembleShared, W2Prox } from './w2EnsembleKernel';

export interface Task2ChoiceInput {
  forced: boolean;
  /** What forced it, or forces it (default the page's ?backend=webgpu; the CLI's --gpu on). */
  forcedBy?: string;
  adapter: string;
  software: boolean;
  runs: number;
  /** The ensemble's run-steps/s, or why it could not be measured. */
  ensemble: number | { error: string } | null;
  /** One core's run-steps/s over the same runs. */
  cpu: number | null;
}

export interface Task2Choice {
  gpu: boolean;
  /** One clause with the numbers, e.g. "on the GPU ensemble (…): 3,100 against 420 run-steps/s". */
  reason: string;
}

const fmt = (x: number): string => Math.round(x).toLocaleString('en');

export function task2Choice(m: Task2ChoiceInput): Task2Choice {
  const on = `the GPU ensemble (${m.adapter})`;
  const by = m.forcedBy ?? '?backend=webgpu';
  if (m.forced) return { gpu: true, reason: `${on}, forced by ${by}` };
  const cpu = (why: string): Task2Choice => ({ gpu: false, reason: `the CPU: ${why}` });
  if (m.software) return cpu(`${m.adapter} is a software adapter (used only under ${by})`);
  const e = m.ensemble;
  if (e === null) return cpu('the GPU ensemble was not measured');
  if (typeof e !== 'number') return cpu(`the GPU ensemble could not be measured (${e.error})`);
  if (!(e > 0)) return cpu('the GPU ensemble measured no steps');
  if (m.cpu === null || !(m.cpu > 0)) return cpu('the CPU step was not measured');
  const numbers = `${m.runs} runs at ${fmt(e)} run-steps/s against ${fmt(m.cpu)} on one core`;
  // A tie keeps the CPU: the GPU would add a device and a copy of the data for nothing.
  return e > m.cpu
    ? { gpu: true, reason: `${on}, the faster: ${numbers}` }
    : cpu(`${on} is not faster: ${numbers}`);
}

/** Steps each side is timed over (after one untimed step). */
const PROBE_STEPS = 16;

/** The ensemble's run-steps/s over one chunk of PROBE_STEPS, on a kernel built for the probe. */
export async function ensembleRunStepsPerSecond(
  factory: W2EnsembleFactory,
  shared: W2EnsembleShared,
  prox: readonly W2Prox[],
): Promise<number> {
  const kernel = await factory(shared, prox, PROBE_STEPS);
  try {
    const B = shared.batchSize;
    const idx = new Uint32Array(PROBE_STEPS * B);
    for (let i = 0; i < idx.length; i++) idx[i] = i % shared.trainCount;
    await kernel.runChunk(idx.subarray(0, B), 1);
    const t0 = performance.now();
    await kernel.runChunk(idx, PROBE_STEPS);
    const s = (performance.now() - t0) / 1000;
    return s > 0 ? (prox.length * PROBE_STEPS) / s : Infinity;
  } finally {
    kernel.dispose();
  }
}

/**
 * One core's run-steps/s over `keys`: W2Trainer timed without a penalty and with the largest
 * LDC (whose projection onto N_c modes dominates), a run's step cost interpolated in N_c
 * (an EWC step costs about what an unconstrained one does).
 */
export async function cpuRunStepsPerSecond(
  config: ForgettingConfig,
  setup: ForgettingSetup,
  ctx: SeedContext,
  keys: readonly RunKey[],
): Promise<number> {
  const t2 = new W2Trainer(ctx.frozen, setup.task2.train, Float32Array.from(ctx.anchor), {
    lr: config.lr,
    batchSize: config.batchSize,
    seed: ctx.report.seed + 303,
  });
  const timed = async (): Promise<number> => {
    t2.trainStep();
    await t2.getW2();
    const t0 = performance.now();
    await t2.train(PROBE_STEPS);
    await t2.getW2();
    return (performance.now() - t0) / 1000 / PROBE_STEPS;
  };
  try {
    const plain = await timed();
    const widest = keys.reduce<RunKey | null>(
      (a, k) => (k.method === 'ldc' && (a === null || (k.nc ?? 0) > (a.nc ?? 0)) ? k : a),
      null,
    );
    let ldc = plain;
    if (widest) {
      t2.setProximal(makePenalty(config, widest, ctx).proximalSpec(config.lr));
      ldc = await timed();
    }
    const ncMax = widest?.nc ?? 1;
    let seconds = 0;
    for (const k of keys)
      seconds += k.method === 'ldc' ? plain + ((ldc - plain) * (k.nc ?? 0)) / ncMax : plain;
    return seconds > 0 ? keys.length / seconds : Infinity;
  } finally {
    t2.dispose();
  }
}
