// The foundation in real headless Chromium: load, backend, training, responsiveness, bad data.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { openPage, runState, WAIT, openSite, closeSite, crashWorker } from './harness.mjs';

let server;
let browser;
before(async () => ({ server, browser } = await openSite()));
after(() => closeSite({ server, browser }));

test('the built site loads from a sub-path, picks a CPU backend and trains in its workers with falling loss', async () => {
  const { page, context, errors, foreign } = await openPage(
    browser,
    `${server.url}?preset=quick&warmup=6&window=2&modes=8&autorun=1`,
    server.origin,
  );
  const root = page.locator('#root');
  await page.waitForFunction(() => document.getElementById('root').dataset.backend !== '', null, {
    timeout: WAIT.load,
  });
  const backend = await root.getAttribute('data-backend');
  assert.ok(['wasm', 'cpu'].includes(backend), `backend ${backend}`);
  assert.match(await page.getByTestId('backend-badge').innerText(), /wasm|cpu/);
  await page.waitForFunction(
    () => document.getElementById('root').dataset.runState === 'training',
    null,
    {
      timeout: WAIT.load,
    },
  );
  await page.waitForFunction(() => window.__flatMinima.run().epochs.length >= 6, null, {
    timeout: WAIT.run,
  });
  await page.waitForFunction(
    () => (window.__flatMinima.run().progress?.stepsPerSecond ?? 0) > 0,
    null,
    { timeout: WAIT.run },
  );
  const s = await runState(page);
  const first = s.epochs[0];
  const last = s.epochs[s.epochs.length - 1];
  assert.ok(last.trainLoss < first.trainLoss * 0.5, `loss ${first.trainLoss} → ${last.trainLoss}`);
  assert.ok(last.trainError < first.trainError, 'error falls');
  assert.ok(s.minibatch.length > 3, 'minibatch losses stream');
  assert.ok(s.progress.stepsPerSecond > 0, 'steps/s reported');
  // What runs where (DESIGN.md): the data and the training step live in the trainer worker,
  // the analysis worker runs the project's own kernels (both started on demand,
  // src/ui/workers.ts: here by autorun); the page's thread never loads them,
  // so training cannot hold up drawing. On the project's SIMD step the trainer loads no
  // TensorFlow.js either (src/worker/tfLazy.ts); a CPU without SIMD trains on tfjs's step. How long the page's
  // own tasks take depends on the machine's load: that figure is in `npm run bench`, with its goal.
  const main = await page.evaluate(() => ({
    engine: '_tfengine' in window,
    fetched: performance
      .getEntriesByType('resource')
      .map((e) => e.name)
      // The digits (.bin, .bin.gz) and wasm; the bundled results (*.json-<hash>.gz) are the
      // page's own to draw.
      .filter((n) => /\.(wasm|bin|bin\.gz)$/.test(n)),
  }));
  assert.equal(main.engine, false, 'no TensorFlow.js engine on the main thread');
  assert.deepEqual(main.fetched, [], 'no wasm or training data fetched by the main thread');
  const workers = {};
  for (const w of page.workers()) {
    const r = await w.evaluate(() => ({
      name: self.name,
      backend: self._tfengine?.backendName ?? null,
      fetched: performance
        .getEntriesByType('resource')
        .map((e) => e.name.split('/').pop())
        // The digits (.bin, .bin.gz) and wasm; the bundled results (*.json-<hash>.gz) are the
        // page's own to draw.
        .filter((n) => /\.(wasm|bin|bin\.gz)$/.test(n)),
    }));
    workers[r.name] = r;
  }
  assert.deepEqual(Object.keys(workers).sort(), ['analysis', 'trainer'], 'two workers');
  if (s.stepImpl === 'wasm-simd')
    assert.equal(workers.trainer.backend, null, 'the SIMD step trains without TensorFlow.js');
  else assert.equal(workers.trainer.backend, backend, 'the trainer worker runs the backend shown');
  // The analysis runs the project's own kernels: no TensorFlow.js engine in its worker.
  assert.equal(workers.analysis.backend, null, 'the analysis worker holds no TensorFlow.js');
  assert.ok(
    workers.trainer.fetched.includes('mnist-10k.bin.gz'),
    `the trainer loaded the (compressed) data: ${workers.trainer.fetched}`,
  );
  if (backend === 'wasm') {
    const wasm = [...workers.trainer.fetched, ...workers.analysis.fetched].filter((n) =>
      n.endsWith('.wasm'),
    );
    assert.deepEqual(
      workers.analysis.fetched.filter((n) => n.endsWith('.wasm')),
      [],
      'the analysis worker fetches no tfjs wasm',
    );
    // The SIMD step's module is built into the trainer's script; tfjs's .wasm comes only with
    // a tfjs step, and then once.
    assert.equal(
      wasm.length,
      s.stepImpl === 'wasm-simd' ? 0 : 1,
      `wasm fetched for step ${s.stepImpl}: ${wasm}`,
    );
  }
  assert.deepEqual(errors, [], `console errors: ${errors.join('\n')}`);
  assert.deepEqual(foreign, [], 'no request leaves the origin');
  await context.close();
});

test('a bad IDX file gets a message naming it and the embedded data stays loaded', async () => {
  const { page, context } = await openPage(browser, server.url, server.origin);
  await page.waitForFunction(() => window.__flatMinima.run().dataset !== null, null, {
    timeout: WAIT.load,
  });
  const header = new Uint8Array([0, 0, 8, 1, 0, 0, 0, 3, 1, 2, 12]); // labels file with a label of 12
  await page.getByTestId('idx-input').setInputFiles([
    {
      name: 'train-labels-idx1-ubyte',
      mimeType: 'application/octet-stream',
      buffer: Buffer.from(header),
    },
  ]);
  const msg = page.getByTestId('dataset-error');
  await msg.waitFor({ timeout: WAIT.ui });
  const text = await msg.innerText();
  assert.match(text, /train-labels-idx1-ubyte/);
  const s = await runState(page);
  assert.equal(s.dataset.source, 'embedded');
  assert.equal(s.dataset.trainCount, 8000);
  await context.close();
});

test('a crashed worker is reported and can be restarted without reloading the page', async () => {
  const { page, context } = await openPage(
    browser,
    `${server.url}?preset=quick&warmup=40`,
    server.origin,
  );
  await page.waitForFunction(() => window.__flatMinima.run().dataset !== null, null, {
    timeout: WAIT.load,
  });
  await crashWorker(page, 'trainer');
  await page.waitForFunction(
    () => document.getElementById('root').dataset.runState === 'error',
    null,
    { timeout: WAIT.ui },
  );
  const alert = page.getByRole('alert').filter({ hasText: 'crashed' });
  assert.match(await alert.innerText(), /training worker crashed/);
  await page.getByRole('button', { name: 'Restart workers' }).click();
  await page.waitForFunction(
    () => document.getElementById('root').dataset.runState === 'idle',
    null,
    { timeout: WAIT.load },
  );
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await page.waitForFunction(() => window.__flatMinima.run().epochs.length >= 2, null, {
    timeout: WAIT.run,
  });
  await context.close();
});

test('a diverging learning rate stops with a clear message and the page keeps working', async () => {
  const { page, context, errors } = await openPage(
    browser,
    `${server.url}?preset=quick&lr=1000&autorun=1`,
    server.origin,
  );
  await page.waitForFunction(
    () => document.getElementById('root').dataset.runState === 'error',
    null,
    { timeout: WAIT.run },
  );
  const msg = await page.getByRole('alert').first().innerText();
  assert.match(msg, /learning rate α = 1000 made the weights diverge at step \d+/);
  assert.match(msg, /Lower α/);
  // Still usable: back to a sane α and run again.
  const lr = page.getByLabel('Learning rate α');
  await lr.fill('0.1');
  await lr.press('Enter');
  await page.getByRole('button', { name: 'Run again' }).click();
  await page.waitForFunction(
    () => window.__flatMinima.run().epochs.length >= 2 && !window.__flatMinima.run().error,
    null,
    { timeout: WAIT.run },
  );
  assert.deepEqual(errors, [], errors.join('\n'));
  await context.close();
});
