/**
 * The catastrophic-forgetting sweep of section 6 (SCIENCE.md, Fig. 4): its settings (the task
 * digits, the number of seeds and the URL overrides), its state and progress, and everything it
 * reports — the task-1 mode tables, the curve of the run in progress, the finished runs, the
 * means over seeds, the summary — plus the sample digits and what the figures show (scoring,
 * chosen λ). The worker client routes the trainer's 'forgetting…' events here.
 *
 * URL keys, read on load: `ft1`, `ft2` task digits ("0,1"); `fseeds` number of seeds (1–10,
 * seeds 0…n−1); `flambdas` LDC λ grid; `fewc` EWC λ grid; `fnc` N_c list; `fsteps` task-2 steps
 * per run; `fpre` pretraining epochs; `fepochs` task-1 epochs before the window; `fwindow`
 * window epochs; `fautorun=1` starts the sweep once the digits are loaded. Invalid values fall
 * back to the default with a notice in section 6. The panel's fields (ft1, ft2, fseeds) are
 * written back as they change (the config store keeps keys it does not own); the others stay
 * as the link gave them.
 */
import { create } from 'zustand';
// The pure modules only: the package index would pull TensorFlow.js into the page's bundle.
import {
  DEFAULT_FORGETTING_CONFIG,
  checkForgettingConfig,
  type ForgettingConfig,
} from '../engine/forgetting/config';
import { checkDisjoint, parseDigitGroup } from '../engine/forgetting/tasks';
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
import type {
  DatasetInfo,
  ForgettingProgress,
  ForgettingWorkerEvent,
  TaskSamples,
  TrainerEvent,
} from '../worker/protocol';

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

export interface ForgettingState {
  form: ForgettingForm;
  /** Config fields set by URL keys (grids, steps, epochs). */
  overrides: Partial<ForgettingConfig>;
  autorun: boolean;
  /** Rejected URL values, one line each. */
  urlNotices: string[];

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

function numberList(raw: string, integer: boolean, min: number): number[] | string {
  const parts = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (!parts.length) return 'expected a comma-separated list';
  const out: number[] = [];
  for (const p of parts) {
    const v = Number(p);
    if (!Number.isFinite(v) || v < min || (integer && !Number.isInteger(v)))
      return `"${p}" is not ${integer ? 'a whole number' : 'a number'} ≥ ${min}`;
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

/** Reads the forgetting keys of a query string and/or hash (the hash wins). */
export function parseForgettingUrl(search: string, hash = ''): ForgettingUrl {
  const params = new URLSearchParams(search.replace(/^\?/, ''));
  new URLSearchParams(hash.replace(/^#/, '')).forEach((v, k) => params.set(k, v));
  const notices: string[] = [];
  const d = DEFAULT_FORGETTING_CONFIG;
  const form: ForgettingForm = {
    task1: d.task1.join(','),
    task2: d.task2.join(','),
    seeds: d.seeds.length,
  };
  const overrides: Partial<ForgettingConfig> = {};
  for (const k of ['ft1', 'ft2'] as const) {
    const raw = params.get(k);
    if (raw === null) continue;
    try {
      const g = parseDigitGroup(raw).join(',');
      if (k === 'ft1') form.task1 = g;
      else form.task2 = g;
    } catch (e) {
      notices.push(`${k}=${raw}: ${e instanceof Error ? e.message : String(e)}; using the default`);
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
  const seeds = params.get('fseeds');
  if (seeds !== null) {
    const v = Number(seeds);
    if (Number.isInteger(v) && v >= 1 && v <= MAX_FORGETTING_SEEDS) form.seeds = v;
    else
      notices.push(
        `fseeds=${seeds}: expected a whole number 1–${MAX_FORGETTING_SEEDS}; using ${form.seeds}`,
      );
  }
  const lists: {
    url: string;
    key: 'lambdas' | 'ewcLambdas' | 'ncList';
    integer: boolean;
    min: number;
  }[] = [
    { url: 'flambdas', key: 'lambdas', integer: false, min: 0 },
    { url: 'fewc', key: 'ewcLambdas', integer: false, min: 0 },
    { url: 'fnc', key: 'ncList', integer: true, min: 1 },
  ];
  for (const l of lists) {
    const raw = params.get(l.url);
    if (raw === null) continue;
    const r = numberList(raw, l.integer, l.min);
    if (typeof r === 'string') notices.push(`${l.url}=${raw}: ${r}; using ${d[l.key].join(',')}`);
    else overrides[l.key] = r;
  }
  for (const f of INT_KEYS) {
    const raw = params.get(f.url);
    if (raw === null) continue;
    const v = Number(raw);
    if (raw.trim() !== '' && Number.isInteger(v) && v >= f.min && v <= f.max) overrides[f.key] = v;
    else
      notices.push(`${f.url}=${raw}: expected a whole number ${f.min}–${f.max}; using ${d[f.key]}`);
  }
  return { form, overrides, autorun: params.get('fautorun') === '1', notices };
}

/** Training examples of a digit group in the loaded data (from the data set's class counts). */
function groupCount(info: DatasetInfo | null, digits: number[]): number | null {
  if (!info) return null;
  return digits.reduce((a, d) => a + (info.classCounts[d] ?? 0), 0);
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
  const n1 = groupCount(dataset, task1);
  if (n1 !== null) {
    const snapshots = config.windowEpochs * Math.floor(n1 / config.batchSize);
    const first = config.includeDrift ? 1 : 2;
    const maxNc = Math.max(1, snapshots - 1 - (first - 1));
    const kept = config.ncList.filter((nc) => nc <= maxNc);
    if (kept.length < config.ncList.length) {
      const dropped = config.ncList.filter((nc) => nc > maxNc);
      config.ncList = kept.length ? kept : [maxNc];
      note = `N_c ${dropped.join(', ')} left out: the task-1 window has only ${snapshots} snapshots (${n1} images of digits ${task1.join(',')}), so its PCA has at most ${snapshots - 1} modes.`;
    }
  }
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
} satisfies Partial<ForgettingState>;

export const useForgetting = create<ForgettingState>((set) => ({
  form: url.form,
  overrides: url.overrides,
  autorun: url.autorun,
  urlNotices: url.notices,
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

/** A sweep is starting: clears the previous results. `notice` says what else this stopped. */
export function beginForgetting(config: ForgettingConfig, notice: string | null): void {
  useForgetting.setState({
    ...EMPTY_RESULTS,
    status: 'starting',
    config,
    notice,
    startedAt: performance.now(),
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

/** Applies one trainer event of the forgetting sweep to the store. */
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
      useForgetting.setState({
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
