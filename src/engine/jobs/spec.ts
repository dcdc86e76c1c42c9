/**
 * The engine's unit of work (issues 13 and 15): a job spec is plain data — one variance–flatness
 * run of the 784-h-h-10 network, one run of a deeper architecture, or task-2 runs of one
 * forgetting seed — and `runJob` (run.ts) maps it to its result. The serial sweeps, the CLI's
 * worker-thread pool, the page's pool and the BullMQ queue all call that one function, so a
 * result does not depend on which runner made it.
 *
 * A spec may arrive from another machine (a Redis queue): `checkJobSpec` accepts only the
 * shapes below, every field of the config present with its type, and then the engine's own
 * checks (planRun, checkForgettingConfig), so a malformed job is refused with their message
 * before anything trains. No code or file paths travel in a spec.
 *
 * `jobKey` is a content address: a hash of the canonical JSON (sorted keys) of the spec, so the
 * same run asked for twice (re-submitting a sweep) has the same key.
 */
import { SAMPLING_MODES } from '../data/batches';
import { DEFAULT_CONFIG, type RunConfig } from '../experiments/config';
import { ARCH_DEFAULTS, type ArchConfig } from '../experiments/architectures';
import { describeProblems, planRun, type DataShape } from '../experiments/runChecks';
import { checkForgettingConfig, DEFAULT_FORGETTING_CONFIG } from '../forgetting/config';
import type { ForgettingConfig } from '../forgetting/config';
import { runPlan, type RunKey } from '../forgetting/experiment';

/** Widest hidden layer a job may ask for (the schema's maximum; sweeps.ts MAX_SWEEP_WIDTH). */
const MAX_JOB_WIDTH = 200;

/** One variance–flatness run of the 784-h-h-10 network (a width, (B, α) or optimizer point). */
export interface RunJobSpec {
  kind: 'run';
  config: RunConfig;
  /** D_s's sharpness constant c. */
  sharpC: number;
}

/** One variance–flatness run of mlp4 or the CNN. */
export interface ArchJobSpec {
  kind: 'arch';
  config: ArchConfig;
  sharpC: number;
}

/**
 * Task-2 runs `runs` of one forgetting seed. The seed's pretraining, task 1 and its analysis
 * are part of the job (a runner caches them between jobs of the same seed: runJob's cache).
 */
export interface ForgettingJobSpec {
  kind: 'forgetting';
  config: ForgettingConfig;
  seed: number;
  runs: RunKey[];
}

export type JobSpec = RunJobSpec | ArchJobSpec | ForgettingJobSpec;

/** A spec that cannot be run; the message names what is wrong. */
export class JobSpecError extends Error {
  constructor(message: string) {
    super(`invalid job: ${message}`);
    this.name = 'JobSpecError';
  }
}

/** The string settings' allowed values (a string key missing here is checked by type only). */
const CHOICES: Record<string, readonly string[]> = {
  optimizer: ['sgd', 'momentum', 'adam'],
  stepImpl: ['auto', 'wasm-simd', 'tfjs'],
  phaseMode: ['error', 'warmup'],
  thresholdFactor: ['e', '2'],
  profileCentre: ['mean', 'last'],
  sampling: SAMPLING_MODES,
  arch: ['mlp4', 'cnn'],
  pretrain: ['all', 'tasks'],
  anchor: ['mean', 'last'],
  flatnessSource: ['measured', 'estimated'],
};

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * `value` has exactly the keys of `template`, each of the template's type (arrays: of finite
 * numbers; numbers: finite), strings among CHOICES.
 */
function checkShape(value: unknown, template: object, what: string): void {
  if (!isRecord(value)) throw new JobSpecError(`${what} is not an object`);
  const t = template as Record<string, unknown>;
  for (const key of Object.keys(value)) {
    if (!(key in t)) throw new JobSpecError(`${what} has an unknown setting "${key}"`);
  }
  for (const [key, proto] of Object.entries(t)) {
    if (!(key in value)) throw new JobSpecError(`${what} lacks the setting "${key}"`);
    const v = value[key];
    if (Array.isArray(proto)) {
      if (!Array.isArray(v) || !v.every((x) => typeof x === 'number' && Number.isFinite(x)))
        throw new JobSpecError(`${what}.${key} must be a list of numbers`);
    } else if (typeof proto === 'number') {
      if (typeof v !== 'number' || !Number.isFinite(v))
        throw new JobSpecError(`${what}.${key} must be a finite number, got ${JSON.stringify(v)}`);
    } else if (typeof v !== typeof proto) {
      throw new JobSpecError(`${what}.${key} must be a ${typeof proto}`);
    } else if (typeof v === 'string' && CHOICES[key] && !CHOICES[key].includes(v)) {
      throw new JobSpecError(
        `${what}.${key} must be one of ${CHOICES[key].join(', ')}, got "${v}"`,
      );
    }
  }
}

function checkWidth(h: number, what: string): void {
  if (!Number.isInteger(h) || h < 2 || h > MAX_JOB_WIDTH)
    throw new JobSpecError(`${what} ${h} is outside 2…${MAX_JOB_WIDTH}`);
}

function checkSharpC(c: unknown): void {
  if (typeof c !== 'number' || !(c > 0) || !Number.isFinite(c))
    throw new JobSpecError(`sharpC must be a number > 0, got ${JSON.stringify(c)}`);
}

/**
 * Returns `value` as a JobSpec, or throws JobSpecError with the engine's message. `data`: the
 * data set's shape, when known, for the run's memory and window checks.
 */
export function checkJobSpec(value: unknown, data?: DataShape): JobSpec {
  if (!isRecord(value)) throw new JobSpecError('the spec is not an object');
  const kind = value.kind;
  if (kind === 'run') {
    if (Object.keys(value).some((k) => !['kind', 'config', 'sharpC'].includes(k)))
      throw new JobSpecError('a run job has only kind, config and sharpC');
    checkShape(value.config, DEFAULT_CONFIG, 'config');
    checkSharpC(value.sharpC);
    const config = value.config as RunConfig;
    checkWidth(config.hidden, 'hidden width');
    if (config.contrast) throw new JobSpecError('sweep runs have no Langevin contrast');
    const plan = planRun(config, data);
    if (plan.problems.length) throw new JobSpecError(describeProblems(plan));
    return value as unknown as RunJobSpec;
  }
  if (kind === 'arch') {
    if (Object.keys(value).some((k) => !['kind', 'config', 'sharpC'].includes(k)))
      throw new JobSpecError('an arch job has only kind, config and sharpC');
    checkShape(value.config, { arch: 'mlp4', ...ARCH_DEFAULTS }, 'config');
    checkSharpC(value.sharpC);
    const config = value.config as ArchConfig;
    checkWidth(config.hidden, 'hidden width');
    if (![2, 3, 4].includes(config.block)) throw new JobSpecError('block must be 2, 3 or 4');
    return value as unknown as ArchJobSpec;
  }
  if (kind === 'forgetting') {
    if (Object.keys(value).some((k) => !['kind', 'config', 'seed', 'runs'].includes(k)))
      throw new JobSpecError('a forgetting job has only kind, config, seed and runs');
    const template = { ...DEFAULT_FORGETTING_CONFIG, task1: [0], task2: [1] };
    checkShape(value.config, template, 'config');
    const config = value.config as ForgettingConfig;
    checkWidth(config.hidden, 'hidden width');
    try {
      checkForgettingConfig(config);
    } catch (e) {
      throw new JobSpecError(e instanceof Error ? e.message : String(e));
    }
    const seed = value.seed;
    if (typeof seed !== 'number' || !config.seeds.includes(seed))
      throw new JobSpecError(`seed ${JSON.stringify(seed)} is not one of the config's seeds`);
    const runs = value.runs;
    if (!Array.isArray(runs) || runs.length === 0)
      throw new JobSpecError('runs must be a non-empty list');
    const plan = new Set(runPlan(config, seed).map((k) => canonicalJson(k)));
    for (const r of runs) {
      if (!plan.has(canonicalJson(r)))
        throw new JobSpecError(`run ${JSON.stringify(r)} is not in the seed's plan`);
    }
    return value as unknown as ForgettingJobSpec;
  }
  throw new JobSpecError(`unknown kind ${JSON.stringify(kind)} (run, arch or forgetting)`);
}

/** JSON with object keys sorted at every level: equal specs give equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isRecord(value)) {
    return `{${Object.keys(value)
      .filter((k) => value[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** 32-bit FNV-1a of the UTF-16 code units, from `seed`. */
function fnv1a(text: string, seed: number): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * A content address of any plain value: four FNV-1a hashes of its canonical JSON from different
 * offsets (128 bits, hex). Not a cryptographic hash — it names runs, it does not authenticate.
 */
export function contentKey(value: unknown): string {
  const text = canonicalJson(value);
  return [0x811c9dc5, 0x01000193, 0x9e3779b9, 0x85ebca6b]
    .map((s) => fnv1a(text, s).toString(16).padStart(8, '0'))
    .join('');
}

/** The spec's content address: the same run asked for twice has the same key. */
export function jobKey(spec: JobSpec): string {
  return contentKey(spec);
}

/**
 * JSON that keeps what plain JSON loses in results: NaN, ±Infinity and −0 (a flatness that
 * never crossed its threshold is Infinity; an empty fit NaN). Runners that pass results as text
 * (the Redis queue) encode with it, so every runner hands back the same numbers.
 */
export function encodeResult(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (typeof v === 'number' && (!Number.isFinite(v) || Object.is(v, -0)))
      return { $num: Object.is(v, -0) ? '-0' : String(v) };
    return v;
  });
}

export function decodeResult<T>(text: string): T {
  return JSON.parse(text, (_k, v: unknown) => {
    if (isRecord(v) && typeof v.$num === 'string' && Object.keys(v).length === 1)
      return v.$num === '-0' ? -0 : Number(v.$num);
    return v;
  }) as T;
}
