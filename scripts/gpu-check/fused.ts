// The fused WGSL trainer through Dawn for Node (npm `webgpu`), for a machine with a real GPU and
// no browser (scripts/gpu-check/prepare.sh packs it): src/bench/fusedBench.ts's checks and
// speeds, beside the wasm SIMD step on this machine's CPU (one core). Prints one JSON object.
// Built by prepare.sh only (it fetches `webgpu`), so it is outside tsc and eslint.
import './gpuGlobals';
import { readFileSync } from 'node:fs';
import { loadEmbeddedDataset } from '../../src/engine/data/embedded';
import { MinibatchSampler } from '../../src/engine/data/batches';
import { initMlp } from '../../src/engine/nets/mlp';
import { benchFused, checkFused } from '../../src/bench/fusedBench';

const data = loadEmbeddedDataset(readFileSync(process.argv[2] ?? 'mnist-10k.bin'));
const seconds = Number(process.argv[3] ?? 3);
const out: Record<string, unknown> = {};
const gpu = (navigator as unknown as { gpu: GPU }).gpu;
const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
if (!adapter) {
  console.log(JSON.stringify({ error: 'no WebGPU adapter' }));
  process.exit(1);
}
const info = adapter.info;
out.adapter = [info.vendor, info.architecture, info.device, info.description]
  .filter(Boolean)
  .join(' ');
const l = adapter.limits;
const device = await adapter.requestDevice({
  requiredLimits: {
    maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
    maxBufferSize: l.maxBufferSize,
    maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
    maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
  },
});
const big = Math.min(1024, l.maxComputeInvocationsPerWorkgroup, l.maxComputeWorkgroupSizeX);
out.check = await checkFused(device, data.train);
out[`check${big}`] = await checkFused(device, data.train, big);
console.log(JSON.stringify(out));
// The tiled kernel with 256 threads per run (WebGPU's guaranteed minimum), then with `big`,
// then the plain-load kernel for comparison.
Object.assign(out, await benchFused(device, data.train, seconds));
console.log(JSON.stringify(out));
if (big > 256) {
  out[`wg${big}`] = await benchFused(device, data.train, seconds, [1, 8, 32, 128], big);
  out[`wg${big}Plain`] = await benchFused(device, data.train, seconds, [1, 32], big, false);
}
console.log(JSON.stringify(out));

// 4. wasm SIMD on this machine's CPU, one core, for comparison.
try {
  const { SimdMlp } = await import('../../src/engine/nets/simdMlp');
  if (SimdMlp.available(50)) {
    const net = new SimdMlp(initMlp(50, 0));
    const s = new MinibatchSampler(data.train.count, 50, 0);
    const idx = new Uint32Array(50);
    for (let i = 0; i < 50; i++) {
      s.nextInto(idx);
      net.stepIndicesSync(data.train, idx, 50, 0.1);
    }
    let n = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < seconds * 1000) {
      s.nextInto(idx);
      net.stepIndicesSync(data.train, idx, 50, 0.1);
      n++;
    }
    out.wasm = { stepsPerSec: n / ((performance.now() - t0) / 1000) };
    net.dispose();
  }
} catch (e) {
  out.wasm = { error: String(e) };
}
console.log(JSON.stringify(out, null, 1));
process.exit(0);
