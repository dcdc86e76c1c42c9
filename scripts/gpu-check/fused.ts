// The fused WGSL trainer through Dawn for Node (npm `webgpu`), for a machine with a real GPU and
// no browser (scripts/gpu-check/prepare.sh packs it): src/bench/fusedBench.ts's checks and
// speeds of both layouts — one workgroup per run (FusedMlpEnsemble) and one step split over
// many workgroups (FusedMlpSplit) — beside the wasm SIMD step on this machine's CPU (one core).
//   ./node fused.mjs mnist-10k.bin [seconds per measurement, 2] [all]
// prints one JSON line after each part (so a cut-off run still reports), the full object last;
// `all` adds the older table (256 threads, plain loads, 32 and 128 runs).
// Built by prepare.sh only (it fetches `webgpu`), so it is outside tsc and eslint.
import './gpuGlobals';
import { readFileSync } from 'node:fs';
import { loadEmbeddedDataset } from '../../src/engine/data/embedded';
import { MinibatchSampler } from '../../src/engine/data/batches';
import { initMlp } from '../../src/engine/nets/mlp';
import { benchFused, checkFused } from '../../src/bench/fusedBench';
import { chooseFusedLayout } from '../../src/engine/nets/webgpu/fusedTrainer';

const t00 = performance.now();
const data = loadEmbeddedDataset(readFileSync(process.argv[2] ?? 'mnist-10k.bin'));
const seconds = Number(process.argv[3] ?? 2);
const all = process.argv.includes('all');
const out: Record<string, unknown> = {};
const report = (part: string) =>
  console.log(
    JSON.stringify({ part, elapsedS: +((performance.now() - t00) / 1000).toFixed(1), ...out }),
  );
/** Runs one part; a failure is recorded under its name and the later parts still run. */
async function part(name: string, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    out[`${name}Error`] = e instanceof Error ? e.message : String(e);
  }
  report(name);
}
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
const step = (s: {
  fused: { stepsPerSec: number };
  ensembles: { runs: number; runStepsPerSec: number }[];
}) => Object.fromEntries(s.ensembles.map((e) => [`R${e.runs}`, Math.round(e.runStepsPerSec)]));

// 1. Correctness: six steps against the float64 reference (reference.ts), ensembles of three
//    against the same runs alone; both layouts.
await part('checks', async () => {
  out.checkWorkgroup = await checkFused(device, data.train, { workgroupSize: big });
  out.checkSplit = await checkFused(device, data.train, { layout: 'split' });
  if (big > 256)
    out[`checkSplit${big}`] = await checkFused(device, data.train, {
      layout: 'split',
      workgroupSize: big,
    });
});

// 2. wasm SIMD on this machine's CPU, one core: the bar a single GPU run has to clear.
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
    out.wasm = { stepsPerSec: Math.round(n / ((performance.now() - t0) / 1000)) };
    net.dispose();
  }
} catch (e) {
  out.wasm = { error: String(e) };
}
report('wasm');

// 3. Speeds, run-steps per second for 1 and 8 runs (B = 50, h = 50, 64 steps per submission,
//    two submissions in flight): the one-workgroup kernel with `big` threads, then the split
//    layout with 256 threads per workgroup (the default) and with `big`.
const speeds: Record<string, Record<string, number>> = {};
out.speeds = speeds;
await part('workgroup', async () => {
  speeds[`workgroup${big}`] = step(
    await benchFused(device, data.train, seconds, [1, 8], { workgroupSize: big }),
  );
});
for (const wg of [256, 64, 128, big].filter((w, i, a) => w <= big && a.indexOf(w) === i))
  await part(`split${wg}`, async () => {
    speeds[`split${wg}`] = step(
      await benchFused(device, data.train, seconds, [1, 8], { layout: 'split', workgroupSize: wg }),
    );
  });

// 4. What createFastestFusedTrainer would pick for one run here (a few timed chunks of each).
await part('choice', async () => {
  const c = await chooseFusedLayout(device, data.train, [
    { weights: initMlp(50, 0), lr: 0.1, batchSize: 50, seed: 0 },
  ]);
  out.choiceForOneRun = {
    layout: c.layout,
    workgroup: Math.round(c.runStepsPerSec.workgroup),
    split: Math.round(c.runStepsPerSec.split),
  };
});

if (all)
  await part('all', async () => {
    speeds.workgroup256 = step(await benchFused(device, data.train, seconds, [1, 8, 32, 128]));
    speeds[`workgroup${big}Many`] = step(
      await benchFused(device, data.train, seconds, [32, 128], { workgroupSize: big }),
    );
    speeds[`workgroup${big}Plain`] = step(
      await benchFused(device, data.train, seconds, [1, 32], { workgroupSize: big, tiled: false }),
    );
    speeds.split256Many = step(
      await benchFused(device, data.train, seconds, [32, 128], { layout: 'split' }),
    );
  });
const wasm = (out.wasm as { stepsPerSec?: number }).stepsPerSec;
if (wasm)
  out.oneRunOverWasm = Object.fromEntries(
    Object.entries(speeds).map(([k, v]) => [k, +((v.R1 ?? NaN) / wasm).toFixed(2)]),
  );
out.totalSeconds = +((performance.now() - t00) / 1000).toFixed(1);
console.log(JSON.stringify(out, null, 1));
process.exit(0);
