/**
 * The bundled section-6 sweep (src/data/forgetting-precomputed.json, made from the headless
 * sweep by scripts/build-forgetting-bundle.ts): what the forgetting figures show until a reader
 * runs a sweep. Every run's final errors are kept (so the trade-off and N_c figures and the
 * selection on validation data are the sweep's own); the curves and mode displacements, the bulk
 * of the file, only for the settings the figures show first (each method's setting chosen on
 * validation data under both scorings, and LDC's chosen λ at every N_c). Checked on load; a file
 * that does not fit is refused with the reason, and the figures wait for the reader's sweep.
 */
import type { ForgettingConfig } from '../engine/forgetting/config';
import type { CurvePoint, Method, RunResult, Task1Report } from '../engine/forgetting';

export const FORGETTING_BUNDLE_FORMAT = 'flat-minima-forgetting/1';

/** The scalar fields of a run, in the order of each row of `runs`. */
export const RUN_COLUMNS = [
  'method',
  'lambda',
  'nc',
  'seed',
  'eps1',
  'eps2',
  'eps1Own',
  'eps2Own',
  'valEps1',
  'valEps2',
  'valEps1Own',
  'valEps2Own',
  'penalty',
] as const;

/** One curve point as [step, ε₁, ε₂, ε₁ own, ε₂ own]. */
export type CurveRow = [number, number, number, number, number];

export interface ForgettingBundle {
  format: typeof FORGETTING_BUNDLE_FORMAT;
  /** The headless command that ran the sweep. */
  command: string;
  date: string;
  backend: string;
  /** The data set, as the CLI names it. */
  data: string;
  /** Wall time of the headless sweep, seconds. */
  seconds: number;
  config: ForgettingConfig;
  validation: { fraction: number; seed: number; heldOut: number };
  columns: typeof RUN_COLUMNS;
  /** One row per run; JSON writes the engine's NaN as null. */
  runs: (string | number | null)[][];
  /** Curves and displacements of some runs, by index into `runs`. */
  detail: { run: number; curve: CurveRow[]; displacement: (number | null)[] }[];
  /** Per seed, its task-1 modes cut to the displaced ones (config.displacementModes). */
  task1: Task1Report[];
}

/** What the page states about the bundled sweep it shows. */
export interface BundledForgetting {
  command: string;
  date: string;
  backend: string;
  data: string;
  seconds: number;
  config: ForgettingConfig;
  runs: number;
  /** Runs that carry curves and displacements. */
  detailed: number;
}

const METHODS: readonly Method[] = ['none', 'ldc', 'ewc'];

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** JSON's null back to the engine's NaN. */
const num = (v: unknown): number => (typeof v === 'number' ? v : NaN);

/**
 * Checks a parsed bundle and turns it into the store's runs and task-1 reports. Throws an Error
 * naming what does not fit.
 */
export function expandForgettingBundle(raw: unknown): {
  runs: RunResult[];
  task1: Task1Report[];
  info: BundledForgetting;
} {
  if (!isObject(raw) || raw.format !== FORGETTING_BUNDLE_FORMAT)
    throw new Error(`not a ${FORGETTING_BUNDLE_FORMAT} file`);
  const b = raw as unknown as ForgettingBundle;
  if (!isObject(b.config) || !Array.isArray(b.config.seeds))
    throw new Error('the bundle has no sweep config');
  if (!Array.isArray(b.columns) || b.columns.join(',') !== RUN_COLUMNS.join(','))
    throw new Error(`the run columns are not ${RUN_COLUMNS.join(', ')}`);
  if (!Array.isArray(b.runs) || !b.runs.length) throw new Error('the bundle has no runs');
  if (!Array.isArray(b.detail) || !Array.isArray(b.task1))
    throw new Error('the bundle lacks its curves or task-1 modes');
  const runs: RunResult[] = b.runs.map((row, i) => {
    if (!Array.isArray(row) || row.length !== RUN_COLUMNS.length)
      throw new Error(
        `run ${i} has ${Array.isArray(row) ? row.length : 0} fields, not ${RUN_COLUMNS.length}`,
      );
    const method = row[0] as Method;
    if (!METHODS.includes(method)) throw new Error(`run ${i}: unknown method ${String(row[0])}`);
    return {
      method,
      lambda: num(row[1]),
      nc: typeof row[2] === 'number' ? row[2] : null,
      seed: num(row[3]),
      eps1: num(row[4]),
      eps2: num(row[5]),
      eps1Own: num(row[6]),
      eps2Own: num(row[7]),
      valEps1: num(row[8]),
      valEps2: num(row[9]),
      valEps1Own: num(row[10]),
      valEps2Own: num(row[11]),
      penalty: num(row[12]),
      curve: [],
      displacement: [],
      // Not bundled: the reader's machine did not time these runs.
      seconds: NaN,
    };
  });
  for (const d of b.detail) {
    const r = runs[d.run];
    if (!r || !Array.isArray(d.curve) || !Array.isArray(d.displacement))
      throw new Error(`curve entry for run ${String(d.run)} does not fit`);
    r.curve = d.curve.map((p): CurvePoint => ({
      step: num(p[0]),
      eps1: num(p[1]),
      eps2: num(p[2]),
      eps1Own: num(p[3]),
      eps2Own: num(p[4]),
    }));
    r.displacement = d.displacement.map(num);
  }
  const task1 = b.task1.map((t): Task1Report => {
    if (!isObject(t) || !Array.isArray(t.modes))
      throw new Error('a task-1 report has no mode table');
    return {
      ...t,
      modes: t.modes.map((m) => ({
        ...m,
        variance: num(m.variance),
        flatness: num(m.flatness),
        measured: num(m.measured),
        left: num(m.left),
        right: num(m.right),
      })),
    };
  });
  return {
    runs,
    task1,
    info: {
      command: String(b.command),
      date: String(b.date),
      backend: String(b.backend),
      data: String(b.data),
      seconds: num(b.seconds),
      config: b.config,
      runs: runs.length,
      detailed: b.detail.length,
    },
  };
}
