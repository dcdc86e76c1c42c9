// Section 6's forgetting sweep on the page's pool of job workers (issue 13), in real Chromium:
// the smallest sweep the link allows (2 seeds × 3 runs of 40 task-2 steps) gives the same
// numbers on one job worker as on two with the first seed's worker crashing (replaced, its seed
// re-run): every run, task-1 mode table, mean over seeds and the chosen settings. The two
// workers are chosen with the run panel's Workers setting (keyboard), which writes workers=2
// into the address and sizes the next sweep's pool.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { TEST_TIMEOUT, WAIT, openPage, openSite, closeSite, withoutTimes } from './harness.mjs';

const TINY =
  'ft1=0,1&ft2=2,3&fseeds=2&flambdas=3&fewc=1e4&fnc=20&fpre=1&fepochs=1&fwindow=3&fsteps=40';

let server;
let browser;
before(async () => ({ server, browser } = await openSite()));
after(() => closeSite({ server, browser }));

/**
 * Runs the sweep on `workers` job workers (set in the link, or with `select` chosen in the run
 * panel); returns its numbers and the pool's counts.
 */
async function sweep(workers, { crashes = 0, select = false } = {}) {
  const { page, context, errors, foreign } = await openPage(
    browser,
    `${server.url}?${TINY}${select ? '' : `&workers=${workers}`}`,
    server.origin,
  );
  await page.waitForFunction(() => window.__flatMinima.run().dataset !== null, null, {
    timeout: WAIT.load,
  });
  if (select) {
    const size = page.getByLabel('Workers');
    assert.equal(await size.inputValue(), 'auto');
    // By keyboard: focus the select and step down its options to the number.
    await size.focus();
    for (let i = 0; i < workers; i++) await page.keyboard.press('ArrowDown');
    assert.equal(await size.inputValue(), String(workers));
    await page.waitForFunction(
      (n) => new URLSearchParams(location.search).get('workers') === String(n),
      workers,
      { timeout: WAIT.ui },
    );
    assert.match(await page.getByTestId('pool-size').getAttribute('title'), /next sweep/);
  }
  if (crashes) await page.evaluate((n) => window.__flatMinima.crashPoolJobs(n), crashes);
  await page.getByTestId('forgetting-start').click();
  await page.waitForFunction(
    () => ['done', 'error', 'cancelled'].includes(window.__flatMinima.forgetting().status),
    null,
    { timeout: WAIT.run },
  );
  const s = await page.evaluate(() => window.__flatMinima.forgetting());
  const pool = await page.evaluate(() => window.__flatMinima.pool());
  const progress = await page.getByTestId('forgetting-progress').innerText();
  const own = errors.filter((e) => !/deliberate crash \(test hook\)/.test(e));
  assert.deepEqual(own, []);
  assert.deepEqual(foreign, []);
  await context.close();
  assert.equal(s.status, 'done', `status ${s.status}: ${s.message}`);
  assert.match(progress, /^Done · 6 runs in/);
  return {
    numbers: withoutTimes({ runs: s.runs, task1: s.task1, sweep: s.sweep, summary: s.summary }),
    runs: s.runs.length,
    pool,
  };
}

test(
  'one job worker, and two with a crashing worker, give the same forgetting sweep',
  { timeout: TEST_TIMEOUT },
  async () => {
    const one = await sweep(1);
    assert.equal(one.pool.size, 1);
    assert.equal(one.runs, 2 * 3);
    assert.deepEqual(
      one.numbers.task1.map((t) => t.seed),
      [0, 1],
    );
    assert.deepEqual(
      one.numbers.runs.map((r) => `${r.seed} ${r.method}`),
      ['0 none', '0 ewc', '0 ldc', '1 none', '1 ewc', '1 ldc'],
      'runs in the serial order',
    );
    const two = await sweep(2, { crashes: 1, select: true });
    assert.equal(two.pool.size, 2);
    assert.equal(two.pool.replaced, 1);
    assert.equal(two.pool.requeued, 1);
    assert.deepEqual(two.numbers, one.numbers);
    const b = one.numbers.summary.best;
    console.log(
      `  ε₁+ε₂ on 1 and 2 workers: LDC ${b.ldc.total}, EWC ${b.ewc.total}, none ${b.none.total}`,
    );
  },
);
