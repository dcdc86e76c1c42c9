// Section 5b in real Chromium: the bundled noise-shaping result is drawn before anything runs,
// with the verdict computed from it; the reader's run of the four methods goes through the
// trainer worker and replaces it. The with/without-replacement pair is drawn from its bundle.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { openPage, WAIT, openSite, closeSite } from './harness.mjs';

let server;
let browser;
before(async () => ({ server, browser } = await openSite()));
after(() => closeSite({ server, browser }));

test('noise shaping: precomputed result first, then the reader’s run', async () => {
  // A small network keeps the four runs quick (the budget is the engine's default).
  const { page, context, errors } = await openPage(browser, `${server.url}?h=10`, server.origin);
  const fig = page.locator('[data-figure="noise-shaping"]');
  await fig.waitFor({ timeout: WAIT.load });
  assert.equal(await fig.locator('.fm-empty').count(), 0, 'the bundled runs are drawn');
  assert.equal(await fig.locator('table tbody tr').count(), 4);
  const verdict = page.getByTestId('noise-shaping-verdict');
  assert.match(await verdict.textContent(), /What these runs show/);
  // The bundled with/without-replacement pair, with what changed in words.
  const sampling = page.locator('[data-figure="sampling-comparison"]');
  assert.equal(await sampling.locator('.fm-empty').count(), 0);
  assert.equal(await sampling.locator('table tbody tr').count(), 2);
  assert.match(await page.getByTestId('sampling-verdict').textContent(), /ψ = \d\.\d\d without/);
  await page.waitForFunction(() => window.__flatMinima.run().dataset !== null, null, {
    timeout: WAIT.load,
  });
  await page.getByTestId('noise-shaping-start').click();
  await page.waitForFunction(
    () =>
      document.querySelector('[data-testid="noise-shaping-progress"]')?.textContent ===
      'Done: the figure shows your run.',
    null,
    { timeout: WAIT.run },
  );
  assert.equal(await fig.locator('table tbody tr').count(), 4);
  assert.match(await fig.textContent(), /run on this page/);
  assert.match(await verdict.textContent(), /exploration phase/);
  assert.deepEqual(errors, []);
  await context.close();
});
