// Sharing and embedding in real Chromium: every setting survives a URL round trip (query and
// hash), changes rewrite the URL, the data set and hide= keys are kept, and ?embed=<figure>
// renders one figure, sized to its iframe, without the page around it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { openPage, settled, WAIT, openSite, closeSite } from './harness.mjs';

let server;
let browser;
before(async () => ({ server, browser } = await openSite()));
after(() => closeSite({ server, browser }));

const ready = (page) =>
  page.waitForFunction(() => window.__flatMinima?.run().dataset !== null, null, {
    timeout: WAIT.load,
  });

/** A valid value different from the preset default, for each field of the schema. */
function otherValue(f, def) {
  if (f.kind === 'bool') return !def;
  if (f.kind === 'enum') return f.options.find((o) => o !== def);
  if (f.integer) return def + 1 <= f.max ? def + 1 : def - 1;
  const v = Number(((f.min + f.max) / 2).toPrecision(6));
  return v === def ? Number((v * 0.9).toPrecision(6)) : v;
}
const urlText = (v) => (typeof v === 'boolean' ? (v ? '1' : '0') : String(v));

test('every setting of the schema round-trips through the URL (query and hash)', async () => {
  const { page, context, errors, foreign } = await openPage(
    browser,
    `${server.url}?preset=paper`,
    server.origin,
  );
  await ready(page);
  const schema = await page.evaluate(() => window.__flatMinima.schema());
  const defaults = await page.evaluate(() => window.__flatMinima.config());
  assert.ok(schema.length >= 17, `schema has ${schema.length} fields`);
  const want = {};
  const q = new URLSearchParams({ preset: 'paper' });
  for (const f of schema) {
    want[f.key] = otherValue(f, defaults[f.key]);
    q.set(f.url, urlText(want[f.key]));
  }

  for (const form of ['query', 'hash']) {
    const url = form === 'query' ? `${server.url}?${q}` : `${server.url}#${q}`;
    await page.goto(url);
    await ready(page);
    const cfg = await page.evaluate(() => window.__flatMinima.config());
    for (const f of schema)
      assert.deepEqual(cfg[f.key], want[f.key], `${form}: ${f.url} → ${f.key}`);
    // The page writes its state back to the query string.
    const written = new URL(page.url());
    assert.equal(written.hash, '', `${form}: settings hash folded into the query`);
    for (const f of schema) {
      assert.equal(
        written.searchParams.get(f.url),
        urlText(want[f.key]),
        `${form}: URL keeps ${f.url}`,
      );
    }
    assert.equal(await page.getByTestId('url-notices').count(), 0, 'no notice for valid values');
  }

  // The rewritten URL, opened afresh, gives the same settings.
  const rewritten = page.url();
  const { page: page2, context: c2 } = await openPage(browser, rewritten, server.origin);
  await ready(page2);
  assert.deepEqual(
    await page2.evaluate(() => window.__flatMinima.config()),
    await page.evaluate(() => window.__flatMinima.config()),
  );
  await c2.close();
  assert.deepEqual(errors, [], errors.join('\n'));
  assert.deepEqual(foreign, [], 'no request leaves the origin');
  await context.close();
});

test('a change in the run panel updates the URL; the seed is always in it; other keys are kept', async () => {
  const { page, context } = await openPage(
    browser,
    `${server.url}?preset=quick&utm_source=course#week=3`,
    server.origin,
  );
  await ready(page);
  assert.equal(new URL(page.url()).searchParams.get('seed'), '0');
  assert.equal(
    new URL(page.url()).searchParams.get('utm_source'),
    'course',
    'keys the page does not own are kept',
  );
  assert.equal(new URL(page.url()).hash, '#week=3', 'a hash without settings is kept');
  const b = page.getByLabel('Minibatch size B');
  await b.fill('75');
  await b.press('Enter');
  await page.waitForFunction(() => new URL(location.href).searchParams.get('B') === '75', null, {
    timeout: WAIT.ui,
  });
  await page.getByLabel('Preset').selectOption('small-batch');
  await page.waitForFunction(
    () => new URL(location.href).searchParams.get('preset') === 'small-batch',
    null,
    { timeout: WAIT.ui },
  );
  assert.equal(new URL(page.url()).searchParams.get('B'), null, 'preset default left out');
  await context.close();
});

test('data=idx without the files: a notice, the choice kept; invalid data= and hide= get notices', async () => {
  const { page, context } = await openPage(
    browser,
    `${server.url}?preset=quick&data=idx&hide=seed,data,backend`,
    server.origin,
  );
  await ready(page);
  const notice = page.getByTestId('data-notice');
  await notice.waitFor({ timeout: WAIT.ui });
  assert.match(await notice.innerText(), /IDX files/);
  assert.equal(
    new URL(page.url()).searchParams.get('data'),
    'idx',
    'the link keeps asking for the files',
  );
  assert.equal(new URL(page.url()).searchParams.get('hide'), 'seed,data,backend');
  assert.equal(
    await page.getByLabel('Seed', { exact: true }).count(),
    0,
    'hide=seed hides the seed field',
  );
  assert.equal(await page.getByTestId('idx-input').count(), 0, 'hide=data hides the data panel');
  assert.equal(await page.getByTestId('backend-badge').count(), 0, 'hide=backend hides the badge');
  await context.close();

  const bad = await openPage(browser, `${server.url}?data=usb&hide=nothing`, server.origin);
  const n = bad.page.getByTestId('url-notices');
  await n.waitFor({ timeout: WAIT.load });
  const text = await n.innerText();
  assert.match(text, /data=usb/);
  assert.match(text, /hide=nothing/);
  await bad.context.close();
});

test('?embed=variance-flatness renders that figure alone, fitted to the viewport, with Start', async () => {
  const viewport = { width: 640, height: 480 };
  const { page, context, errors, foreign } = await openPage(
    browser,
    `${server.url}?embed=variance-flatness`,
    server.origin,
    { viewport },
  );
  await page.getByTestId('psi-value').waitFor({ timeout: WAIT.load });
  await settled(page, '[data-figure="variance-flatness"] svg.fm-svg');
  assert.equal(await page.locator('[data-figure]').count(), 1, 'exactly one figure');
  assert.equal(await page.locator('[data-figure="variance-flatness"]').count(), 1);
  assert.equal(
    await page.locator('.masthead, .article, .footer, .panel').count(),
    0,
    'no page chrome',
  );
  assert.equal(await page.locator('h2').count(), 0, 'no article text');
  assert.equal(await page.getByRole('button', { name: 'Start' }).count(), 1, 'the minimal control');
  const dims = await page.evaluate(() => ({
    scrollH: document.documentElement.scrollHeight,
    scrollW: document.documentElement.scrollWidth,
  }));
  assert.ok(
    dims.scrollH <= viewport.height && dims.scrollW <= viewport.width,
    `page ${dims.scrollW}×${dims.scrollH} scrolls`,
  );
  const fig = page.locator('[data-figure="variance-flatness"]');
  const box = await fig.boundingBox();
  assert.ok(
    box.y >= 0 && box.y + box.height <= viewport.height + 1,
    `figure ${JSON.stringify(box)} inside the viewport`,
  );
  const svg = await page.locator('[data-figure="variance-flatness"] svg.fm-svg').boundingBox();
  assert.ok(svg.width >= 200 && svg.height >= 140, `plot ${svg.width}×${svg.height} is usable`);
  // The screenshot of the figure has the figure's size and lies within the frame.
  const shot = await fig.screenshot();
  const w = shot.readUInt32BE(16);
  const h = shot.readUInt32BE(20);
  assert.ok(
    Math.abs(w - Math.round(box.width)) <= 1 && Math.abs(h - Math.round(box.height)) <= 1,
    `screenshot ${w}×${h} vs ${box.width}×${box.height}`,
  );
  assert.ok(
    w <= viewport.width && h <= viewport.height,
    `screenshot ${w}×${h} fits ${viewport.width}×${viewport.height}`,
  );

  // A taller frame gets a taller plot (at 640 × 900 its width caps it: aspect ratio).
  await page.setViewportSize({ width: 640, height: 900 });
  // The refit comes a frame or more after the resize; if it never comes, the assertion below
  // reports the sizes.
  await page
    .waitForFunction(
      (h) =>
        document
          .querySelector('[data-figure="variance-flatness"] svg.fm-svg')
          .getBoundingClientRect().height > h,
      svg.height,
      { timeout: WAIT.ui },
    )
    .catch(() => undefined);
  await settled(page, '[data-figure="variance-flatness"] svg.fm-svg');
  const svg2 = await page.locator('[data-figure="variance-flatness"] svg.fm-svg').boundingBox();
  assert.ok(svg2.height > svg.height, `plot grows with the frame: ${svg.height} → ${svg2.height}`);
  // What the width-capped plot leaves goes below the caption, not between the plot and its
  // legend.
  const gap = await page.evaluate(() => {
    const frame = document.querySelector('[data-figure="variance-flatness"] .fm-frame');
    const plot = frame.querySelector('svg.fm-svg').getBoundingClientRect();
    return frame.nextElementSibling.getBoundingClientRect().top - plot.bottom;
  });
  assert.ok(gap <= 8, `${gap} px between the plot and its legend`);
  assert.deepEqual(errors, [], errors.join('\n'));
  assert.deepEqual(foreign, [], 'no request leaves the origin');
  await context.close();
});

test('every figure id embeds; an unknown id lists the valid ones', async () => {
  const { page, context } = await openPage(browser, `${server.url}?embed=nope`, server.origin, {
    viewport: { width: 640, height: 480 },
  });
  const msg = page.getByTestId('embed-error');
  await msg.waitFor({ timeout: WAIT.load });
  const text = await msg.innerText();
  const ids = await page.evaluate(() => window.__flatMinima.figures());
  assert.ok(ids.length >= 13);
  assert.match(text, /nope/);
  for (const id of ids) assert.ok(text.includes(id), `lists ${id}`);
  for (const id of ids) {
    await page.goto(`${server.url}?embed=${id}`);
    await page.locator(`[data-figure="${id}"]`).waitFor({ timeout: WAIT.load });
    assert.equal(await page.locator('[data-figure]').count(), 1, `${id}: one figure`);
    const h = await page.evaluate(() => document.documentElement.scrollHeight);
    assert.ok(h <= 480, `${id}: fits the frame (${h} px)`);
    // Every axis label stays inside its drawing: a small plot slides or shrinks it.
    await page.waitForFunction(
      (id) => document.querySelector(`[data-figure="${id}"] svg .fm-axis-label`) !== null,
      id,
      { timeout: WAIT.load },
    );
    await settled(page, `[data-figure="${id}"] svg`);
    const outside = await page.evaluate(() =>
      [...document.querySelectorAll('.fm-axis-label')].flatMap((t) => {
        const a = t.getBoundingClientRect();
        const b = t.ownerSVGElement.getBoundingClientRect();
        const out =
          a.width > 0 &&
          (a.top < b.top - 1 ||
            a.bottom > b.bottom + 1 ||
            a.left < b.left - 1 ||
            a.right > b.right + 1);
        return out ? [t.textContent] : [];
      }),
    );
    assert.deepEqual(outside, [], `${id}: axis labels outside their plot`);
  }
  await context.close();
});

test('an embed in an iframe of a course page: one figure, no scroll bars', async () => {
  const { page, context, errors } = await openPage(browser, 'about:blank', server.origin, {
    viewport: { width: 900, height: 700 },
  });
  // A course page on the same host (served by the test itself), embedding one figure.
  const course = `${server.origin}/course/page-with-embed.html`;
  await context.route(course, (route) =>
    route.fulfill({
      contentType: 'text/html',
      body: `<!doctype html><html lang="en"><title>Course</title><h1>Week 3</h1><iframe title="PCA spectrum" src="${server.url}?embed=spectrum" width="560" height="420" style="border:0"></iframe></html>`,
    }),
  );
  await page.goto(course);
  const frame = page.frameLocator('iframe');
  await frame
    .locator('[data-figure="spectrum"] svg.fm-svg circle')
    .first()
    .waitFor({ timeout: WAIT.load });
  const inner = await frame.locator('html').evaluate(() => ({
    h: document.documentElement.scrollHeight,
    w: document.documentElement.scrollWidth,
    figures: document.querySelectorAll('[data-figure]').length,
  }));
  assert.equal(inner.figures, 1);
  assert.ok(inner.h <= 420 && inner.w <= 560, `iframe content ${inner.w}×${inner.h}`);
  assert.deepEqual(errors, [], errors.join('\n'));
  await context.close();
});
