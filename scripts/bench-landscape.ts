/**
 * Benchmark of the loss-landscape engine: full-set loss evaluations (single and batched) and
 * measureFlatness over 50 modes, on a synthetic 784-50-50-10 network and N = 8,000 random
 * images whose labels are the network's own confident predictions (so the loss is small and
 * has a minimum near the centre, as in the exploration phase).
 *
 *   npx tsx scripts/bench-landscape.ts            # wasm backend (Node)
 *   npx tsx scripts/bench-landscape.ts --cpu      # tfjs cpu backend
 *
 * `benchLandscape()` uses whatever tfjs backend is active, for a combined benchmark.
 */
import * as tf from '@tensorflow/tfjs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { FullSetLoss } from '../src/engine/landscape/fullSetLoss';
import { measureFlatness, type ProfilePoint } from '../src/engine/landscape/flatness';
import { Rng } from '../src/engine/data/rng';
import { W2Hessian } from '../src/engine/landscape/hessian';
import { lanczos } from '../src/engine/landscape/lanczos';
import { hutchinsonTrace } from '../src/engine/landscape/hutchinson';
import { LANCZOS_ITERATIONS, TRACE_PROBES } from '../src/engine/landscape/curvature';

export interface Row {
  name: string;
  value: number;
  unit: string;
  note?: string;
}

export interface BenchLandscapeOptions {
  samples?: number;
  hidden?: number;
  modes?: number;
  seed?: number;
  log?: (line: string) => void;
}

function now(): number {
  return performance.now() / 1000;
}

/** A random net and data whose labels are the net's own predictions with a scaled-up W3. */
export function syntheticProblem(N: number, h: number, seed: number) {
  const P = 784;
  const rng = new Rng(seed);
  const images = new Uint8Array(N * P);
  for (let i = 0; i < images.length; i++) images[i] = rng.next() < 0.8 ? 0 : 1 + rng.int(255);
  const init = (n: number, s: number) => Float32Array.from({ length: n }, () => s * rng.normal());
  const w1 = init(P * h, Math.sqrt(2 / P) * 2);
  const w2 = init(h * h, Math.sqrt(2 / h));
  const w3 = init(h * 10, Math.sqrt(1 / h));
  // Labels: argmax of the logits; then scale W3 so that the mean loss is ~1e-2.
  const labels = tf.tidy(() => {
    const x = tf.tensor2d(
      Float32Array.from(images, (v) => v / 255),
      [N, P],
    );
    const z = tf
      .relu(tf.relu(x.matMul(tf.tensor2d(w1, [P, h]))).matMul(tf.tensor2d(w2, [h, h])))
      .matMul(tf.tensor2d(w3, [h, 10]));
    return Uint8Array.from(z.argMax(1).dataSync());
  });
  return { images, labels, w1, w2, w3, h };
}

/** W3 scaled (bisection on a log scale, on 2,000 samples) so that the mean loss is ≈ target. */
export async function scaleW3ToLoss(
  p: ReturnType<typeof syntheticProblem>,
  target: number,
): Promise<Float32Array> {
  const lossWith = async (s: number) => {
    const f = new FullSetLoss({
      images: p.images,
      labels: p.labels,
      w1: p.w1,
      w3: p.w3.map((v) => v * s),
      hidden: p.h,
      count: 2000,
    });
    try {
      return await f.lossAt(p.w2);
    } finally {
      f.dispose();
    }
  };
  let hi = 1;
  while ((await lossWith(hi)) > target && hi < 1e4) hi *= 2;
  let lo = hi / 2;
  for (let i = 0; i < 12; i++) {
    const mid = Math.sqrt(lo * hi);
    if ((await lossWith(mid)) > target) lo = mid;
    else hi = mid;
  }
  return p.w3.map((v) => v * hi);
}

/** `count` random orthonormal directions in R^dim (Gram–Schmidt in float64). */
export function randomOrthonormal(count: number, dim: number, rng: Rng): Float64Array[] {
  const out: Float64Array[] = [];
  while (out.length < count) {
    const v = Float64Array.from({ length: dim }, () => rng.normal());
    for (let pass = 0; pass < 2; pass++) {
      for (const u of out) {
        let d = 0;
        for (let i = 0; i < dim; i++) d += v[i] * u[i];
        for (let i = 0; i < dim; i++) v[i] -= d * u[i];
      }
    }
    let n = 0;
    for (let i = 0; i < dim; i++) n += v[i] * v[i];
    n = Math.sqrt(n);
    if (n < 1e-8) continue;
    for (let i = 0; i < dim; i++) v[i] /= n;
    out.push(v);
  }
  return out;
}

export async function benchLandscape(opts: BenchLandscapeOptions = {}): Promise<Row[]> {
  const N = opts.samples ?? 8000;
  const h = opts.hidden ?? 50;
  const M = opts.modes ?? 50;
  const log = opts.log ?? (() => {});
  const rows: Row[] = [];
  const add = (r: Row) => {
    rows.push(r);
    log(
      `${r.name.padEnd(44)} ${formatValue(r.value).padStart(10)} ${r.unit}${r.note ? `   (${r.note})` : ''}`,
    );
  };
  const backend = tf.getBackend();
  const p = syntheticProblem(N, h, opts.seed ?? 1);
  const w3 = await scaleW3ToLoss(p, 0.01);

  let t = now();
  const loss = new FullSetLoss({ images: p.images, labels: p.labels, w1: p.w1, w3, hidden: h });
  await loss.lossAt(p.w2);
  add({
    name: 'FullSetLoss: build H1 + first evaluation',
    value: now() - t,
    unit: 's',
    note: `N=${N}, h=${h}, ${backend}`,
  });
  const tensorsBefore = tf.memory().numTensors;
  try {
    const centre = Float64Array.from(p.w2);
    const dirs = randomOrthonormal(M, h * h, new Rng(2));
    const L0 = await loss.lossAt(centre);
    add({ name: 'L(w*) at the centre', value: L0, unit: '' });

    // Single evaluations.
    const reps = 20;
    t = now();
    for (let i = 0; i < reps; i++)
      await loss.evaluate(centre, [{ direction: dirs[i % M], delta: 0.1 * (i + 1) }]);
    add({ name: 'loss evaluation, one point per call', value: (now() - t) / reps, unit: 's/eval' });

    // Batched evaluations: two points per mode, as one lockstep iteration of measureFlatness.
    const pts: ProfilePoint[] = [];
    for (const d of dirs) pts.push({ direction: d, delta: -0.3 }, { direction: d, delta: 0.4 });
    await loss.evaluate(centre, pts);
    const breps = 3;
    t = now();
    for (let i = 0; i < breps; i++) await loss.evaluate(centre, pts);
    add({
      name: `loss evaluation, ${pts.length} points per call`,
      value: (now() - t) / breps / pts.length,
      unit: 's/eval',
    });

    // Flatness of M modes, default options (Brent) and bisection.
    const modes = dirs.map((direction, i) => ({ rank: i + 1, direction }));
    for (const method of ['brent', 'bisect'] as const) {
      t = now();
      const rep = await measureFlatness(loss.evalFnAt(centre), modes, { method });
      const secs = now() - t;
      const fl = rep.modes
        .map((m) => m.flatness)
        .filter(Number.isFinite)
        .sort((a, b) => a - b);
      add({
        name: `measureFlatness, ${M} modes (${method})`,
        value: secs,
        unit: 's',
        note: `${rep.iterations} batched calls, flatness ${fl[0]?.toFixed(3)}…${fl[fl.length - 1]?.toFixed(3)}, ${rep.modes.filter((m) => !Number.isFinite(m.flatness)).length} unbounded`,
      });
      add({
        name: `  evaluations per mode (${method})`,
        value: rep.evaluations / M,
        unit: 'evals',
      });
      add({
        name: `  seconds per evaluation (${method})`,
        value: secs / rep.evaluations,
        unit: 's/eval',
      });
    }
    // Curvature (issue 16): exact Hessian–vector products in float64, beside the flatness search.
    t = now();
    const hess = await W2Hessian.fromData(
      { images: p.images, labels: p.labels, w1: p.w1, w3, hidden: h },
      p.w2,
    );
    add({ name: 'W2Hessian: H1, masks and softmax at the centre', value: now() - t, unit: 's' });
    t = now();
    let kSum = 0;
    for (const d of dirs) kSum += hess.quadratic(d);
    add({
      name: `curvature k_i = p_iᵀHp_i, ${M} modes`,
      value: now() - t,
      unit: 's',
      note: `mean k ${(kSum / M).toExponential(2)}`,
    });
    t = now();
    const lz = lanczos(hess, { iterations: LANCZOS_ITERATIONS, vectors: 20 });
    add({
      name: `Lanczos, ${LANCZOS_ITERATIONS} steps (full reorthogonalisation)`,
      value: now() - t,
      unit: 's',
      note: `λ₁ ${lz.values[0].toExponential(3)}, residual ${lz.residuals[0].toExponential(1)}`,
    });
    t = now();
    const tr = hutchinsonTrace((z) => hess.quadratic(z), hess.dim, TRACE_PROBES);
    add({
      name: `Hutchinson trace, ${TRACE_PROBES} probes`,
      value: now() - t,
      unit: 's',
      note: `tr H ${tr.value.toExponential(3)} ± ${tr.stderr.toExponential(1)}`,
    });
    if (tf.memory().numTensors !== tensorsBefore) {
      add({ name: 'tensor leak', value: tf.memory().numTensors - tensorsBefore, unit: 'tensors' });
    }
  } finally {
    loss.dispose();
  }
  return rows;
}

function formatValue(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 100 ? v.toFixed(0) : a >= 0.01 ? v.toFixed(3) : v.toExponential(2);
}

async function main(): Promise<void> {
  const useCpu = process.argv.includes('--cpu');
  if (useCpu) {
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
  console.log(`bench-landscape on tfjs ${tf.getBackend()}`);
  await benchLandscape({ log: (l) => console.log(l) });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
