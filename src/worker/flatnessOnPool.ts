/**
 * The analysis worker's side of the flatness search on the page's pool (issue 13), the twin of
 * the CLI's `WorkerPool.flatnessSearch` (src/cli/pool.ts): the modes are split into one share
 * per job worker (splitShare), each share goes to the UI thread as a 'flatnessShare' event, the
 * UI runs it on the pool and answers with its modes, and the shares merge in rank order
 * (mergeShares). A share the pool could not measure (a worker that crashed twice, a pool that
 * was closed) is measured here instead, with the same function, so nothing is lost and the
 * numbers are those of the one search.
 */
import {
  mergeShares,
  splitShare,
  type FlatnessSearch,
  type FlatnessShare,
} from '../engine/jobs/flatness';
import type { ModeFlatnessResult } from '../engine/landscape/flatness';
import type { AnalysisCommand, AnalysisEvent } from '../protocol/messages';

type ShareAnswer = Extract<
  AnalysisCommand,
  { type: 'flatnessShareResult' } | { type: 'flatnessShareFailed' }
>;

interface Pending {
  resolve: (modes: ModeFlatnessResult[]) => void;
  reject: (e: Error) => void;
}

export interface PoolSearchOptions {
  signal: AbortSignal;
  /** The training split's fingerprint (splitFingerprint), which the job workers check. */
  data: number;
  /** Shares measured so far (on the pool or here) out of all of them. */
  onShare?: (done: number, total: number) => void;
}

export class FlatnessOnPool {
  /** Job workers the UI says the pool has (fewer than 2: the search stays in this worker). */
  workers = 1;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(
    private readonly post: (e: Extract<AnalysisEvent, { type: 'flatnessShare' }>) => void,
    /** The in-worker search of one share (measureShare on the worker's own data). */
    private readonly measureHere: (share: FlatnessShare) => Promise<ModeFlatnessResult[]>,
  ) {}

  /** The analysis's flatnessSearch hook, or undefined when the pool is too small to help. */
  search(opts: PoolSearchOptions): FlatnessSearch | undefined {
    if (this.workers < 2) return undefined;
    const parts = this.workers;
    return async (share) => {
      // Copies: a mode's direction is a view into the whole PCA basis, which a message would clone.
      const own: FlatnessShare = {
        ...share,
        modes: share.modes.map((m) => ({ ...m, direction: Float64Array.from(m.direction) })),
      };
      const shares = splitShare(own, parts);
      let done = 0;
      const tick = () => opts.onShare?.(++done, shares.length);
      const settled = await Promise.allSettled(
        shares.map((s) =>
          this.request(s, opts.data, opts.signal).then((r) => {
            tick();
            return r;
          }),
        ),
      );
      opts.signal.throwIfAborted();
      const results: ModeFlatnessResult[][] = [];
      for (let i = 0; i < shares.length; i++) {
        const r = settled[i];
        if (r.status === 'fulfilled') {
          results.push(r.value);
        } else {
          results.push(await this.measureHere(shares[i]));
          tick();
        }
      }
      return mergeShares(own, results);
    };
  }

  /** The UI's answer to one share. */
  answer(cmd: ShareAnswer): void {
    const p = this.pending.get(cmd.requestId);
    if (!p) return;
    this.pending.delete(cmd.requestId);
    if (cmd.type === 'flatnessShareResult') p.resolve(cmd.modes);
    else p.reject(new Error(cmd.message));
  }

  private request(
    share: FlatnessShare,
    data: number,
    signal: AbortSignal,
  ): Promise<ModeFlatnessResult[]> {
    const requestId = this.nextId++;
    return new Promise<ModeFlatnessResult[]>((resolve, reject) => {
      const onAbort = () => {
        this.pending.delete(requestId);
        reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      this.pending.set(requestId, {
        resolve: (m) => {
          signal.removeEventListener('abort', onAbort);
          resolve(m);
        },
        reject: (e) => {
          signal.removeEventListener('abort', onAbort);
          reject(e);
        },
      });
      this.post({ type: 'flatnessShare', requestId, share, data });
    });
  }
}
