// The curvature figures in real Chromium, on the bundled precomputed run (issue 16): each embed
// draws the bundle's own numbers — the F–k points and fitted exponent, the top Hessian
// eigenvalues with their overlap heat map, and λ_max along training against 2/α.
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { openPage, settled, WAIT, openSite, closeSite } from './harness.mjs';

const bundle = JSON.parse(readFileSync('src/data/precomputed-run.json', 'utf8'));
const cur = bundle.results.sgd?.curvature;

let server;
let browser;
before(async () => ({ server, browser } = await openSite()));
after(() => closeSite({ server, browser }));

const close = (a, b) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));

test('the curvature figures draw the bundled Hessian numbers', { skip: !cur }, async () => {
  const { page, context, errors } = await openPage(
    browser,
    `${server.url}?embed=curvature-flatness`,
    server.origin,
    { viewport: { width: 720, height: 560 } },
  );
  const exp = page.getByTestId('curvature-exponent');
  await exp.waitFor({ timeout: WAIT.load });
  await settled(page, '[data-figure="curvature-flatness"] svg.fm-svg');
  assert.ok(close(Number(await exp.getAttribute('data-value')), cur.fit.exponent));
  const drawn = await page.$$eval('[data-figure="curvature-flatness"] circle[data-rank]', (cs) =>
    cs.map((c) => Number(c.dataset.rank)),
  );
  const shown = cur.modes.filter((m) => m.flatness > 0 && m.curvature > 0).map((m) => m.rank);
  assert.deepEqual(
    [...drawn].sort((a, b) => a - b),
    [...shown].sort((a, b) => a - b),
  );
  assert.deepEqual(errors, []);

  await page.goto(`${server.url}?embed=hessian-spectrum`);
  const lmax = page.getByTestId('lambda-max');
  await lmax.waitFor({ timeout: WAIT.load });
  assert.ok(close(Number(await lmax.getAttribute('data-value')), cur.top[0].eigenvalue));
  const cells = await page.$$eval(
    '[data-figure="hessian-spectrum"] rect[data-rank]',
    (r) => r.length,
  );
  assert.equal(cells, cur.top.length * cur.overlapRanks.length, 'one heat-map cell per pair');
  const text = await page.locator('[data-figure="hessian-spectrum"]').innerText();
  assert.match(text, /Lanczos steps with full reorthogonalisation/);
  assert.match(text, /Hutchinson/);

  const edge = cur.edgeOfStability;
  if (edge) {
    await page.goto(`${server.url}?embed=edge-of-stability`);
    const sgd = page.getByTestId('edge-sgd');
    await sgd.waitFor({ timeout: WAIT.load });
    const sgdMax = Math.max(...edge.sgd.map((p) => p.lambdaMax));
    const gdMax = Math.max(...edge.gd.map((p) => p.lambdaMax));
    assert.ok(close(Number(await sgd.getAttribute('data-value')), sgdMax));
    assert.ok(close(Number(await page.getByTestId('edge-gd').getAttribute('data-value')), gdMax));
    const cap = await page.locator('[data-figure="edge-of-stability"]').innerText();
    assert.match(cap, /2\/α = \d/, '2/α stated');
  }
  assert.deepEqual(errors, []);
  await context.close();
});
