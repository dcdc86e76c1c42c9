/**
 * Benchmark of the universality sweeps (issue 7, src/engine/experiments/sweeps.ts): the page's
 * width sweep (h = 10, 20, 30, 50), the optimizer comparison (SGD, momentum, Adam at h = 50) and
 * a small (B, α) hyper-sweep, all at the quick settings the page and the CLI use
 * (SWEEP_DEFAULTS: the paper's 60 warm-up epochs and 10-epoch window, 30 flatness modes). Per run: training,
 * analysis and total seconds (RunSummary.timings), the total against the sweep's first run, and
 * ψ, D_L90 and D_s so that a change in the science shows up next to the timing.
 *
 *   npx tsx scripts/bench-sweeps.ts        # wasm backend (Node)
 *
 * `benchSweeps()` uses whatever tfjs backend is active (wasm is selected when run directly).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { selectBackend } from '../src/engine/backend';
import type { Dataset } from '../src/engine/data/dataset';
import { loadEmbeddedDataset } from '../src/engine/data/embedded';
import { SWEEP_DEFAULTS, type RunConfig } from '../src/engine/experiments/config';
import {
  hyperSweep,
  optimizerComparison,
  widthSweep,
  type RunSummary,
} from '../src/engine/experiments/sweeps';
import { presetConfig } from '../src/state/configSchema';
import { PAGE_WIDTHS } from '../src/state/universalityStore';

export type SweepName = 'width' | 'optimizer' | 'hyper';

export interface SweepRunRow {
  sweep: SweepName;
  /** e.g. "h 30", "momentum", "B 50 α 0.1". */
  label: string;
  hidden: number;
  batchSize: number;
  lr: number;
  optimizer: string;
  train: number;
  analysis: number;
  total: number;
  /** This run's total over the total of the sweep's first run. */
  ratio: number;
  psi: number;
  psiR2: number;
  DL90: number;
  Ds: number;
  snapshots: number;
}

export interface SweepTotal {
  sweep: SweepName;
  runs: number;
  /** Wall clock of the whole sweep call. */
  seconds: number;
}

export interface SweepBenchResult {
  config: Pick<RunConfig, 'warmupEpochs' | 'windowEpochs' | 'flatnessModes' | 'seed'>;
  rows: SweepRunRow[];
  totals: SweepTotal[];
}

export interface SweepBenchOptions {
  widths?: readonly number[];
  /** Hidden width of the optimizer comparison and the hyper-sweep (default 50). */
  hidden?: number;
  Bs?: readonly number[];
  lrs?: readonly number[];
  log?: (line: string) => void;
}

/** The CLI's sweep configuration: the paper preset at the quick sweep settings. */
export function sweepConfig(hidden = 50): RunConfig {
  return { ...presetConfig('paper'), ...SWEEP_DEFAULTS, hidden };
}

export async function benchSweeps(
  data: Dataset,
  opts: SweepBenchOptions = {},
): Promise<SweepBenchResult> {
  const hidden = opts.hidden ?? 50;
  const config = sweepConfig(hidden);
  const sweepOpts = { log: opts.log };
  const rows: SweepRunRow[] = [];
  const totals: SweepTotal[] = [];
  const timed = async (
    sweep: SweepName,
    label: (r: RunSummary) => string,
    run: () => Promise<RunSummary[]>,
  ) => {
    const t0 = performance.now();
    const runs = await run();
    totals.push({ sweep, runs: runs.length, seconds: (performance.now() - t0) / 1000 });
    const first = runs[0]?.timings.total ?? NaN;
    for (const r of runs)
      rows.push({
        sweep,
        label: label(r),
        hidden: r.hidden,
        batchSize: r.batchSize,
        lr: r.lr,
        optimizer: r.optimizer,
        train: r.timings.train,
        analysis: r.timings.analysis,
        total: r.timings.total,
        ratio: r.timings.total / first,
        psi: r.psi.exponent,
        psiR2: r.psi.r2,
        DL90: r.dims.DL90,
        Ds: r.dims.Ds,
        snapshots: r.snapshots,
      });
  };
  await timed(
    'width',
    (r) => `h ${r.hidden}`,
    () => widthSweep(config, opts.widths ?? PAGE_WIDTHS, data, sweepOpts),
  );
  await timed(
    'optimizer',
    (r) => r.optimizer,
    () => optimizerComparison(config, data, sweepOpts),
  );
  await timed(
    'hyper',
    (r) => `B ${r.batchSize} α ${r.lr}`,
    () => hyperSweep(config, opts.Bs ?? [25, 50, 100], opts.lrs ?? [0.05, 0.1], data, sweepOpts),
  );
  const { warmupEpochs, windowEpochs, flatnessModes, seed } = config;
  return { config: { warmupEpochs, windowEpochs, flatnessModes, seed }, rows, totals };
}

async function main(): Promise<void> {
  const backend = await selectBackend({
    forced: 'wasm',
    wasmPaths: resolve('node_modules/@tensorflow/tfjs-backend-wasm/dist') + '/',
  });
  console.log(`bench-sweeps on ${backend.name}`);
  const data = loadEmbeddedDataset(
    readFileSync(fileURLToPath(new URL('../public/data/mnist-10k.bin', import.meta.url))),
  );
  const { rows, totals } = await benchSweeps(data, { log: (l) => console.log(`  ${l}`) });
  for (const r of rows)
    console.log(
      `${r.sweep.padEnd(10)} ${r.label.padEnd(14)} train ${r.train.toFixed(2)} s, analysis ${r.analysis.toFixed(2)} s, total ${r.total.toFixed(2)} s (× ${r.ratio.toFixed(2)}); ψ ${r.psi.toFixed(2)}, D_L90 ${r.DL90}, D_s ${r.Ds}`,
    );
  for (const t of totals)
    console.log(`${t.sweep} sweep: ${t.runs} runs, ${t.seconds.toFixed(1)} s`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
