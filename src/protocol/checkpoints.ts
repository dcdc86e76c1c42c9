/**
 * The per-epoch weight checkpoints of a run: the analysis worker keeps them for the temperature
 * along the trajectory, and the page keeps the warm-up's so a stopped run can resume. One
 * thinning rule serves both, so a resumed analysis holds exactly the list it would have held.
 */
import type { EpochRecord, RunId } from '../engine/experiments/training';
import type { ResumePoint, RunCheckpoint } from './messages';

/** Checkpoints kept per run (the middle is thinned past this, the first and last stay). */
export const MAX_CHECKPOINTS = 120;

/** The list with `c` appended, thinned to stay within `max`. */
export function appendCheckpoint<T>(list: readonly T[], c: T, max = MAX_CHECKPOINTS): T[] {
  const out = [...list, c];
  if (out.length <= max) return out;
  return out.filter((_, i) => i % 2 === 0 || i === out.length - 1);
}

/**
 * Follows a live run's events and knows where it could resume: its last checkpoint before the
 * SGD window began (the window's snapshots live only in the analysis worker, so a window is
 * redone whole). After the window starts nothing more is kept.
 */
export class ResumeTracker {
  private history: RunCheckpoint[] = [];
  private trainErrors = new Map<number, number>();
  private point: Omit<ResumePoint, 'controls'> | null = null;
  private frozen = false;

  /** A new run: forget the last one's checkpoints. */
  clear(): void {
    this.history = [];
    this.trainErrors.clear();
    this.point = null;
    this.frozen = false;
  }

  /** A resumed run starts from its resume point, so a second stop can resume there again. */
  restore(p: ResumePoint): void {
    this.clear();
    this.history = [...p.history];
    p.trainErrors.forEach((e, i) => this.trainErrors.set(i + 1, e));
    this.point = { checkpoint: p.checkpoint, trainErrors: p.trainErrors, history: p.history };
  }

  epoch(r: EpochRecord): void {
    if (!this.frozen) this.trainErrors.set(r.epoch, r.trainError);
  }

  checkpoint(c: RunCheckpoint): void {
    if (this.frozen) return;
    this.history = appendCheckpoint(this.history, c);
    const trainErrors: number[] = [];
    for (let e = 1; e <= c.epoch; e++) {
      const err = this.trainErrors.get(e);
      // An epoch without its record cannot be replayed into the detector: no resume point.
      if (err === undefined) return;
      trainErrors.push(err);
    }
    this.point = { checkpoint: c, trainErrors, history: this.history };
  }

  windowStart(run: RunId): void {
    if (run === 'sgd') this.frozen = true;
  }

  /** Where the run can continue from, or null when it cannot. */
  resumePoint(controls: ResumePoint['controls']): ResumePoint | null {
    return this.point ? { ...this.point, controls: { ...controls } } : null;
  }
}
