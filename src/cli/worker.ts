/**
 * A queue worker (issue 15): runs the jobs of the sweeps' BullMQ queues on this machine.
 *
 *   npm run worker -- --queue redis://HOST:PORT[/DB] [--concurrency N] [--idx DIR]
 *     [--queues width-sweep,hyper-sweep,optimizer-comparison,forgetting]
 *
 * N threads of the worker pool (pool.ts, default cores − 1) each load the data set once; the
 * main thread only talks to Redis, so its locks are renewed on time however long a run takes.
 * Every job's spec is checked by the engine before it runs; one the engine refuses fails at
 * once with its message, a job that throws is retried (backoff), and a job whose worker was
 * killed is taken up again when its lock lapses (BullMQ's stalled-job check). Redis restarts
 * are waited out (the connection retries). SIGINT / SIGTERM finish the running jobs and stop.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { checkJobSpec, encodeResult, JobSpecError } from '../engine/jobs/spec';
import { dataShape } from '../engine/experiments/runChecks';
import type { JobResult } from '../engine/jobs/run';
import { WorkerPool, defaultWorkers } from './pool';
import {
  LOCK_MS,
  QUEUE_PREFIX,
  dataInfo,
  queueName,
  redactedUrl,
  redisConnection,
  type DataInfo,
  type QueueJobData,
} from './queue';
import { loadData } from './setup';

const QUEUES = ['width-sweep', 'hyper-sweep', 'optimizer-comparison', 'forgetting'];

const USAGE = `usage: npm run worker -- --queue redis://HOST:PORT[/DB] [options]

  --queue URL          the Redis the sweeps were queued on: redis://[:PASSWORD@]HOST:PORT[/DB],
                       or rediss://… for TLS (the password is never printed)
  --concurrency N      jobs run at once, one worker thread each (default cores − 1 = ${defaultWorkers()})
  --idx DIR            the MNIST IDX files to run on (default: the embedded digits); every
                       worker of a sweep needs the submitter's data set, else its jobs fail
  --queues LIST        which sweeps' queues to serve (default ${QUEUES.join(',')})`;

function fail(message: string): never {
  process.stderr.write(`error: ${message}\n\n${USAGE}\n`);
  process.exit(2);
}

function sameData(a: DataInfo, b: DataInfo): boolean {
  return a.name === b.name && a.train === b.train && a.test === b.test;
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        queue: { type: 'string' },
        concurrency: { type: 'string' },
        idx: { type: 'string' },
        queues: { type: 'string' },
        help: { type: 'boolean' },
      },
      strict: true,
    }));
  } catch (e) {
    fail(e instanceof Error ? e.message : String(e));
  }
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    return;
  }
  if (!values.queue) fail('--queue is required');
  const url = values.queue;
  let connection;
  try {
    connection = redisConnection(url);
  } catch (e) {
    fail(e instanceof Error ? e.message : String(e));
  }
  const concurrency = values.concurrency ? Number(values.concurrency) : defaultWorkers();
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64)
    fail(`--concurrency must be a whole number in 1…64, got ${values.concurrency}`);
  const names = values.queues ? values.queues.split(',') : QUEUES;
  for (const n of names) if (!QUEUES.includes(n)) fail(`unknown queue ${n} (${QUEUES.join(', ')})`);
  const log = (s: string) => process.stderr.write(`[worker ${process.pid}] ${s}\n`);

  const idx = values.idx ? resolve(values.idx) : null;
  const data = await loadData(idx);
  const mine = dataInfo(data);
  const shape = dataShape(data);
  const pool = new WorkerPool(concurrency, { idx, log });

  const process1 = async (job: Job<QueueJobData>): Promise<string> => {
    const d = job.data as Partial<QueueJobData> | undefined;
    let spec;
    try {
      if (!d || typeof d !== 'object') throw new JobSpecError('the job carries no data');
      if (Object.keys(d).some((k) => k !== 'spec' && k !== 'data'))
        throw new JobSpecError('a job carries only spec and data');
      spec = checkJobSpec(d.spec, shape);
    } catch (e) {
      throw new UnrecoverableError(e instanceof Error ? e.message : String(e));
    }
    if (!d.data || !sameData(d.data, mine))
      throw new UnrecoverableError(
        `the job needs data ${JSON.stringify(d.data)}, this worker has ${JSON.stringify(mine)} (start it with the submitter's --idx)`,
      );
    const t0 = performance.now();
    const [outcome] = await pool.runJobs([spec]);
    if (!outcome.ok) throw new Error(outcome.error);
    log(
      `${job.queueName} ${job.id} done in ${((performance.now() - t0) / 1000).toFixed(1)} s (attempt ${job.attemptsMade + 1})`,
    );
    return encodeResult(outcome.result satisfies JobResult);
  };

  const workers = names.map(
    (name) =>
      new Worker<QueueJobData, string>(queueName(name), process1, {
        connection,
        prefix: QUEUE_PREFIX,
        concurrency,
        lockDuration: LOCK_MS,
        stalledInterval: LOCK_MS / 2,
        // A job whose worker died is run again twice before it counts as failed.
        maxStalledCount: 2,
      }),
  );
  for (const w of workers) {
    w.on('failed', (job, err) => log(`${w.name} ${job?.id ?? '?'} failed: ${err.message}`));
    w.on('error', (err) => log(`Redis: ${err.message.replace(url, redactedUrl(url))}`));
  }
  log(
    `serving ${names.join(', ')} on ${redactedUrl(url)} with ${concurrency} thread${concurrency > 1 ? 's' : ''}; data ${mine.name}`,
  );
  const stop = async () => {
    log('stopping after the running jobs');
    await Promise.all(workers.map((w) => w.close()));
    await pool.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
