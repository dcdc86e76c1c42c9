/**
 * The catastrophic-forgetting sweep of section 6 (SCIENCE.md, Fig. 4): its settings (the task
 * digits, the number of seeds and the URL overrides), its state and progress, and everything it
 * reports — the task-1 mode tables, the curve of the run in progress, the finished runs, the
 * means over seeds, the summary — plus the sample digits and what the figures show (scoring,
 * chosen λ). The sweep runs on the page's pool (src/ui/poolForgetting.ts), which reports it
 * here as 'forgetting…' events; the sample digits come from the trainer worker.
 *
 * URL keys, read on load: `ft1`, `ft2` task digits ("0,1"); `fseeds` number of seeds (1–10,
 * seeds 0…n−1); `flambdas` LDC λ grid; `fewc` EWC λ grid; `fnc` N_c list; `fsteps` task-2 steps
 * per run; `fpre` pretraining epochs; `fepochs` task-1 epochs before the window; `fwindow`
 * window epochs; `fautorun=1` starts the sweep once the digits are loaded. Values are read
 * strictly (plain decimal numbers, comma-separated digits, no repeated key, at most
 * MAX_URL_LIST values a list): anything else falls back to the default with a notice in section
 * 6 naming the key and the value (cut to NOTICE_VALUE_CHARS). A sweep has at most
 * MAX_SWEEP_RUNS runs and MAX_SWEEP_STEPS task-2 steps, and a link starts on its own only a
 * sweep no larger than the default one (linkExcess); a larger one waits for a click. The
 * panel's fields (ft1, ft2, fseeds) are written back as they change (the config store keeps
 * keys it does not own); the others stay as the link gave them.
 */
import { create } from 'zustand';
// The page's URL rules: one plain-decimal pattern and one way to echo a value in a notice.
import { DECIMAL, clipUrlValue } from './configSchema';
// The pure modules only: the package index would pull TensorFlow.js into the page's bundle.
import {
  DEFAULT_FORGETTING_CONFIG,
  checkForgettingConfig,
  runsPerSeed,
  type ForgettingConfig,
} from '../engine/forgetting/config';
import {
  checkDisjoint,
  heldOutCount,
  parseDigitGroup,
  parseDigitGroupStrict,
} from '../engine/forgetting/tasks';
import type {
  CurvePoint,
  ForgettingPhase,
  ForgettingSummary,
  ForgettingTimings,
  Method,
  RunKey,
  RunResult,
  SweepPoint,
  Task1Report,
} from '../engine/forgetting';
import type { BundledForgetting } from './forgettingBundle';
import type {
  DatasetInfo,
  ForgettingProgress,
  ForgettingWorkerEvent,
  TaskSamples,
  TrainerEvent,
} from '../protocol/messages';

export type ForgettingStatus =
  'idle' | 'starting' | 'running' | 'cancelling' | 'done' | 'cancelled' | 'error';

/** How a task's error is counted: over the 10-way output, or over the task's own classes. */
export type Scoring = 'all' | 'own';

/** The λ (and N_c) whose curves and displacements are shown; null = the method's best. */
export interface ForgettingChoice {
  ldc: { lambda: number; nc: number } | null;
  ewc: { lambda: number } | null;
}

/** The settings the section-6 panel edits (the rest of the config is the default + URL keys). */
export interface ForgettingForm {
  task1: string;
  task2: string;
  seeds: number;
}

export const MAX_FORGETTING_SEEDS = 10;
/** Values a link may give one list key (flambdas, fewc, fnc). */
export const MAX_URL_LIST = 32;
/** Runs in one sweep on the page: 10 seeds of the default grid (990) fit, nothing much larger. */
export const MAX_SWEEP_RUNS = 1000;
/** Task-2 SGD steps in one sweep on the page: 1,000 runs of the default 320 steps. */
export const MAX_SWEEP_STEPS = MAX_SWEEP_RUNS * DEFAULT_FORGETTING_CONFIG.task2Steps;

/** Task-2 runs of a whole sweep. */
export function sweepRuns(
  c: Pick<ForgettingConfig, 'seeds' | 'lambdas' | 'ewcLambdas' | 'ncList'>,
): number {
  return c.seeds.length * runsPerSeed(c);
}

/** The default sweep's size: what a link may start on its own. */
export const DEFAULT_SWEEP_RUNS = sweepRuns(DEFAULT_FORGETTING_CONFIG);

export interface ForgettingState {
  form: ForgettingForm;
  /** Config fields set by URL keys (grids, steps, epochs). */
  overrides: Partial<ForgettingConfig>;
  autorun: boolean;
  /** Rejected URL values, one line each. */
  urlNotices: string[];
  /** Why the link's sweep was not started on its own (it is larger than the default); null if it was. */
  held: string | null;

  status: ForgettingStatus;
  /** Why the sweep stopped (cancel, error), or what starting it did to a training run. */
  message: string | null;
  notice: string | null;
  config: ForgettingConfig | null;
  phase: { phase: ForgettingPhase; seed: number; seedIndex: number; message: string } | null;
  progress: ForgettingProgress | null;
  /** performance.now() at the start, and the sweep's wall time in seconds once done. */
  startedAt: number | null;
  seconds: number | null;
  task1: Task1Report[];
  /** The task-2 run in progress and its curve so far. */
  live: { key: RunKey; curve: CurvePoint[] } | null;
  runs: RunResult[];
  /** Means over the seeds done so far, one per (method, λ, N_c). */
  sweep: SweepPoint[];
  summary: ForgettingSummary | null;
  timings: ForgettingTimings | null;
  samples: TaskSamples[] | null;
  /**
   * Set while the runs and task-1 reports shown are the bundled sweep's
   * (src/data/forgetting-precomputed.json), not the reader's; a sweep started here clears it.
   */
  bundled: BundledForgetting | null;

  scoring: Scoring;
  choice: ForgettingChoice;
  /** The seed whose mode displacements are shown (null: the first with results). */
  displacementSeed: number | null;

  /** Bumped by the run panel's Start under the "forgetting" preset; the section starts a sweep. */
  startRequests: number;
  requestStart: () => void;
  setForm: (f: Partial<ForgettingForm>) => void;
  setScoring: (s: Scoring) => void;
  choose: (method: Method, lambda: number, nc: number | null) => void;
  setDisplacementSeed: (seed: number | null) => void;
}

// ───────────── URL keys ─────────────

export interface ForgettingUrl {
  form: ForgettingForm;
  overrides: Partial<ForgettingConfig>;
  autorun: boolean;
  notices: string[];
}

const WHOLE = /^[0-9]+$/;

/** A strictly written list of numbers ≥ min, or why it is not one. */
export function strictNumberList(raw: string, integer: boolean, min: number): number[] | string {
  const parts = raw.split(',').map((p) => p.trim());
  if (parts.length > MAX_URL_LIST)
    return `${parts.length.toLocaleString('en')} values, more than the ${MAX_URL_LIST} a link may set`;
  const out: number[] = [];
  for (const p of parts) {
    if (p === '') return 'an empty item (expected numbers separated by single commas)';
    const v = Number(p);
    if (!(integer ? WHOLE : DECIMAL).test(p) || !Number.isFinite(v) || v < min)
      return `"${clipUrlValue(p)}" is not ${integer ? 'a whole number' : 'a plain decimal number'} ≥ ${min}`;
    if (out.includes(v)) return `${p} appears twice`;
    out.push(v);
  }
  return out;
}

const INT_KEYS: {
  url: string;
  key: 'task2Steps' | 'pretrainEpochs' | 'task1Epochs' | 'windowEpochs';
  min: number;
  max: number;
}[] = [
  { url: 'fsteps', key: 'task2Steps', min: 1, max: 20000 },
  { url: 'fpre', key: 'pretrainEpochs', min: 0, max: 100 },
  { url: 'fepochs', key: 'task1Epochs', min: 0, max: 500 },
  { url: 'fwindow', key: 'windowEpochs', min: 1, max: 100 },
];

const LIST_KEYS: {
  url: string;
  key: 'lambdas' | 'ewcLambdas' | 'ncList';
  integer: boolean;
  min: number;
}[] = [
  { url: 'flambdas', key: 'lambdas', integer: false, min: 0 },
  { url: 'fewc', key: 'ewcLambdas', integer: false, min: 0 },
  { url: 'fnc', key: 'ncList', integer: true, min: 1 },
];

const FORGETTING_KEYS = [
  'ft1',
  'ft2',
  'fseeds',
  'fautorun',
  ...LIST_KEYS.map((l) => l.url),
  ...INT_KEYS.map((k) => k.url),
];

/**
 * Reads the forgetting keys of a query string and/or hash (a key in the hash wins over the
 * same key in the query; a key given twice in either is refused, as it is unclear which was
 * meant).
 */
export function parseForgettingUrl(search: string, hash = ''): ForgettingUrl {
  const notices: string[] = [];
  const values = new Map<string, string>();
  for (const part of [search.replace(/^\?/, ''), hash.replace(/^#/, '')]) {
    const q = new URLSearchParams(part);
    for (const k of FORGETTING_KEYS) {
      const all = q.getAll(k);
      if (all.length > 1) {
        notices.push(`${k} appears ${all.length} times in the link; using the default`);
        values.delete(k);
      } else if (all.length === 1) values.set(k, all[0]);
    }
  }
  const get = (k: string) => values.get(k) ?? null;
  const bad = (k: string, raw: string, why: string, using: string) =>
    notices.push(`${k}=${clipUrlValue(raw)}: ${why}; using ${using}`);
  const d = DEFAULT_FORGETTING_CONFIG;
  const form: ForgettingForm = {
    task1: d.task1.join(','),
    task2: d.task2.join(','),
    seeds: d.seeds.length,
  };
  const overrides: Partial<ForgettingConfig> = {};
  for (const k of ['ft1', 'ft2'] as const) {
    const raw = get(k);
    if (raw === null) continue;
    try {
      const g = parseDigitGroupStrict(raw).join(',');
      if (k === 'ft1') form.task1 = g;
      else form.task2 = g;
    } catch (e) {
      bad(k, raw, e instanceof Error ? e.message : String(e), 'the default');
    }
  }
  try {
    checkDisjoint([parseDigitGroup(form.task1), parseDigitGroup(form.task2)]);
  } catch (e) {
    notices.push(
      `ft1/ft2: ${e instanceof Error ? e.message : String(e)}; using ${d.task1.join(',')} and ${d.task2.join(',')}`,
    );
    form.task1 = d.task1.join(',');
    form.task2 = d.task2.join(',');
  }
  const seeds = get('fseeds');
  if (seeds !== null) {
    const v = Number(seeds);
    if (WHOLE.test(seeds) && v >= 1 && v <= MAX_FORGETTING_SEEDS) form.seeds = v;
    else
      bad('fseeds', seeds, `expected a whole number 1–${MAX_FORGETTING_SEEDS}`, String(form.seeds));
  }
  for (const l of LIST_KEYS) {
    const raw = get(l.url);
    if (raw === null) continue;
    const r = strictNumberList(raw, l.integer, l.min);
    if (typeof r === 'string') bad(l.url, raw, r, 'the default');
    else overrides[l.key] = r;
  }
  for (const f of INT_KEYS) {
    const raw = get(f.url);
    if (raw === null) continue;
    const v = Number(raw);
    if (WHOLE.test(raw) && v >= f.min && v <= f.max) overrides[f.key] = v;
    else bad(f.url, raw, `expected a whole number ${f.min}–${f.max}`, String(d[f.key]));
  }
  // The page's caps: a sweep the link sizes past them is refused key by key (the lists first).
  const size = () => {
    const c = { ...d, ...overrides, seeds: Array.from({ length: form.seeds }, (_, i) => i) };
    return { runs: sweepRuns(c), steps: sweepRuns(c) * c.task2Steps };
  };
  const listKeys = LIST_KEYS.filter((l) => overrides[l.key] !== undefined);
  if (size().runs > MAX_SWEEP_RUNS && listKeys.length) {
    notices.push(
      `${[...listKeys.map((l) => l.url), ...(seeds !== null ? ['fseeds'] : [])].join(', ')}: ${size().runs.toLocaleString('en')} runs, more than the ${MAX_SWEEP_RUNS.toLocaleString('en')} a sweep may have on this page; using the default lists`,
    );
    for (const l of listKeys) delete overrides[l.key];
  }
  if (size().steps > MAX_SWEEP_STEPS && overrides.task2Steps !== undefined) {
    notices.push(
      `fsteps=${overrides.task2Steps}: ${size().steps.toLocaleString('en')} task-2 steps in all, more than the ${MAX_SWEEP_STEPS.toLocaleString('en')} a sweep may have on this page; using ${d.task2Steps}`,
    );
    delete overrides.task2Steps;
  }
  const auto = get('fautorun');
  if (auto !== null && auto !== '1' && auto !== '0')
    notices.push(`fautorun=${clipUrlValue(auto)}: expected 1 (start on load) or 0; not starting`);
  return { form, overrides, autorun: auto === '1', notices };
}

/**
 * Why a link may not start this sweep on its own: each way it is larger than the default sweep,
 * naming the link's keys. Empty when it is no larger.
 */
export function linkExcess(config: ForgettingConfig): string[] {
  const d = DEFAULT_FORGETTING_CONFIG;
  const out: string[] = [];
  const runs = sweepRuns(config);
  if (runs > DEFAULT_SWEEP_RUNS)
    out.push(
      `fseeds, flambdas, fewc, fnc: ${runs.toLocaleString('en')} runs (the default sweep has ${DEFAULT_SWEEP_RUNS})`,
    );
  for (const f of INT_KEYS)
    if (config[f.key] > d[f.key]) out.push(`${f.url}=${config[f.key]} (default ${d[f.key]})`);
  if (config.task1.length > d.task1.length)
    out.push(`ft1: ${config.task1.length} digits (default ${d.task1.length})`);
  return out;
}

/**
 * Training examples of a digit group in the loaded data that the sweep trains on (the data set's
 * class counts less the held-out validation examples).
 */
function groupCount(info: DatasetInfo | null, digits: number[], fraction: number): number | null {
  if (!info) return null;
  return digits.reduce((a, d) => {
    const n = info.classCounts[d] ?? 0;
    return a + n - heldOutCount(n, fraction);
  }, 0);
}

/**
 * The sweep's config from the panel's form: the default config, the URL overrides, the task
 * digits and seeds 0…n−1. N_c values larger than the task-1 window can support (its PCA rank
 * is at most the number of snapshots − 1) are dropped, with a note. Throws a readable error
 * for invalid digit groups.
 */
export function buildForgettingConfig(
  form: ForgettingForm,
  overrides: Partial<ForgettingConfig>,
  dataset: DatasetInfo | null,
): { config: ForgettingConfig; note: string | null } {
  const task1 = parseDigitGroup(form.task1);
  const task2 = parseDigitGroup(form.task2);
  checkDisjoint([task1, task2]);
  const config: ForgettingConfig = {
    ...DEFAULT_FORGETTING_CONFIG,
    ...overrides,
    task1,
    task2,
    seeds: Array.from({ length: form.seeds }, (_, i) => i),
  };
  let note: string | null = null;
  const n1 = groupCount(dataset, task1, config.validationFraction);
  if (n1 !== null) {
    const snapshots = config.windowEpochs * Math.floor(n1 / config.batchSize);
    const first = config.includeDrift ? 1 : 2;
    const maxNc = Math.max(1, snapshots - 1 - (first - 1));
    const kept = config.ncList.filter((nc) => nc <= maxNc);
    if (kept.length < config.ncList.length) {
      const dropped = config.ncList.filter((nc) => nc > maxNc);
      config.ncList = kept.length ? kept : [maxNc];
      note = `N_c ${dropped.join(', ')} left out: the task-1 window has only ${snapshots} snapshots (${n1} training images of digits ${task1.join(',')} after holding out validation data), so its PCA has at most ${snapshots - 1} modes.`;
    }
  }
  const runs = sweepRuns(config);
  if (runs > MAX_SWEEP_RUNS)
    throw new Error(
      `${config.seeds.length} seeds × ${runsPerSeed(config)} runs = ${runs.toLocaleString('en')} runs, more than the ${MAX_SWEEP_RUNS.toLocaleString('en')} the page runs in one sweep: use fewer seeds`,
    );
  if (runs * config.task2Steps > MAX_SWEEP_STEPS)
    throw new Error(
      `${runs.toLocaleString('en')} runs × ${config.task2Steps} steps = ${(runs * config.task2Steps).toLocaleString('en')} task-2 steps, more than the ${MAX_SWEEP_STEPS.toLocaleString('en')} the page runs in one sweep: use fewer seeds`,
    );
  checkForgettingConfig(config);
  return { config, note };
}

// ───────────── the store ─────────────

const url =
  typeof location !== 'undefined'
    ? parseForgettingUrl(location.search, location.hash)
    : parseForgettingUrl('');

const EMPTY_RESULTS = {
  message: null,
  phase: null,
  progress: null,
  seconds: null,
  task1: [],
  live: null,
  runs: [],
  sweep: [],
  summary: null,
  timings: null,
  bundled: null,
} satisfies Partial<ForgettingState>;

export const useForgetting = create<ForgettingState>((set) => ({
  form: url.form,
  overrides: url.overrides,
  autorun: url.autorun,
  urlNotices: url.notices,
  held: null,
  status: 'idle',
  notice: null,
  config: null,
  startedAt: null,
  ...EMPTY_RESULTS,
  samples: null,
  scoring: 'all',
  choice: { ldc: null, ewc: null },
  displacementSeed: null,
  startRequests: 0,
  requestStart: () => set((s) => ({ startRequests: s.startRequests + 1 })),
  setForm: (f) => set((s) => ({ form: { ...s.form, ...f } })),
  setScoring: (scoring) => set({ scoring }),
  choose: (method, lambda, nc) =>
    set((s) => ({
      choice:
        method === 'ldc' && nc !== null
          ? { ...s.choice, ldc: { lambda, nc } }
          : method === 'ewc'
            ? { ...s.choice, ewc: { lambda } }
            : s.choice,
    })),
  setDisplacementSeed: (displacementSeed) => set({ displacementSeed }),
}));

/**
 * Mirrors the panel's fields into the address bar (replaceState), leaving out defaults and
 * invalid digit groups. Returns the unsubscribe function.
 */
export function syncForgettingFormToUrl(): () => void {
  return useForgetting.subscribe((s, prev) => {
    if (s.form === prev.form || typeof location === 'undefined') return;
    const params = new URLSearchParams(location.search);
    const d = DEFAULT_FORGETTING_CONFIG;
    const put = (key: string, value: string, dflt: string) => {
      if (value === dflt) params.delete(key);
      else params.set(key, value);
    };
    for (const [key, text, dflt] of [
      ['ft1', s.form.task1, d.task1.join(',')],
      ['ft2', s.form.task2, d.task2.join(',')],
    ] as const) {
      try {
        put(key, parseDigitGroup(text).join(','), dflt);
      } catch {
        // Half-typed: the address keeps the last valid group.
      }
    }
    put('fseeds', String(s.form.seeds), String(d.seeds.length));
    const url = `${location.pathname}?${params.toString()}${location.hash}`;
    if (url !== `${location.pathname}${location.search}${location.hash}`)
      history.replaceState(history.state, '', url);
  });
}

/**
 * Shows the bundled sweep, unless the reader has started one of their own (a sweep's results,
 * even a cancelled one's, are never replaced by the bundle).
 */
export function showBundledForgetting(
  runs: RunResult[],
  task1: Task1Report[],
  info: BundledForgetting,
): boolean {
  const s = useForgetting.getState();
  if (s.status !== 'idle' || s.runs.length || s.task1.length) return false;
  useForgetting.setState({ runs, task1, bundled: info });
  return true;
}

/** A sweep is starting: clears the previous results. `notice` says what else this stopped. */
export function beginForgetting(config: ForgettingConfig, notice: string | null): void {
  useForgetting.setState({
    ...EMPTY_RESULTS,
    status: 'starting',
    config,
    notice,
    startedAt: performance.now(),
    held: null,
    choice: { ldc: null, ewc: null },
    displacementSeed: null,
  });
}

/** The sweep is being stopped from this side (cancel, a training run, a worker restart). */
export function stopForgetting(
  status: 'cancelling' | 'cancelled' | 'error',
  message: string,
): void {
  const s = useForgetting.getState();
  if (s.status === 'starting' || s.status === 'running' || s.status === 'cancelling')
    useForgetting.setState({ status, message, live: null });
}

export function forgettingBusy(s: Pick<ForgettingState, 'status'>): boolean {
  return s.status === 'starting' || s.status === 'running' || s.status === 'cancelling';
}

const FORGETTING_EVENTS = new Set<string>([
  'forgettingState',
  'forgettingPhase',
  'forgettingModes',
  'forgettingBatch',
  'forgettingDone',
  'forgettingSamples',
]);

export function isForgettingEvent(e: TrainerEvent): e is ForgettingWorkerEvent {
  return FORGETTING_EVENTS.has(e.type);
}

function sameKey(a: RunKey, b: RunKey): boolean {
  return a.method === b.method && a.lambda === b.lambda && a.nc === b.nc && a.seed === b.seed;
}

/** Applies one event of the forgetting sweep to the store. */
export function applyForgettingEvent(e: ForgettingWorkerEvent): void {
  const s = useForgetting.getState();
  // Until the new sweep reports 'running', whatever arrives belongs to the previous one (its
  // cancellation and last batch), and must not touch the new sweep's state.
  if (
    s.status === 'starting' &&
    e.type !== 'forgettingSamples' &&
    !(e.type === 'forgettingState' && e.state === 'running')
  )
    return;
  switch (e.type) {
    case 'forgettingSamples':
      useForgetting.setState({ samples: e.groups });
      return;
    case 'forgettingState':
      if (e.state === 'running') {
        if (s.status === 'starting') useForgetting.setState({ status: 'running' });
      } else if (e.state === 'done') {
        useForgetting.setState({ status: 'done', live: null });
      } else {
        useForgetting.setState({
          status: e.state,
          message: e.message ?? (e.state === 'cancelled' ? 'Cancelled.' : 'The sweep failed.'),
          live: null,
        });
      }
      return;
    case 'forgettingPhase':
      useForgetting.setState({
        phase: { phase: e.phase, seed: e.seed, seedIndex: e.seedIndex, message: e.message },
      });
      return;
    case 'forgettingModes':
      useForgetting.setState({ task1: [...s.task1, e.report] });
      return;
    case 'forgettingBatch': {
      let live = s.live;
      for (const c of e.curves) {
        if (live && sameKey(live.key, c.key))
          live = { key: live.key, curve: [...live.curve, c.point] };
        else live = { key: c.key, curve: [c.point] };
      }
      const liveKey = live?.key;
      if (liveKey && e.runs.some((r) => sameKey(r, liveKey))) live = null;
      let sweep = s.sweep;
      if (e.sweep.length) {
        const byKey = new Map(sweep.map((p) => [`${p.method}|${p.lambda}|${p.nc ?? ''}`, p]));
        for (const p of e.sweep) byKey.set(`${p.method}|${p.lambda}|${p.nc ?? ''}`, p);
        sweep = [...byKey.values()];
      }
      useForgetting.setState({
        live,
        runs: e.runs.length ? [...s.runs, ...e.runs] : s.runs,
        sweep,
        progress: e.progress ?? s.progress,
      });
      return;
    }
    case 'forgettingDone':
      // The merged result's runs and task-1 tables are in the serial sweep's order (seed by
      // seed); the pool's seeds reported theirs as they finished.
      useForgetting.setState({
        runs: e.result.runs,
        task1: e.result.task1,
        summary: e.result.summary,
        timings: e.result.timings,
        sweep: e.result.sweep,
        seconds: e.result.timings.total,
      });
      return;
  }
}

/** A JSON-safe copy for the test hook (without the sample images). */
export function forgettingSnapshot(): unknown {
  const {
    samples,
    setForm: _a,
    setScoring: _b,
    choose: _c,
    setDisplacementSeed: _d,
    ...rest
  } = useForgetting.getState();
  return JSON.parse(
    JSON.stringify({
      ...rest,
      samples: samples?.map((g) => ({
        digits: g.digits,
        count: g.count,
        labels: Array.from(g.labels),
      })),
    }),
  );
}
