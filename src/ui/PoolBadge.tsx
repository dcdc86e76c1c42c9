/**
 * The run panel's word on the sweep pool (issue 13): how many job workers the sweeps (sections
 * 6 and 7) run on and why that many (cores, the link's `workers=`, the memory budget), with the
 * Workers setting (PoolSizeSelect); while a sweep runs, how many runs are in flight; when the
 * pool could not measure some of a flatness search's modes, that the analysis worker measured
 * them; and, where the page trains on WebGPU, what of the last sweep trains on the GPU ensemble
 * and why.
 */
import { useConfig } from '../state/configStore';
import { useRun } from '../state/runStore';
import { currentPlan } from './runActions';
import { poolSizing } from './poolSize';
import { usePool } from './poolStore';
import { PoolSizeSelect } from './PoolSizeSelect';

export function PoolBadge() {
  const pool = usePool();
  const config = useConfig((s) => s.config);
  const requested = useConfig((s) => s.workers);
  const dataset = useRun((s) => s.dataset);
  const runBytes = currentPlan(config, dataset).memory.total;
  const planned = poolSizing(
    typeof navigator !== 'undefined' ? navigator.hardwareConcurrency : undefined,
    requested,
    runBytes,
  );
  const size = pool.size || planned.size;
  const reason = pool.size ? (pool.reason ?? planned.reason) : planned.reason;
  const replaced =
    pool.replaced > 0
      ? `; ${pool.replaced} crashed worker${pool.replaced === 1 ? '' : 's'} replaced`
      : '';
  return (
    <span
      className="badge"
      data-testid="pool-badge"
      data-workers={size}
      title={`The sweeps of sections 6 and 7 run on ${size} job worker${size === 1 ? '' : 's'}: ${reason}. Choose with Workers here or workers=1…16 in the link.`}
    >
      sweeps: <strong>{size}</strong> worker{size === 1 ? '' : 's'}
      {pool.size ? ` in use${pool.busy ? `, ${pool.busy} running` : ''}` : ''}
      {replaced}
      {pool.gpu ? <span data-testid="pool-gpu">; {pool.gpu}</span> : null}
      {pool.flatnessNotice ? (
        <span data-testid="pool-flatness-notice">; {pool.flatnessNotice}</span>
      ) : null}{' '}
      · <PoolSizeSelect runBytes={runBytes} inUse={pool.size} />
    </span>
  );
}
