/**
 * Backend choice: webgpu → webgl → wasm → cpu, but never a software GPU over wasm.
 * Headless Chromium without a GPU offers SwiftShader for both WebGPU and WebGL, 7–100× slower
 * than wasm (NOTES-platform.md), so a GPU backend is taken only when its adapter is real.
 * Every skipped candidate is recorded with its reason so the UI can say why.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-backend-webgpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import {
  backendCandidates,
  screenGpu,
  type BackendChoice,
  type BackendName,
  type BackendOptions,
} from './backendInfo';

export {
  BACKENDS,
  describeAdapter,
  isBackendName,
  type BackendChoice,
  type BackendName,
  type BackendOptions,
  type GpuAdapterLike,
} from './backendInfo';

async function trySet(name: BackendName): Promise<string | null> {
  try {
    const ok = await tf.setBackend(name);
    if (!ok) return `tf.setBackend('${name}') failed`;
    await tf.ready();
    return null;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

/** Sends tfjs's fetches of .wasm files to `f` (tfjs uses its platform's fetch when told to). */
function routeWasmFetch(f: (url: string) => Promise<Response>): void {
  const platform = tf.env().platform;
  const plain = platform.fetch.bind(platform);
  platform.fetch = (path, init, details) =>
    /\.wasm(\?|$)/.test(path) ? f(path) : plain(path, init, details);
}

export async function selectBackend(opts: BackendOptions = {}): Promise<BackendChoice> {
  if (opts.wasmPaths) setWasmPaths(opts.wasmPaths, Boolean(opts.wasmFetch));
  if (opts.wasmFetch) routeWasmFetch(opts.wasmFetch);
  // Single-threaded by design: the page runs without cross-origin isolation (no
  // SharedArrayBuffer) and its workers already use the cores (README); the threaded binary is
  // not shipped, so tfjs must not reach for it.
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  const skipped: BackendChoice['skipped'] = [];
  const candidates = backendCandidates(opts);
  for (const name of candidates) {
    const forced = opts.forced === name;
    let device: string | undefined;
    if (name === 'webgpu' || name === 'webgl') {
      const gpu = await screenGpu(name, forced);
      device = gpu.device;
      if (gpu.skip) {
        skipped.push({ name, reason: gpu.skip });
        continue;
      }
    }
    const err = await trySet(name);
    if (err) {
      skipped.push({ name, reason: err });
      continue;
    }
    if ((name === 'webgpu' || name === 'webgl') && !forced && opts.probe) {
      const gpuRate = await opts.probe();
      const wasmErr = await trySet('wasm');
      if (!wasmErr) {
        const wasmRate = await opts.probe();
        const rates = `${Math.round(gpuRate)} vs ${Math.round(wasmRate)} steps/s`;
        if (wasmRate > gpuRate) {
          skipped.push({
            name,
            reason: `hardware GPU (${device}) measured slower than wasm for this network: ${rates}`,
          });
          return {
            name: 'wasm',
            reason: `fastest measured (wasm ${Math.round(wasmRate)} steps/s, ${name} ${Math.round(gpuRate)})`,
            skipped,
          };
        }
        await trySet(name);
        return {
          name,
          reason: `hardware GPU: ${device}; fastest measured (${name} ${rates} on wasm)`,
          skipped,
          device,
        };
      }
    }
    const reason = forced
      ? `forced by ?backend=${name}`
      : name === 'webgpu' || name === 'webgl'
        ? `hardware GPU: ${device}`
        : name === 'wasm'
          ? 'fastest CPU backend (single thread)'
          : 'last resort: plain JavaScript';
    return { name, reason, skipped, device };
  }
  throw new Error(
    `No TensorFlow.js backend could start: ${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}`,
  );
}
