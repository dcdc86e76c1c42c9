/**
 * What the run panel, the page's drop target and autorun do: start a run (recording the data
 * set and settings it is made with), save the shown run as a JSON bundle, and open one.
 */
import { create } from 'zustand';
import type { RunConfig } from '../engine/experiments/config';
import {
  EMBEDDED_DATA_SHAPE,
  planRun,
  type DataShape,
  type RunPlan,
} from '../engine/experiments/runChecks';
import type { DatasetInfo } from '../protocol/messages';
import { DEFAULT_PRESET, PRESETS, checkedConfig } from '../state/configSchema';
import { useConfig } from '../state/configStore';
import { makeBundle, validateBundle } from '../state/runBundle';
import { showBundle, useRun } from '../state/runStore';
import { useForgetting } from '../state/forgettingStore';
import { downloadBlob } from '../views/download';
import { workers } from './workers';

/** Messages of the save/open actions, shown in the run panel. */
export const useRunFile = create<{ error: string | null; status: string | null }>(() => ({
  error: null,
  status: null,
}));

/** The preset and settings of the live run (the config store may change while it runs). */
let liveRun: { preset: string; config: RunConfig } | null = null;

/** The loaded data set's shape (the embedded digits' until the trainer reports one). */
export function shapeOf(dataset: DatasetInfo | null): DataShape {
  return dataset
    ? { ...EMBEDDED_DATA_SHAPE, trainCount: dataset.trainCount, testCount: dataset.testCount }
    : EMBEDDED_DATA_SHAPE;
}

/** The check of the current settings against the loaded data and the memory budget. */
export function currentPlan(
  config: RunConfig = useConfig.getState().config,
  dataset: DatasetInfo | null = useRun.getState().dataset,
): RunPlan {
  return planRun(config, shapeOf(dataset));
}

/**
 * Starts a run with the current settings; the URL then records the data set it used. Settings
 * that cannot work are refused here, before anything trains (the run panel shows why).
 */
export function startRun(): void {
  const c = useConfig.getState();
  if (c.preset === 'forgetting') {
    // This preset's experiment is the sweep of section 6, not a training run (the panel
    // starts it once the workers have the digits).
    workers.ensureWorkers();
    useForgetting.getState().requestStart();
    return;
  }
  if (currentPlan(c.config).problems.length) return;
  const dataset = useRun.getState().dataset;
  if (dataset) c.setData(dataset.source);
  liveRun = { preset: c.preset, config: c.config };
  useRunFile.setState({ error: null, status: null });
  workers.run(c.config);
}

/** True when there is a run to save (live or opened). */
export function canSave(s = useRun.getState()): boolean {
  return s.epochs.length > 0 || Object.keys(s.results).length > 0;
}

/** Downloads the shown run (settings and every result the figures draw) as a JSON bundle. */
export function saveRun(): void {
  const s = useRun.getState();
  if (!canSave(s)) return;
  const c = useConfig.getState();
  const made =
    s.source.kind === 'live'
      ? {
          preset: liveRun?.preset ?? c.preset,
          config: liveRun?.config ?? workers.config ?? c.config,
          createdWith: `Flat Minima Lab in the browser (tfjs ${s.backend?.name ?? 'unknown backend'}, ${s.dataset?.source === 'idx' ? 'full MNIST from IDX files' : 'embedded digits'})`,
        }
      : { preset: s.source.preset, config: s.source.config, createdWith: s.source.createdWith };
  const bundle = makeBundle({
    ...made,
    epochs: s.epochs,
    minibatch: s.minibatch,
    exploration: s.exploration,
    windows: s.windows,
    results: s.results,
    profiles: Object.values(s.profiles),
  });
  const stamp = bundle.createdAt.slice(0, 19).replace(/[:T]/g, '-');
  downloadBlob(
    new Blob([JSON.stringify(bundle)], { type: 'application/json' }),
    `flat-minima-run-${bundle.preset}-seed${bundle.config.seed}-${stamp}.json`,
  );
  useRunFile.setState({ error: null, status: 'Run saved.' });
}

const MAX_BYTES = 64 * 1024 * 1024;

/**
 * Opens a saved run: shows its results without training and takes its settings (so the URL
 * reproduces it). A file that is not a valid run gets a message and changes nothing.
 */
export async function openRunFile(file: File): Promise<boolean> {
  const fail = (why: string) => {
    useRunFile.setState({
      error: `Could not open “${file.name}”: ${why}. Nothing was changed.`,
      status: null,
    });
    return false;
  };
  if (file.size > MAX_BYTES)
    return fail(`the file is ${Math.round(file.size / 2 ** 20)} MB, more than a run file can be`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(await file.text());
  } catch (e) {
    return fail(`it is not JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  let config: RunConfig;
  let bundle;
  try {
    bundle = validateBundle(parsed);
    config = checkedConfig(bundle.preset, bundle.config as unknown as Record<string, unknown>);
  } catch (e) {
    return fail(e instanceof Error ? e.message : String(e));
  }
  const preset = PRESETS.some((p) => p.id === bundle.preset) ? bundle.preset : DEFAULT_PRESET;
  const made = typeof bundle.createdAt === 'string' ? ` on ${bundle.createdAt.slice(0, 10)}` : '';
  const before = useRun.getState();
  if (before.runState === 'training' || before.runState === 'analyzing') workers.reset();
  showBundle(
    { ...bundle, config },
    'file',
    `Showing the saved run “${file.name}” (preset “${bundle.preset}”, seed ${config.seed}, made with ${bundle.createdWith}${made}).`,
  );
  const after = useRun.getState();
  if (after.runState === 'done' || (after.runState === 'error' && !after.crashed)) {
    useRun.setState({ runState: 'idle' });
  }
  useConfig.getState().load(preset, config);
  useRunFile.setState({ error: null, status: `Opened “${file.name}”.` });
  return true;
}
