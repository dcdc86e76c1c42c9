// Section 6 in real Chromium, for a link that asks too much: a 10,000-value λ list, ambiguous
// values and 10 seeds with fautorun=1. The page names each refused key with its value cut to
// ~40 characters, stays inside the viewport, does not start the larger-than-default sweep on its
// own (it says a click is needed), and starts it on a click. The section's text carries the
// numbers of the bundled reference sweep, chosen on validation data with equal budgets.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { TEST_TIMEOUT, WAIT, openPage, openSite, closeSite } from './harness.mjs';

let server;
let browser;
before(async () => ({ server, browser } = await openSite()));
after(() => closeSite({ server, browser }));

/** A number as the page writes a signed difference (a true minus sign). */
const signed = (x) => `${x < 0 ? '−' : ''}${Math.abs(x).toFixed(3)}`;

const forgetting = (page) => page.evaluate(() => window.__flatMinima.forgetting());

test(
  'a link with a huge λ list and ambiguous values: named, capped, and not started on its own',
  { timeout: TEST_TIMEOUT },
  async () => {
    const long = Array.from({ length: 10_000 }, (_, i) => i + 1).join(',');
    // The long list goes in the hash (read like the query) so the request line stays short.
    const { page, context, errors } = await openPage(
      browser,
      `${server.url}?fautorun=1&fseeds=10&ft1=10&fsteps=0x10#flambdas=${long}`,
      server.origin,
    );
    await page.waitForFunction(() => window.__flatMinima.run().dataset !== null, null, {
      timeout: WAIT.load,
    });
    const held = page.getByTestId('forgetting-held');
    await held.waitFor({ timeout: WAIT.ui });
    assert.match(await held.innerText(), /fseeds.*990 runs.*press Start sweep/s);

    const notices = await page.getByTestId('forgetting-url-notices').innerText();
    assert.match(notices, /ft1=10: expected digits 0–9 separated by commas/);
    assert.match(notices, /fsteps=0x10: expected a whole number/);
    assert.ok(
      notices.includes(
        `flambdas=${long.slice(0, 40)}… (${long.length.toLocaleString('en')} characters)`,
      ),
      notices.slice(0, 400),
    );
    assert.match(notices, /10,000 values, more than the 32 a link may set/);
    assert.ok(
      notices.split('\n').every((l) => l.length < 300),
      'every echoed value is cut short',
    );

    // Nothing started (the figures show the bundled sweep); the defaults stand in for the
    // refused keys; the page fits the viewport.
    await page.waitForFunction(() => window.__flatMinima.forgetting().bundled, null, {
      timeout: WAIT.load,
    });
    const s = await forgetting(page);
    assert.equal(s.status, 'idle');
    assert.equal(s.config, null);
    assert.equal(s.runs.length, s.bundled.runs);
    assert.deepEqual(s.form, { task1: '0,1', task2: '2,3', seeds: 10 });
    const { scroll, inner } = await page.evaluate(() => ({
      scroll: document.documentElement.scrollWidth,
      inner: window.innerWidth,
    }));
    assert.ok(scroll <= inner, `document ${scroll} px wide in a ${inner} px viewport`);

    // The plan states the budgets, the validation data and the caps.
    const plan = await page.getByTestId('forgetting-plan').innerText();
    assert.match(plan, /10 seeds × 99 runs/);
    assert.match(plan, /budgets: LDC 49 settings, EWC 49, no constraint 1 \(equal\)/);
    assert.match(plan, /15% of each task digit's training images, held out/);
    assert.match(plan, /at most 1,000 runs/);

    // The section's account is the bundled reference sweep's numbers.
    const ref = JSON.parse(await readFile('src/views/forgettingReference.json', 'utf8'));
    const text = await page.getByTestId('forgetting-reference').innerText();
    assert.ok(text.includes(ref.summary.best.ldc.total.toFixed(3)), text);
    assert.ok(text.includes(ref.summary.best.ewc.total.toFixed(3)), text);
    assert.ok(text.includes(signed(ref.summary.paired.ldcMinusEwc.mean)), text);
    assert.match(text, /chosen on validation data/);

    // A click starts what the link could not; Cancel stops it.
    await page.getByTestId('forgetting-start').click();
    await page.waitForFunction(() => window.__flatMinima.forgetting().status === 'running', null, {
      timeout: WAIT.load,
    });
    assert.equal((await forgetting(page)).config.seeds.length, 10);
    assert.equal(await held.count(), 0, 'the notice goes once the sweep starts');
    await page.getByTestId('forgetting-cancel').click();
    await page.waitForFunction(
      () => window.__flatMinima.forgetting().status === 'cancelled',
      null,
      { timeout: WAIT.load },
    );
    assert.deepEqual(errors, [], `console errors: ${errors.join('\n')}`);
    await context.close();
  },
);
