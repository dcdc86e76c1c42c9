/**
 * Start / pause / resume / cancel / continue of one section-7 sweep, with its progress line and
 * the runs that failed. Used by the article (UniversalitySection) and by the embeds of the
 * section's figures.
 */
import { useRun } from '../state/runStore';
import type { PlanItem } from '../state/universalityPlans';
import {
  MAX_ARCH_RUNS,
  clearUniversality,
  pendingRuns,
  runsText,
  useUniversality,
  type UniversalityRuns,
} from '../state/universalityStore';
import type { UniversalityMode } from '../protocol/messages';
import { workers } from './workers';
import './universality.css';

const PHASE_LABEL = { warmup: 'warm-up', window: 'PCA window', analysis: 'analysis' };

function statusText(r: UniversalityRuns): string {
  if (r.status === 'idle') return '';
  const done = r.plan.filter((p) => p.result || p.failed).length;
  if (r.status === 'cancelling') return 'Cancelling…';
  if (r.status === 'running' || r.status === 'pausing' || r.status === 'paused') {
    const p = r.progress;
    const cur = p ? r.plan[p.run] : undefined;
    const where =
      p && cur
        ? `; ${cur.label}: ${PHASE_LABEL[p.phase]}${p.phase === 'analysis' ? '' : `, epoch ${p.epoch + 1} of ${p.epochs}`}`
        : '';
    const together = p?.running && p.running > 1 ? ` (${p.running} running at once)` : '';
    const head = `${done} of ${r.plan.length} runs done${together}${where}`;
    if (r.status === 'pausing') return `${head} — pausing at the next training step…`;
    if (r.status === 'paused') return `Paused: ${head}.`;
    return head;
  }
  if (r.status === 'done') return r.message ?? `Done: ${runsText(r.plan.length)}.`;
  const left = pendingRuns(r);
  return `${r.message ?? r.status}${left > 0 ? ` ${left} of ${r.plan.length} runs left.` : ''}`;
}

function progressFraction(r: UniversalityRuns): number {
  if (r.status === 'done') return 1;
  if (r.plan.length === 0) return 0;
  const done = r.plan.filter((p) => p.result || p.failed).length;
  const p = r.progress;
  const part = !p ? 0 : p.phase === 'analysis' ? 0.85 : (0.6 * p.epoch) / Math.max(1, p.epochs);
  return Math.min(1, (done + part) / r.plan.length);
}

/** Start / pause / resume / cancel / continue of one sweep, with its progress line. */
export function SweepControls({
  mode,
  startLabel,
  plan,
  append = false,
}: {
  mode: UniversalityMode;
  startLabel: string;
  /** The runs a click on the start button plans (null: the settings are invalid). */
  plan: () => PlanItem[] | null;
  /** Add the planned runs to the figure's runs instead of replacing them. */
  append?: boolean;
}) {
  const r = useUniversality((s) => s[mode]);
  const active = useUniversality((s) => s.active);
  const runState = useRun((s) => s.runState);
  const busy = active === mode;
  const left = pendingRuns(r);
  // No data set needed yet: a sweep asked for starts the workers and waits in their queue.
  const canStart = active === null && runState !== 'loading';
  const start = () => {
    const items = plan();
    if (items)
      workers.startUniversality(mode, items, append ? { append, keep: MAX_ARCH_RUNS } : {});
  };
  const stopped = !busy && (r.status === 'cancelled' || r.status === 'error') && left > 0;
  return (
    <div className="universality-controls">
      <div className="buttons">
        {busy ? (
          <>
            {r.status === 'paused' || r.status === 'pausing' ? (
              <button
                type="button"
                data-testid={`universality-${mode}-resume`}
                onClick={() => workers.resumeUniversality()}
              >
                Resume
              </button>
            ) : (
              <button
                type="button"
                data-testid={`universality-${mode}-pause`}
                disabled={r.status === 'cancelling'}
                onClick={() => workers.pauseUniversality()}
              >
                Pause
              </button>
            )}
            <button
              type="button"
              data-testid={`universality-${mode}-cancel`}
              disabled={r.status === 'cancelling'}
              onClick={() => workers.cancelUniversality()}
            >
              Cancel
            </button>
          </>
        ) : (
          <>
            <button
              type="button"
              className="primary"
              data-testid={`universality-${mode}-start`}
              disabled={!canStart}
              onClick={start}
            >
              {startLabel}
            </button>
            {stopped ? (
              <button
                type="button"
                data-testid={`universality-${mode}-continue`}
                disabled={!canStart}
                onClick={() => workers.startUniversality(mode, [], { append: true })}
              >
                Continue ({left} left)
              </button>
            ) : null}
            {append && r.plan.length > 0 ? (
              <button
                type="button"
                data-testid={`universality-${mode}-clear`}
                onClick={() => clearUniversality(mode)}
              >
                Clear
              </button>
            ) : null}
          </>
        )}
      </div>
      <div className="progress" aria-live="polite">
        <progress max={1} value={progressFraction(r)} aria-label={`${mode} progress`} />
        <span className="progress-text" data-testid={`universality-${mode}-progress`}>
          {statusText(r)}
        </span>
      </div>
      {r.plan.some((p) => p.failed) ? (
        <ul className="universality-failed" role="status">
          {r.plan
            .filter((p) => p.failed)
            .map((p) => (
              <li key={p.label}>
                {p.label}: {p.failed}
              </li>
            ))}
        </ul>
      ) : null}
    </div>
  );
}
