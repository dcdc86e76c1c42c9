// Shared e2e plumbing: a static server for dist/ mounted under a sub-path (proving the relative
// base), with cross-origin isolation headers, and Debian Chromium through playwright-core.
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { chromium } from 'playwright-core';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.css': 'text/css',
  '.wasm': 'application/wasm',
  '.bin': 'application/octet-stream',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/**
 * Every browser-test wait takes its limit from here, so a slow or loaded machine changes one
 * number (TEST_TIMEOUT_SCALE, default 1) instead of a hundred. The defaults are generous for a
 * 2-core machine with both cores busy: waits are for conditions, and a limit only turns a hang
 * into a failure, so it never needs to be tight.
 */
export const TIMEOUT_SCALE = Math.max(1, Number(process.env.TEST_TIMEOUT_SCALE) || 1);
export const WAIT = {
  /** The page reacting to an input: a notice, a button state, a figure redraw. */
  ui: 60_000 * TIMEOUT_SCALE,
  /** Workers starting, data loading, the backend probe. */
  load: 180_000 * TIMEOUT_SCALE,
  /** A training run, an analysis or a sweep running to its end. */
  run: 900_000 * TIMEOUT_SCALE,
};
/** A node:test per-test limit that covers a few run-length waits. */
export const TEST_TIMEOUT = 3 * WAIT.run;

export const SUBPATH = '/course/flat-minima/';

/**
 * Serves dist/ (or the build named by E2E_DIST, so a test run can keep its own build while
 * dist/ is rebuilt) at http://127.0.0.1:<port>/course/flat-minima/ ; returns { url, close,
 * requests }.
 */
export async function serveDist(root = process.env.E2E_DIST || 'dist') {
  const requests = [];
  const server = createServer(async (req, res) => {
    requests.push(req.url);
    const url = new URL(req.url, 'http://x');
    if (!url.pathname.startsWith(SUBPATH)) {
      res.writeHead(404).end('not under the sub-path');
      return;
    }
    let rel = decodeURIComponent(url.pathname.slice(SUBPATH.length)) || 'index.html';
    const file = normalize(join(root, rel));
    if (!file.startsWith(normalize(root))) {
      res.writeHead(403).end();
      return;
    }
    try {
      const st = await stat(file);
      const path = st.isDirectory() ? join(file, 'index.html') : file;
      const body = await readFile(path);
      res.writeHead(200, {
        'Content-Type': TYPES[extname(path)] ?? 'application/octet-stream',
        'Cache-Control': 'no-store',
      });
      res.end(body);
    } catch {
      res.writeHead(404).end('not found');
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}${SUBPATH}`,
    origin: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((r) => server.close(r)),
  };
}

export const CHROMIUM_FLAGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function launch(extraFlags = []) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: [...CHROMIUM_FLAGS, ...extraFlags],
  });
}

/**
 * A browser context whose unlisted waits (clicks, fills, locators, navigation) take their limits
 * from WAIT too; Playwright's own default (30 s) is too short for a loaded machine.
 */
export async function newContext(browser, options = {}) {
  const context = await browser.newContext(options);
  context.setDefaultTimeout(WAIT.ui);
  context.setDefaultNavigationTimeout(WAIT.load);
  return context;
}

/** The served site and a browser, made once per test file (its `before`) and closed in its `after`. */
export async function openSite(extraFlags = []) {
  return { server: await serveDist(), browser: await launch(extraFlags) };
}
export async function closeSite({ server, browser }) {
  await browser?.close();
  await server?.close();
}

/** A page that records console errors, page errors and requests leaving the origin. */
export async function openPage(
  browser,
  url,
  origin,
  { viewport = { width: 1280, height: 900 }, initScript } = {},
) {
  const context = await newContext(browser, { viewport });
  // Runs before the page's own scripts: a recorder that must not miss the first states.
  if (initScript) await context.addInitScript(initScript);
  const page = await context.newPage();
  const errors = [];
  const foreign = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith(origin) && !u.startsWith('data:') && !u.startsWith('blob:')) foreign.push(u);
  });
  await page.goto(url);
  return { page, context, errors, foreign };
}

/**
 * Resolves once the element's box has stayed the same for `frames` animation frames in a row:
 * a layout that fits itself to the viewport (a ResizeObserver, then a React render) has
 * settled, however long the machine takes to get there.
 */
export async function settled(page, selector, frames = 3) {
  await page.evaluate((sel) => delete window.__settled?.[sel], selector);
  await page.waitForFunction(
    ([sel, n]) => {
      const el = document.querySelector(sel);
      if (!el) return false;
      const r = el.getBoundingClientRect();
      const key = `${r.x} ${r.y} ${r.width} ${r.height}`;
      const s = (window.__settled ??= {});
      if (s[sel]?.key === key) s[sel].n++;
      else s[sel] = { key, n: 0 };
      return s[sel].n >= n;
    },
    [selector, frames],
    { polling: 'raf', timeout: WAIT.ui },
  );
}

/**
 * Lets the page draw `n` animation frames: a span of the page's own time that stretches with
 * a loaded machine instead of a fixed sleep that shrinks relative to it.
 */
export function animationFrames(page, n) {
  return page.evaluate(
    (count) =>
      new Promise((resolve) => {
        let left = count;
        const tick = () => (--left <= 0 ? resolve() : requestAnimationFrame(tick));
        requestAnimationFrame(tick);
      }),
    n,
  );
}

/** Reads the run store through the documented test hook. */
export function runState(page) {
  return page.evaluate(() => window.__flatMinima.run());
}

/**
 * Makes the page's trainer or analysis worker throw an uncaught error. The hook is carried by test
 * builds only (`VITE_TEST_HOOKS=1 npx vite build`; npm test's build is one), so a build without it
 * fails here with that message rather than as a missing function.
 */
export async function crashWorker(page, which) {
  const hook = which === 'trainer' ? 'crashTrainer' : 'crashAnalysis';
  const present = await page.evaluate((h) => typeof window.__flatMinima?.[h] === 'function', hook);
  if (!present)
    throw new Error(
      'this build has no test hooks: build it with VITE_TEST_HOOKS=1 npx vite build (npm test does)',
    );
  await page.evaluate((h) => window.__flatMinima[h](), hook);
}

/** Drops wall-clock fields, which differ between any two runs of a sweep (NaN kept as text). */
export function withoutTimes(v) {
  return JSON.parse(
    JSON.stringify(v, (k, x) =>
      k === 'seconds' || k === 'timings' || k === 'startedAt'
        ? undefined
        : typeof x === 'number' && !Number.isFinite(x)
          ? String(x)
          : x,
    ),
  );
}
