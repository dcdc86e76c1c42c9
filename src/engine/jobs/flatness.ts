/**
 * The flatness search as shares (issue 13): the modes of one analysis are independent (each
 * mode's search asks only for losses along its own direction), so a pool splits them, each
 * worker builds its own first-layer activations H1 once per share and measures its modes,
 * and the shares merge in rank order — the numbers of the one search over all modes.
 */
import type { DataSplit } from '../data/dataset';
import type { FlatnessMode, ModeFlatnessResult } from '../landscape/flatness';
import { PlainFullSetLoss, measureFlatnessPlain } from '../landscape/fullSetLossPlain';

/** What a worker needs to measure some modes of one analysis (the data it holds itself). */
export interface FlatnessShare {
  hidden: number;
  /** The frozen layers, row-major (784 × h, h × 10). */
  w1: Float32Array;
  w3: Float32Array;
  /** Training examples in the loss (the first `count` of the worker's training split). */
  count: number;
  /** The profile centre W2 (h × h). */
  centre: Float64Array;
  modes: FlatnessMode[];
  options: { factor: number; relTol: number; initialStep: number; maxDistance: number };
}

/** Measures a share's modes (a pool's one call per share, the whole search's unit). */
export type FlatnessSearch = (share: FlatnessShare) => Promise<ModeFlatnessResult[]>;

/** Measures the share's modes on `train`, building the loss (H1) once. */
export async function measureShare(
  share: FlatnessShare,
  train: Pick<DataSplit, 'images' | 'labels'>,
): Promise<ModeFlatnessResult[]> {
  // The analysis worker's own loss (no tensor library), so a share's numbers are its.
  const loss = new PlainFullSetLoss({
    images: train.images,
    labels: train.labels,
    w1: share.w1,
    w3: share.w3,
    hidden: share.hidden,
    count: share.count,
  });
  try {
    const report = await measureFlatnessPlain(loss, share.centre, share.modes, share.options);
    return report.modes;
  } finally {
    loss.dispose();
  }
}

/**
 * `parts` shares of the modes, dealt round-robin in rank order so each share holds sharp and
 * flat modes alike (their searches differ in length).
 */
export function splitShare(share: FlatnessShare, parts: number): FlatnessShare[] {
  const n = Math.max(1, Math.min(parts, share.modes.length));
  return Array.from({ length: n }, (_, p) => ({
    ...share,
    modes: share.modes.filter((_, i) => i % n === p),
  }));
}

/** The shares' results back in the order of `share.modes`. */
export function mergeShares(
  share: FlatnessShare,
  results: readonly ModeFlatnessResult[][],
): ModeFlatnessResult[] {
  const byRank = new Map(results.flat().map((m) => [m.rank, m]));
  return share.modes.map((m) => {
    const r = byRank.get(m.rank);
    if (!r) throw new Error(`the flatness of mode ${m.rank} is missing from the shares`);
    return r;
  });
}
