/**
 * Node half of `npm run bench`: training steps/s per backend against the plain loop, the
 * eigensolver, the flatness search, snapshot ingest, time-to-figure of a preset through the
 * CLI's engine path, a forgetting sweep and the universality sweeps. Prints tables and writes
 * bench-results/node.json.
 *
 *   npx tsx scripts/bench.ts [--preset paper|quick] [--seconds 2] [--skip-steps] [--skip-eigen]
 *     [--skip-landscape] [--skip-analysis] [--skip-theory] [--skip-figure] [--skip-forgetting]
 *     [--skip-sweeps]
 *
 * Each --skip-NAME leaves that section out (--skip-steps also the snapshot-ingest table).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { selectBackend } from '../src/engine/backend';
import { loadEmbeddedDataset } from '../src/engine/data/embedded';
import { SnapshotWindow } from '../src/engine/pca/snapshotWindow';
import { benchPlain, benchSteps, type StepBenchRow } from '../src/bench/trainingBench';
import { parseArgs, reproduce } from '../src/cli/reproduce';
import { benchAnalysisKernels } from './bench-analysis';
import { benchEigen } from './bench-eigen';
import { checkGoal, goalText, printGoals, type GoalResult } from './bench-goals.mjs';
import { benchForgetting } from './bench-forgetting';
import { benchLandscape } from './bench-landscape';
import { benchSweeps } from './bench-sweeps';
import { benchTheory } from './bench-theory';

const argv = process.argv.slice(2);
const arg = (name: string, dflt: string) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : dflt;
};
const preset = arg('--preset', 'paper');
const seconds = Number(arg('--seconds', '2'));
const skip = (section: string) => argv.includes(`--skip-${section}`);
const wasmPaths = resolve('node_modules/@tensorflow/tfjs-backend-wasm/dist') + '/';

function table(title: string, header: string[], rows: (string | number)[][]): void {
  const cells = [header, ...rows.map((r) => r.map((c) => (typeof c === 'number' ? fmt(c) : c)))];
  const widths = header.map((_, j) => Math.max(...cells.map((r) => String(r[j]).length)));
  console.log(`\n${title}`);
  for (const [i, r] of cells.entries()) {
    console.log(r.map((c, j) => String(c).padEnd(widths[j])).join('  '));
    if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
}

function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (Math.abs(x) >= 100) return x.toFixed(0);
  if (Math.abs(x) >= 1) return x.toFixed(2);
  return x.toPrecision(3);
}

const report: Record<string, unknown> = { date: new Date().toISOString(), node: process.version };
/** Every figure with a speed goal, in the order measured (printed again at the end). */
const goals: GoalResult[] = [];
const data = loadEmbeddedDataset(readFileSync('public/data/mnist-10k.bin'));

// 1. Training steps/s.
if (!skip('steps')) {
  const steps: StepBenchRow[] = [benchPlain(data.train, 'node', seconds)];
  await selectBackend({ forced: 'wasm', wasmPaths });
  steps.push(
    ...(await benchSteps(
      data.train,
      'node',
      ['wasm-simd', 'explicit-transpose', 'transpose-flags', 'autodiff'],
      seconds,
    )),
  );
  await selectBackend({ forced: 'cpu' });
  steps.push(...(await benchSteps(data.train, 'node', ['explicit-transpose'], seconds)));
  const plain = steps[0].stepsPerSecond;
  table(
    'Training steps/s, B = 50, 784-50-50-10 (Node)',
    ['backend', 'step', 'steps/s', '× plain loop'],
    steps.map((r) => [r.backend, r.impl, r.stepsPerSecond, r.stepsPerSecond / plain]),
  );
  report.steps = steps;

  // 2. Snapshot ingest against training.
  {
    const dim = 2500;
    const batch = new Float32Array(32 * dim).map((_, i) => Math.sin(i));
    // Best of three fresh windows: the first also pays for the JIT.
    let rate = 0;
    for (let rep = 0; rep < 3; rep++) {
      const win = new SnapshotWindow(dim, { maxSnapshots: 4000 });
      const t0 = performance.now();
      let n = 0;
      while (n + 32 <= 3200) {
        win.addBatch(batch, 32);
        n += 32;
      }
      rate = Math.max(rate, n / ((performance.now() - t0) / 1000));
    }
    const fastest = Math.max(...steps.map((r) => r.stepsPerSecond));
    // The analysis worker takes a snapshot after every training step: ingest must outrun the
    // fastest training loop by far, so the goal sits well above it.
    const goal = checkGoal('snapshot ingest', rate, 'snapshots/s', { above: 20_000 });
    goals.push(goal);
    table(
      'Snapshot ingest (W2, 2,500 floats, batches of 32)',
      ['snapshots/s', 'goal', '', 'fastest training steps/s', 'headroom ×'],
      [[rate, goal.goal, goal.met ? '✔' : '✘', fastest, rate / fastest]],
    );
    report.ingest = { snapshotsPerSecond: rate, trainingStepsPerSecond: fastest, goal };
  }
}

// 3. Eigensolver.
if (!skip('eigen')) {
  const eig = await benchEigen();
  table(
    'Symmetric eigensolver and window PCA (float64)',
    ['case', 'seconds', 'note'],
    eig.map((r) => [r.name, r.seconds, r.note ?? '']),
  );
  report.eigen = eig;
}

// 4. Flatness search.
if (!skip('landscape')) {
  await selectBackend({ forced: 'wasm', wasmPaths });
  const land = await benchLandscape({ log: () => undefined });
  table(
    'Loss landscape (wasm, N = 8,000)',
    ['measure', 'value', 'unit'],
    land.map((r) => [r.name, r.value, r.unit]),
  );
  report.landscape = land;
}

// 4a. The analysis worker's own kernels against the tfjs-wasm ones they replaced (issue 21).
if (!skip('analysis')) {
  await selectBackend({ forced: 'wasm', wasmPaths });
  const rows = await benchAnalysisKernels();
  table(
    "Analysis worker's own kernels against tfjs-wasm (CPU seconds, same run)",
    ['measure', 'value', 'unit', 'note'],
    rows.map((r) => [r.name, r.value, r.unit, r.note ?? '']),
  );
  report.analysisKernels = rows;
}

// 4b. Theory (Figs. 3, 5): velocity statistics and an active-temperature profile. Both run in
// the analysis worker in the browser, never on the UI thread.
if (!skip('theory')) {
  await selectBackend({ forced: 'wasm', wasmPaths });
  const theory = await benchTheory();
  const met = theory.map((r) => r.goal && checkGoal(r.name, r.value, r.unit, r.goal));
  for (const g of met) if (g) goals.push(g);
  table(
    'Noise strength, correlation time, active temperature (wasm)',
    ['measure', 'value', 'unit', 'goal', ''],
    theory.map((r, i) => [
      r.name,
      r.value,
      r.unit,
      r.goal ? goalText(r.goal) : '',
      met[i] ? (met[i].met ? '✔' : '✘') : '',
    ]),
  );
  report.theory = theory;
}

// 5. Time-to-figure through the CLI's engine path.
if (!skip('figure')) {
  const { out } = await reproduce(
    parseArgs(['--experiment', 'variance-flatness', '--preset', preset, '--quiet']),
    () => undefined,
  );
  const t = out.timings as Record<string, number>;
  const psi = (out.fits as { psi: { exponent: number; r2: number } }).psi;
  table(
    `Time to the σ²–F figure, preset "${preset}" (Node, wasm)`,
    ['phase', 'seconds'],
    [
      ...Object.entries(t).map(([k, v]) => [k, v] as [string, number]),
      ['ψ (R²)', `${psi.exponent.toFixed(2)} (${psi.r2.toFixed(2)})`],
    ],
  );
  console.log(
    'Reference: a PyTorch + numpy script doing the same work takes ~18 s on this machine.',
  );
  report.timeToFigure = { preset, timings: t, psi };
}

// 6. One full default forgetting sweep (section 6, Fig. 4), wasm.
if (!skip('forgetting')) {
  await selectBackend({ forced: 'wasm', wasmPaths });
  const rows = await benchForgetting();
  table(
    'Forgetting sweep, default settings (Node, wasm)',
    ['measure', 'value', 'unit', 'note'],
    rows.map((r) => [r.name.replace(/^forgetting: /, ''), r.value, r.unit, r.note ?? '']),
  );
  report.forgetting = rows;
}

// 7. The universality sweeps (issue 7) at the quick settings, wasm: per-run train / analysis /
// total seconds (RunSummary.timings), × the sweep's first run, and ψ, D_L90, D_s.
if (!skip('sweeps')) {
  await selectBackend({ forced: 'wasm', wasmPaths });
  const sw = await benchSweeps(data);
  const c = sw.config;
  table(
    `Universality sweeps, quick settings (${c.warmupEpochs} warm-up + ${c.windowEpochs} window epochs, ${c.flatnessModes} flatness modes; Node, wasm)`,
    ['sweep', 'run', 'train s', 'analysis s', 'total s', '× first', 'ψ (R²)', 'D_L90', 'D_s'],
    sw.rows.map((r) => [
      r.sweep,
      r.label,
      r.train,
      r.analysis,
      r.total,
      r.ratio,
      `${r.psi.toFixed(2)} (${r.psiR2.toFixed(2)})`,
      String(r.DL90),
      String(r.Ds),
    ]),
  );
  table(
    'Universality sweeps, per sweep',
    ['sweep', 'runs', 'total s'],
    sw.totals.map((t) => [t.sweep, String(t.runs), t.seconds]),
  );
  report.sweeps = sw;
}

if (goals.length) printGoals('Speed goals (Node)', goals);
report.goals = goals;
mkdirSync('bench-results', { recursive: true });
writeFileSync('bench-results/node.json', JSON.stringify(report, null, 1));
console.log('\nwrote bench-results/node.json');
