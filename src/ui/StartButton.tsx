import { useRun } from '../state/runStore';
import { startRun } from './runActions';

/**
 * Start (Run again after a run). While the workers, TensorFlow.js and the digits load for the
 * run it asked for, it says so and stays focusable (aria-disabled, not disabled), so focus and
 * the screen reader's place are not lost.
 */
export function StartButton({ disabled }: { disabled: boolean }) {
  const runState = useRun((s) => s.runState);
  const loading = runState === 'loading';
  return (
    <button
      type="button"
      className="primary"
      disabled={disabled && !loading}
      aria-disabled={loading || undefined}
      onClick={loading ? undefined : startRun}
    >
      {loading ? 'Loading…' : runState === 'done' || runState === 'error' ? 'Run again' : 'Start'}
    </button>
  );
}
