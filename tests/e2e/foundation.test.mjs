// The foundation in real headless Chromium: load, backend, training, responsiveness, bad data.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openPage, runState, serveDist } from './harness.mjs';

let server;
let browser;
before(async () => {
  server = await serveDist();
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await server?.close();
});

test('the built site loads from a sub-path, picks a CPU backend and trains with falling loss', async () => {
  const { page, context, errors, foreign } = await openPage(
    browser,
    `${server.url}?preset=quick&warmup=6&window=2&modes=8&autorun=1`,
    server.origin,
  );
  // Long tasks on the UI thread, observed from the start of the page.
  await page.evaluate(() => {
    window.__longTasks = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__longTasks.push(e.duration);
    }).observe({ type: 'longtask', buffered: false });
  });
  const root = page.locator('#root');
  await page.waitForFunction(() => document.getElementById('root').dataset.backend !== '', null, {
    timeout: 60_000,
  });
  const backend = await root.getAttribute('data-backend');
  assert.ok(['wasm', 'cpu'].includes(backend), `backend ${backend}`);
  assert.match(await page.getByTestId('backend-badge').innerText(), /wasm|cpu/);
  await page.waitForFunction(
    () => document.getElementById('root').dataset.runState === 'training',
    null,
    {
      timeout: 60_000,
    },
  );
  await page.waitForFunction(() => window.__flatMinima.run().epochs.length >= 6, null, {
    timeout: 120_000,
  });
  await page.waitForFunction(
    () => (window.__flatMinima.run().progress?.stepsPerSecond ?? 0) > 0,
    null,
    { timeout: 30_000 },
  );
  const longTasksWhileTraining = await page.evaluate(() => window.__longTasks.slice());
  const s = await runState(page);
  const first = s.epochs[0];
  const last = s.epochs[s.epochs.length - 1];
  assert.ok(last.trainLoss < first.trainLoss * 0.5, `loss ${first.trainLoss} → ${last.trainLoss}`);
  assert.ok(last.trainError < first.trainError, 'error falls');
  assert.ok(s.minibatch.length > 3, 'minibatch losses stream');
  assert.ok(s.progress.stepsPerSecond > 0, 'steps/s reported');
  assert.deepEqual(
    longTasksWhileTraining.filter((d) => d > 100),
    [],
    `long tasks on the main thread while training: ${longTasksWhileTraining.join(', ')}`,
  );
  assert.deepEqual(errors, [], `console errors: ${errors.join('\n')}`);
  assert.deepEqual(foreign, [], 'no request leaves the origin');
  await context.close();
});

test('a bad IDX file gets a message naming it and the embedded data stays loaded', async () => {
  const { page, context } = await openPage(browser, server.url, server.origin);
  await page.waitForFunction(() => window.__flatMinima.run().dataset !== null, null, {
    timeout: 60_000,
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
  await msg.waitFor({ timeout: 30_000 });
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
    timeout: 60_000,
  });
  await page.evaluate(() => window.__flatMinima.crashTrainer());
  await page.waitForFunction(
    () => document.getElementById('root').dataset.runState === 'error',
    null,
    { timeout: 30_000 },
  );
  const alert = page.getByRole('alert').filter({ hasText: 'crashed' });
  assert.match(await alert.innerText(), /training worker crashed/);
  await page.getByRole('button', { name: 'Restart workers' }).click();
  await page.waitForFunction(
    () => document.getElementById('root').dataset.runState === 'idle',
    null,
    { timeout: 60_000 },
  );
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await page.waitForFunction(() => window.__flatMinima.run().epochs.length >= 2, null, {
    timeout: 60_000,
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
    { timeout: 60_000 },
  );
  const msg = await page.getByRole('alert').first().innerText();
  assert.match(msg, /diverged at step \d+/);
  assert.match(msg, /lower α/);
  // Still usable: back to a sane α and run again.
  const lr = page.getByLabel('Learning rate α');
  await lr.fill('0.1');
  await lr.press('Enter');
  await page.getByRole('button', { name: 'Run again' }).click();
  await page.waitForFunction(
    () => window.__flatMinima.run().epochs.length >= 2 && !window.__flatMinima.run().error,
    null,
    { timeout: 60_000 },
  );
  assert.deepEqual(errors, [], errors.join('\n'));
  await context.close();
});
