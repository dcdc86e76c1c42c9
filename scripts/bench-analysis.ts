/**
 * The analysis worker's own kernels (plain TypeScript, issue 21) against the tfjs-wasm versions
 * they replaced, in the same run on the same synthetic problem as bench-landscape.ts
 * (784-50-50-10 network, N = 8,000): the full-set loss (batched as the lockstep flatness search
 * asks for it), measureFlatness over 50 modes, and the minibatch ensemble of the active
 * temperature. Each row gives both times (CPU seconds) and their ratio (plain / tfjs; < 1 is
 * faster).
 *
 *   npx tsx scripts/bench-analysis.ts
 */
import * as tf from '@tensorflow/tfjs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { FullSetLoss } from '../src/engine/landscape/fullSetLoss';
import { PlainFullSetLoss, measureFlatnessPlain } from '../src/engine/landscape/fullSetLossPlain';
import { MinibatchSlopesTf } from '../src/engine/landscape/minibatchSlopesTf';
import { MinibatchSlopes } from '../src/engine/landscape/minibatchSlopesPlain';
import { measureFlatness, type EvalFn, type ProfilePoint } from '../src/engine/landscape/flatness';
import { Rng } from '../src/engine/data/rng';
import { randomOrthonormal, scaleW3ToLoss, syntheticProblem, type Row } from './bench-landscape';

/**
 * CPU seconds of this process (user + system), not wall time: both sides run on one thread, and
 * on a shared machine the CPU time of a piece of work varies far less than its wall time.
 */
function now(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

async function timed<T>(f: () => Promise<T>): Promise<[number, T]> {
  const t = now();
  const v = await f();
  return [now() - t, v];
}

export async function benchAnalysisKernels(
  opts: { samples?: number; modes?: number; log?: (line: string) => void } = {},
): Promise<Row[]> {
  const N = opts.samples ?? 8000;
  const M = opts.modes ?? 50;
  const h = 50;
  const log = opts.log ?? (() => {});
  const rows: Row[] = [];
  const pair = (name: string, plain: number, tfjs: number, unit: string, note = '') => {
    const ratio = plain / tfjs;
    const full = `${note ? `${note}; ` : ''}tfjs-${tf.getBackend()} ${tfjs.toPrecision(3)} ${unit}`;
    rows.push({ name: `${name} (plain)`, value: plain, unit, note: full });
    rows.push({ name: `${name}: plain / tfjs`, value: ratio, unit: '×' });
    log(
      `${name.padEnd(46)} plain ${plain.toPrecision(3).padStart(9)} ${unit}  tfjs ${tfjs.toPrecision(3).padStart(9)} ${unit}  ratio ${ratio.toFixed(2)}${note ? `   (${note})` : ''}`,
    );
  };
  const p = syntheticProblem(N, h, 1);
  const w3 = await scaleW3ToLoss(p, 0.01);
  const inputs = { images: p.images, labels: p.labels, w1: p.w1, w3, hidden: h };
  const centre = Float64Array.from(p.w2);
  const dirs = randomOrthonormal(M, h * h, new Rng(2));

  const [tBuildTf, ref] = await timed(async () => {
    const l = new FullSetLoss(inputs);
    await l.lossAt(centre);
    return l;
  });
  const [tBuildPlain, own] = await timed(async () => {
    const l = new PlainFullSetLoss(inputs);
    await l.lossAt(centre);
    return l;
  });
  try {
    pair('full-set loss: H1 + first evaluation', tBuildPlain, tBuildTf, 's', `N=${N}`);
    // One lockstep call: two points along each of 10 modes (measureFlatness's bracketing),
    // after a first call that made (plain: and kept) the per-direction products.
    const pts: ProfilePoint[] = [];
    for (const d of dirs.slice(0, 10))
      pts.push({ direction: d, delta: -0.3 }, { direction: d, delta: 0.4 });
    const perPoint = async (f: EvalFn, reps: number) => {
      await f(pts);
      const t = now();
      for (let i = 0; i < reps; i++) await f(pts);
      return (now() - t) / reps / pts.length;
    };
    const tfEval = await perPoint((q) => ref.evaluate(centre, q), 3);
    const plainEval = await perPoint((q) => own.evaluate(centre, q), 3);
    pair(`loss evaluation, ${pts.length} points per call`, plainEval, tfEval, 's/point');

    const modes = dirs.map((direction, i) => ({ rank: i + 1, direction }));
    // Each search builds its loss (H1) as the analysis does, so first-call costs count.
    const [tFlatTf, repTf] = await timed(async () => {
      const l = new FullSetLoss(inputs);
      try {
        return await measureFlatness((q) => l.evaluate(centre, q), modes);
      } finally {
        l.dispose();
      }
    });
    const [tFlatPlain, repPlain] = await timed(async () => {
      const l = new PlainFullSetLoss(inputs);
      try {
        return await measureFlatnessPlain(l, centre, modes);
      } finally {
        l.dispose();
      }
    });
    let worst = 0;
    for (let i = 0; i < M; i++) {
      const a = repTf.modes[i].flatness;
      const b = repPlain.modes[i].flatness;
      if (Number.isFinite(a) && Number.isFinite(b)) worst = Math.max(worst, Math.abs(a - b) / a);
    }
    pair(
      `measureFlatness, ${M} modes (with H1)`,
      tFlatPlain,
      tFlatTf,
      's',
      `${repPlain.evaluations} evaluations; largest relative F difference ${worst.toExponential(1)}`,
    );
  } finally {
    ref.dispose();
    own.dispose();
  }

  // The active temperature's ensemble: K = 200 minibatches of B = 50, a 21-point profile and
  // T at δ = 0 along 20 modes (one call each, as WindowAnalysis.theory asks).
  const ens = { ...inputs, batchSize: 50, minibatches: 200, seed: 3 };
  const deltas = Array.from({ length: 21 }, (_, i) => -0.5 + i * 0.05);
  const ensemble = async (ms: MinibatchSlopes | MinibatchSlopesTf) => {
    try {
      await ms.profile(centre, dirs[0], deltas);
      for (let i = 0; i < 20; i++) await ms.profile(centre, dirs[i], [0.1]);
    } finally {
      ms.dispose();
    }
  };
  const [tEnsTf] = await timed(() => ensemble(new MinibatchSlopesTf(ens)));
  const [tEnsPlain] = await timed(() => ensemble(new MinibatchSlopes(ens)));
  pair('minibatch ensemble: H1, 21-δ profile, 20 modes', tEnsPlain, tEnsTf, 's', 'K=200, B=50');
  return rows;
}

async function main(): Promise<void> {
  const { setWasmPaths } = await import('@tensorflow/tfjs-backend-wasm');
  // BENCH_WASM_DIR: where the tfjs .wasm files are when this script runs bundled elsewhere.
  setWasmPaths(
    process.env.BENCH_WASM_DIR ??
      fileURLToPath(
        new URL('../node_modules/@tensorflow/tfjs-backend-wasm/dist/', import.meta.url),
      ),
  );
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  if (!(await tf.setBackend('wasm'))) throw new Error('wasm backend failed to start');
  await tf.ready();
  console.log(`bench-analysis: own kernels against tfjs ${tf.getBackend()}`);
  await benchAnalysisKernels({ log: (l) => console.log(l) });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
