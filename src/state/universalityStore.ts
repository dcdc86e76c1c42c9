/**
 * Section 7 (universality): the optimizer comparison, the width sweep, the (B, α) grid and the
 * deeper architectures run in the trainer worker; this store holds each sweep's plan (its runs
 * in order, with their results), status and progress. The worker client routes the trainer's
 * 'universality…' events here. Type-only engine imports: the page bundle stays free of
 * TensorFlow.js.
 *
 * Reuse: every finished run is kept in a small cache keyed by its full settings, so a run that
 * another sweep already made (the width sweep's h = 50 is the optimizer comparison's SGD run at
 * the same settings) is not trained again, and a cancelled sweep continues where it stopped.
 */
import { create } from 'zustand';
import type { RunSummary } from '../engine/experiments/sweeps';
import {
  SHARP_SCALE_C,
  scaledSharpThreshold,
  sharpDimension,
  type SharpScale,
} from '../engine/landscape/effectiveDimension';
import type { ArchConfig, ArchResult } from '../engine/experiments/architectures';
import type { UniversalityBundle } from './universalityBundle';
import type {
  UniversalityMode,
  UniversalityProgress,
  UniversalityResult,
  UniversalityRunSpec,
  UniversalityWorkerEvent,
} from '../protocol/messages';

export type UniversalityStatus =
  'idle' | 'running' | 'pausing' | 'paused' | 'cancelling' | 'done' | 'cancelled' | 'error';

/** Widths of the page's sweep: small enough to finish in a minute or two on a CPU. */
export const PAGE_WIDTHS = [10, 20, 30, 50];

/** The page's (B, α) grid: nine quick runs, B/α from 125 to 2,000. */
export const PAGE_GRID = { batchSizes: [25, 50, 100], lrs: [0.05, 0.1, 0.2] } as const;

/**
 * The page's deeper-architecture settings (the engine's quick defaults, architectures.ts;
 * a unit test keeps the two equal). The analysed block is capped at `maxBlockDim` weights.
 */
export const PAGE_ARCH = {
  hidden: 50,
  block: 3,
  kernel: 3,
  conv1: 4,
  conv2: 8,
  dense: 32,
  maxBlockDim: 10_000,
  warmupEpochs: { mlp4: 20, cnn: 3 },
  windowEpochs: { mlp4: 5, cnn: 2 },
} as const;

/** Most architecture runs kept on the σ²–F overlay (older ones drop off). */
export const MAX_ARCH_RUNS = 6;

export interface PlannedRun {
  spec: UniversalityRunSpec;
  /** Short name in progress text and legends ("h 30", "Adam", "B 50, α 0.1"). */
  label: string;
  result?: UniversalityResult;
  /** The run failed on its own (e.g. diverged): why. */
  failed?: string;
  /** The result came from the cache: an earlier sweep made the same run. */
  reused?: boolean;
}

export interface ArchRun {
  label: string;
  config: ArchConfig;
  result: ArchResult;
}

export interface UniversalityRuns {
  status: UniversalityStatus;
  message: string | null;
  progress: UniversalityProgress | null;
  plan: PlannedRun[];
  /** The finished MLP runs of the plan, in plan order (what the figures draw). */
  runs: RunSummary[];
  /** The finished architecture runs, in plan order. */
  archRuns: ArchRun[];
  /** The plan is the bundled precomputed one (until a sweep of this visit replaces it). */
  precomputed: boolean;
}

/** The D_s threshold the width figures use: how it scales with the solution, and its c. */
export interface SharpSetting {
  scale: SharpScale;
  c: number;
}

export type UniversalityState = Record<UniversalityMode, UniversalityRuns> & {
  /** Which sweep the worker is running (its events go there). */
  active: UniversalityMode | null;
  sharp: SharpSetting;
  /** Why the precomputed runs could not be shown, if they could not. */
  bundleError: string | null;
};

/** The range of c each threshold scale's slider covers (log scale). */
export const SHARP_C_RANGE: Record<SharpScale, [number, number]> = {
  rms: [0.5, 32],
  norm: [0.01, 1],
  fixed: [0.1, 10],
};

const empty: UniversalityRuns = {
  status: 'idle',
  message: null,
  progress: null,
  plan: [],
  runs: [],
  archRuns: [],
  precomputed: false,
};

export const useUniversality = create<UniversalityState>(() => ({
  optimizers: empty,
  widths: empty,
  hyper: empty,
  architectures: empty,
  active: null,
  sharp: { scale: 'rms', c: SHARP_SCALE_C.rms },
  bundleError: null,
}));

/** Sets the D_s threshold; a new scale starts at its default c. */
export function setSharp(scale: SharpScale, c?: number): void {
  const [lo, hi] = SHARP_C_RANGE[scale];
  const value = c ?? SHARP_SCALE_C[scale];
  useUniversality.setState({ sharp: { scale, c: Math.min(hi, Math.max(lo, value)) } });
}

/**
 * D_s of a width-sweep run at a threshold setting: the directions of its rank-ordered flatness
 * spectrum below F_c (the engine's sharpDimension over the same measured modes).
 */
export function sharpAt(r: RunSummary, sharp: SharpSetting): { threshold: number; Ds: number } {
  const threshold = scaledSharpThreshold(sharp.scale, sharp.c, r.dims.norm, r.dim);
  return { threshold, Ds: sharpDimension(r.modes, threshold) };
}

export function universalityBusy(s: UniversalityState): boolean {
  return s.active !== null;
}

// ───────────── the cache of finished runs ─────────────

const CACHE_LIMIT = 64;
const cache = new Map<string, UniversalityResult>();

/** A spec's key: its JSON with object keys sorted, so equal settings give equal keys. */
export function specKey(spec: UniversalityRunSpec): string {
  return JSON.stringify(spec, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

function remember(spec: UniversalityRunSpec, result: UniversalityResult): void {
  const key = specKey(spec);
  cache.delete(key);
  cache.set(key, result);
  while (cache.size > CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
}

/** Forget every cached run (the data set changed: old results no longer apply). */
export function clearUniversalityCache(): void {
  cache.clear();
}

// ───────────── plan bookkeeping ─────────────

function withPlan(cur: UniversalityRuns, plan: PlannedRun[]): UniversalityRuns {
  const runs: RunSummary[] = [];
  const archRuns: ArchRun[] = [];
  for (const p of plan) {
    if (p.result?.kind === 'mlp') runs.push(p.result.summary);
    else if (p.result?.kind === 'arch')
      archRuns.push({ label: p.label, config: p.result.config, result: p.result.result });
  }
  return { ...cur, plan, runs, archRuns };
}

/** "1 run", "3 runs". */
export function runsText(n: number): string {
  return `${n} run${n === 1 ? '' : 's'}`;
}

/** Runs of the plan still to make (neither finished nor failed). */
export function pendingRuns(r: UniversalityRuns): number {
  return r.plan.filter((p) => !p.result && !p.failed).length;
}

/**
 * Sets up a sweep: `items` replace the plan (or are appended to it), cached results are
 * filled in, and the runs still to make are returned with their plan indices (none: the sweep
 * is already complete and no worker is needed).
 */
export function beginUniversality(
  mode: UniversalityMode,
  items: { spec: UniversalityRunSpec; label: string }[],
  append = false,
  keep = Infinity,
): { index: number; spec: UniversalityRunSpec }[] {
  const cur = useUniversality.getState()[mode];
  // The precomputed runs make way for the visitor's own.
  const kept = cur.precomputed ? [] : cur.plan;
  let plan: PlannedRun[] = append ? [...kept, ...items] : items.map((i) => ({ ...i }));
  // Drop the oldest finished runs past `keep` (the architectures overlay keeps a few).
  while (plan.length > keep && (plan[0].result || plan[0].failed)) plan = plan.slice(1);
  plan = plan.map((p) => {
    if (p.result || p.failed) return p;
    const hit = cache.get(specKey(p.spec));
    return hit ? { ...p, result: hit, reused: true } : p;
  });
  const todo = plan.flatMap((p, index) => (p.result || p.failed ? [] : [{ index, spec: p.spec }]));
  const reused = plan.filter((p) => p.reused).length;
  const base = withPlan({ ...cur, progress: null, precomputed: false }, plan);
  if (todo.length === 0) {
    useUniversality.setState({
      [mode]: {
        ...base,
        status: 'done',
        message: reused > 0 ? `Done: ${runsText(plan.length)} (${reused} reused).` : null,
      },
    });
  } else {
    useUniversality.setState({
      active: mode,
      [mode]: { ...base, status: 'running', message: null },
    });
  }
  return todo;
}

/** Empties one sweep's plan (its figure goes blank). */
export function clearUniversality(mode: UniversalityMode): void {
  const s = useUniversality.getState();
  if (s.active === mode) return;
  useUniversality.setState({ [mode]: empty });
}

const MODES: readonly UniversalityMode[] = ['optimizers', 'widths', 'hyper', 'architectures'];

/**
 * Shows the bundled precomputed runs in every sweep this visit has not run yet (a visitor's
 * own runs are never replaced).
 */
export function showPrecomputedUniversality(b: UniversalityBundle): void {
  const s = useUniversality.getState();
  const next: Partial<UniversalityState> = {};
  const c = b.config;
  for (const mode of MODES) {
    if (s.active === mode || s[mode].plan.length > 0) continue;
    const plan: PlannedRun[] = b.sweeps[mode].map((r) => ({ ...r }));
    next[mode] = {
      ...withPlan(empty, plan),
      status: 'done',
      precomputed: true,
      message: `Showing ${plan.length} precomputed ${plan.length === 1 ? 'run' : 'runs'} (B ${c.batchSize}, α ${c.lr}, h ${c.hidden}, seed ${c.seed}; made by this engine in Node, ${b.date}). Press the button to run them live with your settings.`,
    };
  }
  useUniversality.setState(next);
}

export function setUniversalityBundleError(message: string): void {
  useUniversality.setState({ bundleError: message });
}

export function isUniversalityEvent(e: { type: string }): e is UniversalityWorkerEvent {
  return e.type.startsWith('universality');
}

export function setUniversalityStatus(status: UniversalityStatus): void {
  const s = useUniversality.getState();
  if (!s.active) return;
  useUniversality.setState({ [s.active]: { ...s[s.active], status } });
}

export function applyUniversalityEvent(e: UniversalityWorkerEvent): void {
  const s = useUniversality.getState();
  const mode = s.active;
  if (!mode) return;
  const cur = s[mode];
  switch (e.type) {
    case 'universalityProgress':
      useUniversality.setState({ [mode]: { ...cur, progress: e.progress } });
      return;
    case 'universalityRun':
    case 'universalityRunFailed': {
      const p = cur.plan[e.index];
      if (!p) return;
      const plan = cur.plan.slice();
      if (e.type === 'universalityRun') {
        remember(p.spec, e.result);
        plan[e.index] = { ...p, result: e.result };
      } else plan[e.index] = { ...p, failed: e.message };
      useUniversality.setState({ [mode]: withPlan(cur, plan) });
      return;
    }
    case 'universalityState': {
      if (e.state === 'running' || e.state === 'paused') {
        // A pause asked for while the worker was between checkpoints is still pending.
        const status = e.state === 'running' && cur.status === 'pausing' ? 'pausing' : e.state;
        if (cur.status !== 'cancelling') useUniversality.setState({ [mode]: { ...cur, status } });
        return;
      }
      const failed = cur.plan.filter((p) => p.failed).length;
      const reused = cur.plan.filter((p) => p.reused).length;
      const notes = [
        reused > 0 ? `${reused} reused` : '',
        failed > 0 ? `${failed} failed` : '',
      ].filter(Boolean);
      const message =
        e.state === 'done'
          ? `Done: ${runsText(cur.plan.length)}${notes.length ? ` (${notes.join(', ')})` : ''}.`
          : (e.message ?? null);
      useUniversality.setState({
        active: null,
        [mode]: { ...cur, status: e.state, message, progress: null },
      });
      return;
    }
  }
}

/** The workers were restarted or another experiment took over: a running sweep is gone. */
export function stopUniversality(status: 'cancelled' | 'error', message: string): void {
  const s = useUniversality.getState();
  const mode = s.active;
  if (!mode) return;
  useUniversality.setState({
    active: null,
    [mode]: { ...s[mode], status, message, progress: null },
  });
}

/**
 * A JSON copy of section 7 for automation (window.__flatMinima.universality()): per sweep its
 * status, message, progress and plan (labels, failures, reuse) with the finished runs' results.
 */
export function universalitySnapshot(): unknown {
  const s = useUniversality.getState();
  const sweep = (r: UniversalityRuns) => ({
    status: r.status,
    message: r.message,
    progress: r.progress,
    precomputed: r.precomputed,
    plan: r.plan.map((p) => ({
      label: p.label,
      failed: p.failed ?? null,
      reused: p.reused ?? false,
      result: p.result ?? null,
    })),
  });
  return JSON.parse(
    JSON.stringify({
      active: s.active,
      sharp: s.sharp,
      optimizers: sweep(s.optimizers),
      widths: sweep(s.widths),
      hyper: sweep(s.hyper),
      architectures: sweep(s.architectures),
    }),
  );
}
