// The variance–flatness pipeline in real Chromium: the quick preset runs to the end, the
// σ²–F view shows ψ, and hovering a mode in one view lights it up in the others.
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

test('quick preset: finishes, shows ψ, and linked hover highlights the same mode in the spectrum', async () => {
  const { page, context, errors } = await openPage(browser, `${server.url}?preset=quick&autorun=1`, server.origin);
  await page.waitForFunction(() => document.getElementById('root').dataset.runState === 'done', null, {
    timeout: 300_000,
  });
  const s = await runState(page);
  const r = s.results.sgd;
  assert.ok(r, 'SGD analysis present');
  assert.equal(r.snapshots, 3 * 160, 'one snapshot per step over the 3-epoch window');
  assert.ok(r.modes.length >= 20, `flatness measured for ${r.modes.length} modes`);
  // The inverse relation: variance falls with flatness.
  assert.ok(r.fits.psi.exponent > 1, `ψ = ${r.fits.psi.exponent}`);
  assert.ok(r.fits.gamma.exponent > 1, `γ = ${r.fits.gamma.exponent}`);
  assert.ok(s.exploration && s.exploration.epoch === 8, 'exploration marked after the warm-up');

  const psiText = await page.getByTestId('psi-value').innerText();
  const shown = Number(/-?\d+(\.\d+)?/.exec(psiText)?.[0]);
  assert.ok(Math.abs(shown - r.fits.psi.exponent) < 0.01, `ψ shown ${psiText} vs ${r.fits.psi.exponent}`);

  // Hover a mode in the σ²–F view: the spectrum highlights the same rank.
  const rank = r.modes[5].rank;
  await page.locator(`[data-figure="variance-flatness"] [data-rank="${rank}"][data-run="sgd"]`).first().hover({ force: true });
  await page.waitForFunction(
    (k) => document.querySelector(`[data-figure="spectrum"] .highlighted[data-rank="${k}"]`) !== null,
    rank,
    { timeout: 5_000 },
  );
  const hl = await page.locator('[data-figure="spectrum"] .highlighted[data-rank]').getAttribute('data-rank');
  assert.equal(Number(hl), rank);
  assert.deepEqual(errors, [], `console errors: ${errors.join('\n')}`);
  await context.close();
});
