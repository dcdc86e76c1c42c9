// `npm run bench -- --only pool` (issue 13): the CLI's sweeps and flatness search on 1 worker
// and on all workers (cores − 1, at least 2), wall-clock seconds of `npm run reproduce` each,
// with speed-up and efficiency (speed-up / workers). Writes bench-results/pool.json. The
// settings are small so the bench runs in minutes on a 2-core machine; they are recorded in
// the file. Thread start-up (each thread loads tsx, tfjs and the data) is part of the time.
import { spawnSync } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';

const QUICK = ['--warmup-epochs', '2', '--window-epochs', '2', '--modes', '12'];
export const POOL_CASES = [
  {
    name: 'width-sweep',
    args: ['--experiment', 'width-sweep', '--widths', '10,15,20,25', ...QUICK],
    runs: 4,
  },
  {
    name: 'forgetting',
    args: [
      '--experiment',
      'forgetting',
      '--seeds',
      '0,1',
      '--pretrain-epochs',
      '1',
      '--task1-epochs',
      '3',
      '--window-epochs',
      '4',
      '--task2-steps',
      '100',
      '--lambdas',
      '1,10,100',
      '--ewc-lambdas',
      '1e4,1e5,1e6',
      '--nc',
      '10,30',
      '--displacement-modes',
      '30',
    ],
    runs: 2 * (1 + 3 + 6),
  },
  {
    name: 'flatness',
    args: [
      '--experiment',
      'variance-flatness',
      '--hidden',
      '30',
      '--warmup-epochs',
      '3',
      '--window-epochs',
      '3',
      '--modes',
      '40',
    ],
    runs: 1,
  },
];

/** Runs the CLI; returns wall seconds and the JSON it wrote. */
function reproduce(args, workers, out) {
  const t0 = performance.now();
  const r = spawnSync(
    'npx',
    ['tsx', 'src/cli/reproduce.ts', ...args, '--workers', String(workers), '--out', out, '--quiet'],
    { encoding: 'utf8' },
  );
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`reproduce ${args.join(' ')} failed:\n${r.stderr}`);
  return { seconds, doc: JSON.parse(readFileSync(out, 'utf8')) };
}

export async function main() {
  const cores = availableParallelism();
  const many = Math.max(2, cores - 1);
  mkdirSync('bench-results/pool', { recursive: true });
  const cases = [];
  for (const c of POOL_CASES) {
    const times = {};
    for (const workers of [1, many]) {
      const { seconds, doc } = reproduce(
        c.args,
        workers,
        `bench-results/pool/${c.name}-${workers}.json`,
      );
      times[workers] = seconds;
      const row = {
        name: c.name,
        where: 'node',
        workers,
        seconds: Number(seconds.toFixed(2)),
        runs: c.runs,
      };
      // The flatness phase alone (the part the pool splits), from the run's own timings.
      if (c.name === 'flatness') row.flatnessSeconds = Number(doc.timings.flatness.toFixed(2));
      cases.push(row);
      console.log(
        `${c.name}: ${workers} worker${workers > 1 ? 's' : ''} ${seconds.toFixed(1)} s${row.flatnessSeconds ? ` (flatness ${row.flatnessSeconds} s)` : ''}`,
      );
    }
    const speedUp = times[1] / times[many];
    const last = cases[cases.length - 1];
    last.speedUp = Number(speedUp.toFixed(2));
    last.efficiency = Number((speedUp / many).toFixed(2));
    if (c.name === 'flatness') {
      const one = cases[cases.length - 2].flatnessSeconds;
      last.flatnessSpeedUp = Number((one / last.flatnessSeconds).toFixed(2));
    }
    console.log(`  speed-up ${last.speedUp}, efficiency ${last.efficiency}`);
  }
  const report = {
    cores,
    // Other work on the machine competes with the workers: a load above the core count
    // makes any speed-up here a lower bound.
    loadAverage: loadavg().map((x) => Number(x.toFixed(1))),
    note: 'wall-clock seconds of npm run reproduce (thread start-up included); chromium: the page pool is not built yet',
    settings: Object.fromEntries(POOL_CASES.map((c) => [c.name, c.args.join(' ')])),
    cases,
  };
  writeFileSync('bench-results/pool.json', JSON.stringify(report, null, 1));
  console.log('wrote bench-results/pool.json');
}
