// Sweeps on a real job queue (issue 15): its own redis-server on a free loopback port, a tiny
// width sweep run by two `npm run worker` processes, one killed with SIGKILL mid-sweep. The
// merged results equal the local run's for every job, none lost or duplicated; a spec the
// engine refuses ends in `failed` with the engine's message; re-submitting reuses the runs.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEmbeddedDataset } from '../../src/engine/data/embedded';
import type { Dataset } from '../../src/engine/data/dataset';
import { DEFAULT_CONFIG, type RunConfig } from '../../src/engine/experiments/config';
import { widthSweep, type RunSummary } from '../../src/engine/experiments/sweeps';
import type { JobSpec } from '../../src/engine/jobs/spec';
import { dataInfo, queueSweepRunner, redactedUrl, runOnQueue } from '../../src/cli/queue';
import type { FailedJob } from '../../src/cli/pool';
import { useBackend } from './tfBackend';

const dataPath = 'public/data/mnist-10k.bin';
const hasRedis = spawnSync('redis-server', ['--version']).status === 0;
if (!hasRedis)
  console.error('redis-server is missing: run scripts/ensure-redis.sh (npm test does)');

const TINY: RunConfig = { ...DEFAULT_CONFIG, warmupEpochs: 1, windowEpochs: 2, flatnessModes: 6 };
const WIDTHS = [8, 10, 12, 14];
const numbers = (r: RunSummary) => ({ ...r, timings: null });

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (a && typeof a === 'object' ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

/** Resolves when `child` writes a line matching `re` (stdout or stderr). */
function waitForLine(child: ChildProcess, re: RegExp, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let text = '';
    const on = (b: Buffer) => {
      text += b.toString();
      if (re.test(text)) resolve();
    };
    child.stdout?.on('data', on);
    child.stderr?.on('data', on);
    child.once('exit', (code) =>
      reject(new Error(`${what} exited (${code}) before ${re}: ${text}`)),
    );
  });
}

describe.runIf(hasRedis && existsSync(dataPath))('sweeps on a BullMQ queue', () => {
  let data: Dataset;
  let redis: ChildProcess;
  let url: string;
  const workers: ChildProcess[] = [];

  beforeAll(async () => {
    await useBackend();
    data = loadEmbeddedDataset(readFileSync(dataPath));
    const port = await freePort();
    redis = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    await waitForLine(redis, /Ready to accept connections/, 'redis-server');
    // A password in the URL: the runner must never print it.
    spawnSync('redis-cli', ['-p', String(port), 'CONFIG', 'SET', 'requirepass', 's3cret']);
    url = `redis://:s3cret@127.0.0.1:${port}/2`;
  });

  afterAll(() => {
    for (const w of workers) if (w.exitCode === null) w.kill('SIGKILL');
    redis?.kill('SIGKILL');
  });

  it('two workers, one killed mid-sweep: every job once, the local numbers', async () => {
    const local = await widthSweep(TINY, WIDTHS, data);
    const start = () => {
      const w = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          'src/cli/worker.ts',
          '--queue',
          url,
          '--concurrency',
          '1',
          '--queues',
          'width-sweep',
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      workers.push(w);
      return w;
    };
    const a = start();
    const b = start();
    // Kill A with SIGKILL right after its first run: it has taken its next job by then.
    void waitForLine(a, /done in/, 'worker A').then(() => a.kill('SIGKILL'));
    const lines: string[] = [];
    const failed: FailedJob[] = [];
    const opts = {
      url,
      experiment: 'width-sweep',
      data: dataInfo(data),
      log: (s: string) => lines.push(s),
      pollMs: 300,
    };
    const queued = await widthSweep(TINY, WIDTHS, data, { runner: queueSweepRunner(opts, failed) });
    expect(a.signalCode).toBe('SIGKILL');
    expect(failed).toEqual([]);
    expect(queued.map((r) => r.hidden)).toEqual(WIDTHS);
    expect(queued.map(numbers)).toEqual(local.map(numbers));
    expect(lines.some((l) => /done 4\/4, failed 0/.test(l))).toBe(true);
    expect(lines.join('\n')).not.toContain('s3cret');
    expect(redactedUrl(url)).toContain(':***@');

    // A spec the engine refuses fails at once with its message; re-submitted runs are reused.
    const bad = {
      kind: 'run',
      config: { ...TINY, hidden: 8, batchSize: 4000, windowEpochs: 1 },
      sharpC: 4,
    } as JobSpec;
    const again: string[] = [];
    const out = await runOnQueue(
      [{ kind: 'run', config: { ...TINY, hidden: 8 }, sharpC: 4 }, bad],
      {
        ...opts,
        log: (s) => again.push(s),
      },
    );
    expect(again[0]).toMatch(/2 jobs \(1 already done\)/);
    expect(out[0].ok && out[0].result.kind === 'run' && numbers(out[0].result.summary)).toEqual(
      numbers(local[0]),
    );
    expect(out[1].ok).toBe(false);
    expect(!out[1].ok && out[1].error).toMatch(/^invalid job: .*the PCA needs at least/);
    b.kill('SIGTERM');
  });
});
