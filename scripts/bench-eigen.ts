/**
 * Benchmark of the PCA engine: the dense symmetric eigensolver at n = 500, 1,000, 2,500
 * (all eigenvalues + the top 500 eigenvectors, all of them when n ≤ 500), the plain-JS
 * fallback for comparison, snapshot ingest, and windowPca on a 1,600-snapshot × 2,500-dim
 * window (the Gram route), with 500 modes and with a few scattered ones.
 *
 *   npx tsx scripts/bench-eigen.ts            # prints a table
 *   import { benchEigen } from './bench-eigen' # rows for a combined `npm run bench`
 */

import { pathToFileURL } from 'node:url';
import { cpus } from 'node:os';
import { symmetricEigen, type EigenOptions } from '../src/engine/pca/eigen';
import { SnapshotWindow } from '../src/engine/pca/snapshotWindow';
import { windowPca, type PcaOptions } from '../src/engine/pca/pca';
import { driftingRandomWalk, randomSymmetric } from '../src/engine/pca/synthetic';
import { Rng } from '../src/engine/data/rng';

export interface Row {
  /** What was timed. */
  name: string;
  /** Matrix order (eigensolver) or snapshot dimension (PCA). */
  n: number;
  /** Eigenvectors / modes computed. */
  k: number;
  /** Wall-clock seconds, best of `reps`. */
  seconds: number;
  /** Phase breakdown, seconds (same run as `seconds`). */
  phases: Record<string, number>;
  reps: number;
  /** One-line summary: size, vectors, kernels and phases. */
  note?: string;
}

export interface BenchOptions {
  /** Eigensolver sizes (default 500, 1,000, 2,500). */
  sizes?: number[];
  /** Repetitions per eigensolver case; the best is kept (default 3 for n ≤ 1,000, else 2). */
  reps?: number;
  /** Skip the plain-JS fallback row (n = 1,000). */
  skipJs?: boolean;
  /** Skip the 1,600 × 2,500 windowPca rows. */
  skipPca?: boolean;
  log?: (line: string) => void;
}

const sec = (ms: number) => ms / 1000;
const yieldToEventLoop = () => new Promise((resolve) => setTimeout(resolve, 0));

export async function benchEigen(opts: BenchOptions = {}): Promise<Row[]> {
  const rows: Row[] = [];
  const log = opts.log ?? (() => {});
  const push = (row: Row, kernels: string) => {
    row.note = `${noteOf(row)}; ${kernels}`;
    rows.push(row);
    log(formatRow(row));
  };

  const eigenCase = async (n: number, eopts: EigenOptions, name: string) => {
    const a = randomSymmetric(n, new Rng(n));
    const reps = opts.reps ?? (n <= 1000 ? 3 : 2);
    let best: Row | null = null;
    let kernels = '';
    for (let r = 0; r < reps; r++) {
      const t0 = performance.now();
      const res = symmetricEigen(a, n, eopts);
      const seconds = sec(performance.now() - t0);
      kernels = res.kernels;
      if (!best || seconds < best.seconds) {
        best = {
          name,
          n,
          k: res.selected.length,
          seconds,
          phases: {
            tridiagonalize: sec(res.timings.tridiagonalize),
            values: sec(res.timings.values),
            vectors: sec(res.timings.vectors),
            backTransform: sec(res.timings.backTransform),
          },
          reps,
        };
      }
      await yieldToEventLoop(); // let other work (and the GC) run between repetitions
    }
    if (best) push(best, kernels);
  };

  for (const n of opts.sizes ?? [500, 1000, 2500]) {
    await eigenCase(n, { vectors: Math.min(n, 500) }, 'symmetricEigen');
  }
  if (!opts.skipJs) {
    await eigenCase(1000, { vectors: 500, kernels: 'js' }, 'symmetricEigen, JS fallback');
  }

  if (!opts.skipPca) {
    const dim = 2500;
    const count = 1600;
    const { snapshots } = driftingRandomWalk(dim, count, new Rng(1600), {
      step: 1e-3,
      exponent: 0.75,
      drift: 5e-4,
    });
    const win = new SnapshotWindow(dim);
    const t0 = performance.now();
    for (let t = 0; t < count; t += 160) win.addBatch(snapshots.subarray(t * dim), 160);
    const ingest = sec(performance.now() - t0);
    push(
      {
        name: 'SnapshotWindow.addBatch, 1,600 steps',
        n: dim,
        k: 0,
        seconds: ingest,
        phases: { perStepMicroseconds: (ingest / count) * 1e6 },
        reps: 1,
      },
      'JS',
    );
    const ranks = Array.from({ length: 40 }, (_, i) => Math.round(2 * Math.pow(1599 / 2, i / 39)));
    const cases: [string, PcaOptions][] = [
      [`windowPca ${count}×${dim}, 500 modes`, { vectors: 500 }],
      [`windowPca ${count}×${dim}, 10 + 40 ranks`, { vectors: 10, ranks }],
    ];
    for (const [name, popts] of cases) {
      await yieldToEventLoop();
      const t1 = performance.now();
      const res = windowPca(win, popts);
      const seconds = sec(performance.now() - t1);
      push(
        {
          name: `${name} (${res.method})`,
          n: dim,
          k: res.k,
          seconds,
          phases: {
            build: sec(res.timings.build),
            eigen: sec(res.timings.eigen),
            modesAndProjections: sec(res.timings.modes),
          },
          reps: 1,
        },
        res.kernels,
      );
    }
  }
  return rows;
}

function noteOf(r: Row): string {
  const phases = Object.entries(r.phases)
    .map(([key, v]) => `${key} ${v < 0.01 ? v.toPrecision(2) : v.toFixed(3)}`)
    .join(', ');
  return `n=${r.n} k=${r.k}; ${phases}`;
}

export function formatRow(r: Row): string {
  return `${r.name.padEnd(48)} ${r.seconds.toFixed(3).padStart(7)} s   ${r.note ?? noteOf(r)}`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(`node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'} × ${cpus().length}`);
  await benchEigen({ log: (line) => console.log(line) });
}
