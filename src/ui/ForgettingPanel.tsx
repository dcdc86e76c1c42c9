/**
 * Section 6's own controls (the catastrophic-forgetting sweep): the two tasks' digits, the
 * number of seeds, Start sweep / Cancel, and the progress bar with phase and ETA (the sweep runs
 * on the page's pool, one seed per job worker: src/ui/poolForgetting.ts); and the
 * closing note with the numbers of the finished sweep. A link (`fautorun=1`, or the
 * "forgetting" preset with `autorun=1`) starts a sweep on its own only when it is no larger
 * than the default one; a larger one waits for a click, and the panel says why.
 */
import { useEffect, useId, useMemo, useRef } from 'react';
// The pure modules only: the package index would pull TensorFlow.js into the page's bundle.
import { checkDisjoint, parseDigitGroup } from '../engine/forgetting/tasks';
import {
  CLI_FORGETTING_SEEDS,
  DEFAULT_FORGETTING_CONFIG,
  runsPerSeed,
} from '../engine/forgetting/config';
import type { ForgettingConfig, Method } from '../engine/forgetting';
import {
  DEFAULT_SWEEP_RUNS,
  MAX_FORGETTING_SEEDS,
  MAX_SWEEP_RUNS,
  MAX_SWEEP_STEPS,
  buildForgettingConfig,
  forgettingBusy,
  linkExcess,
  useForgetting,
} from '../state/forgettingStore';
import { useConfig } from '../state/configStore';
import { useRun } from '../state/runStore';
import { SAMPLES_PER_TASK } from '../views/TaskDigitsView';
import {
  fmtLambda,
  ncCurve,
  ncVerdictText,
  ncVersusEwc,
  pairedText,
  pairedVerdict,
  settingStats,
} from '../state/forgettingData';
import { workers } from './workers';
import './forgetting-panel.css';

/** A start the link asked for: only a sweep no larger than the default one runs on its own. */
function startFromLink(c: ForgettingConfig): void {
  const excess = linkExcess(c);
  if (excess.length)
    useForgetting.setState({
      held: `The link asks for a sweep larger than the default one (${excess.join('; ')}), so it did not start on its own: press Start sweep to run it.`,
    });
  else workers.startForgetting(c);
}

const PHASE_LABEL: Record<string, string> = {
  pretrain: 'pretraining the whole network',
  task1: 'task 1 (W2 only)',
  window: 'task-1 PCA window',
  analysis: 'PCA, flatness and Fisher of task 1',
  task2: 'task-2 runs',
  summary: 'summary',
};

function formatEta(s: number | null | undefined): string {
  if (s === null || s === undefined || !Number.isFinite(s)) return '—';
  if (s < 60) return `${Math.ceil(s)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

/** The digit group of a field, or the reason it is not one. */
function group(text: string): { digits: number[] } | { error: string } {
  try {
    return { digits: parseDigitGroup(text) };
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
}

export function ForgettingPanel() {
  const ids = { t1: useId(), t2: useId(), seeds: useId() };
  const form = useForgetting((s) => s.form);
  const setForm = useForgetting((s) => s.setForm);
  const overrides = useForgetting((s) => s.overrides);
  const status = useForgetting((s) => s.status);
  const phase = useForgetting((s) => s.phase);
  const progress = useForgetting((s) => s.progress);
  const message = useForgetting((s) => s.message);
  const notice = useForgetting((s) => s.notice);
  const urlNotices = useForgetting((s) => s.urlNotices);
  const runsDone = useForgetting((s) => s.runs.length);
  const seconds = useForgetting((s) => s.seconds);
  const running = useForgetting((s) => s.config);
  const autorun = useForgetting((s) => s.autorun);
  const dataset = useRun((s) => s.dataset);
  const runState = useRun((s) => s.runState);
  const busy = forgettingBusy({ status });
  const trainingBusy = runState === 'training' || runState === 'analyzing';

  const g1 = group(form.task1);
  const g2 = group(form.task2);
  let disjointError: string | null = null;
  if ('digits' in g1 && 'digits' in g2) {
    try {
      checkDisjoint([g1.digits, g2.digits]);
    } catch (e) {
      disjointError = e instanceof Error ? e.message : String(e);
    }
  }
  const built = useMemo(() => {
    try {
      return { ...buildForgettingConfig(form, overrides, dataset), error: null };
    } catch (e) {
      return { config: null, note: null, error: e instanceof Error ? e.message : String(e) };
    }
  }, [form, overrides, dataset]);
  const cfg = built.config;
  const perSeed = cfg ? runsPerSeed(cfg) : 0;
  const held = useForgetting((s) => s.held);

  // The digits shown in the figure follow the fields (the data set lives in the worker).
  const d1 = 'digits' in g1 ? g1.digits.join(',') : null;
  const d2 = 'digits' in g2 ? g2.digits.join(',') : null;
  useEffect(() => {
    if (!dataset || busy || d1 === null || d2 === null) return;
    workers.requestTaskSamples(
      [d1.split(',').map(Number), d2.split(',').map(Number)],
      SAMPLES_PER_TASK,
    );
    // `busy` is left out on purpose: a sweep sends its own samples when it starts.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [dataset, d1, d2]);

  const start = () => {
    if (cfg) workers.startForgetting(cfg);
  };
  // The run panel's Start under the "forgetting" preset asks for a sweep; so does the link's
  // `preset=forgetting&autorun=1`, whose request is the first one.
  const presetAutorun = useRef(
    useConfig.getState().autorun && useConfig.getState().preset === 'forgetting',
  );
  const startRequests = useForgetting((s) => s.startRequests);
  const handled = useRef(0);
  useEffect(() => {
    if (startRequests === handled.current || !dataset || !cfg || busy) return;
    const fromLink = handled.current === 0 && presetAutorun.current;
    handled.current = startRequests;
    if (fromLink) startFromLink(cfg);
    else workers.startForgetting(cfg);
    document.getElementById('forgetting')?.scrollIntoView({ behavior: 'smooth', block: 'start' });
  }, [startRequests, dataset, cfg, busy]);
  // `fautorun=1`: start once, as soon as the digits are in.
  const autoStarted = useRef(false);
  useEffect(() => {
    if (
      autorun &&
      !autoStarted.current &&
      dataset &&
      runState !== 'loading' &&
      cfg &&
      status === 'idle'
    ) {
      autoStarted.current = true;
      startFromLink(cfg);
    }
  }, [autorun, dataset, runState, cfg, status]);

  const total = running ? runsPerSeed(running) * running.seeds.length : 0;
  const statusText =
    status === 'starting'
      ? 'Starting…'
      : status === 'running' || status === 'cancelling'
        ? `${status === 'cancelling' ? 'Cancelling · ' : ''}${phase ? `seed ${phase.seedIndex + 1} of ${running?.seeds.length ?? '?'} · ${PHASE_LABEL[phase.phase] ?? phase.phase}` : 'running'}${(progress?.running ?? 0) > 1 ? ` (${progress?.running} seeds at once)` : ''} · ${runsDone} of ${total} runs · ${Math.round(100 * (progress?.fraction ?? 0))}% · ETA ${formatEta(progress?.etaSeconds)}`
        : status === 'done'
          ? `Done · ${runsDone} runs in ${seconds !== null ? seconds.toFixed(1) : '?'} s`
          : status === 'cancelled' || status === 'error'
            ? `${message ?? ''}${runsDone ? ` (${runsDone} runs finished before)` : ''}`
            : dataset
              ? 'Ready'
              : 'Loading the digits…';

  return (
    <div className="forgetting-panel" aria-label="Forgetting sweep controls" role="group">
      {urlNotices.length ? (
        <div
          className="notice forgetting-url-notices"
          role="status"
          data-testid="forgetting-url-notices"
        >
          <p>Some forgetting settings in the link were not valid and use their defaults:</p>
          <ul>
            {urlNotices.map((n) => (
              <li key={n}>{n}</li>
            ))}
          </ul>
        </div>
      ) : null}
      <div className="forgetting-fields">
        <div className="field">
          <label htmlFor={ids.t1}>Task 1 digits</label>
          <input
            id={ids.t1}
            value={form.task1}
            disabled={busy}
            inputMode="numeric"
            aria-invalid={'error' in g1 || disjointError ? true : undefined}
            aria-describedby={'error' in g1 ? `${ids.t1}-err` : undefined}
            onChange={(e) => setForm({ task1: e.target.value })}
          />
          {'error' in g1 ? (
            <span className="field-error" id={`${ids.t1}-err`} role="alert">
              {g1.error}
            </span>
          ) : null}
        </div>
        <div className="field">
          <label htmlFor={ids.t2}>Task 2 digits</label>
          <input
            id={ids.t2}
            value={form.task2}
            disabled={busy}
            inputMode="numeric"
            aria-invalid={'error' in g2 || disjointError ? true : undefined}
            aria-describedby={'error' in g2 ? `${ids.t2}-err` : undefined}
            onChange={(e) => setForm({ task2: e.target.value })}
          />
          {'error' in g2 ? (
            <span className="field-error" id={`${ids.t2}-err`} role="alert">
              {g2.error}
            </span>
          ) : null}
        </div>
        <div className="field">
          <label htmlFor={ids.seeds}>Seeds</label>
          <input
            id={ids.seeds}
            type="number"
            min={1}
            max={MAX_FORGETTING_SEEDS}
            step={1}
            value={form.seeds}
            disabled={busy}
            onChange={(e) => {
              const v = Math.round(Number(e.target.value));
              if (Number.isFinite(v))
                setForm({ seeds: Math.min(MAX_FORGETTING_SEEDS, Math.max(1, v)) });
            }}
          />
        </div>
        <div className="buttons forgetting-buttons">
          {busy ? (
            <button
              type="button"
              data-testid="forgetting-cancel"
              disabled={status === 'cancelling'}
              onClick={() => workers.cancelForgetting()}
            >
              Cancel
            </button>
          ) : (
            <button
              type="button"
              className="primary"
              data-testid="forgetting-start"
              disabled={!cfg || !dataset || runState === 'loading'}
              onClick={start}
            >
              Start sweep
            </button>
          )}
        </div>
      </div>
      {disjointError ? (
        <p className="field-error" role="alert">
          {disjointError}
        </p>
      ) : built.error && !('error' in g1) && !('error' in g2) ? (
        <p className="field-error" role="alert">
          {built.error}
        </p>
      ) : null}
      <p className="forgetting-plan" data-testid="forgetting-plan">
        {cfg ? planText(cfg, perSeed, dataset) : ''}
        {built.note ? ` ${built.note}` : ''}
        {trainingBusy && !busy
          ? ' Starting the sweep stops the training run in progress: one experiment runs at a time.'
          : ''}
      </p>
      <div className="progress" aria-live="polite">
        <progress
          max={1}
          value={status === 'done' ? 1 : (progress?.fraction ?? 0)}
          aria-label="Forgetting sweep progress"
        />
        <span className="progress-text" data-testid="forgetting-progress">
          {statusText}
        </span>
      </div>
      {notice ? (
        <p className="forgetting-notice" role="status">
          {notice}
        </p>
      ) : null}
      {held && status === 'idle' ? (
        <p className="forgetting-notice" role="status" data-testid="forgetting-held">
          {held}
        </p>
      ) : null}
    </div>
  );
}

/** For the run panel: a sweep is running, and starting a training run would stop it. */
export function ForgettingBusyNote() {
  const busy = useForgetting((s) => forgettingBusy(s));
  if (!busy) return null;
  return (
    <p className="forgetting-notice" role="status" data-testid="forgetting-busy-note">
      A forgetting sweep is running (<a href="#forgetting">section 6</a>). Starting a training run
      stops it: one experiment runs at a time.
    </p>
  );
}

const DEFAULT_FORGETTING_SEEDS = DEFAULT_FORGETTING_CONFIG.seeds.length;

/**
 * What a sweep will run and how its settings are chosen, from its config: the runs, the
 * selection budgets (equal by default), the held-out validation data and the page's caps.
 */
function planText(
  cfg: ForgettingConfig,
  perSeed: number,
  dataset: { source: string; trainCount: number } | null,
): string {
  const n = cfg.seeds.length;
  const ldc = cfg.lambdas.length * cfg.ncList.length;
  const ewc = cfg.ewcLambdas.length;
  return (
    `${n} seed${n === 1 ? '' : 's'} × ${perSeed} runs (no constraint, EWC at ${ewc} λ, LDC at ${cfg.lambdas.length} λ × ${cfg.ncList.length} N_c) of ${cfg.task2Steps} task-2 steps, on ${dataset ? `${dataset.source === 'idx' ? 'your MNIST files' : 'the embedded digits'} (${dataset.trainCount.toLocaleString('en')} training images)` : 'the loaded digits'}. ` +
    `Each method's setting is chosen on validation data — ${Math.round(100 * cfg.validationFraction)}% of each task digit's training images, held out from all training — and its test error reported; budgets: LDC ${ldc} settings, EWC ${ewc}, no constraint 1${ldc === ewc ? ' (equal)' : ` (unequal: the method with more settings has more chances)`}. ` +
    `The seeds run side by side on the page's pool of job workers, one seed to a worker (the run panel's Workers setting). ` +
    `The page runs ${DEFAULT_FORGETTING_SEEDS} seeds by default for speed (the headless reproduce command runs ${CLI_FORGETTING_SEEDS.length}); a sweep here has at most ${MAX_SWEEP_RUNS.toLocaleString('en')} runs and ${MAX_SWEEP_STEPS.toLocaleString('en')} task-2 steps, and a link starts one on its own only up to the default's ${DEFAULT_SWEEP_RUNS} runs.`
  );
}

const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : '–');

/** The closing note: the finished sweep's numbers. */
export function ForgettingSummaryNote() {
  const summary = useForgetting((s) => s.summary);
  const config = useForgetting((s) => s.config);
  const timings = useForgetting((s) => s.timings);
  const task1 = useForgetting((s) => s.task1);
  const runs = useForgetting((s) => s.runs);
  const backend = useRun((s) => s.backend?.name);
  const dataset = useRun((s) => s.dataset?.name);
  if (!summary || !config || !timings) return null;
  const b = summary.best;
  const o = summary.bestOwn;
  const line = (m: Method) => {
    const p = b[m];
    if (!p) return null;
    return (
      <>
        <strong>{f3(p.total)}</strong>
        {p.n > 1 ? ` ± ${f3(p.totalSd)}` : ''}
        {m !== 'none'
          ? ` (λ = ${fmtLambda(p.lambda)}${p.nc !== null ? `, N_c = ${p.nc}` : ''})`
          : ''}
      </>
    );
  };
  const ewc = b.ewc;
  const nc = ewc
    ? ncVerdictText(
        ncVersusEwc(
          runs,
          ncCurve(settingStats(runs, 'all')),
          { method: 'ewc', lambda: ewc.lambda, nc: null },
          'all',
        ),
        'paired seed by seed',
      )
    : '';
  const anchorErr = task1.length
    ? task1.reduce((a, r) => a + r.atAnchor.task1.eps, 0) / task1.length
    : NaN;
  const d = summary.paired.ldcMinusEwc;
  return (
    <p className="result-summary" data-testid="forgetting-summary">
      Your sweep ({config.seeds.length} seed{config.seeds.length === 1 ? '' : 's'}, digits{' '}
      {config.task1.join(',')} then {config.task2.join(',')}, {dataset ?? 'the loaded digits'}
      {backend ? `, ${backend}` : ''}): each method&rsquo;s setting chosen on validation data
      (budgets: LDC {summary.budget.ldc}, EWC {summary.budget.ewc}, no constraint{' '}
      {summary.budget.none}), test ε₁ + ε₂ over the 10-way output (mean ± sd over seeds) — LDC{' '}
      {line('ldc')}, EWC {line('ewc')}, no constraint {line('none')}.{' '}
      {d ? `LDC − EWC per seed: ${pairedText(d)}; ${pairedVerdict(d)}. ` : ''}
      LDC&rsquo;s chosen N_c: {summary.bestNc ?? '–'}. {nc && `${nc} `}
      Over each task&rsquo;s own classes (chosen the same way): LDC {f3(o.ldc?.total ?? NaN)}, EWC{' '}
      {f3(o.ewc?.total ?? NaN)}, no constraint {f3(o.none?.total ?? NaN)}
      {Number.isFinite(anchorErr)
        ? ` (task-1 error before task 2: ${(100 * anchorErr).toFixed(1)}%)`
        : ''}
      . {timings.runs} runs in {timings.total.toFixed(1)} s.
    </p>
  );
}
