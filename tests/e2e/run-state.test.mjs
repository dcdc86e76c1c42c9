// One truth about a run's state, in real Chromium: a worker error stops the run and keeps what
// was measured, Resume continues from the checkpoint, Reset stays idle under autorun, the
// reader's IDX data survives a restart, and the analysis shows its own progress.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  TEST_TIMEOUT,
  WAIT,
  openPage,
  runState,
  openSite,
  closeSite,
  crashWorker,
} from './harness.mjs';

let server;
let browser;
before(async () => ({ server, browser } = await openSite()));
after(() => closeSite({ server, browser }));

const rootState = (page, state, timeout = WAIT.ui) =>
  page.waitForFunction((s) => document.getElementById('root').dataset.runState === s, state, {
    timeout,
  });

/** The page's live worker of that kind (its bundle is named after its source file). */
function worker(page, kind) {
  const w = page.workers().find((x) => x.url().includes(`${kind}.worker`));
  assert.ok(w, `a ${kind} worker runs: ${page.workers().map((x) => x.url())}`);
  return w;
}
const closed = (w) => new Promise((resolve) => w.once('close', resolve));

/**
 * One round trip through the page: the settings toggle re-renders the panel, so every store
 * update and effect that was pending when it was clicked has run when its new label shows.
 */
async function uiRoundTrip(page) {
  const more = page.getByRole('button', { name: 'All settings' });
  const fewer = page.getByRole('button', { name: 'Fewer settings' });
  if (await more.isVisible()) {
    await more.click();
    await fewer.waitFor({ timeout: WAIT.ui });
  } else {
    await fewer.click();
    await more.waitFor({ timeout: WAIT.ui });
  }
}

/** The run's measured series, for "nothing measured was lost or added" comparisons. */
const measured = (s) => ({
  epochs: s.epochs,
  minibatch: s.minibatch.length,
  step: s.progress?.step,
});

test(
  'a crashed worker stops the run, keeps what it measured, and Resume continues from the checkpoint',
  { timeout: TEST_TIMEOUT },
  async () => {
    // Warm-up by epoch count, long enough that the crash lands in the warm-up.
    const { page, context, errors } = await openPage(
      browser,
      `${server.url}?preset=quick&phase=warmup&warmup=40&window=2&autorun=1`,
      server.origin,
    );
    await page.waitForFunction(() => window.__flatMinima.run().epochs.length >= 4, null, {
      timeout: WAIT.load,
    });
    const trainer = worker(page, 'trainer');
    const analysis = worker(page, 'analysis');
    const gone = Promise.all([closed(trainer), closed(analysis)]);
    await crashWorker(page, 'trainer');
    await rootState(page, 'error');
    // The proof the run stopped: both workers were terminated, not left training.
    await gone;
    const stopped = await runState(page);
    assert.equal(stopped.crashed, true);
    assert.match(stopped.error, /training worker crashed/);
    assert.match(stopped.error, /everything measured so far is kept/);
    assert.ok(stopped.resumeFrom, 'a resume point is offered');
    const k = stopped.resumeFrom.epoch;
    assert.ok(stopped.epochs.length >= 4, 'the epochs measured before the crash are kept');
    assert.ok(stopped.minibatch.length > 0, 'the minibatch losses are kept');
    // Across several rounds of the page's event loop nothing more arrives.
    for (let i = 0; i < 3; i++) {
      await uiRoundTrip(page);
      assert.deepEqual(measured(await runState(page)), measured(stopped));
    }
    assert.equal(
      page.workers().filter((w) => /(trainer|analysis)\.worker/.test(w.url())).length,
      0,
      'no trainer or analysis worker is left running',
    );
    const checkpoint = stopped.epochs.find((e) => e.epoch === k);
    assert.ok(checkpoint, `the record of the checkpoint's epoch ${k} is kept`);

    await page.getByRole('button', { name: `Resume from epoch ${k}` }).click();
    await page.waitForFunction(
      (n) => window.__flatMinima.run().epochs.some((e) => e.epoch >= n),
      k + 2,
      { timeout: WAIT.run },
    );
    const resumed = await runState(page);
    assert.equal(resumed.error, null);
    assert.equal(resumed.source.kind, 'live');
    // What was measured up to the checkpoint stays as it was; the run goes on from there.
    assert.deepEqual(resumed.epochs.slice(0, k + 1), stopped.epochs.slice(0, k + 1));
    const next = resumed.epochs[k + 1];
    assert.equal(next.epoch, k + 1, 'epochs continue from the checkpoint, not from 0');
    const perEpoch = 8000 / 50;
    assert.equal(next.step, checkpoint.step + perEpoch, 'steps continue from the checkpoint');
    // The first epoch after the checkpoint was measured before the crash too: the resumed run
    // reproduces it (same weights, same batches).
    const before = stopped.epochs.find((e) => e.epoch === k + 1);
    if (before) assert.deepEqual(next, before);
    assert.ok(
      resumed.minibatch.every((p, i, a) => i === 0 || p.step > a[i - 1].step),
      'one minibatch curve, no overlap from the rewound part',
    );

    // An analysis-worker error stops the run the same way, and the resumed run resumes again.
    const gone2 = Promise.all([closed(worker(page, 'trainer')), closed(worker(page, 'analysis'))]);
    await crashWorker(page, 'analysis');
    await rootState(page, 'error');
    await gone2;
    const stopped2 = await runState(page);
    assert.match(stopped2.error, /analysis worker crashed/);
    assert.ok(stopped2.resumeFrom && stopped2.resumeFrom.epoch >= k + 1);
    await uiRoundTrip(page);
    assert.deepEqual(measured(await runState(page)), measured(stopped2));
    const k2 = stopped2.resumeFrom.epoch;
    await page.getByRole('button', { name: `Resume from epoch ${k2}` }).click();
    await page.waitForFunction(
      (n) => window.__flatMinima.run().epochs.some((e) => e.epoch >= n),
      k2 + 1,
      { timeout: WAIT.run },
    );
    // Running again (40 warm-up epochs leave it training here, but the state is read after the
    // wait, so allow the run to have moved on to its analysis on a fast machine).
    assert.match(
      (await page.locator('#root').getAttribute('data-run-state')) ?? '',
      /^(training|analyzing|done)$/,
    );
    assert.deepEqual(errors, [], errors.join('\n'));
    await context.close();
  },
);

test('Reset with autorun in the link leaves the page idle', { timeout: TEST_TIMEOUT }, async () => {
  const { page, context } = await openPage(
    browser,
    `${server.url}?preset=quick&phase=warmup&warmup=40&autorun=1`,
    server.origin,
  );
  await page.waitForFunction(() => window.__flatMinima.run().epochs.length >= 2, null, {
    timeout: WAIT.load,
  });
  await page.getByRole('button', { name: 'Reset' }).click();
  await rootState(page, 'idle');
  // Renders and effects after the reset have run: autorun had its chance to start again.
  for (let i = 0; i < 2; i++) {
    await uiRoundTrip(page);
    const s = await runState(page);
    assert.equal(s.runState, 'idle');
    assert.deepEqual(s.epochs, []);
    assert.equal(s.progress, null);
  }
  assert.ok(await page.getByRole('button', { name: 'Start', exact: true }).isEnabled());
  assert.equal(await page.getByTestId('progress-text').innerText(), 'Ready');
  await context.close();
});

/** An IDX file: magic (type 0x08, `dims.length` dimensions), big-endian sizes, payload. */
function idx(dims, payload) {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = 0x08;
  header[3] = dims.length;
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, Buffer.from(payload)]);
}
function images(count, salt) {
  const p = new Uint8Array(count * 784);
  for (let i = 0; i < p.length; i++) p[i] = (i * 31 + salt * 17 + ((i * i) >>> 3)) & 0xff;
  return p;
}
const labels = (count, salt) => Uint8Array.from({ length: count }, (_, i) => (i + salt) % 10);
const file = (name, buffer) => ({ name, mimeType: 'application/octet-stream', buffer });

test(
  'the reader’s IDX data stays loaded when the workers restart after an error',
  {
    timeout: TEST_TIMEOUT,
  },
  async () => {
    const { page, context, errors } = await openPage(
      browser,
      `${server.url}?preset=quick&phase=warmup&warmup=3&window=3`,
      server.origin,
    );
    await page.waitForFunction(() => window.__flatMinima.run().dataset !== null, null, {
      timeout: WAIT.load,
    });
    await page
      .getByTestId('idx-input')
      .setInputFiles([
        file('train-images-idx3-ubyte', idx([200, 28, 28], images(200, 1))),
        file('train-labels-idx1-ubyte', idx([200], labels(200, 0))),
        file('t10k-images-idx3-ubyte', idx([50, 28, 28], images(50, 2))),
        file('t10k-labels-idx1-ubyte', idx([50], labels(50, 3))),
      ]);
    await page.waitForFunction(() => window.__flatMinima.run().dataset?.source === 'idx', null, {
      timeout: WAIT.ui,
    });
    // Every data set the panel shows from here on.
    await page.evaluate(() => {
      window.__shownData = [];
      const el = document.querySelector('[data-testid="dataset-info"]');
      new MutationObserver(() => window.__shownData.push(el.textContent)).observe(el, {
        subtree: true,
        childList: true,
        characterData: true,
      });
    });
    const gone = closed(worker(page, 'trainer'));
    await crashWorker(page, 'trainer');
    await rootState(page, 'error');
    await gone;
    await page.getByRole('button', { name: 'Restart workers' }).click();
    await rootState(page, 'idle', WAIT.load);
    let s = await runState(page);
    assert.equal(s.dataset.source, 'idx');
    assert.equal(s.dataset.trainCount, 200);
    assert.equal(s.dataset.testCount, 50);
    assert.match(page.url(), /[?&]data=idx/);
    const shown = await page.evaluate(() => window.__shownData);
    assert.ok(
      shown.every((t) => !t.includes('Embedded MNIST digits')),
      `the embedded digits never replaced the reader's data: ${shown.join(' | ')}`,
    );
    // And the new workers train on it: 200 images, B = 50 → 4 steps an epoch.
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    await page.waitForFunction(() => window.__flatMinima.run().epochs.length >= 2, null, {
      timeout: WAIT.run,
    });
    s = await runState(page);
    assert.equal(s.epochs[1].step, 4);
    assert.match(await page.getByTestId('dataset-info').innerText(), /Your MNIST files: 200/);
    assert.deepEqual(errors, [], errors.join('\n'));
    await context.close();
  },
);

test(
  'the analysis shows its own progress, and a training rate only while training',
  {
    timeout: TEST_TIMEOUT,
  },
  async () => {
    // Every progress line the panel renders, with the run state it was rendered for (the
    // root's attribute follows the store at once; the line follows at the next render),
    // recorded from before the page's first script: a fast machine may train the whole warm-up
    // before any later read.
    const { page, context } = await openPage(
      browser,
      `${server.url}?preset=quick&phase=warmup&warmup=2&window=2&modes=8&autorun=1`,
      server.origin,
      {
        initScript: () => {
          window.__lines = [];
          let last = null;
          // A line is recorded when the panel renders a new one (not when only the state
          // attribute moves, which happens a render before the line follows).
          const record = () => {
            const el = document.querySelector('[data-testid="progress-text"]');
            const root = document.getElementById('root');
            if (!el || !root || el.textContent === last) return;
            last = el.textContent;
            window.__lines.push([root.dataset.runState, last]);
          };
          new MutationObserver(record).observe(document, {
            subtree: true,
            childList: true,
            characterData: true,
          });
        },
      },
    );
    await rootState(page, 'done', WAIT.run);
    const lines = await page.evaluate(() => window.__lines);
    const analyzing = lines.filter(([state]) => state === 'analyzing').map(([, t]) => t);
    assert.ok(analyzing.length > 0, `lines: ${JSON.stringify(lines)}`);
    for (const t of analyzing) assert.doesNotMatch(t, /steps\/s/, `a stale training rate: ${t}`);
    assert.ok(
      analyzing.some((t) => /^Analysis \(SGD\): PCA/.test(t)),
      `the PCA phase shows: ${analyzing.join(' | ')}`,
    );
    assert.ok(
      analyzing.some((t) => /^Analysis \(SGD\): flatness: \d+ of \d+ modes measured/.test(t)),
      `flatness shows the modes measured: ${analyzing.join(' | ')}`,
    );
    const trainingLines = lines.filter(([state]) => state === 'training').map(([, t]) => t);
    assert.ok(
      trainingLines.some((t) => /steps\/s/.test(t)),
      `training shows its rate: ${trainingLines.join(' | ')}`,
    );
    await context.close();
  },
);

test(
  'a resumed run runs to its end, its trajectory temperature spanning epochs from before the crash',
  { timeout: TEST_TIMEOUT },
  async () => {
    const { page, context, errors } = await openPage(
      browser,
      `${server.url}?preset=quick&phase=warmup&warmup=6&window=2&modes=8&autorun=1`,
      server.origin,
    );
    await page.waitForFunction(() => window.__flatMinima.run().epochs.length >= 3, null, {
      timeout: WAIT.load,
    });
    const gone = closed(worker(page, 'trainer'));
    await crashWorker(page, 'trainer');
    await rootState(page, 'error');
    await gone;
    const { resumeFrom } = await runState(page);
    assert.ok(resumeFrom, 'a resume point is offered');
    await page.getByRole('button', { name: `Resume from epoch ${resumeFrom.epoch}` }).click();
    await rootState(page, 'done', WAIT.run);
    const s = await runState(page);
    assert.equal(s.error, null);
    assert.deepEqual(
      s.epochs.map((e) => e.epoch),
      [0, 1, 2, 3, 4, 5, 6, 7, 8],
      'one epoch record each, none lost or doubled',
    );
    assert.equal(s.windows.length, 1);
    assert.ok(s.results.sgd, 'the analysis finished');
    // The checkpoints of the epochs before the crash reached the new analysis worker.
    assert.deepEqual(s.results.sgd.theory?.trajectory?.epochs, [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.deepEqual(errors, [], errors.join('\n'));
    await context.close();
  },
);
