// The `webgpu` case of `npm run bench` (`npm run bench -- --only webgpu`): the fused WGSL
// trainer in a Chromium worker (bench.html?mode=webgpu), beside the tfjs WebGPU step and the
// wasm SIMD step in the same worker. Headless Chromium here offers only the SwiftShader software
// adapter: the record of what the fused step removes (dispatches), not a GPU's speed. A real
// GPU is measured through Dawn for Node (scripts/gpu-check/fused.ts). Writes
// bench-results/webgpu.json.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { launch, openPage, serveDist, WAIT } from '../tests/e2e/harness.mjs';

export async function main(args) {
  const sIdx = args.indexOf('--seconds');
  const seconds = sIdx >= 0 ? Number(args[sIdx + 1]) : 2;
  // E2E_DIST names another build (as for the browser tests); dist/ is built when missing.
  const dist = process.env.E2E_DIST || 'dist';
  if (!existsSync(`${dist}/bench.html`) || args.includes('--rebuild'))
    spawnSync('npx', ['vite', 'build', '--logLevel', 'warn', '--outDir', dist], {
      stdio: 'inherit',
    });
  const server = await serveDist(dist);
  const browser = await launch([
    '--enable-unsafe-webgpu',
    '--enable-features=Vulkan',
    '--use-webgpu-adapter=swiftshader',
  ]);
  try {
    const { page } = await openPage(
      browser,
      `${server.url}bench.html?mode=webgpu&seconds=${seconds}`,
      server.origin,
    );
    await page.waitForFunction(() => window.__webgpuBench !== undefined, null, {
      timeout: WAIT.run,
    });
    const r = await page.evaluate(() => window.__webgpuBench);
    if (r.error) throw new Error(`webgpu bench: ${r.error}`);
    const result = {
      adapter: r.adapter,
      wasm: r.wasm,
      tfjsWebgpu: r.tfjsWebgpu,
      fused: r.fused,
      ensembles: r.ensembles,
      check: r.check,
      split: r.split,
      forgetting: r.forgetting,
    };
    const f = (x) => x.toFixed(0).padStart(8);
    console.log(`\nWebGPU, B = 50, h = 50, adapter: ${r.adapter}`);
    console.log(`wasm SIMD step (one core)       ${f(r.wasm?.stepsPerSec ?? NaN)} steps/s`);
    console.log(`tfjs WebGPU step                ${f(r.tfjsWebgpu.stepsPerSec)} steps/s`);
    console.log(`fused WGSL step                 ${f(r.fused.stepsPerSec)} steps/s`);
    for (const e of r.ensembles)
      console.log(
        `fused ensemble of ${String(e.runs).padEnd(4)}         ${f(e.runStepsPerSec)} run-steps/s`,
      );
    console.log(`split fused WGSL step           ${f(r.split.fused.stepsPerSec)} steps/s`);
    for (const e of r.split.ensembles)
      console.log(
        `split ensemble of ${String(e.runs).padEnd(4)}         ${f(e.runStepsPerSec)} run-steps/s`,
      );
    for (const e of r.forgetting?.speed ?? [])
      console.log(
        `task-2 W2 ensemble of ${String(e.runs).padEnd(4)}     ${f(e.runStepsPerSec)} run-steps/s`,
      );
    console.log(
      `fused / tfjs WebGPU: ${(r.fused.stepsPerSec / r.tfjsWebgpu.stepsPerSec).toFixed(1)}×`,
    );
    mkdirSync('bench-results', { recursive: true });
    writeFileSync('bench-results/webgpu.json', JSON.stringify(result, null, 1));
    console.log('wrote bench-results/webgpu.json');
  } finally {
    await browser.close();
    await server.close();
  }
}
