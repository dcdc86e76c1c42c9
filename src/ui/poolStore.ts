/**
 * What the run panel and the badge show of the page's pool of job workers, and how many of them
 * a run's flatness search may use. Kept apart from the pool itself (poolSweeps.ts), which loads
 * only when a sweep or a flatness share needs it (poolLazy.ts).
 */
import { create } from 'zustand';
import {
  EMBEDDED_DATA_SHAPE,
  flatnessShareWorkerBytes,
  type DataShape,
} from '../engine/experiments/memoryPolicy';
import { useConfig } from '../state/configStore';
import { useRun } from '../state/runStore';
import { poolSizing } from './poolSize';

/** What the run panel says about the pool. */
export interface PoolState {
  /** Workers of the pool now running (0: none started yet). */
  size: number;
  /** How that size was chosen. */
  reason: string | null;
  /** Runs in flight now. */
  busy: number;
  /** Workers that crashed and were replaced, and jobs re-queued, over this visit. */
  replaced: number;
  requeued: number;
  /** Why the last flatness search measured some modes in the analysis worker, if it had to. */
  flatnessNotice: string | null;
  /**
   * Where the page trains on WebGPU: what of the last sweep trains on the GPU ensemble and what
   * on the CPU pool, and why (or that the GPU failed and its runs went to the pool).
   */
  gpu: string | null;
}

export const usePool = create<PoolState>(() => ({
  size: 0,
  reason: null,
  busy: 0,
  replaced: 0,
  requeued: 0,
  flatnessNotice: null,
  gpu: null,
}));

/** The shape of the data set the page holds (the reader's files, or the embedded digits). */
export function pageDataShape(): DataShape {
  const d = useRun.getState().dataset;
  return d
    ? { ...EMBEDDED_DATA_SHAPE, trainCount: d.trainCount, testCount: d.testCount }
    : EMBEDDED_DATA_SHAPE;
}

/**
 * What one job worker holds for a share of the flatness search of a run of width `hidden` on
 * `count` training examples (the whole training split by default): its data copy and a full-set
 * loss of its own, counted as the run a worker holds when the pool is sized for shares.
 */
export function flatnessShareBytes(hidden: number, count?: number): number {
  const shape = pageDataShape();
  return flatnessShareWorkerBytes(count ?? shape.trainCount, hidden, shape);
}

/**
 * Job workers the analysis worker may split its flatness search over: the pool's size when each
 * worker holds a share's loss (flatnessShareBytes: 78 MB at h = 50 on the digits).
 */
export function flatnessPoolWorkers(): number {
  // Only where the link asks for a pool (`workers=`): each job worker loads the backend and the
  // digits before its first share, and that start-up against a search of a few seconds has not
  // been measured to pay off, so a plain run keeps its flatness search in the analysis worker.
  const { workers: asked, config } = useConfig.getState();
  if (asked === null) return 1;
  const cores = typeof navigator !== 'undefined' ? navigator.hardwareConcurrency : undefined;
  return poolSizing(cores, asked, flatnessShareBytes(config.hidden)).size;
}
