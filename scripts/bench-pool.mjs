// `npm run bench -- --only pool` (issue 13): the CLI's sweeps and flatness search on 1 worker
// and on all workers (cores − 1, at least 2), wall-clock seconds of `npm run reproduce` each,
// with speed-up and efficiency (speed-up / workers). Writes bench-results/pool.json. The
// settings are small so the bench runs in minutes on a 2-core machine; they are recorded in
// the file. Thread start-up (each thread loads tsx, tfjs and the data) is part of the time.
//
// In Chromium (the built site: E2E_DIST, or dist/ built here when it is missing) the page's
// pool runs section 7's width sweep (h 10, 20, 30, 50 at B 100: the page's quick runs) with
// `workers=1` and `workers=N` in the link, timed from the click to "Done"; the pool starts on
// the click, so its workers' start-up (backend, digits) is part of the time. Beside it, the
// longest gap between the page's animation frames during the sweep.
import { spawnSync } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { closeSite, openPage, openSite, WAIT } from '../tests/e2e/harness.mjs';

/** The page's width sweep in Chromium on `workers` job workers: seconds, runs, frame gap. */
async function pageSweep(site, workers) {
  const { page, context, errors } = await openPage(
    site.browser,
    `${site.server.url}?h=20&B=100&workers=${workers}`,
    site.server.origin,
  );
  try {
    await page.waitForFunction(() => window.__flatMinima.universality().widths.precomputed, null, {
      timeout: WAIT.load,
    });
    await page.evaluate(() => {
      window.__gap = { last: performance.now(), max: 0, on: true };
      const tick = (t) => {
        const g = window.__gap;
        g.max = Math.max(g.max, t - g.last);
        g.last = t;
        if (g.on) requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    });
    const t0 = performance.now();
    await page.locator('[data-testid="universality-widths-start"]').click();
    await page.waitForFunction(
      () =>
        /^Done: \d+ runs/.test(
          document.querySelector('[data-testid="universality-widths-progress"]')?.textContent ?? '',
        ),
      null,
      { timeout: WAIT.run, polling: 100 },
    );
    const seconds = (performance.now() - t0) / 1000;
    const gap = await page.evaluate(() => ((window.__gap.on = false), window.__gap.max));
    const snap = await page.evaluate(() => window.__flatMinima.universality().widths);
    const pool = await page.evaluate(() => window.__flatMinima.pool());
    if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);
    return {
      seconds,
      runs: snap.plan.filter((p) => p.result).length,
      failed: snap.plan.filter((p) => p.failed).length,
      workers: pool.size,
      frameGapMs: Math.round(gap),
      numbers: snap.plan.map((p) => p.result?.summary.psi.exponent ?? null),
    };
  } finally {
    await context.close();
  }
}

/**
 * The page's σ²–F run with its flatness search on `workers` job workers (1: the analysis
 * worker searches alone): seconds from the root entering `analyzing` to `done` (polled every
 * 100 ms; the search is most of that phase), and the flatness of every mode.
 */
async function pageFlatness(site, workers) {
  const { page, context, errors } = await openPage(
    site.browser,
    `${site.server.url}?preset=quick&h=50&warmup=3&window=3&modes=60&autorun=1&workers=${workers}`,
    site.server.origin,
  );
  try {
    await page.waitForFunction(
      () => ['analyzing', 'done'].includes(document.getElementById('root').dataset.runState),
      null,
      { timeout: WAIT.run, polling: 100 },
    );
    const t0 = performance.now();
    await page.waitForFunction(
      () => document.getElementById('root').dataset.runState === 'done',
      null,
      { timeout: WAIT.run, polling: 100 },
    );
    const seconds = (performance.now() - t0) / 1000;
    const r = await page.evaluate(() => window.__flatMinima.run().results.sgd);
    const pool = await page.evaluate(() => window.__flatMinima.pool());
    if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);
    return {
      seconds,
      workers: Math.max(1, pool.size),
      runs: 1,
      numbers: r.modes.map((m) => m.flatness),
    };
  } finally {
    await context.close();
  }
}

/**
 * The page's forgetting sweep (section 6) on `workers` job workers: 4 seeds (one job each) of a
 * small grid, click to the end, the pool's start-up included; and its numbers, for equality.
 */
const PAGE_FORGETTING =
  'ft1=0,1&ft2=2,3&fseeds=4&flambdas=1,10,100&fewc=1e4,1e5,1e6&fnc=10,30&fpre=1&fepochs=3&fwindow=4&fsteps=160';

async function pageForgetting(site, workers) {
  const { page, context, errors } = await openPage(
    site.browser,
    `${site.server.url}?${PAGE_FORGETTING}&workers=${workers}`,
    site.server.origin,
  );
  try {
    await page.waitForFunction(() => window.__flatMinima.run().dataset !== null, null, {
      timeout: WAIT.load,
    });
    const t0 = performance.now();
    await page.getByTestId('forgetting-start').click();
    await page.waitForFunction(
      () => ['done', 'error', 'cancelled'].includes(window.__flatMinima.forgetting().status),
      null,
      { timeout: WAIT.run, polling: 100 },
    );
    const seconds = (performance.now() - t0) / 1000;
    const s = await page.evaluate(() => window.__flatMinima.forgetting());
    const pool = await page.evaluate(() => window.__flatMinima.pool());
    if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);
    if (s.status !== 'done') throw new Error(`forgetting sweep ${s.status}: ${s.message}`);
    return {
      seconds,
      workers: pool.size,
      runs: s.runs.length,
      numbers: s.runs.map((r) => [r.eps1, r.eps2]),
    };
  } finally {
    await context.close();
  }
}

// Sized so that each case's work (≈ 20–40 s on one core here) outweighs the threads' start-up
// (each loads tsx, tfjs and the digits: a few seconds), which --workers 1 never pays.
export const POOL_CASES = [
  {
    // The page's width sweep: its widths and its quick settings (8 + 3 epochs, 30 modes).
    name: 'width-sweep',
    args: ['--experiment', 'width-sweep', '--widths', '10,20,30,50'],
    runs: 4,
  },
  {
    // Four seeds (one job each) of a reduced grid: the default 5 × 99 runs take too long here.
    name: 'forgetting',
    args: [
      '--experiment',
      'forgetting',
      '--seeds',
      '0,1,2,3',
      '--pretrain-epochs',
      '1',
      '--task1-epochs',
      '3',
      '--window-epochs',
      '4',
      '--task2-steps',
      '160',
      '--lambdas',
      '1,10,100',
      '--ewc-lambdas',
      '1e4,1e5,1e6',
      '--nc',
      '10,30',
      '--displacement-modes',
      '30',
    ],
    runs: 4 * (1 + 3 + 6),
  },
  {
    name: 'flatness',
    args: [
      '--experiment',
      'variance-flatness',
      '--hidden',
      '50',
      '--warmup-epochs',
      '3',
      '--window-epochs',
      '3',
      '--modes',
      '60',
    ],
    runs: 1,
  },
];

/**
 * The time `times` (each run's own seconds) take on `workers` workers when the runs start in
 * `order`, each on the worker that frees first: a sweep's span, start-up and contention left out.
 */
export function span(times, order, workers) {
  const free = new Array(workers).fill(0);
  for (const i of order) {
    const k = free.indexOf(Math.min(...free));
    free[k] += times[i];
  }
  return Math.max(...free);
}

/**
 * What starting the width sweep's costliest run first gives on `workers` workers, from the runs'
 * own times on one worker (no run of its own): the span in plan order and longest-first.
 */
function dispatchOrders(doc, workers) {
  const times = doc.widths.map((w) => w.timings.total);
  const plan = times.map((_, i) => i);
  const longest = [...plan].sort((a, b) => times[b] - times[a] || a - b);
  const inPlan = span(times, plan, workers);
  const first = span(times, longest, workers);
  return {
    runSeconds: times.map((t) => Number(t.toFixed(2))),
    planOrderSpan: Number(inPlan.toFixed(2)),
    longestFirstSpan: Number(first.toFixed(2)),
    longestFirstGain: Number((1 - first / inPlan).toFixed(3)),
  };
}

/** Runs the CLI; returns wall seconds and the JSON it wrote. */
function reproduce(args, workers, out) {
  const t0 = performance.now();
  const r = spawnSync(
    'npx',
    ['tsx', 'src/cli/reproduce.ts', ...args, '--workers', String(workers), '--out', out, '--quiet'],
    { encoding: 'utf8' },
  );
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`reproduce ${args.join(' ')} failed:\n${r.stderr}`);
  return { seconds, doc: JSON.parse(readFileSync(out, 'utf8')) };
}

export async function main() {
  const cores = availableParallelism();
  const loadAtStart = loadavg().map((x) => Number(x.toFixed(1)));
  const many = Math.max(2, cores - 1);
  mkdirSync('bench-results/pool', { recursive: true });
  const cases = [];
  for (const c of POOL_CASES) {
    const times = {};
    for (const workers of [1, many]) {
      const { seconds, doc } = reproduce(
        c.args,
        workers,
        `bench-results/pool/${c.name}-${workers}.json`,
      );
      times[workers] = seconds;
      const row = {
        name: c.name,
        where: 'node',
        workers,
        seconds: Number(seconds.toFixed(2)),
        runs: c.runs,
      };
      // The flatness phase alone (the part the pool splits), from the run's own timings.
      if (c.name === 'flatness') row.flatnessSeconds = Number(doc.timings.flatness.toFixed(2));
      // The pools start the costliest run first (src/engine/jobs/cost.ts); what that is worth
      // against plan order, from this run's own per-run times.
      if (c.name === 'width-sweep' && workers === 1) row.dispatch = dispatchOrders(doc, many);
      cases.push(row);
      console.log(
        `${c.name}: ${workers} worker${workers > 1 ? 's' : ''} ${seconds.toFixed(1)} s${row.flatnessSeconds ? ` (flatness ${row.flatnessSeconds} s)` : ''}`,
      );
      if (row.dispatch)
        console.log(
          `  its runs on ${many} workers: ${row.dispatch.planOrderSpan} s in plan order, ${row.dispatch.longestFirstSpan} s longest-first`,
        );
    }
    const speedUp = times[1] / times[many];
    const last = cases[cases.length - 1];
    last.speedUp = Number(speedUp.toFixed(2));
    last.efficiency = Number((speedUp / many).toFixed(2));
    if (c.name === 'flatness') {
      const one = cases[cases.length - 2].flatnessSeconds;
      last.flatnessSpeedUp = Number((one / last.flatnessSeconds).toFixed(2));
    }
    console.log(`  speed-up ${last.speedUp}, efficiency ${last.efficiency}`);
  }
  if (!process.env.E2E_DIST && !existsSync('dist/index.html'))
    spawnSync('npx', ['vite', 'build', '--logLevel', 'warn'], { stdio: 'inherit' });
  spawnSync('bash', ['scripts/ensure-chromium.sh'], { stdio: 'inherit' });
  const site = await openSite();
  /**
   * One Chromium case on 1 and on `many` workers: its rows (the extra fields `row` picks from a
   * result), the speed-up, and whether both sizes gave the same numbers.
   */
  const pageCase = async (name, measure, row = () => ({})) => {
    const by = {};
    for (const workers of [1, many]) {
      const r = await measure(site, workers);
      by[workers] = r;
      cases.push({
        name,
        where: 'chromium',
        workers: r.workers,
        seconds: Number(r.seconds.toFixed(2)),
        runs: r.runs,
        ...row(r),
      });
      console.log(
        `chromium ${name}: ${r.workers} worker${r.workers > 1 ? 's' : ''} ${r.seconds.toFixed(1)} s, ${r.runs} run${r.runs === 1 ? '' : 's'}`,
      );
    }
    const last = cases[cases.length - 1];
    last.speedUp = Number((by[1].seconds / by[many].seconds).toFixed(2));
    last.efficiency = Number((last.speedUp / many).toFixed(2));
    // The pool must not change a number, whichever size ran the case.
    last.sameNumbers = JSON.stringify(by[1].numbers) === JSON.stringify(by[many].numbers);
    console.log(`  speed-up ${last.speedUp}, same numbers: ${last.sameNumbers}`);
  };
  try {
    await pageCase('width-sweep', pageSweep, (r) => ({
      failed: r.failed,
      frameGapMs: r.frameGapMs,
    }));
    await pageCase('forgetting', pageForgetting);
    await pageCase('flatness', pageFlatness);
  } finally {
    await closeSite(site);
  }
  const report = {
    cores,
    // Other work on the machine competes with the workers: a load above the core count
    // makes any speed-up here a lower bound.
    loadAverageAtStart: loadAtStart,
    loadAverage: loadavg().map((x) => Number(x.toFixed(1))),
    note: 'node: wall-clock seconds of npm run reproduce (thread start-up included); chromium width-sweep: the page pool running the width sweep (h 10, 20, 30, 50, B 100, quick runs), click to Done, pool start-up included; chromium forgetting: 4 seeds (40 runs) of a small grid, click to done; chromium flatness: a quick σ²–F run (h 50, 60 modes), seconds from analyzing to done',
    settings: Object.fromEntries(POOL_CASES.map((c) => [c.name, c.args.join(' ')])),
    cases,
  };
  writeFileSync('bench-results/pool.json', JSON.stringify(report, null, 1));
  console.log('wrote bench-results/pool.json');
}
