/**
 * Benchmark of the catastrophic-forgetting experiment (Fig. 4): one full default sweep
 * (DEFAULT_FORGETTING_CONFIG: 3 seeds × 99 task-2 runs, pretraining, task 1, PCA and the
 * flatness of 300 modes per seed) on the embedded digits, timed end to end and by phase, plus
 * the sweep's headline numbers so that a change in the science shows up next to the timing.
 *
 *   npx tsx scripts/bench-forgetting.ts        # wasm backend (Node)
 *
 * `benchForgetting()` uses whatever tfjs backend is active (wasm is selected when run directly).
 */
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadEmbeddedDataset } from '../src/engine/data/embedded';
import {
  DEFAULT_FORGETTING_CONFIG,
  forgettingRun,
  type ForgettingConfig,
  type ForgettingResult,
} from '../src/engine/forgetting';

export interface Row {
  name: string;
  value: number;
  unit: string;
  note?: string;
}

export async function benchForgetting(
  log: (line: string) => void = () => {},
  config: ForgettingConfig = DEFAULT_FORGETTING_CONFIG,
): Promise<Row[]> {
  const data = loadEmbeddedDataset(
    readFileSync(fileURLToPath(new URL('../public/data/mnist-10k.bin', import.meta.url))),
  );
  const tensorsBefore = tf.memory().numTensors;
  const t0 = performance.now();
  let result: ForgettingResult | null = null;
  for await (const e of forgettingRun(config, data, { streamCurves: false })) {
    if (e.type === 'phase') log(`  ${e.message}`);
    if (e.type === 'done') result = e.result;
  }
  const seconds = (performance.now() - t0) / 1000;
  if (!result) throw new Error('the sweep ended without a result');
  const t = result.timings;
  const steps = t.runs * config.task2Steps;
  const rows: Row[] = [
    {
      name: 'forgetting: full default sweep',
      value: seconds,
      unit: 's',
      note: `${t.runs} runs, ${config.seeds.length} seeds, tfjs ${tf.getBackend()}`,
    },
    { name: 'forgetting: pretraining (all seeds)', value: t.pretrain, unit: 's' },
    { name: 'forgetting: task 1 + window (all seeds)', value: t.task1, unit: 's' },
    { name: 'forgetting: PCA + flatness + Fisher (all seeds)', value: t.analysis, unit: 's' },
    { name: 'forgetting: task-2 runs (all seeds)', value: t.task2, unit: 's' },
    {
      name: 'forgetting: task-2 W2 steps/s (with scoring)',
      value: steps / t.task2,
      unit: 'steps/s',
    },
  ];
  const s = result.summary;
  for (const m of ['none', 'ewc', 'ldc'] as const) {
    const b = s.best[m];
    if (b)
      rows.push({
        name: `forgetting: test ε₁+ε₂ chosen on validation, ${m}`,
        value: b.total,
        unit: '',
        note: `± ${b.totalSd.toFixed(3)} at λ = ${b.lambda}${b.nc !== null ? `, N_c = ${b.nc}` : ''}`,
      });
  }
  rows.push({
    name: 'forgetting: tensor leak',
    value: tf.memory().numTensors - tensorsBefore,
    unit: 'tensors',
  });
  return rows;
}

async function main(): Promise<void> {
  const { setWasmPaths } = await import('@tensorflow/tfjs-backend-wasm');
  setWasmPaths(
    fileURLToPath(new URL('../node_modules/@tensorflow/tfjs-backend-wasm/dist/', import.meta.url)),
  );
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  if (!(await tf.setBackend('wasm'))) throw new Error('wasm backend failed to start');
  await tf.ready();
  console.log(`bench-forgetting on tfjs ${tf.getBackend()}`);
  const rows = await benchForgetting((l) => console.log(l));
  for (const r of rows)
    console.log(
      `${r.name.padEnd(52)} ${r.value.toPrecision(4).padStart(10)} ${r.unit}${r.note ? `  (${r.note})` : ''}`,
    );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
