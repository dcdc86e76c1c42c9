/**
 * The run panel's pool-size setting (issue 13): "Workers: auto (N)" or 1…16 job workers, the
 * same setting as the link's `workers=` (it is written back into the address). The pool is
 * started with a sweep and kept while sweeps follow, so a new size takes effect for the next
 * sweep; the memory budget may still cap it (poolSize.ts), which its help says.
 */
import { useId } from 'react';
import { WORKERS_RANGE } from '../state/configSchema';
import { useConfig } from '../state/configStore';
import { MAX_POOL_WORKERS, POOL_MEMORY_BUDGET, poolSizing } from './poolSize';

const mb = (bytes: number) => `${Math.round(bytes / 2 ** 20).toLocaleString('en')} MB`;

/**
 * `runBytes`: the largest run's memory estimate (the run check's), which sets the cap; `inUse`:
 * the running pool's size (0: none).
 */
export function PoolSizeSelect({ runBytes, inUse }: { runBytes: number; inUse: number }) {
  const id = useId();
  const requested = useConfig((s) => s.workers);
  const setWorkers = useConfig((s) => s.setWorkers);
  const cores = typeof navigator !== 'undefined' ? navigator.hardwareConcurrency : undefined;
  const auto = poolSizing(cores, null, runBytes);
  const chosen = poolSizing(cores, requested, runBytes);
  const cap = Math.max(1, Math.floor(POOL_MEMORY_BUDGET / chosen.perWorkerBytes));
  const max = Math.min(WORKERS_RANGE.max, MAX_POOL_WORKERS);
  const help =
    `Job workers for the sweeps (section 6's seeds, section 7's runs; a chosen number also ` +
    `splits a run's flatness search across them). auto: ${auto.reason}. Each worker holds its ` +
    `own copy of the data and a backend, about ${mb(chosen.perWorkerBytes)} for these runs, so ` +
    `the pool is capped at ${cap} worker${cap === 1 ? '' : 's'} to stay within the ` +
    `${mb(POOL_MEMORY_BUDGET)} memory budget. Takes effect for the next sweep; also set by ` +
    `workers= in the link.`;
  const pending = inUse > 0 && chosen.size !== inUse;
  return (
    <span className="pool-size">
      <label htmlFor={id}>Workers</label>{' '}
      <select
        id={id}
        data-testid="pool-size"
        value={requested === null ? 'auto' : String(requested)}
        title={help}
        aria-describedby={`${id}-note`}
        onChange={(e) => setWorkers(e.target.value === 'auto' ? null : Number(e.target.value))}
      >
        <option value="auto">auto ({auto.size})</option>
        {Array.from({ length: max }, (_, i) => i + 1).map((n) => (
          <option key={n} value={String(n)}>
            {n}
            {n > cap ? ` (capped at ${cap})` : ''}
          </option>
        ))}
      </select>{' '}
      <span id={`${id}-note`} className="pool-size-note">
        {pending
          ? `up to ${chosen.size} from the next sweep`
          : `applies to the next sweep${chosen.size < (requested ?? 0) ? `; capped at ${chosen.size} by memory` : ''}`}
      </span>
    </span>
  );
}
