// `npm run bench -- --only queue` (issue 15): one small width sweep run locally (--workers 1)
// and through BullMQ on a redis-server of its own (loopback, free port, no persistence) with 1
// and with 2 `npm run worker` processes (one thread each). The workers are started and ready
// before the clock starts; the queue is emptied between cases, so no run is reused. The
// queue's overhead per job is (queue with 1 worker − local) / jobs. Writes
// bench-results/queue.json.
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { availableParallelism, loadavg } from 'node:os';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';

const WIDTHS = '8,10,12,14,16,18';
const JOBS = 6;
const ARGS = [
  '--experiment',
  'width-sweep',
  '--widths',
  WIDTHS,
  '--warmup-epochs',
  '1',
  '--window-epochs',
  '2',
  '--modes',
  '8',
  '--quiet',
];

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function waitFor(child, re) {
  return new Promise((resolve, reject) => {
    let text = '';
    const on = (b) => {
      text += b.toString();
      if (re.test(text)) resolve();
    };
    child.stdout.on('data', on);
    child.stderr.on('data', on);
    child.once('exit', (code) => reject(new Error(`exited ${code} before ${re}: ${text}`)));
  });
}

function timed(extra, out) {
  const t0 = performance.now();
  const r = spawnSync('npx', ['tsx', 'src/cli/reproduce.ts', ...ARGS, ...extra, '--out', out], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`reproduce failed:\n${r.stderr}`);
  const doc = JSON.parse(readFileSync(out, 'utf8'));
  return { seconds: (performance.now() - t0) / 1000, doc };
}

export async function main() {
  if (spawnSync('bash', ['scripts/ensure-redis.sh'], { stdio: 'inherit' }).status !== 0)
    process.exit(1);
  mkdirSync('bench-results/queue', { recursive: true });
  const port = await freePort();
  const redis = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const cases = [];
  try {
    await waitFor(redis, /Ready to accept connections/);
    const url = `redis://127.0.0.1:${port}`;
    const local = timed(['--workers', '1'], 'bench-results/queue/local.json');
    cases.push({
      name: 'local',
      workers: 1,
      seconds: Number(local.seconds.toFixed(2)),
      jobs: JOBS,
    });
    console.log(`local: ${local.seconds.toFixed(1)} s`);
    for (const n of [1, 2]) {
      spawnSync('redis-cli', ['-p', String(port), 'FLUSHALL']);
      const workers = Array.from({ length: n }, () =>
        spawn(
          process.execPath,
          ['--import', 'tsx', 'src/cli/worker.ts', '--queue', url, '--concurrency', '1'],
          { stdio: ['ignore', 'pipe', 'pipe'] },
        ),
      );
      try {
        await Promise.all(workers.map((w) => waitFor(w, /serving/)));
        const q = timed(['--queue', url], `bench-results/queue/queue-${n}.json`);
        const same =
          JSON.stringify(q.doc.widths.map((r) => ({ ...r, timings: 0 }))) ===
          JSON.stringify(local.doc.widths.map((r) => ({ ...r, timings: 0 })));
        cases.push({
          name: 'queue',
          workers: n,
          seconds: Number(q.seconds.toFixed(2)),
          jobs: JOBS,
          failed: q.doc.failed.length,
          sameNumbersAsLocal: same,
        });
        console.log(`queue, ${n} worker process${n > 1 ? 'es' : ''}: ${q.seconds.toFixed(1)} s`);
      } finally {
        for (const w of workers) w.kill('SIGTERM');
      }
    }
  } finally {
    redis.kill('SIGTERM');
  }
  const one = cases.find((c) => c.name === 'queue' && c.workers === 1);
  const two = cases.find((c) => c.name === 'queue' && c.workers === 2);
  const report = {
    cores: availableParallelism(),
    loadAverage: loadavg().map((x) => Number(x.toFixed(1))),
    sweep: ARGS.join(' '),
    cases,
    overheadPerJobMs: Math.round((1000 * (one.seconds - cases[0].seconds)) / JOBS),
    speedUp2Workers: Number((one.seconds / two.seconds).toFixed(2)),
    note: 'worker processes started before timing; the submitter process start-up (tsx, tfjs, data) is in every case',
  };
  writeFileSync('bench-results/queue.json', JSON.stringify(report, null, 1));
  console.log(`overhead per job ${report.overheadPerJobMs} ms; wrote bench-results/queue.json`);
}
