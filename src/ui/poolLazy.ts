/**
 * The page's pool machinery — section 7's sweeps (poolSweeps.ts), section 6's forgetting sweep
 * (poolForgetting.ts), the worker pool, the GPU ensembles — loaded the first time something
 * needs it: a sweep, a share of a flatness search, a test hook. A run or an embed that never
 * sweeps does not download it (issue 21's page weight). Calls keep their order: each waits on
 * the same import, and a stop before anything was started has nothing to stop.
 */
import type { ForgettingConfig } from '../engine/forgetting/config';
import type { FlatnessShare } from '../engine/jobs/flatness';
import type { ModeFlatnessResult } from '../engine/landscape/flatness';
import type { BackendName } from '../engine/backend';
import type { IdxFile, UniversalityMode, UniversalityRunSpec } from '../protocol/messages';
import { stopForgetting } from '../state/forgettingStore';
import { applyUniversalityEvent } from '../state/universalityStore';
import type { Outcome } from './workerPool';

type Sweeps = typeof import('./poolSweeps');
type Forgetting = typeof import('./poolForgetting');

let sweepsLoad: Promise<Sweeps> | null = null;
let forgettingLoad: Promise<Forgetting> | null = null;
// A failed import is forgotten, so the next start tries again.
const sweeps = (): Promise<Sweeps> =>
  (sweepsLoad ??= import('./poolSweeps').catch((e: unknown) => {
    sweepsLoad = null;
    throw e;
  }));
const forgetting = (): Promise<Forgetting> =>
  (forgettingLoad ??= import('./poolForgetting').catch((e: unknown) => {
    forgettingLoad = null;
    throw e;
  }));
/** A stop waiting on an import that fails: the start that began it reports the failure. */
const reported = () => {};

const why = (e: unknown) =>
  `the page's sweep code could not be loaded (${e instanceof Error ? e.message : String(e)})`;

/** What a sweep's pool is set up from: the data set held and a forced backend. */
type DataIdx = IdxFile[] | null;

export function startPoolSweep(
  mode: UniversalityMode,
  runs: { index: number; spec: UniversalityRunSpec }[],
  total: number,
  idx: DataIdx,
  forced: BackendName | undefined,
): void {
  sweeps().then(
    (m) => m.startPoolSweep(mode, runs, total, m.poolSetup(runs, idx, forced)),
    (e: unknown) =>
      applyUniversalityEvent({ type: 'universalityState', state: 'error', message: why(e) }),
  );
}

export function pausePoolSweep(): void {
  void sweepsLoad?.then((m) => m.pausePoolSweep(), reported);
}

export function resumePoolSweep(): void {
  void sweepsLoad?.then((m) => m.resumePoolSweep(), reported);
}

export function cancelPoolSweep(reason?: string): void {
  void sweepsLoad?.then((m) => m.cancelPoolSweep(reason), reported);
}

export function startPoolForgetting(
  config: ForgettingConfig,
  idx: DataIdx,
  forced: BackendName | undefined,
): void {
  forgetting().then(
    (m) => m.startPoolForgetting(config, m.forgettingPoolSetup(config, idx, forced)),
    // Not as the sweep's event: the store, still 'starting', takes those as the last sweep's.
    (e: unknown) => stopForgetting('error', why(e)),
  );
}

export function cancelPoolForgetting(reason?: string): void {
  void forgettingLoad?.then((m) => m.cancelPoolForgetting(reason), reported);
}

/** One share of a run's flatness search on the pool (the outcome says why it failed). */
export async function measureShareOnPool(
  share: FlatnessShare,
  data: number,
  idx: DataIdx,
  forced: BackendName | undefined,
): Promise<Outcome<ModeFlatnessResult[]>> {
  try {
    const m = await sweeps();
    return await m.measureShareOnPool(share, data, m.poolSetup([], idx, forced, true, share));
  } catch (e) {
    return { ok: false, error: why(e), cancelled: false };
  }
}

/** Test builds: the next ensemble's worker loses its device at `step`. */
export function loseEnsembleGpuAt(step: number): void {
  void sweeps().then((m) => m.loseEnsembleGpuAt(step));
}

/** Test builds: the next `n` jobs crash their worker. */
export function crashPoolJobs(n?: number): void {
  void sweeps().then((m) => m.crashPoolJobs(n));
}

/** Test builds: the sweeps' ensemble probe for `runs` runs. */
export async function measureSweepEnsemble(
  runs: number,
): Promise<Awaited<ReturnType<Sweeps['measureSweepEnsemble']>>> {
  return (await sweeps()).measureSweepEnsemble(runs);
}
