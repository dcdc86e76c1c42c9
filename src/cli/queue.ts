/**
 * Sweeps on many machines (issue 15): the sweep's jobs on a BullMQ queue in Redis, run by
 * `npm run worker` processes anywhere that can reach it.
 *
 * - A job carries only data: a run spec (checked again by the worker with the engine's own
 *   checks) and the name and size of the data set it must run on. Its id is the content
 *   address of both, so submitting the same sweep again finds the runs already made.
 * - Results travel as text that keeps NaN, ±Infinity and −0 (encodeResult), so the assembled
 *   JSON equals a local run's.
 * - Faults: a job that throws is retried with exponential backoff (ATTEMPTS in all); a job
 *   whose worker died (kill -9) is found stalled once its lock lapses and run again; a spec the
 *   engine refuses fails at once (UnrecoverableError) with the engine's message.
 * - Security: the password in the URL is never printed (redactedUrl); rediss:// uses TLS.
 */
import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';
import type { Dataset } from '../engine/data/dataset';
import { contentKey, decodeResult, type JobSpec } from '../engine/jobs/spec';
import type { JobResult } from '../engine/jobs/run';
import type { RunSummary, SweepJobSpec, SweepRunner } from '../engine/experiments/sweeps';
import type { FailedJob } from './pool';

/** Redis key prefix of every queue of this project. */
export const QUEUE_PREFIX = 'flat-minima';
/** Tries per job: the first and two retries. */
export const ATTEMPTS = 3;
/** First retry delay (ms); doubled on each later retry. */
export const BACKOFF_MS = 2000;
/** A worker holds a job's lock this long (ms) and renews it; a dead worker's job is free after. */
export const LOCK_MS = 15_000;

/** What a queued job carries: the spec and the data set it must run on (no code, no paths). */
export interface QueueJobData {
  spec: JobSpec;
  data: DataInfo;
}

/** A data set's identity as far as the queue checks it. */
export interface DataInfo {
  name: string;
  train: number;
  test: number;
}

export function dataInfo(data: Dataset): DataInfo {
  return { name: data.name, train: data.train.count, test: data.test.count };
}

/** redis://[user:password@]host:port[/db] or rediss://… (TLS) as BullMQ connection options. */
export function redisConnection(url: string): ConnectionOptions {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`--queue ${redactedUrl(url)} is not a URL: use redis://HOST:PORT[/DB]`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:')
    throw new Error(`--queue must be a redis:// or rediss:// URL, got ${u.protocol}//…`);
  const db = u.pathname.replace(/^\//, '');
  if (db && !/^\d+$/.test(db)) throw new Error(`--queue: the database "${db}" is not a number`);
  return {
    host: u.hostname || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    db: db ? Number(db) : 0,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: { servername: u.hostname } } : {}),
    // BullMQ's workers block on Redis; they must wait through a restart, not give up.
    maxRetriesPerRequest: null,
  };
}

/** The URL with any password replaced by ***: what logs and errors show. */
export function redactedUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//***@');
  }
}

/** The queue a sweep's jobs go to: named after the sweep (forgetting, width-sweep, …). */
export function queueName(experiment: string): string {
  if (!/^[a-z][a-z0-9-]*$/.test(experiment)) throw new Error(`bad queue name ${experiment}`);
  return experiment;
}

/** A job's id: the content address of its spec and data ('j' keeps it from looking numeric). */
export function queueJobId(job: QueueJobData): string {
  return `j${contentKey(job)}`;
}

const JOB_OPTIONS: JobsOptions = {
  attempts: ATTEMPTS,
  backoff: { type: 'exponential', delay: BACKOFF_MS },
  // Kept: a finished run is what a re-submitted sweep reuses.
  removeOnComplete: false,
  removeOnFail: false,
};

export interface QueueRunOptions {
  url: string;
  experiment: string;
  data: DataInfo;
  log: (s: string) => void;
  /** How often the progress is polled (ms). */
  pollMs?: number;
}

function fmtSeconds(s: number): string {
  return s >= 120 ? `${(s / 60).toFixed(1)} min` : `${Math.round(s)} s`;
}

/**
 * Enqueues the specs (reusing finished jobs, retrying failed ones), waits for every one while
 * printing done / failed / waiting and an ETA, and returns the outcomes in spec order.
 */
export async function runOnQueue(
  specs: readonly JobSpec[],
  opts: QueueRunOptions,
): Promise<({ ok: true; result: JobResult } | { ok: false; error: string })[]> {
  const queue = new Queue<QueueJobData>(queueName(opts.experiment), {
    connection: redisConnection(opts.url),
    prefix: QUEUE_PREFIX,
  });
  try {
    const ids: string[] = [];
    let reused = 0;
    for (const spec of specs) {
      const job: QueueJobData = { spec, data: opts.data };
      const id = queueJobId(job);
      ids.push(id);
      const state = await queue.getJobState(id);
      if (state === 'completed') reused++;
      else if (state === 'failed') {
        // A new submission gives a failed run its attempts again.
        const old = await queue.getJob(id);
        await old?.retry('failed');
      } else if (state === 'unknown')
        await queue.add(spec.kind, job, { ...JOB_OPTIONS, jobId: id });
    }
    opts.log(
      `queue "${opts.experiment}" on ${redactedUrl(opts.url)}: ${specs.length} jobs${reused ? ` (${reused} already done)` : ''}; start workers with npm run worker -- --queue URL`,
    );
    const t0 = performance.now();
    const final = new Map<string, 'completed' | 'failed'>();
    let last = '';
    const poll = opts.pollMs ?? 1000;
    for (;;) {
      const counts = { completed: 0, failed: 0, active: 0, waiting: 0 };
      for (const id of ids) {
        const st = final.get(id) ?? (await queue.getJobState(id));
        if (st === 'completed' || st === 'failed') {
          final.set(id, st);
          counts[st]++;
        } else if (st === 'active') counts.active++;
        else counts.waiting++;
      }
      const done = counts.completed + counts.failed;
      const fresh = done - reused;
      const el = (performance.now() - t0) / 1000;
      const eta =
        fresh > 0 && done < ids.length
          ? `, ETA ${fmtSeconds((el / fresh) * (ids.length - done))}`
          : '';
      const line = `done ${counts.completed}/${ids.length}, failed ${counts.failed}, running ${counts.active}, waiting ${counts.waiting}${eta}`;
      if (line !== last) opts.log(line);
      last = line;
      if (done === ids.length) break;
      await new Promise((r) => setTimeout(r, poll));
    }
    const out: ({ ok: true; result: JobResult } | { ok: false; error: string })[] = [];
    for (const id of ids) {
      const job = await queue.getJob(id);
      if (final.get(id) === 'completed' && job && typeof job.returnvalue === 'string')
        out.push({ ok: true, result: decodeResult<JobResult>(job.returnvalue) });
      else out.push({ ok: false, error: job?.failedReason || 'the job vanished from the queue' });
    }
    return out;
  } finally {
    await queue.close();
  }
}

/** A sweep runner on the queue: summaries of the finished jobs in order; the rest to `failed`. */
export function queueSweepRunner(opts: QueueRunOptions, failed: FailedJob[]): SweepRunner {
  return async (specs: readonly SweepJobSpec[]) => {
    const outcomes = await runOnQueue(specs, opts);
    const out: RunSummary[] = [];
    outcomes.forEach((o, i) => {
      if (o.ok && o.result.kind !== 'forgetting') out.push(o.result.summary);
      else failed.push({ spec: specs[i], error: o.ok ? 'not a sweep result' : o.error });
    });
    return out;
  };
}
