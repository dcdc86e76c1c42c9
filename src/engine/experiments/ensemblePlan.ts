/**
 * Which of a sweep's runs train together on the fused WebGPU ensemble (issue 14), and in how
 * many ensembles: runs of one width and one optimizer (SGD, momentum or Adam) share a kernel
 * (each with its own B, α, μ and seed); every other width or optimizer gets an ensemble of its
 * own; the deeper architectures train on the CPU pool as before.
 *
 * Memory: an ensemble's worker holds every run's PCA window until the run ends (and a copy as it
 * hands it out), so the runs of one ensemble are capped to keep those windows within half the
 * memory budget — the other half is the analysis's, which runs one window at a time per pool
 * worker as before.
 */
import type { OptimizerKind, RunConfig } from './config';
import {
  MEMORY_BUDGET_BYTES,
  formatBytes,
  sgdWindow,
  sgdWindowEvery,
  type DataShape,
} from './memoryPolicy';

/** Why these runs cannot share one ensemble (null: they can). */
export function ensembleProblem(configs: readonly RunConfig[]): string | null {
  if (configs.length === 0) return 'an ensemble needs at least one run';
  const h = configs[0].hidden;
  const o = configs[0].optimizer ?? 'sgd';
  for (const c of configs) {
    if (c.hidden !== h)
      return `every run of an ensemble needs the same width (h ${h} and ${c.hidden})`;
    if ((c.optimizer ?? 'sgd') !== o)
      return `every run of an ensemble needs the same optimizer (${o} and ${c.optimizer ?? 'sgd'})`;
    if ((c.stepImpl ?? 'auto') !== 'auto') return `a run's step is set to ${c.stepImpl}`;
    if (c.contrast) return 'sweep runs have no Langevin contrast';
  }
  return null;
}

/** Most runs in one ensemble whatever the memory (the bench measures up to 128). */
export const MAX_ENSEMBLE_RUNS = 128;

/** Bytes of one run's window as the ensemble's worker holds it (the window and its copy). */
export function ensembleWindowBytes(config: RunConfig, data: DataShape): number {
  const every = sgdWindowEvery(config, data) ?? 1;
  const m = sgdWindow(config, data, config.batchSize, every).snapshots;
  return 2 * 4 * m * config.hidden * config.hidden;
}

/**
 * Bytes the worker of ensemble `group` holds while it trains: its copy of the data (images and
 * labels, a byte each) and every run's window (the page's pool counts it: poolSize.ts).
 */
export function ensembleWorkerBytes(group: EnsembleGroup, data: DataShape): number {
  const dataBytes = (data.trainCount + data.testCount) * (data.inputSize + 1);
  return group.members.reduce((a, m) => a + ensembleWindowBytes(m.config, data), dataBytes);
}

export interface EnsembleGroup {
  hidden: number;
  optimizer: OptimizerKind;
  members: { index: number; config: RunConfig }[];
}

export interface EnsemblePlan {
  groups: EnsembleGroup[];
  /** Plan indices of the runs that train on the CPU pool. */
  cpu: number[];
  /** What trains where and why, in a sentence. */
  note: string;
  /** The part of `note` on the runs the fused kernel cannot train (empty where there are none). */
  cpuNote?: string;
}

/**
 * The ensembles for `runs` (an MLP config, or null for a run the fused kernel cannot train at
 * all, e.g. a deeper architecture), in plan order.
 */
export function planEnsembles(
  runs: readonly { index: number; config: RunConfig | null }[],
  data: DataShape,
  budget = MEMORY_BUDGET_BYTES / 2,
): EnsemblePlan {
  // One kernel per width and optimizer, in plan order of their first runs.
  const byKernel = new Map<
    string,
    { hidden: number; optimizer: OptimizerKind; members: { index: number; config: RunConfig }[] }
  >();
  const cpu: number[] = [];
  const why = new Set<string>();
  for (const { index, config } of runs) {
    const problem = config ? ensembleProblem([config]) : 'a deeper network';
    if (problem || !config) {
      cpu.push(index);
      why.add(problem!);
      continue;
    }
    const optimizer = config.optimizer ?? 'sgd';
    const key = `${config.hidden} ${optimizer}`;
    const k = byKernel.get(key) ?? { hidden: config.hidden, optimizer, members: [] };
    k.members.push({ index, config });
    byKernel.set(key, k);
  }
  const groups: EnsembleGroup[] = [];
  let capped: { cap: number; bytes: number } | null = null;
  for (const { hidden, optimizer, members } of byKernel.values()) {
    const bytes = Math.max(...members.map((m) => ensembleWindowBytes(m.config, data)));
    const cap = Math.max(1, Math.min(MAX_ENSEMBLE_RUNS, Math.floor(budget / bytes)));
    if (cap < members.length) capped = { cap, bytes };
    for (let i = 0; i < members.length; i += cap)
      groups.push({ hidden, optimizer, members: members.slice(i, i + cap) });
  }
  const onGpu = groups.reduce((a, g) => a + g.members.length, 0);
  const parts: string[] = [];
  if (onGpu > 0) {
    const kernels = [...byKernel.values()];
    const widths = new Set(kernels.map((k) => k.hidden));
    const optimizers = new Set(kernels.map((k) => k.optimizer));
    const per =
      optimizers.size > 1
        ? widths.size > 1
          ? `one kernel per width and optimizer: ${kernels.map((k) => `h ${k.hidden} ${k.optimizer}`).join(', ')}`
          : `one kernel per optimizer: ${[...optimizers].join(', ')}`
        : widths.size > 1
          ? `one kernel per width: h ${[...widths].join(', ')}`
          : 'one width';
    parts.push(
      groups.length === 1
        ? `${onGpu} run${onGpu === 1 ? '' : 's'} train${onGpu === 1 ? 's' : ''} as one fused ensemble on the GPU`
        : `${onGpu} runs train as ${groups.length} fused ensembles on the GPU (${per}${capped ? `; at most ${capped.cap} runs each, their windows ${formatBytes(capped.bytes)} a run` : ''})`,
    );
  }
  const cpuNote =
    cpu.length > 0
      ? `${cpu.length} on the CPU pool (the fused kernel trains the 784-h-h-10 network; not ${[...why].join(', ')})`
      : '';
  if (cpuNote) parts.push(cpuNote);
  return { groups, cpu, note: parts.join('; '), cpuNote };
}
