/**
 * The compact run panel: preset, the main settings, start / pause / step / reset, the backend
 * badge and the progress bar with phase, steps/s and ETA.
 */
import { useEffect, useId, useMemo, useRef, useState, type ReactNode } from 'react';
import { CONFIG_FIELDS, PRESETS, type FieldSpec } from '../state/configSchema';
import { shareUrl, useConfig } from '../state/configStore';
import { useRun } from '../state/runStore';
import type { RunConfig } from '../engine/experiments/config';
import type { RunPlan } from '../engine/experiments/runChecks';
import { canSave, currentPlan, openRunFile, saveRun, useRunFile } from './runActions';
import { ForgettingBusyNote } from './ForgettingPanel';
import { workers } from './workers';
import { progressText } from './progressText';
import { RunStepper } from './RunStepper';
import { PoolBadge } from './PoolBadge';
import { StartButton } from './StartButton';
import { fmtExponent, fmtExponentInterval } from '../views/format';

const MAIN_FIELDS: (keyof RunConfig)[] = [
  'batchSize',
  'lr',
  'hidden',
  'seed',
  'sampling',
  'warmupEpochs',
  'windowEpochs',
];

function Field({ spec }: { spec: FieldSpec }) {
  const id = useId();
  const value = useConfig((s) => s.config[spec.key]);
  const set = useConfig((s) => s.set);
  const runState = useRun((s) => s.runState);
  const [draft, setDraft] = useState<string | null>(null);
  const [invalid, setInvalid] = useState<string | null>(null);
  // α and B may change between steps of a running job; the rest apply to the next run.
  const live = spec.key === 'lr' || spec.key === 'batchSize';
  const locked = !live && (runState === 'training' || runState === 'analyzing');
  if (spec.kind === 'bool') {
    return (
      <label className="field field-bool" htmlFor={id} title={spec.help}>
        <input
          id={id}
          type="checkbox"
          checked={Boolean(value)}
          disabled={locked}
          onChange={(e) => set(spec.key, e.target.checked as never)}
        />
        {spec.label}
      </label>
    );
  }
  if (spec.kind === 'enum') {
    return (
      <div className="field">
        <label htmlFor={id} title={spec.help}>
          {spec.label}
        </label>
        <select
          id={id}
          value={String(value)}
          disabled={locked}
          onChange={(e) => set(spec.key, e.target.value as never)}
        >
          {spec.options.map((o) => (
            <option key={o}>{o}</option>
          ))}
        </select>
      </div>
    );
  }
  const commit = (raw: string) => {
    const v = Number(raw);
    if (
      raw.trim() === '' ||
      !Number.isFinite(v) ||
      v < spec.min ||
      v > spec.max ||
      (spec.integer && !Number.isInteger(v))
    ) {
      setInvalid(
        `${spec.label}: enter ${spec.integer ? 'a whole number' : 'a number'} from ${spec.min} to ${spec.max}`,
      );
      return;
    }
    if (spec.key === 'batchSize' && runState === 'training') {
      // A live B the running window could not hold is refused, not sent.
      const problems = currentPlan({ ...useConfig.getState().config, batchSize: v }).problems;
      if (problems.length) {
        setInvalid(problems[0].message);
        return;
      }
    }
    setInvalid(null);
    setDraft(null);
    set(spec.key, v as never);
    if (live && runState === 'training')
      workers.setLive({ [spec.key === 'lr' ? 'lr' : 'batchSize']: v });
  };
  return (
    <div className="field">
      <label htmlFor={id} title={spec.help}>
        {spec.label}
        {spec.unit ? <span className="unit"> ({spec.unit})</span> : null}
      </label>
      <input
        id={id}
        inputMode="decimal"
        value={draft ?? String(value)}
        disabled={locked}
        aria-invalid={invalid ? true : undefined}
        aria-describedby={invalid ? `${id}-err` : undefined}
        onChange={(e) => setDraft(e.target.value)}
        onBlur={(e) => commit(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter') commit((e.target as HTMLInputElement).value);
        }}
      />
      {invalid ? (
        <span className="field-error" id={`${id}-err`} role="alert">
          {invalid}
        </span>
      ) : null}
    </div>
  );
}

/** True on a narrow screen (the one-column layout of styles.css), kept current on resize. */
export function useNarrow(): boolean {
  const query = '(max-width: 999px)';
  const [narrow, setNarrow] = useState(
    () => typeof matchMedia === 'function' && matchMedia(query).matches,
  );
  useEffect(() => {
    if (typeof matchMedia !== 'function') return;
    const mq = matchMedia(query);
    const on = () => setNarrow(mq.matches);
    mq.addEventListener('change', on);
    return () => mq.removeEventListener('change', on);
  }, []);
  return narrow;
}

/**
 * The settings: always open beside the article on a wide screen; on a phone a closed drawer,
 * so that the first screen shows the article and Start, not a wall of fields.
 */
function SettingsDrawer({ children }: { children: ReactNode }) {
  const narrow = useNarrow();
  if (!narrow) return <>{children}</>;
  return (
    <details className="settings-drawer" data-testid="settings-drawer">
      <summary>Settings</summary>
      {children}
    </details>
  );
}

export function RunPanel() {
  const presetId = useId();
  const preset = useConfig((s) => s.preset);
  const setPreset = useConfig((s) => s.setPreset);
  const hide = useConfig((s) => s.hide);
  const run = useRun();
  const config = useConfig((s) => s.config);
  const plan = useMemo(
    () => (preset === 'forgetting' ? null : currentPlan(config, run.dataset)),
    [preset, config, run.dataset],
  );
  const [advanced, setAdvanced] = useState(false);
  const busy = run.runState === 'training' || run.runState === 'analyzing';
  const p = run.progress;
  const a = run.analysisProgress;
  const fields = hide.includes('settings')
    ? []
    : CONFIG_FIELDS.filter(
        (f) => (advanced || MAIN_FIELDS.includes(f.key)) && !hide.includes(f.url),
      );

  return (
    <section className="run-panel" aria-label="Run controls">
      <div className="run-row">
        {hide.includes('preset') ? null : (
          <div className="field">
            <label htmlFor={presetId}>Preset</label>
            <select
              id={presetId}
              value={preset}
              disabled={busy}
              onChange={(e) => setPreset(e.target.value)}
            >
              {PRESETS.map((x) => (
                <option key={x.id} value={x.id}>
                  {x.label}
                </option>
              ))}
            </select>
          </div>
        )}
        <div className="buttons">
          {run.runState === 'training' && !run.paused ? (
            <button type="button" onClick={() => workers.pause()}>
              Pause
            </button>
          ) : run.runState === 'training' && run.paused ? (
            <button type="button" className="primary" onClick={() => workers.resume()}>
              Resume
            </button>
          ) : (
            <StartButton
              disabled={run.runState === 'analyzing' || Boolean(plan?.problems.length)}
            />
          )}
          {/* Stepping is for a paused run only: shown then, not left disabled otherwise. */}
          {run.runState === 'training' && run.paused ? (
            <button
              type="button"
              onClick={() => workers.step(10)}
              title="Run 10 minibatch steps, then pause"
            >
              Step 10
            </button>
          ) : null}
          <button
            type="button"
            disabled={run.runState === 'loading' || run.runState === 'idle'}
            onClick={() => workers.reset()}
          >
            Reset
          </button>
        </div>
        {hide.includes('backend') ? null : <BackendBadge />}
        {hide.includes('backend') ? null : <PoolBadge />}
      </div>
      {hide.includes('preset') ? null : (
        <p className="preset-description">{PRESETS.find((x) => x.id === preset)?.description}</p>
      )}
      <SettingsDrawer>
        {fields.length ? (
          <div className="fields">
            {fields.map((f) => (
              <Field key={f.key} spec={f} />
            ))}
          </div>
        ) : null}
        {hide.includes('settings') ? null : (
          <button
            type="button"
            className="link"
            aria-expanded={advanced}
            onClick={() => setAdvanced(!advanced)}
          >
            {advanced ? 'Fewer settings' : 'All settings'}
          </button>
        )}
      </SettingsDrawer>
      {plan ? <RunCheck plan={plan} /> : null}
      <ForgettingBusyNote />
      <div className="progress" aria-live="polite">
        <progress
          max={1}
          value={a && a.phase !== 'window' ? a.fraction : (p?.fraction ?? 0)}
          aria-label="Run progress"
        />
        <span className="progress-text" data-testid="progress-text">
          {progressText(run)}
        </span>
        <RunStepper />
      </div>
      <RunResultLink />
      <RunFiles canExport={!hide.includes('export')} />
      {run.error ? (
        <div className="error-box" role="alert">
          {run.error}
          {run.resumeFrom ? (
            <button type="button" className="primary" onClick={() => workers.resumeStopped()}>
              Resume from epoch {run.resumeFrom.epoch}
            </button>
          ) : null}
          {run.crashed ? (
            <button type="button" onClick={() => workers.start()}>
              Restart workers
            </button>
          ) : null}
        </div>
      ) : null}
    </section>
  );
}

/**
 * When the reader's run is done: its ψ, and a link to the figure that shows it (the σ²–F
 * figure is far down the article).
 */
function RunResultLink() {
  const done = useRun((s) => s.runState === 'done' && s.source.kind === 'live');
  const psi = useRun((s) => s.results.sgd?.fits.psi);
  if (!done || !psi || !Number.isFinite(psi.exponent)) return null;
  return (
    <p className="run-result" role="status" data-testid="run-result">
      Your run: ψ = <strong data-value={psi.exponent}>{fmtExponent(psi.exponent)}</strong> (95% CI{' '}
      {fmtExponentInterval(psi.ci95)}
      {psi.ci95[0] <= 0 && psi.ci95[1] >= 0
        ? ': it includes zero, so this window is too short to tell; a longer one narrows it'
        : ''}
      ). <a href="#figure-variance-flatness">See it in the σ²–F figure</a>
    </p>
  );
}

/**
 * The check of the settings before Start (runChecks.ts): what cannot work, naming the setting
 * and the range that does (Start stays disabled), and what the run will do differently
 * (a strided PCA window).
 */
function RunCheck({ plan }: { plan: RunPlan }) {
  if (!plan.problems.length && !plan.notes.length) return null;
  return (
    <>
      {plan.problems.length ? (
        <div className="error-box run-check" role="alert" data-testid="run-check">
          <p>These settings cannot run:</p>
          <ul>
            {plan.problems.map((p) => (
              <li key={p.setting + p.message}>{p.message}</li>
            ))}
          </ul>
        </div>
      ) : null}
      {plan.notes.map((n) => (
        <p key={n} className="run-check-note" role="status" data-testid="run-check-note">
          {n}
        </p>
      ))}
    </>
  );
}

/** Share link, save run (JSON bundle) and open run (file picker; dropping works page-wide). */
function RunFiles({ canExport }: { canExport: boolean }) {
  const inputRef = useRef<HTMLInputElement>(null);
  const saveable = useRun(canSave);
  const { error, status } = useRunFile();
  const [copied, setCopied] = useState<string | null>(null);
  const copy = async () => {
    const url = shareUrl();
    try {
      await navigator.clipboard.writeText(url);
      setCopied('Link copied.');
    } catch {
      // No clipboard (insecure context, permissions): show the link to copy by hand.
      setCopied(url);
    }
  };
  return (
    <div className="run-files">
      <div className="buttons">
        <button
          type="button"
          onClick={() => void copy()}
          title="Copy a link that reproduces these settings"
        >
          Copy link
        </button>
        {canExport ? (
          <>
            <button
              type="button"
              disabled={!saveable}
              onClick={saveRun}
              title="Download the run (settings and results) as a JSON file"
            >
              Save run
            </button>
            <button
              type="button"
              onClick={() => inputRef.current?.click()}
              title="Show a saved run (.json) without training; you can also drop the file on the page"
            >
              Open run…
            </button>
            <input
              ref={inputRef}
              type="file"
              accept=".json,application/json"
              hidden
              aria-label="Open a saved run (.json)"
              data-testid="open-run-input"
              onChange={(e) => {
                const f = e.target.files?.[0];
                e.target.value = '';
                if (f) void openRunFile(f);
              }}
            />
          </>
        ) : null}
      </div>
      {copied ? (
        copied.startsWith('http') ? (
          <input
            className="share-url"
            readOnly
            value={copied}
            aria-label="Link to these settings"
            onFocus={(e) => e.target.select()}
          />
        ) : (
          <p className="run-files-status" role="status">
            {copied}
          </p>
        )
      ) : null}
      {status && !error ? (
        <p className="run-files-status" role="status" data-testid="run-file-status">
          {status}
        </p>
      ) : null}
      {error ? (
        <p className="error-box" role="alert" data-testid="open-run-error">
          {error}
        </p>
      ) : null}
    </div>
  );
}

const STEP_LABEL: Record<string, string> = {
  'wasm-simd': 'WebAssembly SIMD kernel',
  'webgpu-fused': 'fused WGSL kernel (WebGPU)',
  'explicit-transpose': 'tfjs ops',
  'transpose-flags': 'tfjs ops',
  autodiff: 'tfjs autodiff',
};

export function BackendBadge() {
  const backend = useRun((s) => s.backend);
  const stepImpl = useRun((s) => s.stepImpl);
  const stepNote = useRun((s) => s.stepNote);
  if (!backend) return <span className="badge">backend: starting…</span>;
  const skipped = backend.skipped.map((s) => `${s.name}: ${s.reason}`).join('\n');
  return (
    <span
      className="badge"
      data-testid="backend-badge"
      title={skipped ? `Skipped:\n${skipped}` : backend.reason}
    >
      <strong>{backend.name}</strong> · {backend.reason}
      {stepImpl ? <> · step: {STEP_LABEL[stepImpl] ?? stepImpl}</> : null}
      {stepNote ? (
        <span role="status" data-testid="step-note">
          {' '}
          ({stepNote})
        </span>
      ) : null}
      {backend.skipped.length ? (
        <details>
          <summary>why not the others</summary>
          <ul>
            {backend.skipped.map((s) => (
              <li key={s.name}>
                <strong>{s.name}</strong>: {s.reason}
              </li>
            ))}
          </ul>
        </details>
      ) : null}
    </span>
  );
}
