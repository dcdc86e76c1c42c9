/// <reference lib="webworker" />
/// <reference types="@webgpu/types" />
/**
 * bench.html?mode=webgpu: the fused WGSL trainer in a worker of this browser. Always its
 * correctness checks (src/bench/fusedBench.ts); with seconds > 0 also the speeds of one run and
 * of ensembles, beside the tfjs WebGPU step and the wasm SIMD step measured in the same worker.
 * Both layouts: one workgroup per run (`check`, `fused`, `ensembles`) and a step split over many
 * workgroups (`split`). And the forgetting seed's task-2 ensemble kernel (`forgetting`).
 */
import { selectBackend } from '../engine/backend';
import { embeddedBytes, loadEmbeddedDataset } from '../engine/data/embedded';
import { SimdMlp } from '../engine/nets/simdMlp';
import { benchFused, checkFused, type FusedCheck, type FusedSpeed } from './fusedBench';
import { benchSteps } from './trainingBench';
import { benchW2Ensemble, checkW2Kernel, w2LostDevice, type W2Bench } from './fusedW2Bench';

declare const self: DedicatedWorkerGlobalScope;

export interface WebGpuBenchResult extends Partial<FusedSpeed> {
  adapter?: string;
  check?: FusedCheck;
  wasm?: { stepsPerSec: number };
  tfjsWebgpu?: { stepsPerSec: number };
  /** The split layout (FusedMlpSplit): its checks, and its speeds when measured. */
  split?: { check: FusedCheck } & Partial<FusedSpeed>;
  /** The forgetting seed's task-2 ensemble kernel (fusedW2Ensemble.ts). */
  forgetting?: W2Bench;
  error?: string;
}

self.onmessage = async (
  ev: MessageEvent<{ dataUrl: string; wasmPaths: Record<string, string>; seconds: number }>,
) => {
  const { dataUrl, wasmPaths, seconds } = ev.data;
  const out: WebGpuBenchResult = {};
  try {
    const data = loadEmbeddedDataset(await embeddedBytes(await fetch(dataUrl)));
    const adapter = await navigator.gpu?.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) throw new Error('no WebGPU adapter in this browser');
    // adapter.info is newer than this @webgpu/types.
    const i = (adapter as { info?: Record<string, string | undefined> }).info ?? {};
    out.adapter = [i.vendor, i.architecture, i.device, i.description].filter(Boolean).join(' ');
    const device = await adapter.requestDevice({
      requiredLimits: {
        maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
        maxComputeInvocationsPerWorkgroup: adapter.limits.maxComputeInvocationsPerWorkgroup,
        maxComputeWorkgroupSizeX: adapter.limits.maxComputeWorkgroupSizeX,
      },
    });
    out.check = await checkFused(device, data.train);
    out.split = { check: await checkFused(device, data.train, { layout: 'split' }) };
    out.forgetting = { check: await checkW2Kernel(device) };
    if (seconds > 0) {
      Object.assign(out, await benchFused(device, data.train, seconds));
      Object.assign(
        out.split,
        await benchFused(device, data.train, seconds, [1], { layout: 'split' }),
      );
      out.forgetting.speed = await benchW2Ensemble(device, seconds);
      await selectBackend({ forced: 'wasm', wasmPaths });
      if (SimdMlp.available(50)) {
        const [w] = await benchSteps(data.train, 'chromium-worker', ['wasm-simd'], seconds);
        out.wasm = { stepsPerSec: w.stepsPerSecond };
      }
      await selectBackend({ forced: 'webgpu' });
      const [g] = await benchSteps(data.train, 'chromium-worker', ['transpose-flags'], seconds);
      out.tfjsWebgpu = { stepsPerSec: g.stepsPerSecond };
    }
    // Last: it destroys the device under a task-2 kernel.
    out.forgetting.lost = await w2LostDevice(device);
    device.destroy();
  } catch (e) {
    out.error = e instanceof Error ? e.message : String(e);
  }
  self.postMessage(out);
};
