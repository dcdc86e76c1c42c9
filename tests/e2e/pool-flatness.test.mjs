// The page's flatness search across its pool (issue 13) in real Chromium: a tiny quick run
// gives the same flatness of every mode, and the same ψ, with one job worker (the analysis
// worker searches alone) as with two, one of which crashes on its share (it is replaced and the
// share re-queued).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { openPage, WAIT, openSite, closeSite, runState } from './harness.mjs';

let server;
let browser;
before(async () => ({ server, browser } = await openSite()));
after(() => closeSite({ server, browser }));

const TINY = 'preset=quick&warmup=2&window=2&modes=8&autorun=1';

/** A tiny quick run on `workers` job workers: the SGD window's flatness, ψ, and the pool. */
async function quickRun(workers, crashes = 0) {
  const { page, context, errors, foreign } = await openPage(
    browser,
    `${server.url}?${TINY}&workers=${workers}`,
    server.origin,
  );
  if (crashes) {
    const present = await page.evaluate(() => typeof window.__flatMinima.crashPoolJobs);
    assert.equal(present, 'function', 'a test build (VITE_TEST_HOOKS=1) carries the crash hook');
    // Armed before the pool starts: its first job (a flatness share) crashes its worker.
    await page.evaluate((n) => window.__flatMinima.crashPoolJobs(n), crashes);
  }
  await page.waitForFunction(
    () => document.getElementById('root').dataset.runState === 'done',
    null,
    { timeout: WAIT.run },
  );
  const r = (await runState(page)).results.sgd;
  const pool = await page.evaluate(() => window.__flatMinima.pool());
  const own = errors.filter((e) => !/deliberate crash \(test hook\)/.test(e));
  assert.deepEqual(own, []);
  assert.deepEqual(foreign, []);
  await context.close();
  return {
    flatness: r.modes.map((m) => [m.rank, m.flatness]),
    psi: r.fits.psi,
    pool,
  };
}

test('the flatness search on two job workers, one crashing, equals the one-worker search', async () => {
  const one = await quickRun(1);
  assert.ok(one.flatness.length >= 8, `${one.flatness.length} modes measured`);
  assert.ok(
    one.flatness.every(([, f]) => Number.isFinite(f) && f > 0),
    'every mode has a width',
  );
  assert.equal(one.pool.size, 0, 'one worker: no pool was started for the search');
  const two = await quickRun(2, 1);
  assert.equal(two.pool.size, 2, 'the search ran on a pool of two');
  assert.equal(two.pool.replaced, 1);
  assert.equal(two.pool.requeued, 1);
  assert.equal(two.pool.flatnessNotice, null, 'the re-queued share was measured on the pool');
  assert.deepEqual(two.flatness, one.flatness);
  assert.deepEqual(two.psi, one.psi);
});
