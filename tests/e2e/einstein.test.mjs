// The honest-science figures in real Chromium, on the bundled precomputed run (issue 12):
// ?embed=einstein draws the Langevin modes with the bundle's own equilibrium classification,
// the noise-strength figure offers the τ check (not β₁ + β₂) as its test, and the σ²–F caption
// gives the block-bootstrap interval.
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { openPage, settled, WAIT, openSite, closeSite } from './harness.mjs';

const bundle = JSON.parse(readFileSync('src/data/precomputed-run.json', 'utf8'));

let server;
let browser;
before(async () => ({ server, browser } = await openSite()));
after(() => closeSite({ server, browser }));

test('?embed=einstein shows each Langevin mode, filled exactly where it equilibrated', async () => {
  const e = bundle.results.langevin?.einstein;
  assert.ok(e, 'the bundled run carries the Einstein check');
  const { page, context, errors } = await openPage(
    browser,
    `${server.url}?embed=einstein`,
    server.origin,
    { viewport: { width: 720, height: 560 } },
  );
  await page.getByTestId('einstein-count').waitFor({ timeout: WAIT.load });
  await settled(page, '[data-figure="einstein"] svg.fm-svg');
  const count = Number(await page.getByTestId('einstein-count').getAttribute('data-value'));
  assert.equal(count, e.equilibratedCount);
  // data-direction: a Hessian eigenvector's rank j (or a PCA mode's rank in older bundles).
  const drawn = await page.$$eval('[data-figure="einstein"] circle[data-direction]', (cs) =>
    cs.map((c) => ({ rank: Number(c.dataset.direction), eq: c.dataset.equilibrated === 'true' })),
  );
  const shown = e.modes.filter((m) => m.predicted > 0 && m.measured > 0);
  assert.equal(drawn.length, shown.length, 'one point per mode with a prediction');
  for (const d of drawn) {
    const m = e.modes.find((x) => x.rank === d.rank);
    assert.equal(d.eq, m.equilibrated, `mode ${d.rank}`);
  }
  const caption = await page.locator('[data-figure="einstein"]').innerText();
  assert.match(caption, /a tenth of the/);
  assert.match(caption, /agree within a factor 1\.5/);
  // "equilibrium" is said only of the modes that are.
  if (count === 0) assert.match(caption, /None passes the test/);
  // …and then says, from the data, which ranks were checked and how their curvature compares with
  // the T/σ² that equilibrium would need.
  const hessian = e.directions === 'hessian-eigenvectors';
  if (hessian) assert.match(caption, /stiffest Hessian eigenvectors/);
  if (count === 0 && !hessian) {
    const ranks = e.modes.filter((m) => m.curvature > 0 && m.measured > 0).map((m) => m.rank);
    assert.ok(
      caption.includes(`span ranks ${Math.min(...ranks)}–${Math.max(...ranks)}`),
      'rank span in the caption',
    );
    assert.match(caption, /would need T\/σ² = /);
  }
  for (const label of hessian
    ? ['predicted σⱼ² = T/λⱼ in equilibrium (log scale)', 'measured σⱼ² along vⱼ (log scale)']
    : ['predicted σᵢ² = T/kᵢ in equilibrium (log scale)', 'measured σᵢ² (log scale)'])
    assert.ok(caption.includes(label) || (await page.getByText(label).count()) > 0, label);
  assert.deepEqual(errors, []);
  await context.close();
});

test('the page gives the τ check as the test and β₁ + β₂ = ψ as an identity', async () => {
  const th = bundle.results.sgd.theory;
  assert.ok(th?.fits.tauAgreement, 'the bundled run carries the τ check');
  const { page, context, errors } = await openPage(browser, `${server.url}`, server.origin);
  const tau = page.getByTestId('tau-agreement');
  await tau.waitFor({ timeout: WAIT.load });
  assert.ok(
    Math.abs(Number(await tau.getAttribute('data-value')) - th.fits.tauAgreement.medianRatio) <
      1e-9,
  );
  const noise = await page.locator('[data-figure="noise-strength"]').innerText();
  assert.match(noise, /by construction/);
  assert.match(noise, /an identity/);
  const vf = await page.locator('[data-figure="variance-flatness"]').innerText();
  assert.match(vf, /block bootstrap over ranks/);
  assert.match(vf, /total least squares/);
  assert.deepEqual(errors, []);
  await context.close();
});
