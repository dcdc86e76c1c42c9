// Product quality in real Chromium: a keyboard-only run start with visible focus, no layout
// shift while a run streams, no request leaving the origin, axe-core accessibility checks
// (light, dark, narrow, embed), a 375 px layout without sideways scrolling, and static hosting
// without isolation headers or a service worker.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { newContext, openPage, WAIT, openSite, closeSite } from './harness.mjs';

const AXE = 'node_modules/axe-core/axe.min.js';

let server;
let browser;
before(async () => ({ server, browser } = await openSite()));
after(() => closeSite({ server, browser }));

const isFocusVisible = (page) =>
  page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return false;
    const cs = getComputedStyle(el);
    return (
      el.matches(':focus-visible') && cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) >= 2
    );
  });

/**
 * What a reader would see as broken in the drawn figures: two tick labels of one axis that
 * overlap (text boxes), and a data mark whose centre lies outside the plot area its clip path
 * (or else the plot's first clip path) marks. Runs in the page.
 */
function figureLayoutProblems() {
  const overlaps = [];
  const outside = [];
  const visible = (r) => r.width > 0 && r.height > 0;
  for (const axis of document.querySelectorAll('[data-figure] .fm-axis')) {
    const boxes = [...axis.querySelectorAll('.tick text')]
      .filter((t) => t.textContent.trim() !== '')
      .map((t) => ({ text: t.textContent, r: t.getBoundingClientRect() }))
      .filter((b) => visible(b.r));
    for (let i = 0; i < boxes.length; i++)
      for (let j = i + 1; j < boxes.length; j++) {
        const a = boxes[i].r;
        const b = boxes[j].r;
        const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
        const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
        if (w > 0.5 && h > 0.5) {
          const fig = axis.closest('[data-figure]').dataset.figure;
          overlaps.push(`${fig}: "${boxes[i].text}" overlaps "${boxes[j].text}"`);
        }
      }
  }
  for (const svg of document.querySelectorAll('[data-figure] svg.fm-svg')) {
    const fig = svg.closest('[data-figure]').dataset.figure;
    const firstClip = svg.querySelector('clipPath rect');
    for (const mark of svg.querySelectorAll('circle.fm-pt, path.fm-pt')) {
      const r = mark.getBoundingClientRect();
      if (!visible(r)) continue;
      const clipped = mark.closest('[clip-path]');
      const id = clipped?.getAttribute('clip-path')?.match(/#([^)]+)\)/)?.[1];
      const rect = (id && document.getElementById(id)?.querySelector('rect')) || firstClip;
      if (!rect) continue;
      // A clip path's own rect is never rendered (no client box): map its attributes instead.
      const ctm = svg.getScreenCTM();
      const corner = (x, y) => new DOMPoint(x, y).matrixTransform(ctm);
      const rx = Number(rect.getAttribute('x'));
      const ry = Number(rect.getAttribute('y'));
      const a = corner(rx, ry);
      const b = corner(
        rx + Number(rect.getAttribute('width')),
        ry + Number(rect.getAttribute('height')),
      );
      const box = { left: a.x, top: a.y, right: b.x, bottom: b.y };
      const cx = (r.left + r.right) / 2;
      const cy = (r.top + r.bottom) / 2;
      if (cx < box.left - 1 || cx > box.right + 1 || cy < box.top - 1 || cy > box.bottom + 1)
        outside.push(`${fig}: a mark at (${cx.toFixed(0)}, ${cy.toFixed(0)}) outside its plot`);
    }
  }
  return { overlaps, outside };
}

/** Controls (not links inside running text) smaller than 24 × 24 px. */
function smallTapTargets() {
  const small = [];
  for (const el of document.querySelectorAll('button, select, input, a[href], summary')) {
    if (el.closest('p, figcaption, li.notice, .footer') && el.tagName === 'A') continue;
    // A checkbox's target is its label (clicking the text toggles it).
    const label =
      el.type === 'checkbox' || el.type === 'radio'
        ? el.closest('label') || (el.id && document.querySelector(`label[for="${el.id}"]`))
        : null;
    const r = (label || el).getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    const cs = getComputedStyle(el);
    if (cs.visibility === 'hidden' || el.type === 'hidden' || el.type === 'file') continue;
    if (el.closest('.skip-links')) continue;
    if (r.width < 24 || r.height < 24)
      small.push(
        `${el.tagName.toLowerCase()} "${(el.textContent || el.getAttribute('aria-label') || '').trim().slice(0, 30)}" ${r.width.toFixed(0)}×${r.height.toFixed(0)}`,
      );
  }
  return small;
}

test('keyboard only: Tab to Start, Enter starts a run; the run streams without layout shift', async () => {
  const { page, context, errors, foreign } = await openPage(
    browser,
    `${server.url}?preset=quick&warmup=4&window=2&modes=8`,
    server.origin,
  );
  await page.waitForFunction(
    () => document.getElementById('root').dataset.runState === 'idle',
    null,
    { timeout: WAIT.load },
  );
  await page.evaluate(() => {
    window.__shifts = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries())
        if (!e.hadRecentInput) window.__shifts.push({ value: e.value, t: e.startTime });
    }).observe({ type: 'layout-shift', buffered: false });
  });
  // The page's code loads on demand after the store is idle: tab only once Start is drawn.
  await page.waitForFunction(
    () =>
      [...document.querySelectorAll('button')].some(
        (b) => b.textContent.trim() === 'Start' && b.checkVisibility(),
      ),
    null,
    { timeout: WAIT.load },
  );
  let found = false;
  for (let i = 0; i < 40 && !found; i++) {
    await page.keyboard.press('Tab');
    found = await page.evaluate(() => {
      const el = document.activeElement;
      return el instanceof HTMLButtonElement && el.textContent.trim() === 'Start';
    });
  }
  assert.ok(found, 'Start is reachable with Tab');
  assert.ok(await isFocusVisible(page), 'the focused Start button shows a focus ring');
  await page.keyboard.press('Enter');
  // The workers may still be loading (they start when the page is idle, or with this run).
  await page.waitForFunction(
    () => document.getElementById('root').dataset.runState === 'training',
    null,
    { timeout: WAIT.load },
  );
  // Shifts while the run streams count from the first epoch on the page, two frames later: the
  // switch from the precomputed run to the live one is drawn by then, however slow the machine.
  await page.waitForFunction(() => window.__flatMinima.run().epochs.length >= 1, null, {
    timeout: WAIT.run,
  });
  const t0 = await page.evaluate(
    () =>
      new Promise((resolve) =>
        requestAnimationFrame(() => requestAnimationFrame(() => resolve(performance.now()))),
      ),
  );
  await page.waitForFunction(() => window.__flatMinima.run().epochs.length >= 4, null, {
    timeout: WAIT.run,
  });
  const shifts = await page.evaluate((t) => window.__shifts.filter((s) => s.t > t), t0);
  const cls = shifts.reduce((a, s) => a + s.value, 0);
  assert.ok(
    cls < 0.02,
    `layout shift while streaming: ${cls.toFixed(4)} (${shifts.length} shifts)`,
  );

  // The figures' export buttons are in the Tab order too, with a visible focus ring.
  let exportFocused = false;
  for (let i = 0; i < 60 && !exportFocused; i++) {
    await page.keyboard.press('Tab');
    exportFocused = await page.evaluate(
      () => document.activeElement?.classList.contains('fm-export-button') ?? false,
    );
  }
  assert.ok(exportFocused, 'an export button is reachable with Tab');
  assert.ok(await isFocusVisible(page), 'the export button shows a focus ring');

  // The finished run, read as a newcomer would: at 1280 and 375 px no tick labels overlap and
  // no mark lies outside its plot; what the page says equals what the run store holds.
  await page.waitForFunction(
    () => document.getElementById('root').dataset.runState === 'done',
    null,
    { timeout: WAIT.run },
  );
  const run = await page.evaluate(() => {
    const r = window.__flatMinima.run();
    return { psi: r.results.sgd.fits.psi.exponent, windows: r.windows, epochs: r.epochs };
  });
  const psiText = run.psi.toFixed(2).replace('-', '−');
  assert.match(
    await page.getByTestId('run-result').innerText(),
    new RegExp(`ψ = ${psiText}`),
    "the run panel gives the run's ψ",
  );
  assert.equal(
    await page.getByTestId('run-result').locator('a').getAttribute('href'),
    '#figure-variance-flatness',
  );
  assert.ok(await page.locator('#figure-variance-flatness').count(), 'the link has a target');
  assert.match(
    await page.locator('[data-figure="variance-flatness"] figcaption').innerText(),
    new RegExp(`ψ = ${psiText}`),
    'the σ²–F caption gives the same ψ, to the same precision',
  );
  assert.match(await page.getByTestId('result-summary').innerText(), new RegExp(`ψ = ${psiText}`));
  // The article names this run's window (2 epochs in the link), not the paper's 10.
  assert.equal(await page.getByTestId('window-epochs').getAttribute('data-value'), '2');
  assert.equal(await page.getByTestId('langevin-paragraph').count(), 0, 'no Langevin run here');
  assert.equal(
    await page
      .locator('[data-testid="section-nav"] a[href="#section-1"]')
      .getAttribute('data-state'),
    'yours',
  );
  // Keyboard: the σ²–F points are one Tab stop; an arrow key moves the selected mode, and the
  // spectrum follows (the shared selection), as it does for the pointer.
  const highlighted = (fig) =>
    page.evaluate(
      (f) =>
        document.querySelector(`[data-figure="${f}"] .fm-pt.highlighted`)?.dataset.rank ?? null,
      fig,
    );
  await page.locator('[data-figure="variance-flatness"] .fm-points').focus();
  const before = await highlighted('variance-flatness');
  await page.keyboard.press('ArrowRight');
  await page.waitForFunction(
    (b) =>
      (document.querySelector('[data-figure="variance-flatness"] .fm-pt.highlighted')?.dataset
        .rank ?? null) !== b,
    before,
    { timeout: WAIT.ui },
  );
  const moved = await highlighted('variance-flatness');
  assert.ok(moved !== null, 'an arrow key selects a mode');
  assert.equal(await highlighted('spectrum'), moved, 'the spectrum shows the same mode');
  await page.keyboard.press('Tab');

  for (const width of [1280, 375]) {
    await page.setViewportSize({ width, height: width > 500 ? 900 : 812 });
    await page.waitForFunction(
      (w) => [...document.querySelectorAll('svg.fm-svg')].every((s) => s.width.baseVal.value <= w),
      width,
      { timeout: WAIT.ui },
    );
    await page.evaluate(
      () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))),
    );
    const { overlaps, outside } = await page.evaluate(figureLayoutProblems);
    assert.deepEqual(overlaps, [], `${width} px: overlapping tick labels`);
    assert.deepEqual(outside, [], `${width} px: marks outside their plot`);
    if (width === 1280) {
      const cut = await page.evaluate(() =>
        [...document.querySelectorAll('[data-figure] .fm-table-wrap')]
          .filter((t) => t.scrollWidth > t.clientWidth + 1)
          .map(
            (t) =>
              `${t.closest('[data-figure]').dataset.figure}: ${t.scrollWidth} > ${t.clientWidth}`,
          ),
      );
      assert.deepEqual(cut, [], 'figure tables fit their column at 1280 px');
    }
    if (width === 375) {
      assert.deepEqual(await page.evaluate(smallTapTargets), [], 'tap targets under 24 px');
      const heights = await page.evaluate(() =>
        [...document.querySelectorAll('.article svg.fm-svg')].map((s) => s.height.baseVal.value),
      );
      assert.ok(
        Math.min(...heights) >= 280,
        `plots at least 280 px tall (${Math.min(...heights)})`,
      );
    }
  }
  assert.deepEqual(errors, [], errors.join('\n'));
  assert.deepEqual(foreign, [], `requests left the origin: ${foreign.join(', ')}`);
  await context.close();
});

async function axeViolations(page) {
  await page.addScriptTag({ path: AXE });
  return page.evaluate(async () => {
    const r = await window.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] },
    });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      nodes: v.nodes.slice(0, 5).map((n) => `${n.target.join(' ')}: ${n.failureSummary}`),
    }));
  });
}

for (const [name, query, colorScheme, viewport] of [
  ['light, 1440 px', '', 'light', { width: 1440, height: 900 }],
  ['dark, 1280 px', '', 'dark', { width: 1280, height: 900 }],
  ['dark, 375 px', '', 'dark', { width: 375, height: 812 }],
  ['embed', '?embed=variance-flatness', 'light', { width: 640, height: 480 }],
  [
    'embed, dark theme from the URL',
    '?embed=noise-strength&theme=dark',
    'light',
    { width: 640, height: 480 },
  ],
]) {
  test(`axe-core: no WCAG 2.2 AA violations (${name})`, async () => {
    const context = await newContext(browser, { viewport, colorScheme });
    const page = await context.newPage();
    await page.goto(server.url + query);
    await page.waitForFunction(
      () =>
        window.__flatMinima.run().results.sgd?.theory &&
        document.getElementById('root').dataset.runState === 'idle',
      null,
      { timeout: WAIT.load },
    );
    const violations = await axeViolations(page);
    // Every WCAG 2.2 A/AA rule (the run above limits axe to them), whatever its impact.
    assert.deepEqual(violations, [], JSON.stringify(violations, null, 2));
    if (viewport.width === 375) {
      const w = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(w <= 375, `no sideways scrolling at 375 px (${w} px wide)`);
    }
    await context.close();
  });
}

test('every plot of the story has an aria-label stating its key number', async () => {
  const { page, context } = await openPage(browser, server.url, server.origin);
  await page.waitForFunction(() => window.__flatMinima?.run().results.sgd?.theory, null, {
    timeout: WAIT.load,
  });
  // Section 7's figures are labelled from their precomputed runs.
  await page.waitForFunction(() => window.__flatMinima.universality().widths.precomputed);
  const ids = await page.evaluate(() => window.__flatMinima.figures());
  const labels = await page.evaluate(
    (story) =>
      [...document.querySelectorAll('[data-figure]')]
        .filter((f) => story.includes(f.dataset.figure))
        .map((f) => ({
          id: f.dataset.figure,
          labels: [...f.querySelectorAll('svg[role="img"]')].map(
            (s) => s.getAttribute('aria-label') ?? '',
          ),
        })),
    ids,
  );
  assert.equal(labels.length, ids.length);
  // First visit: every figure shows data (the bundled run, section 6's and section 7's bundled
  // sweeps), none an empty frame.
  // Section 6: its bundled sweep, and the task digits the page's worker draws once it has
  // loaded the data by itself.
  await page.waitForFunction(
    () => {
      const f = window.__flatMinima.forgetting();
      return f.bundled && f.samples?.length === 2;
    },
    null,
    { timeout: WAIT.load },
  );
  const empty = await page.evaluate(() =>
    [...document.querySelectorAll('[data-figure]')]
      .filter((f) => f.querySelector('.fm-empty'))
      .map((f) => f.dataset.figure),
  );
  assert.deepEqual(empty, [], 'figures left as empty placeholders at first visit');
  for (const { id, labels: ls } of labels) {
    assert.ok(ls.length > 0, `${id} has a labelled plot`);
    for (const l of ls) {
      assert.ok(!/waiting/i.test(l), `${id}: "${l}"`);
      assert.match(l, /\d/, `${id}: the label states a number: "${l}"`);
    }
  }
  await context.close();
});

test('static hosting needs no isolation: no headers, no service worker, and the page trains', async () => {
  const dist = process.env.E2E_DIST || 'dist';
  assert.ok(
    !existsSync(join(dist, 'coi-serviceworker.min.js')),
    'the build ships no service worker',
  );
  // The test server sends no COOP/COEP, like a plain static host.
  const context = await newContext(browser);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${server.url}?preset=quick&warmup=3&window=1&modes=8&autorun=1`);
  await page.waitForFunction(() => window.__flatMinima?.run().epochs.length >= 2, null, {
    timeout: WAIT.run,
  });
  const state = await page.evaluate(async () => ({
    isolated: window.crossOriginIsolated,
    registrations: (await navigator.serviceWorker.getRegistrations()).length,
  }));
  assert.deepEqual(state, { isolated: false, registrations: 0 });
  assert.deepEqual(errors, [], errors.join('\n'));
  await context.close();
});

test('the trajectory replays its PCA window: Step draws one snapshot, the scrubber the rest', async () => {
  const { page, context, errors } = await openPage(browser, server.url, server.origin);
  await page.waitForFunction(() => window.__flatMinima?.run().results.sgd?.theory, null, {
    timeout: WAIT.load,
  });
  const fig = page.locator('[data-figure="trajectory"]');
  await fig.scrollIntoViewIfNeeded();
  const tl = page.getByTestId('trajectory-timeline');
  await tl.waitFor({ timeout: WAIT.ui });
  const n = await page.evaluate(
    () => window.__flatMinima.run().results.sgd.trajectory.steps.length,
  );
  const points = () =>
    page.evaluate(() =>
      [...document.querySelectorAll('[data-figure="trajectory"] .fm-panel')].map(
        (p) => p.querySelectorAll('circle:not(.fm-halo):not(.fm-halo-fill)').length,
      ),
    );
  const readout = tl.locator('.fm-timeline-readout');
  await tl.getByRole('button', { name: 'Step one snapshot' }).click();
  await page.waitForFunction(
    () => /\(1 of /.test(document.querySelector('.fm-timeline-readout')?.textContent ?? ''),
    null,
    { timeout: WAIT.ui },
  );
  const one = await points();
  await tl.getByRole('button', { name: 'Step one snapshot' }).click();
  await page.waitForFunction(
    () => /\(2 of /.test(document.querySelector('.fm-timeline-readout')?.textContent ?? ''),
    null,
    { timeout: WAIT.ui },
  );
  const two = await points();
  assert.deepEqual(
    two.map((c, k) => c - one[k]),
    [1, 1],
    'each Step draws one more snapshot in both panels',
  );
  await tl.locator('input[type="range"]').fill(String(n));
  await page.waitForFunction(
    (m) =>
      document.querySelector('.fm-timeline-readout')?.textContent.includes(`(${m} of ${m} drawn`),
    n.toLocaleString('en'),
    { timeout: WAIT.ui },
  );
  // At the window's end the variance so far is the window's own, mode by mode.
  const shares = [...(await readout.innerText()).matchAll(/\((\d+)%\)/g)].map((m) => m[1]);
  assert.ok(shares.length >= 2, await readout.innerText());
  assert.ok(
    shares.every((s) => s === '100'),
    await readout.innerText(),
  );
  assert.deepEqual(errors, [], errors.join('\n'));
  await context.close();
});
