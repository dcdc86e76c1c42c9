// The WebGPU path: Chromium with --enable-unsafe-webgpu offers a software (SwiftShader) adapter
// here. Forced with ?backend=webgpu, a short run must match the wasm run's losses to float32
// tolerance. Speed is not judged on a software adapter.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openPage, runState, serveDist, WAIT } from './harness.mjs';

let server;
let browser;
before(async () => {
  server = await serveDist();
  browser = await launch([
    '--enable-unsafe-webgpu',
    '--enable-features=Vulkan',
    '--use-webgpu-adapter=swiftshader',
  ]);
});
after(async () => {
  await browser?.close();
  await server?.close();
});

async function firstEpochs(backend) {
  const query = `?preset=quick&backend=${backend}&B=100&warmup=2&window=1&autorun=1`;
  const { page, context, errors } = await openPage(browser, `${server.url}${query}`, server.origin);
  await page.waitForFunction(
    () => window.__flatMinima.run().epochs.length >= 3 || window.__flatMinima.run().error,
    null,
    {
      timeout: WAIT.run,
    },
  );
  const s = await runState(page);
  const chosen = await page.locator('#root').getAttribute('data-backend');
  await context.close();
  return { s, chosen, errors };
}

test('forced WebGPU (software adapter) trains to the same losses as wasm', async (t) => {
  const gpu = await firstEpochs('webgpu');
  if (gpu.s.error && /No TensorFlow.js backend could start/.test(gpu.s.error)) {
    t.skip(`this Chromium offers no WebGPU adapter: ${gpu.s.error}`);
    return;
  }
  assert.equal(gpu.chosen, 'webgpu');
  assert.equal(gpu.s.error, null, gpu.s.error ?? '');
  const cpu = await firstEpochs('wasm');
  assert.equal(cpu.chosen, 'wasm');
  for (let e = 0; e < 3; e++) {
    const a = gpu.s.epochs[e];
    const b = cpu.s.epochs[e];
    assert.equal(a.step, b.step);
    assert.ok(
      Math.abs(a.trainLoss - b.trainLoss) <= 2e-3 * b.trainLoss,
      `epoch ${e}: webgpu ${a.trainLoss} vs wasm ${b.trainLoss}`,
    );
    assert.ok(Math.abs(a.testLoss - b.testLoss) <= 2e-3 * b.testLoss, `epoch ${e}: test loss`);
  }
  assert.deepEqual(gpu.errors, [], gpu.errors.join('\n'));
});
