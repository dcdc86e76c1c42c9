/**
 * Benchmark of the random-landscape-theory engine (Figs. 3 and 5):
 * - velocity statistics (D, σ², C(s) to 320 lags, τ, τ_int) of 50 modes × 1,600 snapshots;
 * - one active-temperature profile: K = 200 minibatches of B = 50, 21 δ values, on a random
 *   784-50-50-10 net (H1 build timed separately), plus a δ = 0 temperature along 50 modes.
 *
 *   npx tsx scripts/bench-theory.ts            # wasm backend (Node)
 *   npx tsx scripts/bench-theory.ts --cpu      # tfjs cpu backend
 *
 * `benchTheory()` uses whatever tfjs backend is active (wasm is selected when run directly).
 */
import * as tf from '@tensorflow/tfjs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Rng } from '../src/engine/data/rng';
import { velocityStatistics } from '../src/engine/landscape/velocity';
import type { Goal } from './bench-goals.mjs';
import {
  MinibatchSlopes,
  activeTemperatureProfile,
} from '../src/engine/landscape/activeTemperature';

export interface Row {
  name: string;
  value: number;
  unit: string;
  note?: string;
  /** The speed this figure should meet (printed beside it by scripts/bench.ts). */
  goal?: Goal;
}

function now(): number {
  return performance.now() / 1000;
}

function unitVector(n: number, rng: Rng): Float64Array {
  const d = Float64Array.from({ length: n }, () => rng.normal());
  let s = 0;
  for (const v of d) s += v * v;
  const inv = 1 / Math.sqrt(s);
  return d.map((v) => v * inv);
}

export async function benchTheory(log: (line: string) => void = () => {}): Promise<Row[]> {
  const rows: Row[] = [];
  const add = (r: Row) => {
    rows.push(r);
    log(
      `${r.name.padEnd(52)} ${r.value.toPrecision(3).padStart(10)} ${r.unit}${r.note ? `   (${r.note})` : ''}`,
    );
  };

  // Velocity statistics: 50 OU-like modes of 1,600 snapshots.
  {
    const k = 50;
    const m = 1600;
    const rng = new Rng(1);
    const proj = new Float64Array(k * m);
    for (let i = 0; i < k; i++) {
      const kappa = 0.01 + 0.004 * i;
      let x = 0;
      for (let t = 0; t < m; t++) {
        x = (1 - kappa) * x + rng.normal();
        proj[i * m + t] = x;
      }
    }
    const ranks = Array.from({ length: k }, (_, i) => i + 1);
    velocityStatistics(proj, k, m, ranks, { maxLag: 320 }); // warm-up (JIT)
    const reps = 5;
    const t = now();
    for (let r = 0; r < reps; r++) velocityStatistics(proj, k, m, ranks, { maxLag: 320 });
    add({
      name: 'velocityStatistics, 50 modes × 1,600 snapshots, 320 lags',
      value: (now() - t) / reps,
      unit: 's',
      // The analysis worker computes it once per run, between the PCA and the theory figures.
      goal: { below: 0.5 },
    });
  }

  // Active temperature on a random 784-50-50-10 net.
  {
    const P = 784;
    const h = 50;
    const N = 10_000;
    const B = 50;
    const K = 200;
    const rng = new Rng(2);
    const images = new Uint8Array(N * P);
    for (let i = 0; i < images.length; i++) images[i] = rng.next() < 0.8 ? 0 : 1 + rng.int(255);
    const labels = Uint8Array.from({ length: N }, () => rng.int(10));
    const init = (n: number, s: number) => Float32Array.from({ length: n }, () => s * rng.normal());
    const w1 = init(P * h, Math.sqrt(2 / P) * 2);
    const w2 = init(h * h, Math.sqrt(2 / h));
    const w3 = init(h * 10, Math.sqrt(1 / h));
    const backend = tf.getBackend();
    const tensorsBefore = tf.memory().numTensors;
    let t = now();
    const ms = new MinibatchSlopes({
      images,
      labels,
      w1,
      w3,
      hidden: h,
      batchSize: B,
      minibatches: K,
      seed: 3,
    });
    add({
      name: 'MinibatchSlopes: build H1 (K=200, B=50)',
      value: now() - t,
      unit: 's',
      note: backend,
    });
    try {
      const dir = unitVector(h * h, rng);
      const deltas = Array.from({ length: 21 }, (_, i) => -1 + 0.1 * i);
      await ms.profile(w2, dir, deltas.slice(0, 2)); // warm-up
      const reps = 3;
      t = now();
      let T0 = 0;
      for (let r = 0; r < reps; r++) {
        const { slopes } = await ms.profile(w2, dir, deltas);
        T0 = activeTemperatureProfile(slopes, 0.1, deltas).T[10];
      }
      add({
        name: 'active-temperature profile, 21 δ (losses + slopes)',
        value: (now() - t) / reps,
        unit: 's',
        note: `T(0) = ${T0.toExponential(2)} at α = 0.1`,
      });
      t = now();
      await ms.slopes(w2, dir, deltas);
      add({ name: 'active-temperature profile, 21 δ (slopes only)', value: now() - t, unit: 's' });
      const dirs = Array.from({ length: 50 }, () => unitVector(h * h, rng));
      t = now();
      await ms.evaluate(
        w2,
        dirs.map((direction) => ({ direction, delta: 0 })),
      );
      add({ name: 'T at δ = 0 along 50 directions', value: now() - t, unit: 's' });
    } finally {
      ms.dispose();
    }
    if (tf.memory().numTensors !== tensorsBefore) {
      add({ name: 'tensor leak', value: tf.memory().numTensors - tensorsBefore, unit: 'tensors' });
    }
  }
  return rows;
}

async function main(): Promise<void> {
  if (process.argv.includes('--cpu')) {
    await tf.setBackend('cpu');
  } else {
    const { setWasmPaths } = await import('@tensorflow/tfjs-backend-wasm');
    setWasmPaths(
      fileURLToPath(
        new URL('../node_modules/@tensorflow/tfjs-backend-wasm/dist/', import.meta.url),
      ),
    );
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    if (!(await tf.setBackend('wasm'))) throw new Error('wasm backend failed to start');
  }
  await tf.ready();
  console.log(`bench-theory on tfjs ${tf.getBackend()}`);
  await benchTheory((l) => console.log(l));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
