// The `weight` case of `npm run bench` (`npm run bench -- --only weight`): what each page costs a
// reader before they press anything, and what a first run adds. Every request that reaches the
// server is counted with the bytes the server sent (raw: it compresses nothing) and what gzip
// makes of the same file (what a compressing host would send). On `/` the pieces a run needs
// (worker scripts, .wasm, the digits) load when the browser is idle after the first figures
// are drawn; they are counted apart, from the first such request on. Every id `?embed=` takes
// (the list the unknown-id page gives) is measured too: the goal holds for each.
import { statSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { SUBPATH, WAIT, animationFrames, openPage } from '../tests/e2e/harness.mjs';
import { checkGoal, formatGoal } from './bench-goals.mjs';

const MB = 1e6;
/** A request for a piece only a run needs. */
const LAZY = /(\.worker[-.][^/]*\.js|\.wasm|\/data\/[^/]+\.(bin|gz))(\?|$)/;
/** How long the server must see no request before a page counts as idle (bench only). */
const QUIET_MS = 2000;

function sizes(root, urls) {
  let raw = 0;
  let gzip = 0;
  const files = [];
  for (const u of urls) {
    const path = decodeURIComponent(new URL(u, 'http://x').pathname.slice(SUBPATH.length));
    const file = join(root, path || 'index.html');
    let bytes;
    try {
      bytes = statSync(file).isDirectory()
        ? readFileSync(join(file, 'index.html'))
        : readFileSync(file);
    } catch {
      continue; // a 404 (e.g. the favicon) costs a few bytes of message
    }
    raw += bytes.length;
    const gz = gzipSync(bytes).length;
    gzip += gz;
    files.push({ path: path || 'index.html', raw: bytes.length, gzip: gz });
  }
  return { requests: urls.length, raw, gzip, files };
}

async function quiet(server) {
  let n = server.requests.length;
  let since = Date.now();
  while (Date.now() - since < QUIET_MS) {
    await new Promise((r) => setTimeout(r, 200));
    if (server.requests.length !== n) {
      n = server.requests.length;
      since = Date.now();
    }
  }
}

/** The figure is drawn (or the embed says its id is unknown) and the page has been idle. */
async function idle(page) {
  await page.waitForSelector('[data-figure] svg, [data-testid="embed-error"]', {
    timeout: WAIT.load,
  });
  await animationFrames(page, 5);
  await page.evaluate(() => new Promise((r) => requestIdleCallback(() => r(), { timeout: 10000 })));
}

const fmt = (x) => (x / MB).toFixed(2).padStart(7);

/** Every figure id `?embed=` takes, as the unknown-id message lists them. */
async function embedIds(browser, server) {
  const { page, context } = await openPage(browser, `${server.url}?embed=-`, server.origin);
  await page.getByTestId('embed-error').waitFor({ timeout: WAIT.load });
  const ids = await page.locator('[data-testid="embed-error"] li code').allTextContents();
  await context.close();
  return ids;
}

/** Measures `/` and every embed; returns { pages, goals }. */
export async function benchWeight(browser, server, root) {
  const pages = {};
  const goals = [];
  const row = (name, m) =>
    console.log(
      `${name.padEnd(44)} ${String(m.requests).padStart(8)} ${fmt(m.raw)} ${fmt(m.gzip)}`,
    );
  console.log('\nPage weight (Chromium, built site; MB = 10^6 bytes)');
  console.log(`${'page'.padEnd(44)} requests  raw MB gzip MB`);
  const named = ['variance-flatness', 'forgetting-tradeoff'];
  const others = (await embedIds(browser, server)).filter((id) => !named.includes(id));
  const paths = ['', ...[...named, ...others].map((id) => `?embed=${id}`)];
  for (const path of paths) {
    const from = server.requests.length;
    const { page, context } = await openPage(browser, `${server.url}${path}`, server.origin);
    await idle(page);
    if (path === '') {
      // The idle prefetch: wait for the digits to be in the trainer.
      await page.waitForFunction(() => window.__flatMinima.run().dataset !== null, null, {
        timeout: WAIT.load,
        polling: 250,
      });
    }
    await quiet(server);
    const all = server.requests.slice(from);
    const cut = all.findIndex((u) => LAZY.test(u));
    const before = path === '' && cut >= 0 ? all.slice(0, cut) : all;
    const name = `/${path}`;
    const unknown = (await page.getByTestId('embed-error').count()) > 0;
    const m = {
      shows: unknown ? 'the unknown-figure message' : 'its figures',
      beforeStart: sizes(root, before),
    };
    row(`${name} before Start${unknown ? ' (unknown id)' : ''}`, m.beforeStart);
    if (path === '') {
      m.idlePrefetch = sizes(root, cut >= 0 ? all.slice(cut) : []);
      row(`${name} idle prefetch`, m.idlePrefetch);
      await page.getByLabel('Preset').selectOption('quick');
      await page.getByRole('button', { name: 'Start', exact: true }).click();
      await page.waitForFunction(
        () => ['done', 'error'].includes(window.__flatMinima.run().runState),
        null,
        { timeout: WAIT.run, polling: 500 },
      );
      m.runState = (await page.evaluate(() => window.__flatMinima.run().runState)) ?? null;
      await quiet(server);
      m.afterQuickRun = sizes(root, server.requests.slice(from));
      row(`${name} after a quick run (all)`, m.afterQuickRun);
      const data = m.afterQuickRun.files.filter((f) => /^data\//.test(f.path));
      m.digits = data.reduce((a, f) => a + f.raw, 0);
      goals.push(
        checkGoal('/ raw bytes before Start', m.beforeStart.raw / MB, 'MB', { below: 1.5 }),
      );
      goals.push(checkGoal('digits transfer (raw)', m.digits / MB, 'MB', { below: 2 }));
    } else if (named.some((id) => path === `?embed=${id}`)) {
      goals.push(
        checkGoal(`${name} raw bytes before Start`, m.beforeStart.raw / MB, 'MB', { below: 0.5 }),
      );
    }
    pages[name] = m;
    await context.close();
  }
  const embeds = Object.entries(pages).filter(([name]) => name.startsWith('/?embed='));
  const [heaviest, hm] = embeds.reduce((a, b) =>
    b[1].beforeStart.raw > a[1].beforeStart.raw ? b : a,
  );
  goals.push(
    checkGoal(
      `heaviest of ${embeds.length} embeds (${heaviest}) before Start`,
      hm.beforeStart.raw / MB,
      'MB',
      { below: 0.5 },
    ),
  );
  for (const g of goals) console.log(formatGoal(g));
  return { pages, goals };
}

/**
 * `npm run bench -- --only weight`: builds dist/ from the sources now (a dist/ left from an older
 * commit would weigh that commit; an explicit E2E_DIST is measured as it is), measures, writes
 * the JSON.
 */
export async function main(args) {
  const { spawnSync } = await import('node:child_process');
  const { existsSync, mkdirSync, writeFileSync } = await import('node:fs');
  const { launch, serveDist } = await import('../tests/e2e/harness.mjs');
  const { printGoals } = await import('./bench-goals.mjs');
  const root = process.env.E2E_DIST || 'dist';
  if (!process.env.E2E_DIST || !existsSync(join(root, 'index.html')) || args.includes('--rebuild'))
    spawnSync('npx', ['vite', 'build', '--logLevel', 'warn', '--outDir', root], {
      stdio: 'inherit',
    });
  spawnSync('bash', ['scripts/ensure-chromium.sh'], { stdio: 'inherit' });
  const server = await serveDist(root);
  const browser = await launch();
  let report;
  try {
    report = await benchWeight(browser, server, root);
  } finally {
    await browser.close();
    await server.close();
  }
  printGoals('Page-weight goals (Chromium)', report.goals);
  mkdirSync('bench-results', { recursive: true });
  writeFileSync('bench-results/weight.json', JSON.stringify(report, null, 1));
  console.log('\nwrote bench-results/weight.json');
}
