/**
 * bench.html: runs the training benchmark in a worker of this browser and shows the table.
 * `?backends=wasm,webgl,cpu&seconds=2`; results also land in `window.__bench` for scripts.
 * `?mode=webgpu&seconds=2`: the fused WGSL trainer's checks and speeds (`window.__webgpuBench`).
 */
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import { EMBEDDED_ASSET_PATH } from '../engine/data/embedded';
import type { StepBenchRow } from './trainingBench';
import type { WebGpuBenchResult } from './webgpu.worker';

declare global {
  interface Window {
    __bench?: { rows: StepBenchRow[]; notes: string[] };
    __webgpuBench?: WebGpuBenchResult;
  }
}

const abs = (u: string) => new URL(u, document.baseURI).href;
const params = new URLSearchParams(location.search);
const backends = (params.get('backends') ?? 'wasm,webgl,webgpu,cpu').split(',');
const seconds = Number(params.get('seconds') ?? 2);
const out = document.getElementById('out')!;
const wasmPaths = {
  'tfjs-backend-wasm.wasm': abs(wasmPlain),
  'tfjs-backend-wasm-simd.wasm': abs(wasmSimd),
  // tfjs wants all three names; threads are off, so this one is never fetched and the
  // threaded binary is not shipped (README, "No isolation headers").
  'tfjs-backend-wasm-threaded-simd.wasm': abs(wasmSimd),
};
if (params.get('mode') === 'webgpu') {
  out.textContent = `Checking the fused WebGPU trainer${seconds > 0 ? ` and measuring it (${seconds} s each)` : ''}…`;
  const w = new Worker(new URL('./webgpu.worker.ts', import.meta.url), { type: 'module' });
  w.onmessage = (e: MessageEvent<WebGpuBenchResult>) => {
    window.__webgpuBench = e.data;
    out.textContent = JSON.stringify(e.data, null, 1);
  };
  w.postMessage({ dataUrl: abs(EMBEDDED_ASSET_PATH), wasmPaths, seconds });
} else {
  out.textContent = `Measuring ${backends.join(', ')} (${seconds} s each)…`;
  const worker = new Worker(new URL('./bench.worker.ts', import.meta.url), { type: 'module' });
  worker.onmessage = (e: MessageEvent<{ rows: StepBenchRow[]; notes: string[] }>) => {
    window.__bench = e.data;
    const plain = e.data.rows.find((r) => r.impl === 'plain-loop')?.stepsPerSecond ?? NaN;
    out.textContent = [
      'where            backend                     step                 steps/s   × plain loop',
      ...e.data.rows.map(
        (r) =>
          `${r.where.padEnd(16)} ${r.backend.slice(0, 27).padEnd(27)} ${r.impl.padEnd(20)} ${r.stepsPerSecond.toFixed(0).padStart(7)}   ${(r.stepsPerSecond / plain).toFixed(2)}`,
      ),
      ...e.data.notes.map((n) => `skipped: ${n}`),
    ].join('\n');
  };
  worker.postMessage({
    dataUrl: abs(EMBEDDED_ASSET_PATH),
    wasmPaths,
    backends,
    seconds,
  });
}
