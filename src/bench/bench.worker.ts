/// <reference lib="webworker" />
/** Browser benchmark worker: training steps/s per reachable backend, and the plain loop. */
import { selectBackend, type BackendName } from '../engine/backend';
import { embeddedBytes, loadEmbeddedDataset } from '../engine/data/embedded';
import { preferredStepImpl } from '../engine/nets/netTypes';
import type { TrainStepImpl } from '../engine/experiments/training';
import { SimdMlp } from '../engine/nets/simdMlp';
import { benchPlain, benchSteps, type StepBenchRow } from './trainingBench';

declare const self: DedicatedWorkerGlobalScope;

self.onmessage = async (
  ev: MessageEvent<{
    dataUrl: string;
    wasmPaths: Record<string, string>;
    backends: BackendName[];
    seconds: number;
  }>,
) => {
  const { dataUrl, wasmPaths, backends, seconds } = ev.data;
  const rows: StepBenchRow[] = [];
  const notes: string[] = [];
  try {
    const data = loadEmbeddedDataset(await embeddedBytes(await fetch(dataUrl)));
    rows.push(benchPlain(data.train, 'chromium-worker', seconds));
    for (const b of backends) {
      try {
        const choice = await selectBackend({ forced: b, wasmPaths });
        const impls: TrainStepImpl[] =
          b === 'wasm'
            ? [
                ...(SimdMlp.available() ? (['wasm-simd'] as const) : []),
                'explicit-transpose',
                'transpose-flags',
                'autodiff',
              ]
            : [preferredStepImpl(b)];
        const r = await benchSteps(
          data.train,
          'chromium-worker',
          impls,
          b === 'webgpu' || b === 'webgl' ? Math.min(seconds, 3) : seconds,
        );
        for (const row of r)
          rows.push({
            ...row,
            backend: `${row.backend}${choice.device ? ` (${choice.device})` : ''}`,
          });
      } catch (e) {
        notes.push(`${b}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    self.postMessage({ rows, notes });
  } catch (e) {
    self.postMessage({ rows, notes: [...notes, e instanceof Error ? e.message : String(e)] });
  }
};
