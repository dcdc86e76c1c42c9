// Section 6 in real Chromium: a small catastrophic-forgetting sweep (LDC vs EWC) runs end to
// end in the trainer worker on the embedded digits; the trade-off plot then shows LDC and EWC
// points over three seeds, the other figures draw, and the closing note gives the numbers.
// The small config comes from the section's URL keys (src/state/forgettingStore.ts).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { openPage, WAIT, openSite, closeSite } from './harness.mjs';

const SMALL =
  'ft1=0,1&ft2=2,3&fseeds=3&flambdas=3,100&fewc=1e4,3e5&fnc=20,50&fpre=1&fepochs=5&fwindow=3&fsteps=100';

let server;
let browser;
before(async () => ({ server, browser } = await openSite()));
after(() => closeSite({ server, browser }));

const forgetting = (page) => page.evaluate(() => window.__flatMinima.forgetting());

test('a small forgetting sweep runs end to end and the trade-off plot shows LDC and EWC', async () => {
  const { page, context, errors, foreign } = await openPage(
    browser,
    `${server.url}?${SMALL}`,
    server.origin,
  );
  await page.waitForFunction(() => window.__flatMinima.run().dataset !== null, null, {
    timeout: WAIT.load,
  });
  // The task digits come from the worker, drawn on a canvas and shown as images in the SVG.
  await page.waitForFunction(() => window.__flatMinima.forgetting().samples?.length === 2, null, {
    timeout: WAIT.load,
  });
  await page
    .locator('[data-figure="forgetting-digits"] image')
    .nth(1)
    .waitFor({ timeout: WAIT.ui });
  const inked = await page.evaluate(() =>
    Promise.all(
      Array.from(document.querySelectorAll('[data-figure="forgetting-digits"] image')).map(
        async (el) => {
          const img = new Image();
          img.src = el.getAttribute('href');
          await img.decode();
          const c = document.createElement('canvas');
          c.width = img.naturalWidth;
          c.height = img.naturalHeight;
          const ctx = c.getContext('2d');
          ctx.drawImage(img, 0, 0);
          const d = ctx.getImageData(0, 0, c.width, c.height).data;
          let dark = 0;
          for (let i = 0; i < d.length; i += 4) if (d[i] < 128) dark++;
          return dark;
        },
      ),
    ),
  );
  assert.equal(inked.length, 2, 'one strip per task');
  assert.ok(
    inked.every((n) => n > 200),
    `ink in both strips: ${inked}`,
  );
  const s0 = await forgetting(page);
  assert.deepEqual(s0.samples[0].digits, [0, 1]);
  assert.ok(
    s0.samples[1].labels.every((l) => l === 2 || l === 3),
    'task-2 samples are 2s and 3s',
  );

  const section = page.locator('#forgetting');
  await section.scrollIntoViewIfNeeded();
  assert.match(await section.innerText(), /3 seeds × 7 runs/);
  // Until the sweep starts, the figures show the bundled one, and the note above them says so
  // with its own size and seeds.
  await page.waitForFunction(() => window.__flatMinima.forgetting().bundled, null, {
    timeout: WAIT.load,
  });
  const bundled = (await forgetting(page)).bundled;
  const note = await page.getByTestId('forgetting-bundled').innerText();
  assert.ok(note.includes(`${bundled.runs} runs`), note);
  assert.ok(note.includes(`seeds ${bundled.config.seeds.join(', ')}`), note);
  assert.equal(
    await page.locator('#forgetting [data-figure] .fm-empty').count(),
    0,
    'no empty figure while the bundled sweep is shown',
  );
  const t0 = Date.now();
  await page.getByTestId('forgetting-start').click();
  await page.waitForFunction(() => window.__flatMinima.forgetting().status === 'running', null, {
    timeout: WAIT.ui,
  });
  // Progress with a phase shows while it runs.
  await page.waitForFunction(
    () =>
      /seed \d of 3/.test(
        document.querySelector('[data-testid="forgetting-progress"]').textContent,
      ),
    null,
    { timeout: WAIT.run },
  );
  await page.waitForFunction(
    () => ['done', 'error', 'cancelled'].includes(window.__flatMinima.forgetting().status),
    null,
    { timeout: WAIT.run },
  );
  const wall = (Date.now() - t0) / 1000;
  const s = await forgetting(page);
  assert.equal(s.status, 'done', `status ${s.status}: ${s.message}`);
  assert.equal(s.runs.length, 3 * 7, '3 seeds × (1 + 2 EWC + 2 × 2 LDC) runs');
  assert.equal(s.task1.length, 3, 'a task-1 mode table per seed');
  assert.equal(s.bundled, null, "the reader's sweep replaced the bundled one");
  assert.equal(await page.getByTestId('forgetting-bundled').count(), 0);
  const b = s.summary.best;
  assert.ok(b.none.total > 0.5, `no constraint forgets task 1: ε₁+ε₂ = ${b.none.total}`);
  assert.ok(b.ldc.total < b.none.total && b.ewc.total < b.none.total, 'both constraints help');
  assert.equal(b.ldc.n, 3);
  console.log(
    `  browser sweep: ${s.runs.length} runs in ${s.seconds.toFixed(1)} s (page wall ${wall.toFixed(1)} s); best ε₁+ε₂ LDC ${b.ldc.total.toFixed(3)} ± ${b.ldc.totalSd.toFixed(3)} (λ ${b.ldc.lambda}, N_c ${b.ldc.nc}), EWC ${b.ewc.total.toFixed(3)} ± ${b.ewc.totalSd.toFixed(3)} (λ ${b.ewc.lambda}), none ${b.none.total.toFixed(3)}`,
  );

  // The trade-off plot: LDC and EWC points (2 λ each at the shown N_c) and the unconstrained one.
  const trade = page.locator('[data-figure="forgetting-tradeoff"]');
  assert.equal(await trade.locator('circle[data-method="ldc"]').count(), 2);
  assert.equal(await trade.locator('circle[data-method="ewc"]').count(), 2);
  assert.equal((await trade.locator('[data-method="none"]').count()) >= 1, true);
  assert.match(await trade.locator('figcaption').innerText(), /mean over 3 seeds/);
  // The other figures draw.
  assert.ok(
    (await page.locator('[data-figure="forgetting-curves"] [data-method="ldc"] path').count()) >= 2,
  );
  assert.equal(
    await page.locator('[data-figure="forgetting-nc"] circle[data-method="ldc"]').count(),
    2,
  );
  assert.ok(
    (await page
      .locator('[data-figure="forgetting-displacement"] [data-method="ewc"] path')
      .count()) > 10,
  );
  assert.match(
    await page.getByTestId('forgetting-summary').innerText(),
    /chosen on validation data.*test ε₁ \+ ε₂.*LDC .*EWC .*21 runs in/s,
  );

  // Each figure of the section exports its data as CSV (named columns, rectangular rows) and
  // its plot as SVG.
  for (const id of [
    'forgetting-digits',
    'forgetting-curves',
    'forgetting-tradeoff',
    'forgetting-nc',
    'forgetting-displacement',
  ]) {
    const fig = page.locator(`[data-figure="${id}"]`);
    await fig.scrollIntoViewIfNeeded();
    const [dl] = await Promise.all([
      page.waitForEvent('download', { timeout: WAIT.ui }),
      fig.locator('[data-export="csv"]').click(),
    ]);
    const lines = (await readFile(await dl.path(), 'utf8')).trimEnd().split(/\r\n/);
    const header = lines[0].split(',');
    assert.ok(
      header.every((h) => /^[A-Za-z][A-Za-z0-9_]*$/.test(h)),
      `${id}.csv columns: ${lines[0].slice(0, 120)}`,
    );
    assert.ok(lines.length > 2, `${id}.csv rows`);
    for (const line of lines.slice(1))
      assert.equal(line.split(',').length, header.length, `${id}.csv row width`);
    const [svg] = await Promise.all([
      page.waitForEvent('download', { timeout: WAIT.ui }),
      fig.locator('[data-export="svg"]').click(),
    ]);
    const text = await readFile(await svg.path(), 'utf8');
    assert.ok(/<(circle|path|image)\b/.test(text), `${id}.svg has marks`);
  }

  // Clicking an EWC point shows that λ's curves.
  const other = s.sweep.find((p) => p.method === 'ewc' && p.lambda !== b.ewc.lambda);
  await trade.locator(`circle[data-method="ewc"][data-lambda="${other.lambda}"]`).click();
  await page.waitForFunction(
    (l) =>
      document
        .querySelector('[data-figure="forgetting-curves"] .fm-legend [data-method="ewc"]')
        ?.textContent.includes(l),
    other.lambda === 1e4 ? '10⁴' : '3×10⁵',
    { timeout: WAIT.ui },
  );
  // The own-class toggle rescoring: the unconstrained task-1 error collapses.
  await page.locator('[data-figure="forgetting-curves"] input[value="own"]').check();
  const own = await page.locator('[data-figure="forgetting-curves"] figcaption').innerText();
  assert.match(own, /task's own classes/);
  // Accessibility of the filled section, in both themes.
  await page.addScriptTag({ path: 'node_modules/axe-core/axe.min.js' });
  for (const theme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme: theme });
    const violations = await page.evaluate(async () => {
      const r = await window.axe.run('#forgetting');
      return r.violations
        .filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map(
          (v) =>
            `${v.id}: ${v.nodes
              .slice(0, 3)
              .map((n) => n.target.join(' '))
              .join(', ')}`,
        );
    });
    assert.deepEqual(violations, [], `axe (${theme}): ${violations.join('\n')}`);
  }
  assert.deepEqual(errors, [], `console errors: ${errors.join('\n')}`);
  assert.deepEqual(foreign, [], 'no request leaves the origin');
  await context.close();
});

test('one experiment at a time: a training run stops the sweep, and Cancel stops it too', async () => {
  const { page, context, errors } = await openPage(
    browser,
    `${server.url}?preset=quick&warmup=2&window=1&modes=5&fseeds=1&fsteps=2000`,
    server.origin,
  );
  await page.waitForFunction(() => window.__flatMinima.run().dataset !== null, null, {
    timeout: WAIT.load,
  });
  await page.getByTestId('forgetting-start').click();
  await page.waitForFunction(() => window.__flatMinima.forgetting().status === 'running', null, {
    timeout: WAIT.ui,
  });
  await page.getByTestId('forgetting-busy-note').waitFor({ timeout: WAIT.ui });
  // Start a training run from the run panel: the sweep stops and says why.
  await page.locator('.run-panel button.primary').first().click();
  await page.waitForFunction(() => window.__flatMinima.forgetting().status === 'cancelled', null, {
    timeout: WAIT.ui,
  });
  assert.match(
    await page.getByTestId('forgetting-progress').innerText(),
    /training run was started/,
  );
  await page.waitForFunction(() => window.__flatMinima.run().epochs.length >= 1, null, {
    timeout: WAIT.run,
  });
  // Start the sweep again: the training run stops, the sweep runs; then cancel it.
  await page.getByTestId('forgetting-start').click();
  await page.waitForFunction(() => window.__flatMinima.forgetting().status === 'running', null, {
    timeout: WAIT.ui,
  });
  assert.match(
    await page.locator('.forgetting-notice').last().innerText(),
    /training run in progress was stopped/,
  );
  const rs = await page.evaluate(() => window.__flatMinima.run().runState);
  assert.ok(rs === 'idle' || rs === 'done', `training stopped (${rs})`);
  await page.getByTestId('forgetting-cancel').click();
  await page.waitForFunction(() => window.__flatMinima.forgetting().status === 'cancelled', null, {
    timeout: WAIT.ui,
  });
  assert.match(await page.getByTestId('forgetting-progress').innerText(), /Cancelled/);
  assert.deepEqual(errors, [], `console errors: ${errors.join('\n')}`);
  await context.close();
});

test('the task fields are validated as disjoint digit groups and kept in the address', async () => {
  const { page, context, errors } = await openPage(
    browser,
    `${server.url}?fseeds=abc`,
    server.origin,
  );
  await page.waitForFunction(() => window.__flatMinima.run().dataset !== null, null, {
    timeout: WAIT.load,
  });
  assert.match(await page.getByTestId('forgetting-url-notices').innerText(), /fseeds=abc/);
  const t1 = page.getByLabel('Task 1 digits');
  const t2 = page.getByLabel('Task 2 digits');
  await t1.fill('1,2');
  await page.getByText('share digit 2').first().waitFor({ timeout: WAIT.ui });
  assert.equal(
    await page.getByTestId('forgetting-start').isDisabled(),
    true,
    'overlapping tasks cannot start',
  );
  await t1.fill('0,x');
  await page.getByText('"x" is not a digit 0–9').waitFor({ timeout: WAIT.ui });
  await t1.fill('4 5');
  await t2.fill('6,7,8');
  // Enabled once the page has checked the new digits (a condition, not one read).
  await page.waitForFunction(
    () => document.querySelector('[data-testid="forgetting-start"]')?.disabled === false,
    null,
    { timeout: WAIT.ui },
  );
  await page.waitForFunction(
    () => {
      const q = new URLSearchParams(location.search);
      return q.get('ft1') === '4,5' && q.get('ft2') === '6,7,8';
    },
    null,
    { timeout: WAIT.ui },
  );
  // The digit images follow the fields (sent by the worker).
  await page.waitForFunction(
    () => window.__flatMinima.forgetting().samples?.[1]?.digits.join(',') === '6,7,8',
    null,
    { timeout: WAIT.ui },
  );
  assert.deepEqual(errors, [], `console errors: ${errors.join('\n')}`);
  await context.close();
});

test('the "forgetting" preset: autorun starts the sweep of section 6, not a training run', async () => {
  const { page, context, errors } = await openPage(
    browser,
    `${server.url}?preset=forgetting&autorun=1&${SMALL.replace('fseeds=3', 'fseeds=1')}`,
    server.origin,
  );
  await page.waitForFunction(() => window.__flatMinima.forgetting().status === 'done', null, {
    timeout: WAIT.run,
  });
  const f = await forgetting(page);
  assert.ok(f.runs.length > 0, 'the sweep ran');
  const s = await page.evaluate(() => window.__flatMinima.run());
  assert.equal(s.epochs.length, 0, 'no training run was started');
  assert.notEqual(s.runState, 'training');
  assert.deepEqual(errors, [], errors.join('\n'));
  await context.close();
});
