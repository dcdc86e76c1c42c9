// Section 7 in real Chromium: the optimizer comparison (SGD, momentum, Adam) runs in the trainer
// worker and overlays three σ²–F series with ψ in the legend; the width sweep draws D_s and D_L
// against the parameter count and each width's spectra, pauses, resumes, is cancelled and
// continued, and reuses the run the comparison already made; the (B, α) grid draws ψ and γ
// against B/α; a 4-layer MLP's block is analysed and added to the architecture overlay.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { openPage, animationFrames, WAIT, openSite, closeSite } from './harness.mjs';

let server;
let browser;
before(async () => ({ server, browser } = await openSite()));
after(() => closeSite({ server, browser }));

test('optimizer comparison and width sweep run from the page; cancel stops a sweep', async () => {
  const { page, context, errors, foreign } = await openPage(
    browser,
    `${server.url}?h=20&B=100`,
    server.origin,
  );
  await page.waitForFunction(() => window.__flatMinima.run().dataset !== null, null, {
    timeout: WAIT.load,
  });
  await page.locator('[data-testid="universality-optimizers-start"]').click();
  const progress = page.locator('[data-testid="universality-optimizers-progress"]');
  await page.waitForFunction(
    () =>
      document.querySelector('[data-testid="universality-optimizers-progress"]')?.textContent ===
      'Done: 3 runs.',
    null,
    { timeout: WAIT.run },
  );
  assert.equal(await progress.textContent(), 'Done: 3 runs.');
  const fig = page.locator('[data-figure="optimizer-comparison"]');
  const legend = await fig.locator('.fm-legend [data-run]').allTextContents();
  assert.equal(legend.length, 3, legend.join(' | '));
  for (const t of legend) assert.match(t, /ψ = −?\d/);
  assert.ok((await fig.locator('circle.fm-pt').count()) > 30);

  // Pause and resume the width sweep, cancel it, then continue with the runs it has left.
  await page.locator('[data-testid="universality-widths-start"]').click();
  await page.locator('[data-testid="universality-widths-pause"]').click();
  await page.waitForFunction(
    () =>
      (
        document.querySelector('[data-testid="universality-widths-progress"]')?.textContent ?? ''
      ).startsWith('Paused:'),
    null,
    { timeout: WAIT.run },
  );
  const paused = await page.locator('[data-testid="universality-widths-progress"]').textContent();
  // Nothing moves while paused: 90 frames of the page go by (1.5 s on an idle machine, longer
  // on a busy one, so the check only gets stricter under load).
  await animationFrames(page, 90);
  assert.equal(
    await page.locator('[data-testid="universality-widths-progress"]').textContent(),
    paused,
  );
  await page.locator('[data-testid="universality-widths-resume"]').click();
  await page.locator('[data-testid="universality-widths-cancel"]').click();
  await page.waitForFunction(
    () =>
      /^Cancelled\. \d of 4 runs left\.$/.test(
        document.querySelector('[data-testid="universality-widths-progress"]')?.textContent ?? '',
      ),
    null,
    { timeout: WAIT.run },
  );
  await page.locator('[data-testid="universality-widths-continue"]').click();
  await page.waitForFunction(
    () =>
      (
        document.querySelector('[data-testid="universality-widths-progress"]')?.textContent ?? ''
      ).startsWith('Done: 4 runs'),
    null,
    { timeout: WAIT.run },
  );
  // h = 20 is the comparison's SGD run at the same settings: reused, not trained again.
  assert.match(
    await page.locator('[data-testid="universality-widths-progress"]').textContent(),
    /^Done: 4 runs \(1 reused\)\.$/,
  );
  const dims = page.locator('[data-figure="effective-dimension"]');
  assert.equal(await dims.locator('[data-series] path').count(), 3);
  assert.equal(await dims.locator('[data-series="Ds"] circle').count(), 4);
  console.log(await dims.locator('.fm-readout').textContent());
  const spectra = page.locator('[data-figure="width-spectra"]');
  assert.equal(await spectra.locator('path.fm-curve').count(), 4);
  assert.equal(await spectra.locator('line.fm-threshold').count(), 4);
  // The D_s threshold is shared by both width figures: a fixed F_c = 1 everywhere.
  await dims.locator('.fm-controls select').selectOption('fixed');
  assert.equal(await dims.locator('[data-testid="sharp-c"]').textContent(), '1.0');
  const fc = await dims.locator('.fm-table tbody tr td:nth-child(6)').allTextContents();
  assert.deepEqual(fc, ['1.00', '1.00', '1.00', '1.00']);
  const lines = await spectra
    .locator('line.fm-threshold')
    .evaluateAll((ls) => ls.map((l) => l.getAttribute('y1')));
  assert.equal(new Set(lines).size, 1, 'one F_c for every width');
  await spectra.locator('input[value="variance"]').check();
  assert.match(await spectra.locator('.fm-readout').textContent(), /h 10: \d+ modes, D_L90 \d+/);
  console.log(await fig.locator('.fm-readout').textContent());
  assert.deepEqual(errors, []);
  assert.deepEqual(foreign, []);
  await context.close();
});

test('the (B, α) grid and a deeper network from the page', async () => {
  const { page, context, errors, foreign } = await openPage(
    browser,
    `${server.url}?h=20&B=100`,
    server.origin,
  );
  await page.waitForFunction(() => window.__flatMinima.run().dataset !== null, null, {
    timeout: WAIT.load,
  });
  // Before anything runs, every figure of the section shows the precomputed runs.
  await page.waitForFunction(
    () =>
      document.querySelectorAll('[data-figure="architecture-comparison"] .fm-legend [data-run]')
        .length === 4,
    null,
    { timeout: WAIT.load },
  );
  for (const [mode, n] of [
    ['optimizers', 3],
    ['widths', 4],
    ['hyper', 9],
    ['architectures', 4],
  ]) {
    assert.match(
      await page.locator(`[data-testid="universality-${mode}-progress"]`).textContent(),
      new RegExp(`^Showing ${n} precomputed runs \\(B 50, α 0\\.1, h 50, seed 0;`),
    );
  }
  assert.equal(
    await page.locator('[data-figure="optimizer-comparison"] .fm-legend [data-run]').count(),
    3,
  );
  assert.equal(
    await page.locator('[data-figure="hyper-sweep"] [data-series="psi"] circle.fm-pt').count(),
    9,
  );
  await page.locator('[data-testid="universality-hyper-start"]').click();
  await page.waitForFunction(
    () =>
      (
        document.querySelector('[data-testid="universality-hyper-progress"]')?.textContent ?? ''
      ).startsWith('Done: 9 runs'),
    null,
    { timeout: WAIT.run },
  );
  const snap = await page.evaluate(() => window.__flatMinima.universality());
  assert.equal(snap.hyper.plan.length, 9);
  assert.equal(snap.hyper.precomputed, false);
  assert.ok(snap.hyper.plan.every((p) => p.result || p.failed));
  const grid = page.locator('[data-figure="hyper-sweep"]');
  const psi = grid.locator('[data-series="psi"] circle.fm-pt');
  const done = await page.locator('[data-testid="universality-hyper-progress"]').textContent();
  const failed = Number(/(\d+) failed/.exec(done)?.[1] ?? 0);
  assert.equal(await psi.count(), 9 - failed, done);
  assert.equal(await grid.locator('[data-series="gamma"] path.fm-pt').count(), 9 - failed);
  const readout = await grid.locator('.fm-readout').textContent();
  assert.match(
    readout,
    /^ψ from \d\.\d\d \(B \d+, α [\d.]+\) to \d\.\d\d \(B \d+, α [\d.]+\) over \d runs/,
  );
  console.log(readout);
  // The 3×3 table: a row per B, a cell per α.
  assert.equal(await grid.locator('.fm-table tbody tr').count(), 3);
  assert.equal(await grid.locator('.fm-table tbody td').count(), 9);
  console.log((await grid.locator('.fm-table').innerText()).replace(/\t/g, ' | '));

  // A 4-layer MLP of width 20, block W2: 400 weights, under the cap.
  const panel = page.locator('.universality-arch');
  await panel.getByLabel('Hidden width h').fill('20');
  await panel.getByLabel('Analysed block').selectOption('2');
  assert.match(
    await page.locator('[data-testid="universality-arch-plan"]').textContent(),
    /W2, 20 × 20 = 400 weights \(under the cap of 10,000: all of them\)/,
  );
  await panel.getByLabel('Network').selectOption('cnn');
  assert.match(
    await page.locator('[data-testid="universality-arch-plan"]').textContent(),
    /392 × 32 = 12,544 weights — above the cap of 10,000, so a fixed random subset of 10,000/,
  );
  await panel.getByLabel('Network').selectOption('mlp4');
  // The hidden width and block are kept across the switch.
  assert.match(
    await page.locator('[data-testid="universality-arch-plan"]').textContent(),
    /W2, 20 × 20 = 400 weights/,
  );
  await page.locator('[data-testid="universality-architectures-start"]').click();
  await page.waitForFunction(
    () =>
      (
        document.querySelector('[data-testid="universality-architectures-progress"]')
          ?.textContent ?? ''
      ).startsWith('Done: 1 run.'),
    null,
    { timeout: WAIT.run },
  );
  const arch = page.locator('[data-figure="architecture-comparison"]');
  const legend = await arch.locator('.fm-legend [data-run]').allTextContents();
  assert.equal(legend.length, 1);
  assert.match(legend[0], /^4-layer MLP h 20, W2: ψ = \d/);
  assert.ok((await arch.locator('circle.fm-pt').count()) > 10);
  const row = await arch.locator('.fm-table tbody tr').innerText();
  assert.match(row, /W2 20×20\s+400\s+400\s/);
  console.log(row.replace(/\t/g, ' | '));
  assert.deepEqual(errors, []);
  assert.deepEqual(foreign, []);
  await context.close();
});

test('a section-7 figure embeds with its own sweep controls', async () => {
  const { page, context, errors, foreign } = await openPage(
    browser,
    `${server.url}?embed=width-spectra&h=20&B=100`,
    server.origin,
    { viewport: { width: 640, height: 480 } },
  );
  const fig = page.locator('[data-figure="width-spectra"]');
  // The precomputed runs first (made at the default settings, not the link's).
  await page.waitForFunction(
    () => document.querySelectorAll('[data-figure="width-spectra"] path.fm-curve').length === 4,
    null,
    { timeout: WAIT.load },
  );
  assert.match(
    await page.locator('[data-testid="universality-widths-progress"]').textContent(),
    /^Showing 4 precomputed runs/,
  );
  // The embed's button runs the width sweep at the link's settings, in the embed's own worker:
  // the button starts it (an embed loads no worker before it is asked to run).
  assert.equal(page.workers().length, 0, 'no worker before the button');
  await page.locator('[data-testid="universality-widths-start"]').click();
  await page.waitForFunction(
    () =>
      (
        document.querySelector('[data-testid="universality-widths-progress"]')?.textContent ?? ''
      ).startsWith('Done: 4 runs'),
    null,
    { timeout: WAIT.run },
  );
  const snap = await page.evaluate(() => window.__flatMinima.universality().widths);
  assert.equal(snap.precomputed, false);
  assert.deepEqual(
    snap.plan.map((p) => p.result.summary.batchSize),
    [100, 100, 100, 100],
  );
  assert.equal(await fig.locator('path.fm-curve').count(), 4);
  const h = await page.evaluate(() => document.documentElement.scrollHeight);
  assert.ok(h <= 480, `fits the frame (${h} px)`);
  assert.deepEqual(errors, []);
  assert.deepEqual(foreign, []);
  await context.close();
});

test('a (B, α) grid too short for γ draws only finite marks and names what is missing', async () => {
  // B = 400 on the 8,000 training digits: one window epoch is 20 snapshots, so the spectrum ends
  // at rank 19 and γ (ranks 20–200) has one rank to fit. Started through the test hook.
  const { page, context, errors, foreign } = await openPage(
    browser,
    `${server.url}?embed=hyper-sweep`,
    server.origin,
    { viewport: { width: 800, height: 700 } },
  );
  await page.waitForFunction(() => window.__flatMinima.universality().hyper.precomputed, null, {
    timeout: WAIT.load,
  });
  const started = await page.evaluate(() => {
    if (typeof window.__flatMinima.startSweep !== 'function') return false;
    const c = window.__flatMinima.config();
    window.__flatMinima.startSweep(
      'hyper',
      [0.05, 0.2].map((lr) => ({
        spec: {
          kind: 'mlp',
          config: {
            ...c,
            hidden: 10,
            batchSize: 400,
            lr,
            warmupEpochs: 1,
            windowEpochs: 1,
            flatnessModes: 5,
            contrast: false,
          },
        },
        label: `B 400, α ${lr}`,
      })),
    );
    return true;
  });
  assert.ok(started, 'a test build (VITE_TEST_HOOKS=1) carries the sweep hook');
  const fig = page.locator('[data-figure="hyper-sweep"]');
  await page.waitForFunction(
    () =>
      /No γ in 2 runs/.test(
        document.querySelector('[data-figure="hyper-sweep"] .fm-readout')?.textContent ?? '',
      ),
    null,
    { timeout: WAIT.run },
  );
  const readout = await fig.locator('.fm-readout').textContent();
  assert.match(
    readout,
    /No γ in 2 runs \(B 400, α 0\.05, 20 snapshots; B 400, α 0\.2, 20 snapshots\): 1 rank with non-zero variance in ranks 19–20; a fit needs at least 2\./,
  );
  assert.equal(await fig.locator('[data-series="psi"] circle.fm-pt').count(), 2);
  assert.equal(await fig.locator('[data-series="gamma"] path.fm-pt').count(), 0);
  const marks = await fig
    .locator('svg [d], svg [cx], svg [y1]')
    .evaluateAll((els) =>
      els.flatMap((e) => ['d', 'cx', 'cy', 'y1', 'y2'].map((a) => e.getAttribute(a) ?? '')),
    );
  assert.ok(!marks.some((v) => /NaN|Infinity|undefined/.test(v)), 'every mark is a finite number');
  assert.deepEqual(errors, []);
  assert.deepEqual(foreign, []);
  await context.close();
});
