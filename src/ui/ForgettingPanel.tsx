/**
 * Section 6's own controls (the catastrophic-forgetting sweep): the two tasks' digits, the
 * number of seeds, Start sweep / Cancel, and the progress bar with phase and ETA; and the
 * closing note with the numbers of the finished sweep.
 */
import { useEffect, useId, useMemo, useRef } from 'react';
// The pure modules only: the package index would pull TensorFlow.js into the page's bundle.
import { checkDisjoint, parseDigitGroup } from '../engine/forgetting/tasks';
import type { Method } from '../engine/forgetting';
import {
  MAX_FORGETTING_SEEDS,
  buildForgettingConfig,
  forgettingBusy,
  useForgetting,
} from '../state/forgettingStore';
import { useRun } from '../state/runStore';
import { SAMPLES_PER_TASK } from '../views/TaskDigitsView';
import { fmtLambda } from '../views/forgettingData';
import { workers } from './workers';
import './forgetting-panel.css';

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
  const runsPerSeed = cfg ? 1 + cfg.ewcLambdas.length + cfg.lambdas.length * cfg.ncList.length : 0;

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
  // The run panel's Start under the "forgetting" preset asks for a sweep.
  const startRequests = useForgetting((s) => s.startRequests);
  const handled = useRef(0);
  useEffect(() => {
    if (startRequests === handled.current || !dataset || !cfg || busy) return;
    handled.current = startRequests;
    workers.startForgetting(cfg);
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
      workers.startForgetting(cfg);
    }
  }, [autorun, dataset, runState, cfg, status]);

  const total = running ? running.seeds.length * runsPerSeedOf(running) : 0;
  const statusText =
    status === 'starting'
      ? 'Starting…'
      : status === 'running' || status === 'cancelling'
        ? `${status === 'cancelling' ? 'Cancelling · ' : ''}${phase ? `seed ${phase.seedIndex + 1} of ${running?.seeds.length ?? '?'} · ${PHASE_LABEL[phase.phase] ?? phase.phase}` : 'running'} · ${runsDone} of ${total} runs · ${Math.round(100 * (progress?.fraction ?? 0))}% · ETA ${formatEta(progress?.etaSeconds)}`
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
        <div className="notice" role="status" data-testid="forgetting-url-notices">
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
      <p className="forgetting-plan">
        {cfg
          ? `${cfg.seeds.length} seed${cfg.seeds.length === 1 ? '' : 's'} × ${runsPerSeed} runs (no constraint, EWC at ${cfg.ewcLambdas.length} λ, LDC at ${cfg.lambdas.length} λ × ${cfg.ncList.length} N_c) of ${cfg.task2Steps} task-2 steps, on ${dataset ? `${dataset.source === 'idx' ? 'your MNIST files' : 'the embedded digits'} (${dataset.trainCount.toLocaleString('en')} training images)` : 'the loaded digits'}.`
          : ''}
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

function runsPerSeedOf(c: { ewcLambdas: number[]; lambdas: number[]; ncList: number[] }): number {
  return 1 + c.ewcLambdas.length + c.lambdas.length * c.ncList.length;
}

const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : '–');

/** The closing note: the finished sweep's numbers. */
export function ForgettingSummaryNote() {
  const summary = useForgetting((s) => s.summary);
  const config = useForgetting((s) => s.config);
  const timings = useForgetting((s) => s.timings);
  const task1 = useForgetting((s) => s.task1);
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
  const ldc = b.ldc;
  const ewc = b.ewc;
  const beats = summary.ncCurve.filter((p) => p.total < summary.ewcReference).map((p) => p.nc);
  const anchorErr = task1.length
    ? task1.reduce((a, r) => a + r.atAnchor.task1.eps, 0) / task1.length
    : NaN;
  return (
    <p className="result-summary" data-testid="forgetting-summary">
      Your sweep ({config.seeds.length} seed{config.seeds.length === 1 ? '' : 's'}, digits{' '}
      {config.task1.join(',')} then {config.task2.join(',')}, {dataset ?? 'the loaded digits'}
      {backend ? `, ${backend}` : ''}): best ε₁ + ε₂ over the 10-way output — LDC {line('ldc')}, EWC{' '}
      {line('ewc')}, no constraint {line('none')}. LDC&rsquo;s best N_c: {summary.bestNc ?? '–'}
      {ewc
        ? beats.length
          ? `; at its best λ, LDC is below EWC's best at N_c = ${beats.join(', ')}`
          : "; LDC gets below EWC's best at no N_c"
        : ''}
      . Over each task&rsquo;s own classes the best totals are LDC {f3(o.ldc?.total ?? NaN)}, EWC{' '}
      {f3(o.ewc?.total ?? NaN)}, no constraint {f3(o.none?.total ?? NaN)}
      {Number.isFinite(anchorErr)
        ? ` (task-1 error before task 2: ${(100 * anchorErr).toFixed(1)}%)`
        : ''}
      .{' '}
      {ldc && ewc
        ? ldc.total < ewc.total
          ? `LDC forgets less here${ldc.n > 1 && ldc.total + ldc.totalSd > ewc.total - ewc.totalSd ? ', though the spreads over seeds overlap' : ''}.`
          : 'EWC does as well as or better than LDC here.'
        : ''}{' '}
      {timings.runs} runs in {timings.total.toFixed(1)} s.
    </p>
  );
}
