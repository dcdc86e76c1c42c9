// The page's pool of job workers (issue 13) in real Chromium: a tiny section-7 sweep (the
// optimizer comparison at h 10, B 500: three short runs) gives the same numbers on one worker
// as on two with a worker that crashes mid-run: it is replaced, its run re-queued, and the
// sweep completes with the same numbers.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { openPage, WAIT, openSite, closeSite } from './harness.mjs';

let server;
let browser;
before(async () => ({ server, browser } = await openSite()));
after(() => closeSite({ server, browser }));

const TINY = 'h=10&B=500';

/** Runs the optimizer comparison on `workers` job workers; returns its numbers and the pool's. */
async function comparison(workers, crashes = 0) {
  const { page, context, errors, foreign } = await openPage(
    browser,
    `${server.url}?${TINY}&workers=${workers}`,
    server.origin,
  );
  await page.waitForFunction(
    () => window.__flatMinima.universality().optimizers.precomputed,
    null,
    {
      timeout: WAIT.load,
    },
  );
  assert.equal(
    await page.locator('[data-testid="pool-badge"]').getAttribute('data-workers'),
    String(workers),
  );
  if (crashes) {
    const present = await page.evaluate(() => typeof window.__flatMinima.crashPoolJobs);
    assert.equal(present, 'function', 'a test build (VITE_TEST_HOOKS=1) carries the crash hook');
    await page.evaluate((n) => window.__flatMinima.crashPoolJobs(n), crashes);
  }
  await page.locator('[data-testid="universality-optimizers-start"]').click();
  await page.waitForFunction(
    () =>
      /^Done: 3 runs/.test(
        document.querySelector('[data-testid="universality-optimizers-progress"]')?.textContent ??
          '',
      ),
    null,
    { timeout: WAIT.run },
  );
  const snap = await page.evaluate(() => window.__flatMinima.universality().optimizers);
  const pool = await page.evaluate(() => window.__flatMinima.pool());
  // A crashed worker's uncaught error is the test's own doing; nothing else may be logged.
  const own = errors.filter((e) => !/deliberate crash \(test hook\)/.test(e));
  assert.deepEqual(own, []);
  assert.deepEqual(foreign, []);
  await context.close();
  // Wall-clock timings differ run to run; every other number must not.
  const numbers = snap.plan.map((p) => {
    assert.equal(p.failed, null, `${p.label}: ${p.failed}`);
    const summary = { ...p.result.summary, timings: null };
    return { label: p.label, summary };
  });
  return { numbers, pool };
}

test('one worker, and two with a worker crashing mid-run, give the same sweep', async () => {
  const one = await comparison(1);
  assert.equal(one.pool.size, 1);
  assert.deepEqual(
    one.numbers.map((n) => n.label),
    ['SGD', 'Momentum', 'Adam'],
  );
  for (const n of one.numbers) assert.ok(Number.isFinite(n.summary.psi.exponent), n.label);
  // Two workers, the first run's worker crashing: one page checks both that the pool's size
  // and that a replaced worker's re-run change no number.
  const two = await comparison(2, 1);
  assert.equal(two.pool.size, 2);
  assert.equal(two.pool.replaced, 1);
  assert.equal(two.pool.requeued, 1);
  assert.deepEqual(two.numbers, one.numbers);
  console.log(
    one.numbers.map((n) => `${n.label}: ψ = ${n.summary.psi.exponent.toFixed(3)}`).join(', '),
  );
});
