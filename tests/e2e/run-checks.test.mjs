// Every run checked before it starts (issue 20), in real Chromium: the memory budget strides or
// refuses a window with a message naming the setting, the estimate and the limit; B = 1 and a
// too-hot Langevin temperature are refused before anything trains; a Langevin run that leaves
// its minimum is stopped at the step it happens; and a seeded fuzz of bad values over every URL
// key (the run settings, the page flags and the forgetting section's keys) raises no page error,
// names every bad value in a notice (cut short), starts no sweep beyond the cap and keeps the
// document inside the viewport.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { animationFrames, openPage, TEST_TIMEOUT, WAIT, openSite, closeSite } from './harness.mjs';

let server;
let browser;
before(async () => ({ server, browser } = await openSite()));
after(() => closeSite({ server, browser }));

const ready = (page) =>
  page.waitForFunction(() => window.__flatMinima?.run().dataset !== null, null, {
    timeout: WAIT.load,
  });

const startButton = (page) => page.getByRole('button', { name: 'Start', exact: true });

test('memory: h = 200, B = 25 keeps every 4th step and says so; h = 200, B = 10 is refused', async () => {
  const strided = await openPage(browser, `${server.url}?h=200&B=25`, server.origin);
  await ready(strided.page);
  const note = strided.page.getByTestId('run-check-note');
  await note.waitFor({ timeout: WAIT.ui });
  const text = await note.textContent();
  assert.match(text, /h = 200, B = 25: the 10-epoch window's 3,200 snapshots/);
  assert.match(text, /about 2\.8 GB, over the 1\.0 GB memory limit/);
  assert.match(text, /keeps every 4th step \(800 snapshots/);
  assert.equal(await startButton(strided.page).isEnabled(), true, 'a strided run may start');
  assert.deepEqual(strided.errors, [], strided.errors.join('\n'));
  await strided.context.close();

  const refused = await openPage(browser, `${server.url}?h=200&B=10&autorun=1`, server.origin);
  await ready(refused.page);
  const alert = refused.page.getByTestId('run-check');
  await alert.waitFor({ timeout: WAIT.ui });
  const why = await alert.textContent();
  assert.match(why, /hidden width h = 200 with B = 10/);
  assert.match(why, /about 6\.8 GB .* over the 1\.0 GB limit/);
  assert.match(why, /Use h ≤ \d+ or B ≥ \d+/);
  assert.equal(await startButton(refused.page).isEnabled(), false);
  await animationFrames(refused.page, 20);
  const run = await refused.page.evaluate(() => window.__flatMinima.run());
  assert.equal(run.runState, 'idle', 'autorun did not start it');
  assert.equal(run.progress, null);
  assert.deepEqual(refused.errors, [], refused.errors.join('\n'));
  await refused.context.close();
});

test(
  'a strided window runs through both workers: every 4th step kept, the velocities 4 steps apart',
  { timeout: TEST_TIMEOUT },
  async () => {
    // B = 1 and a 2-epoch window: 16,000 steps, more than the 4,000 snapshots the PCA holds
    // (at α = 0.02: with α = 0.1 single-sample steps kill this small network).
    const { page, context, errors } = await openPage(
      browser,
      `${server.url}?preset=quick&B=1&h=16&lr=0.02&warmup=1&window=2&modes=5&autorun=1`,
      server.origin,
    );
    const note = page.getByTestId('run-check-note');
    await note.waitFor({ timeout: WAIT.load });
    assert.match(
      await note.textContent(),
      /h = 16, B = 1: the 2-epoch window's 16,000 snapshots .* more than the 4,000 snapshots the PCA holds, so the PCA keeps every 4th step \(4,000 snapshots/,
    );
    await page.waitForFunction(() => window.__flatMinima.run().results.sgd?.theory, null, {
      timeout: WAIT.run,
    });
    const run = await page.evaluate(() => window.__flatMinima.run());
    assert.equal(run.results.sgd.snapshots, 4000);
    assert.equal(run.results.sgd.theory.stepEvery, 4);
    const steps = run.results.sgd.trajectory.steps;
    assert.equal((steps[1] - steps[0]) % 4, 0, 'trajectory points on kept steps');
    assert.deepEqual(errors, [], errors.join('\n'));
    await context.close();
  },
);

test('a network that dies is stopped at that epoch, naming α, B and h', async () => {
  const { page, context, errors } = await openPage(
    browser,
    `${server.url}?preset=quick&B=1&h=8&warmup=3&window=2&autorun=1`,
    server.origin,
  );
  await page.waitForFunction(
    () => document.getElementById('root').dataset.runState === 'error',
    null,
    { timeout: WAIT.run },
  );
  const run = await page.evaluate(() => window.__flatMinima.run());
  assert.match(run.error, /The network died in epoch 1: every hidden unit is inactive/);
  assert.match(run.error, /h = 8 and B = 1 the learning rate α = 0\.1 is too large/);
  assert.equal(run.windows.length, 0, 'stopped in the warm-up, not at the window');
  assert.deepEqual(errors, [], errors.join('\n'));
  await context.close();
});

test('B = 1 is refused before training starts, naming the B that works', async () => {
  const { page, context, errors } = await openPage(
    browser,
    `${server.url}?preset=quick&B=1&autorun=1`,
    server.origin,
  );
  await ready(page);
  const alert = page.getByTestId('run-check');
  await alert.waitFor({ timeout: WAIT.ui });
  const text = await alert.textContent();
  assert.match(text, /minibatch size B = 1 gives 8,000 steps per epoch/);
  assert.match(text, /Use B ≥ 2 with this window, or a window of ≤ 2 epochs at B = 1/);
  assert.equal(await startButton(page).isEnabled(), false);
  // The autorun effect has had its turn once the data is in and a few frames have drawn.
  await animationFrames(page, 20);
  const run = await page.evaluate(() => window.__flatMinima.run());
  assert.equal(run.runState, 'idle');
  assert.equal(run.epochs.length, 0, 'nothing trained');
  // A B that works clears the refusal.
  const b = page.getByLabel('Minibatch size B');
  await b.fill('4');
  await b.press('Enter');
  await page.waitForFunction(() => !document.querySelector('[data-testid="run-check"]'), null, {
    timeout: WAIT.ui,
  });
  assert.equal(await startButton(page).isEnabled(), true);
  assert.deepEqual(errors, [], errors.join('\n'));
  await context.close();
});

test('the contrast at T = 1 is refused before the run, naming T and the range that works', async () => {
  const { page, context, errors } = await openPage(
    browser,
    `${server.url}?preset=contrast&T=1&lrL=5&autorun=1`,
    server.origin,
  );
  await ready(page);
  const alert = page.getByTestId('run-check');
  await alert.waitFor({ timeout: WAIT.ui });
  const text = await alert.textContent();
  assert.match(text, /Langevin temperature T = 1 is too hot for h = 50/);
  assert.match(text, /Use T ≤ 0\.0018/);
  await animationFrames(page, 20);
  assert.equal((await page.evaluate(() => window.__flatMinima.run())).epochs.length, 0);
  assert.deepEqual(errors, [], errors.join('\n'));
  await context.close();
});

test(
  'a Langevin step that throws the weights out of the minimum stops the run at that step',
  { timeout: TEST_TIMEOUT },
  async () => {
    // A short SGD run, then Langevin at α = 5 and T = 1e-3 (inside the temperature check).
    const { page, context, errors } = await openPage(
      browser,
      `${server.url}?preset=quick&warmup=2&window=1&modes=10&contrast=1&T=0.001&lrL=5&burnL=0&stepsL=200&everyL=1&autorun=1`,
      server.origin,
    );
    await page.waitForFunction(
      () => document.getElementById('root').dataset.runState === 'error',
      null,
      { timeout: WAIT.run },
    );
    const run = await page.evaluate(() => window.__flatMinima.run());
    const m = /Langevin step α = 5 made the weights diverge at step (\d+) of the Langevin run/.exec(
      run.error,
    );
    assert.ok(m, run.error);
    const at = Number(m[1]);
    assert.ok(at >= 1 && at < 200, `stopped at Langevin step ${at} of 200`);
    assert.match(run.error, /above the chance level 2\.30/);
    assert.match(run.error, /lower T too/);
    // Stopped there: no Langevin analysis, and the SGD window's analysis still arrives.
    const sgdEnd = run.windows.find((w) => w.run === 'sgd')?.endStep;
    assert.ok(sgdEnd > 0);
    assert.ok(run.progress.step <= sgdEnd + at + 1, `progress ${run.progress.step}`);
    await page.waitForFunction(() => Boolean(window.__flatMinima.run().results.sgd), null, {
      timeout: WAIT.run,
    });
    const after = await page.evaluate(() => window.__flatMinima.run());
    assert.ok(!after.results.langevin, 'no analysis of a window that left its minimum');
    assert.equal(after.error, run.error, 'the message stays');
    assert.deepEqual(errors, [], errors.join('\n'));
    await context.close();
  },
);

// ───────────────────────────── the fuzz ─────────────────────────────

/** mulberry32: a small seeded generator, so a failure reproduces. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CONFIG_KEYS = [
  'B', 'lr', 'opt', 'mom', 'h', 'seed', 'step', 'warmup', 'window', 'phase',
  'errth', 'modes', 'factor', 'centre', 'contrast', 'T', 'lrL', 'burnL', 'stepsL', 'everyL',
]; // prettier-ignore
const PAGE_KEYS = ['preset', 'autorun', 'backend', 'hide', 'data', 'theme'];
const FORGETTING_KEYS = [
  'ft1', 'ft2', 'fseeds', 'flambdas', 'fewc', 'fnc', 'fsteps', 'fpre', 'fepochs', 'fwindow',
  'fautorun',
]; // prettier-ignore
const ALL_KEYS = [...CONFIG_KEYS, ...PAGE_KEYS, ...FORGETTING_KEYS];
const LIST_KEYS = new Set(['flambdas', 'fewc', 'fnc']);

/**
 * Values no key accepts (the ones some keys would accept are left out for them: lists trim
 * their items, hide= drops empty ones).
 */
const GENERATORS = [
  () => '0x10',
  () => '+7',
  (r, key) => (LIST_KEYS.has(key) || key === 'hide' ? '7 7' : ' 7 '),
  () => '1e400',
  () => 'Infinity',
  () => 'NaN',
  (r) => `-${1 + Math.floor(r() * 1000)}`,
  (r) => `abc${Math.floor(r() * 1e6)}`,
  () => 'x'.repeat(10_000),
  () => '9'.repeat(10_000),
  (r) => Array.from({ length: 10_000 }, (_, i) => i + Math.floor(r() * 3)).join(','),
  () => '1.5.2',
  () => 'λ≈∞ ü',
  () => '<b>x</b>&amp;',
  (r, key) => (key === 'hide' ? ',,x' : ''),
  () => 'true!',
];

const NOTICE_CHARS = 40;
const clip = (v) =>
  v.length > NOTICE_CHARS
    ? `${v.slice(0, NOTICE_CHARS)}… (${v.length.toLocaleString('en')} characters)`
    : v;
/** What the notice must contain for a bad value of `key`. */
function expected(key, value) {
  if (key === 'hide') {
    const first = value
      .split(',')
      .map((x) => x.trim())
      .find(Boolean);
    return `hide=${clip(first)}`;
  }
  return `${key}=${clip(value)}`;
}

/** Batches of 18 or 19 keys, every key in 6 of them: 222 bad values over 12 page loads. */
function fuzzBatches(seed) {
  const r = rng(seed);
  const batches = [];
  for (let round = 0; round < 6; round++) {
    const keys = [...ALL_KEYS];
    for (let i = keys.length - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      [keys[i], keys[j]] = [keys[j], keys[i]];
    }
    for (let b = 0; b < 2; b++) {
      const part = b === 0 ? keys.slice(0, 18) : keys.slice(18);
      batches.push(
        part.map((key) => [key, GENERATORS[Math.floor(r() * GENERATORS.length)](r, key)]),
      );
    }
  }
  return batches;
}

const query = (pairs) =>
  pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');

/** The sweep the forgetting section is running (or ran), if any, and its size. */
async function sweepSize(page) {
  return page.evaluate(() => {
    const f = window.__flatMinima.forgetting();
    const c = f.config;
    const runs = c
      ? c.seeds.length * (1 + c.ewcLambdas.length + c.lambdas.length * c.ncList.length)
      : 0;
    return { status: f.status, held: f.held ?? null, runs };
  });
}
/** forgettingStore's MAX_SWEEP_RUNS: the most runs a sweep may have on the page. */
const MAX_SWEEP_RUNS = 1000;

async function checkPage(page, errors, pairs, label) {
  page.on('crash', () => errors.push(`${label}: the page crashed`));
  await ready(page);
  const configPairs = pairs.filter(([k]) => !FORGETTING_KEYS.includes(k));
  const forgettingPairs = pairs.filter(([k]) => FORGETTING_KEYS.includes(k));
  let notices = '';
  if (configPairs.length) {
    const n = page.getByTestId('url-notices');
    await n.waitFor({ timeout: WAIT.ui }).catch((e) => {
      throw new Error(`${label}: no notice (${errors.join('; ')}): ${e.message}`);
    });
    notices += await n.textContent();
  }
  if (forgettingPairs.length) {
    const n = page.getByTestId('forgetting-url-notices');
    await n.waitFor({ timeout: WAIT.load });
    notices += await n.textContent();
  }
  for (const [key, value] of pairs)
    assert.ok(
      notices.includes(expected(key, value)),
      `${label}: ${key}=${clip(value)} is not named in the notices:\n${notices.slice(0, 3000)}`,
    );
  const size = await page.evaluate(() => ({
    doc: document.documentElement.scrollWidth,
    body: document.body.scrollWidth,
    viewport: window.innerWidth,
  }));
  assert.ok(
    size.doc <= size.viewport && size.body <= size.viewport,
    `${label}: the document is ${size.doc} px wide in a ${size.viewport} px viewport`,
  );
  const sweep = await sweepSize(page);
  assert.ok(sweep.runs <= MAX_SWEEP_RUNS, `${label}: a sweep of ${sweep.runs} runs was started`);
  assert.deepEqual(errors, [], `${label}: ${errors.join('\n')}`);
}

test('seeded fuzz: 222 bad values over every URL key', { timeout: TEST_TIMEOUT }, async () => {
  const batches = fuzzBatches(20);
  assert.ok(batches.flat().length >= 200);
  for (const key of ALL_KEYS)
    assert.ok(
      batches.some((b) => b.some(([k]) => k === key)),
      `${key} is fuzzed`,
    );
  for (const [i, pairs] of batches.entries()) {
    // In the hash, which the page reads like the query: a server refuses so long a request.
    const { page, context, errors } = await openPage(
      browser,
      `${server.url}#${query(pairs)}`,
      server.origin,
    );
    await checkPage(page, errors, pairs, `batch ${i}`);
    await context.close();
  }
});

test(
  'fuzz: a repeated key, huge lists with fautorun=1, and a bad embed id',
  { timeout: TEST_TIMEOUT },
  async () => {
    // A key given twice is refused by name.
    const twice = await openPage(
      browser,
      `${server.url}?B=25&B=100&fseeds=2&fseeds=3`,
      server.origin,
    );
    await ready(twice.page);
    await twice.page.getByTestId('url-notices').waitFor({ timeout: WAIT.ui });
    assert.match(
      await twice.page.getByTestId('url-notices').textContent(),
      /B appears 2 times in the link/,
    );
    assert.equal((await twice.page.evaluate(() => window.__flatMinima.config())).batchSize, 50);
    assert.deepEqual(twice.errors, [], twice.errors.join('\n'));
    await twice.context.close();

    // 10,000-value lists (refused) and lists that are each allowed but together far too large:
    // the link may start at most the default sweep on its own.
    const many = Array.from({ length: 10_000 }, (_, i) => i + 1).join(',');
    const n32 = Array.from({ length: 32 }, (_, i) => i + 1).join(',');
    for (const q of [
      `fautorun=1&flambdas=${many}&fnc=${many}`,
      `fautorun=1&fseeds=10&flambdas=${n32}&fnc=${n32}&fewc=${n32}`,
    ]) {
      const { page, context, errors } = await openPage(
        browser,
        `${server.url}#${q}`,
        server.origin,
      );
      await ready(page);
      await page.getByTestId('forgetting-url-notices').waitFor({ timeout: WAIT.load });
      // Either the sweep starts (no larger than the default) or the link's sweep waits for a click.
      await page.waitForFunction(
        () => {
          const f = window.__flatMinima.forgetting();
          return f.status !== 'idle' || Boolean(f.held);
        },
        null,
        { timeout: WAIT.load },
      );
      const sweep = await sweepSize(page);
      assert.ok(sweep.runs <= MAX_SWEEP_RUNS, `${q.slice(0, 60)}: ${sweep.runs} runs started`);
      const width = await page.evaluate(() => document.documentElement.scrollWidth <= innerWidth);
      assert.ok(width, 'inside the viewport');
      assert.deepEqual(errors, [], errors.join('\n'));
      await context.close();
    }

    // An unknown embed id is echoed cut short, inside the frame, beside the other notices.
    const id = 'y'.repeat(10_000);
    const { page, context, errors } = await openPage(
      browser,
      `${server.url}#embed=${id}&B=0x10`,
      server.origin,
      { viewport: { width: 480, height: 360 } },
    );
    const box = page.getByTestId('embed-error');
    await box.waitFor({ timeout: WAIT.load });
    assert.ok((await box.textContent()).includes(clip(id)));
    assert.ok(!(await box.textContent()).includes('y'.repeat(41)));
    const size = await page.evaluate(() => [document.documentElement.scrollWidth, innerWidth]);
    assert.ok(size[0] <= size[1], `the embed is ${size[0]} px wide in ${size[1]}`);
    assert.deepEqual(errors, [], errors.join('\n'));
    await context.close();
  },
);
