// Light pages in real Chromium: an embedded figure loads what it shows — no worker script, no
// .wasm, no digits — until its reader presses Start, which then loads them and trains; the full
// page loads them by itself once idle, with the gzip-compressed digits, so Start trains at once
// (variance-flatness.test.mjs runs the quick preset to the end on these lazily loaded pieces,
// offline). What the pages weigh is measured in `npm run bench -- --only weight`.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { animationFrames, openPage, runState, WAIT, openSite, closeSite } from './harness.mjs';

let server;
let browser;
before(async () => ({ server, browser } = await openSite()));
after(() => closeSite({ server, browser }));

const WORKER = /\.worker[-.][^/]*\.js(\?|$)/;
const WASM = /\.wasm(\?|$)/;
const DATA = /\/data\//;
const ASSETS = join(process.env.E2E_DIST || 'dist', 'assets');
/** A kernel name tfjs registers (analysis-worker-chunk.test.mjs): in every chunk holding tfjs. */
const TFJS = /FusedMatMul/;
/** The script chunks among `urls` whose code holds tfjs. */
const tfjsChunks = (urls) =>
  urls
    .map((u) => /\/assets\/([^/?]+\.js)(\?|$)/.exec(u)?.[1])
    .filter((f) => f && TFJS.test(readFileSync(join(ASSETS, f), 'utf8')));
/** The view chunks a page requested: `assets/VarianceFlatnessView-<hash>.js` → VarianceFlatness. */
const views = (urls) =>
  [...new Set(urls.flatMap((u) => /\/assets\/(\w+)View-[\w-]+\.js$/.exec(u)?.[1] ?? []))].sort();
/** Chunks only the full page, another section's embed or an export needs. */
const NOT_FOR_A_RUN_EMBED = /\/assets\/(Page|SweepEmbedBar|ForgettingEmbedBar|figureExport)-/;

/** The figure is drawn from the bundled run and the page's thread has had an idle moment. */
async function drawnAndIdle(page, figure) {
  await page.getByTestId('psi-value').waitFor({ timeout: WAIT.load });
  await page.locator(`[data-figure="${figure}"] svg.fm-svg`).waitFor({ timeout: WAIT.load });
  await animationFrames(page, 5);
  await page.evaluate(() => new Promise((r) => requestIdleCallback(() => r())));
  await animationFrames(page, 5);
}

test('an embed requests no worker, .wasm or data until Start; Start says "Loading…", then trains', async () => {
  const from = server.requests.length;
  const { page, context, errors, foreign } = await openPage(
    browser,
    `${server.url}?embed=variance-flatness&preset=quick&warmup=4&window=2&modes=8`,
    server.origin,
    { viewport: { width: 640, height: 480 } },
  );
  await drawnAndIdle(page, 'variance-flatness');
  const idle = server.requests.slice(from);
  assert.deepEqual(
    idle.filter((u) => WORKER.test(u) || WASM.test(u) || DATA.test(u)),
    [],
    `requested before Start: ${idle.join(', ')}`,
  );
  assert.equal(page.workers().length, 0, 'no worker started');
  assert.equal(await page.locator('#root').getAttribute('data-run-state'), 'idle');
  // Only its own figure's code, and none of the page's, the sweeps' or the export's.
  assert.deepEqual(views(idle), ['VarianceFlatness'], `view chunks: ${idle.join(', ')}`);
  assert.deepEqual(
    idle.filter((u) => NOT_FOR_A_RUN_EMBED.test(u)),
    [],
    `requested: ${idle.join(', ')}`,
  );
  // The bundled run crossed as a gzip asset and decoded to the file's numbers.
  assert.ok(
    idle.some((u) => /\/assets\/precomputed-run[^/]*\.gz$/.test(u)),
    `the compressed run: ${idle.join(', ')}`,
  );
  const bundle = JSON.parse(readFileSync('src/data/precomputed-run.json', 'utf8'));
  const shown = await runState(page);
  assert.deepEqual(shown.results, bundle.results);
  assert.deepEqual(shown.epochs, bundle.epochs);

  // Every label the button shows from the click on, and whether it could be focused then.
  await page.evaluate(() => {
    const btn = [...document.querySelectorAll('.embed-bar button')].find(
      (b) => b.textContent.trim() === 'Start',
    );
    window.__labels = [];
    const note = () =>
      window.__labels.push({
        text: btn.textContent.trim(),
        disabled: btn.disabled,
        focused: document.activeElement === btn,
        ariaDisabled: btn.getAttribute('aria-disabled'),
      });
    new MutationObserver(note).observe(btn, { childList: true, subtree: true, attributes: true });
  });
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await page.waitForFunction(() => window.__flatMinima.run().epochs.length >= 2, null, {
    timeout: WAIT.run,
  });
  const labels = await page.evaluate(() => window.__labels);
  const loading = labels.find((l) => l.text === 'Loading…');
  assert.ok(loading, `Start said "Loading…" while the pieces loaded: ${JSON.stringify(labels)}`);
  assert.equal(loading.disabled, false, 'still focusable (aria-disabled, not disabled)');
  assert.equal(loading.ariaDisabled, 'true');
  assert.equal(loading.focused, true, 'focus stays on the button');

  const s = await runState(page);
  assert.equal(s.dataset.source, 'embedded');
  assert.ok(s.epochs[1].trainLoss < s.epochs[0].trainLoss, 'the loss falls');
  const all = server.requests.slice(from);
  assert.ok(all.filter((u) => WORKER.test(u)).length >= 2, `the workers loaded: ${all}`);
  assert.ok(
    all.some((u) => /\/data\/mnist-10k\.bin\.gz$/.test(u)),
    `the compressed digits: ${all}`,
  );
  // The run trains on the WebAssembly SIMD kernel, which the trainer builds itself: no tfjs,
  // so none of tfjs's .wasm binaries either (worker/tfLazy.ts).
  assert.deepEqual(
    all.filter((u) => WASM.test(u)),
    [],
    `.wasm files fetched: ${all.join(', ')}`,
  );
  assert.deepEqual(tfjsChunks(all), [], 'chunks with tfjs were fetched');
  assert.deepEqual(errors, [], errors.join('\n'));
  assert.deepEqual(foreign, [], 'no request leaves the origin');
  await context.close();
});

test('a section-6 figure embeds (?embed=forgetting-tradeoff) and loads nothing before its Start', async () => {
  const from = server.requests.length;
  const { page, context, errors, foreign } = await openPage(
    browser,
    `${server.url}?embed=forgetting-tradeoff`,
    server.origin,
    { viewport: { width: 640, height: 480 } },
  );
  await page.locator('[data-figure="forgetting-tradeoff"]').waitFor({ timeout: WAIT.load });
  assert.equal(await page.getByTestId('embed-error').count(), 0, 'not the unknown-id page');
  assert.equal(await page.locator('[data-figure]').count(), 1, 'one figure');
  await page.getByRole('button', { name: 'Start sweep' }).waitFor({ timeout: WAIT.ui });
  await page.evaluate(() => new Promise((r) => requestIdleCallback(() => r())));
  const idle = server.requests.slice(from);
  assert.deepEqual(
    idle.filter((u) => WORKER.test(u) || WASM.test(u) || DATA.test(u)),
    [],
    `requested before Start: ${idle.join(', ')}`,
  );
  // Its own view and bar; not the bundled run it does not show, nor the run panel, section 7,
  // or the zoom behaviour (views/zoom.ts) that only the zooming figures load.
  assert.deepEqual(views(idle), ['Tradeoff'], `view chunks: ${idle.join(', ')}`);
  assert.deepEqual(
    idle.filter((u) =>
      /\/assets\/(Page|SweepEmbedBar|RunPanel|figureExport|zoom)-|precomputed-run/.test(u),
    ),
    [],
    `requested: ${idle.join(', ')}`,
  );
  assert.deepEqual(errors, [], errors.join('\n'));
  assert.deepEqual(foreign, [], 'no request leaves the origin');
  await context.close();
});

test('the full page loads the workers by itself once idle, so Start trains at once, without tfjs', async () => {
  const from = server.requests.length;
  const { page, context, errors, foreign } = await openPage(
    browser,
    `${server.url}?preset=quick&warmup=4&window=2&modes=8`,
    server.origin,
  );
  await page.locator('[data-figure="variance-flatness"] svg.fm-svg').waitFor({
    timeout: WAIT.load,
  });
  // Nothing pressed: the idle prefetch brings the backend and the digits.
  await page.waitForFunction(() => window.__flatMinima.run().dataset !== null, null, {
    timeout: WAIT.load,
  });
  assert.equal(await page.locator('#root').getAttribute('data-run-state'), 'idle');
  assert.deepEqual(
    server.requests
      .slice(from)
      .filter((u) => DATA.test(u))
      .map((u) => u.split('/').pop()),
    ['mnist-10k.bin.gz'],
    'the digits come compressed, once',
  );
  // Record every state the root passes through: a short run can be past 'training' by the time
  // one read after the click returns, so a single read would test the machine's speed.
  await page.evaluate(() => {
    const root = document.getElementById('root');
    window.__runStates = [];
    new MutationObserver(() =>
      window.__runStates.push(root.getAttribute('data-run-state')),
    ).observe(root, { attributes: true, attributeFilter: ['data-run-state'] });
  });
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await page.waitForFunction(() => window.__flatMinima.run().epochs.length >= 2, null, {
    timeout: WAIT.run,
  });
  // Loaded already: the run starts without a 'loading' state in between.
  const states = await page.evaluate(() => window.__runStates);
  assert.equal(states[0], 'training', `states after Start: ${states.join(' → ')}`);
  assert.ok(!states.includes('loading'), `states after Start: ${states.join(' → ')}`);
  // The quick run trains on the WebAssembly SIMD kernel and finishes without TensorFlow.js: the
  // trainer loads it only for a tfjs step (worker/tfLazy.ts). The build still has it.
  await page.waitForFunction(() => window.__flatMinima.run().runState === 'done', null, {
    timeout: WAIT.run,
    polling: 500,
  });
  assert.equal((await runState(page)).stepImpl, 'wasm-simd');
  assert.deepEqual(tfjsChunks(server.requests.slice(from)), [], 'chunks with tfjs were fetched');
  assert.ok(
    readdirSync(ASSETS).some(
      (f) => f.endsWith('.js') && TFJS.test(readFileSync(join(ASSETS, f), 'utf8')),
    ),
    'no chunk of the build holds tfjs: update TFJS',
  );
  assert.deepEqual(errors, [], errors.join('\n'));
  assert.deepEqual(foreign, [], 'no request leaves the origin');
  await context.close();
});
