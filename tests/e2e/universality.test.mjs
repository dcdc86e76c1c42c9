// Section 7 in real Chromium: the optimizer comparison (SGD, momentum, Adam) runs in the trainer
// worker and overlays three σ²–F series with ψ in the legend; the width sweep draws D_s and D_L
// against the parameter count, and a started sweep can be cancelled.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openPage, serveDist } from './harness.mjs';

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

test('optimizer comparison and width sweep run from the page; cancel stops a sweep', async () => {
  const { page, context, errors, foreign } = await openPage(
    browser,
    `${server.url}?h=20&B=100`,
    server.origin,
  );
  await page.waitForFunction(() => window.__flatMinima.run().dataset !== null, null, {
    timeout: 60_000,
  });
  await page.locator('[data-testid="universality-optimizers-start"]').click();
  const progress = page.locator('[data-testid="universality-optimizers-progress"]');
  await page.waitForFunction(
    () =>
      document.querySelector('[data-testid="universality-optimizers-progress"]')?.textContent ===
      'Done: 3 runs.',
    null,
    { timeout: 240_000 },
  );
  assert.equal(await progress.textContent(), 'Done: 3 runs.');
  const fig = page.locator('[data-figure="optimizer-comparison"]');
  const legend = await fig.locator('.fm-legend [data-optimizer]').allTextContents();
  assert.equal(legend.length, 3, legend.join(' | '));
  for (const t of legend) assert.match(t, /ψ = −?\d/);
  assert.ok((await fig.locator('circle.fm-pt').count()) > 30);

  // Cancel: start the width sweep and cancel it at once.
  await page.locator('[data-testid="universality-widths-start"]').click();
  await page.locator('[data-testid="universality-widths-cancel"]').click();
  await page.waitForFunction(
    () =>
      document.querySelector('[data-testid="universality-widths-progress"]')?.textContent ===
      'Cancelled.',
    null,
    { timeout: 60_000 },
  );
  // Then the full sweep.
  await page.locator('[data-testid="universality-widths-start"]').click();
  await page.waitForFunction(
    () =>
      document.querySelector('[data-testid="universality-widths-progress"]')?.textContent ===
      'Done: 4 runs.',
    null,
    { timeout: 300_000 },
  );
  const dims = page.locator('[data-figure="effective-dimension"]');
  assert.equal(await dims.locator('[data-series] path').count(), 3);
  assert.equal(await dims.locator('[data-series="Ds"] circle').count(), 4);
  console.log(await dims.locator('.fm-readout').textContent());
  console.log(await fig.locator('.fm-readout').textContent());
  assert.deepEqual(errors, []);
  assert.deepEqual(foreign, []);
  await context.close();
});
