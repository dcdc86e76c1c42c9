/**
 * What the page says when a sweep's GPU ensemble stops on a fault (issue 14): its runs already
 * handed out are kept, and each run not yet handed out continues on the CPU pool from the last
 * checkpoint the ensemble reported for it (one in its warm-up, or its window's start: a window
 * cannot resume half-way), or starts again where it had none yet.
 */

/** One run not yet handed out: the epoch of its last checkpoint (null: none) and its epochs. */
export interface LeftRun {
  checkpointEpoch: number | null;
  epochs: number;
}

const span = (xs: readonly number[]): string => {
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  return lo === hi ? `${lo}` : `${lo}–${hi}`;
};

/** The note for a fault `error`, the runs `left` to the CPU pool and the `kept` already trained. */
export function ensembleFaultNote(error: string, left: readonly LeftRun[], kept: number): string {
  const resumed = left.filter((r) => r.checkpointEpoch !== null);
  const fresh = left.length - resumed.length;
  const parts: string[] = [];
  if (resumed.length > 0) {
    const at = resumed.map((r) => r.checkpointEpoch!);
    const n = resumed.length;
    parts.push(
      `${n} continue${n === 1 ? 's' : ''} on the CPU pool from ${n === 1 ? 'its last checkpoint' : 'their last checkpoints'} (epoch${at.some((e) => e !== at[0]) ? 's' : ''} ${span(at)} of ${span(resumed.map((r) => r.epochs))})`,
    );
  }
  if (fresh > 0)
    parts.push(
      `${fresh} start${fresh === 1 ? 's' : ''} again on the CPU pool (no checkpoint yet; the same seed${fresh === 1 ? '' : 's'}, so the same run${fresh === 1 ? '' : 's'})`,
    );
  const n = left.length;
  return `the GPU ensemble stopped (${error}); of its ${n} run${n === 1 ? '' : 's'} not yet trained, ${parts.join(' and ')}; the ${kept} already trained ${kept === 1 ? 'is' : 'are'} kept`;
}
