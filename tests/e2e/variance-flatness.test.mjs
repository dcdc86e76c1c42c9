// The variance–flatness pipeline in real Chromium: the quick preset runs to the end, the
// σ²–F view shows ψ, and hovering a mode in one view lights it up in the others.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { openPage, runState, WAIT, openSite, closeSite } from './harness.mjs';

let server;
let browser;
before(async () => ({ server, browser } = await openSite()));
after(() => closeSite({ server, browser }));

test('quick preset: finishes, shows ψ, and linked hover highlights the same mode in the spectrum', async () => {
  const from = server.requests.length;
  const { page, context, errors, foreign } = await openPage(
    browser,
    `${server.url}?preset=quick&autorun=1`,
    server.origin,
  );
  await page.waitForFunction(
    () => document.getElementById('root').dataset.runState === 'done',
    null,
    {
      timeout: WAIT.run,
    },
  );
  const s = await runState(page);
  const r = s.results.sgd;
  assert.ok(r, 'SGD analysis present');
  assert.equal(r.snapshots, 5 * 160, 'one snapshot per step over the 5-epoch window');
  assert.ok(r.modes.length >= 20, `flatness measured for ${r.modes.length} modes`);
  // The inverse relation: variance falls with flatness, its 95% interval above zero (the
  // preset's window was chosen long enough for that: configSchema.ts).
  assert.ok(r.fits.psi.exponent > 1, `ψ = ${r.fits.psi.exponent}`);
  assert.ok(r.fits.psi.ci95[0] > 0, `ψ's interval ${r.fits.psi.ci95}`);
  assert.ok(r.fits.gamma.exponent > 1, `γ = ${r.fits.gamma.exponent}`);
  assert.ok(s.exploration && s.exploration.epoch === 30, 'exploration marked after the warm-up');

  const psiText = await page.getByTestId('psi-value').innerText();
  const shown = Number(/-?\d+(\.\d+)?/.exec(psiText)?.[0]);
  assert.ok(
    Math.abs(shown - r.fits.psi.exponent) < 0.01,
    `ψ shown ${psiText} vs ${r.fits.psi.exponent}`,
  );

  // Hover a mode in the σ²–F view: the spectrum highlights the same rank.
  const rank = r.modes[5].rank;
  await page
    .locator(`[data-figure="variance-flatness"] [data-rank="${rank}"][data-run="sgd"]`)
    .first()
    .hover({ force: true });
  await page.waitForFunction(
    (k) =>
      document.querySelector(`[data-figure="spectrum"] .highlighted[data-rank="${k}"]`) !== null,
    rank,
    { timeout: WAIT.ui },
  );
  const hl = await page
    .locator('[data-figure="spectrum"] .highlighted[data-rank]')
    .getAttribute('data-rank');
  assert.equal(Number(hl), rank);
  // The workers, TensorFlow.js and the digits were loaded on demand (autorun), all from the
  // site itself, the digits gzip-compressed (light-pages.test.mjs checks what loads when).
  assert.deepEqual(foreign, [], 'no request leaves the origin');
  assert.ok(
    server.requests.slice(from).some((u) => u.endsWith('/data/mnist-10k.bin.gz')),
    'the compressed digits',
  );
  assert.deepEqual(errors, [], `console errors: ${errors.join('\n')}`);
  await context.close();
});

test('before anything runs, the page shows the bundled precomputed run with its ψ', async () => {
  const { page, context, errors } = await openPage(browser, server.url, server.origin);
  await page.getByTestId('source-banner').waitFor({ timeout: WAIT.load });
  assert.match(
    await page.getByTestId('source-banner').innerText(),
    /precomputed run of the “(Paper \(Fig\. 2\)|SGD vs Langevin)” preset/,
  );
  // The run panel names the preset of the run on screen (Start reruns what is shown).
  const banner = await page.getByTestId('source-banner').innerText();
  const shown = banner.match(/“(.+?)” preset/)[1];
  await page.waitForFunction(
    (label) => {
      const sel = document.querySelector('.run-panel select');
      return sel && sel.selectedOptions[0]?.textContent === label;
    },
    shown,
    { timeout: WAIT.load },
  );
  await page.waitForFunction(
    () => document.getElementById('root').dataset.runState === 'idle',
    null,
    { timeout: WAIT.load },
  );
  const s = await runState(page);
  assert.ok(s.results.sgd.fits.psi.exponent > 1, 'the bundled run shows the inverse relation');
  assert.match(await page.getByTestId('psi-value').innerText(), /\d\.\d\d/);
  assert.deepEqual(errors, [], errors.join('\n'));
  await context.close();
});

test('invalid URL values fall back to defaults with a notice naming them', async () => {
  const { page, context } = await openPage(
    browser,
    `${server.url}?preset=quick&B=abc&lr=-1&factor=3&seed=7`,
    server.origin,
  );
  const notice = page.getByTestId('url-notices');
  await notice.waitFor({ timeout: WAIT.load });
  const text = await notice.innerText();
  assert.match(text, /B=abc/);
  assert.match(text, /lr=-1/);
  assert.match(text, /factor=3/);
  const cfg = await page.evaluate(() => window.__flatMinima.config());
  assert.equal(cfg.batchSize, 50);
  assert.equal(cfg.lr, 0.1);
  assert.equal(cfg.thresholdFactor, 'e');
  assert.equal(cfg.seed, 7, 'valid values are kept');
  await context.close();
});

test('the Langevin contrast runs after the SGD window: opposite σ²–F slopes, theory for both', async () => {
  const { page, context, errors } = await openPage(
    browser,
    `${server.url}?preset=contrast&warmup=6&window=2&burnL=600&stepsL=1200&everyL=2&autorun=1`,
    server.origin,
  );
  await page.waitForFunction(
    () => ['done', 'error'].includes(document.getElementById('root').dataset.runState),
    null,
    { timeout: WAIT.run },
  );
  const s = await runState(page);
  assert.equal(s.error, null, s.error ?? '');
  assert.equal(s.results.langevin.snapshots, 600, 'every 2nd of 1,200 Langevin steps');
  assert.ok(s.results.sgd.fits.psi.slope < 0, `SGD slope ${s.results.sgd.fits.psi.slope}`);
  assert.ok(
    s.results.langevin.fits.psi.slope > 0,
    `Langevin slope ${s.results.langevin.fits.psi.slope}`,
  );
  assert.ok(s.results.sgd.theory && s.results.langevin.theory, 'theory figures for both runs');
  assert.match(await page.getByTestId('langevin-slope').innerText(), /\+\d/);
  assert.deepEqual(errors, [], errors.join('\n'));
  await context.close();
});
