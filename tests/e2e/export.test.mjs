// Exports in real Chromium: every figure as SVG (parses, has its plot marks), PNG (decodes, 2×)
// and CSV (header row, data rows); the whole run as a JSON bundle that reopens — by file picker
// or by dropping it on the page — to the same numbers; malformed bundles change nothing.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { openPage, runState, WAIT, openSite, closeSite } from './harness.mjs';

let server;
let browser;
before(async () => ({ server, browser } = await openSite()));
after(() => closeSite({ server, browser }));

/** The page with the bundled precomputed run drawn (every figure has data). */
async function openWithResults(viewport) {
  const o = await openPage(browser, server.url, server.origin, viewport ? { viewport } : undefined);
  await o.page.waitForFunction(
    () =>
      window.__flatMinima.run().results.sgd?.theory &&
      document.getElementById('root').dataset.runState === 'idle',
    null,
    { timeout: WAIT.load },
  );
  return o;
}

async function download(page, click, what = 'download') {
  // A click that lands while React re-renders the figure can be lost on a loaded machine: one
  // more click after a sixth of the UI limit, then the download must come within the full limit
  // (a slow first download still counts: the second wait takes whichever download comes).
  let dl = null;
  for (let attempt = 0; attempt < 2 && !dl; attempt++) {
    [dl] = await Promise.all([
      page
        .waitForEvent('download', { timeout: attempt === 0 ? WAIT.ui / 6 : WAIT.ui })
        .catch(async (e) => {
          if (attempt === 0) return null;
          const shown = await page
            .locator('.fm-export-error, [data-testid="open-run-error"]')
            .allInnerTexts();
          throw new Error(`${what}: no download (${shown.join('; ') || e.message})`);
        }),
      click(),
    ]);
  }
  const path = await dl.path();
  return { name: dl.suggestedFilename(), bytes: await readFile(path) };
}

async function checkSvg(page, fig, id, story) {
  const svg = await download(page, () => fig.locator('[data-export="svg"]').click(), `${id}.svg`);
  assert.equal(svg.name, `flat-minima-${id}.svg`);
  const parsed = await page.evaluate((text) => {
    const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
    const root = doc.documentElement;
    return {
      error: doc.querySelector('parsererror')?.textContent ?? null,
      root: root.localName,
      ns: root.namespaceURI,
      width: Number(root.getAttribute('width')),
      height: Number(root.getAttribute('height')),
      marks: doc.querySelectorAll('circle, path, line, rect, image').length,
      curves: doc.querySelectorAll('path[d]:not([d=""]), circle').length,
      varInStyle: /var\(--/.test(text),
      title: doc.querySelector('title')?.textContent ?? '',
    };
  }, svg.bytes.toString('utf8'));
  assert.equal(parsed.error, null, `${id}.svg parses`);
  assert.equal(parsed.root, 'svg');
  assert.equal(parsed.ns, 'http://www.w3.org/2000/svg');
  assert.ok(
    parsed.width > 100 && parsed.height > 100,
    `${id}.svg size ${parsed.width}×${parsed.height}`,
  );
  if (story) assert.ok(parsed.curves > 0, `${id}.svg has plot marks (${parsed.marks} elements)`);
  else assert.ok(parsed.marks > 0, `${id}.svg has its frame (${parsed.marks} elements)`);
  assert.equal(parsed.varInStyle, false, `${id}.svg has its colours inlined (no CSS variables)`);
  assert.ok(parsed.title.length > 3, `${id}.svg has a title`);
  return parsed;
}

async function checkPng(page, fig, id, story) {
  const png = await download(page, () => fig.locator('[data-export="png"]').click(), `${id}.png`);
  assert.equal(png.name, `flat-minima-${id}.png`);
  assert.deepEqual(
    [...png.bytes.subarray(0, 8)],
    [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
    `${id}.png signature`,
  );
  const pw = png.bytes.readUInt32BE(16);
  const ph = png.bytes.readUInt32BE(20);
  const decoded = await page.evaluate(async (b64) => {
    const img = new Image();
    img.src = `data:image/png;base64,${b64}`;
    await img.decode();
    const c = document.createElement('canvas');
    c.width = img.naturalWidth;
    c.height = img.naturalHeight;
    const ctx = c.getContext('2d');
    ctx.drawImage(img, 0, 0);
    const d = ctx.getImageData(0, 0, c.width, c.height).data;
    const colours = new Set();
    for (let i = 0; i < d.length; i += 4 * 97)
      colours.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
    return { w: img.naturalWidth, h: img.naturalHeight, colours: colours.size };
  }, png.bytes.toString('base64'));
  assert.equal(decoded.w, pw, `${id}.png decodes`);
  assert.equal(decoded.h, ph);
  assert.ok(
    decoded.colours > (story ? 3 : 1),
    `${id}.png is not blank (${decoded.colours} colours sampled)`,
  );
  return { width: pw, height: ph };
}

async function checkCsv(page, fig, id) {
  const csv = await download(page, () => fig.locator('[data-export="csv"]').click(), `${id}.csv`);
  assert.equal(csv.name, `flat-minima-${id}.csv`);
  const lines = csv.bytes.toString('utf8').trimEnd().split(/\r\n/);
  const header = lines[0].split(',');
  assert.ok(header.length >= 2, `${id}.csv header: ${lines[0]}`);
  assert.ok(
    header.every((h) => /^[A-Za-z][A-Za-z0-9_]*$/.test(h)),
    `${id}.csv column names: ${lines[0]}`,
  );
  assert.ok(lines.length > 2, `${id}.csv has data rows (${lines.length - 1})`);
  for (const line of lines.slice(1, 20))
    assert.equal(csvFields(line).length, header.length, `${id}.csv row width: ${line}`);
}

/** The fields of one CSV line (RFC 4180: a quoted field may hold commas and doubled quotes). */
function csvFields(line) {
  const out = [];
  let i = 0;
  while (i <= line.length) {
    if (line[i] === '"') {
      let v = '';
      i++;
      while (i < line.length) {
        if (line[i] === '"' && line[i + 1] === '"') {
          v += '"';
          i += 2;
        } else if (line[i] === '"') break;
        else v += line[i++];
      }
      out.push(v);
      i += 2; // closing quote and comma
    } else {
      const j = line.indexOf(',', i);
      const end = j < 0 ? line.length : j;
      out.push(line.slice(i, end));
      i = end + 1;
    }
  }
  return out;
}

test('every figure exports a valid SVG, PNG and CSV', async () => {
  const { page, context, errors, foreign } = await openWithResults();
  // The story's figures (the embeddable registry) all have data from the bundled run and all
  // three exports. Any other figure shown on the page (a section whose own run has not been
  // made yet) must export whatever its buttons offer.
  const ids = await page.evaluate(() => window.__flatMinima.figures());
  // Section 7's figures show their precomputed runs once that chunk is in.
  await page.waitForFunction(() => window.__flatMinima.universality().widths.precomputed);
  const onPage = await page.evaluate(() =>
    [...document.querySelectorAll('[data-figure]')]
      .filter((f) => f.checkVisibility())
      .map((f) => f.dataset.figure),
  );
  for (const id of ids) assert.ok(onPage.includes(id), `${id} is on the page`);
  for (const id of onPage) {
    const story = ids.includes(id);
    const fig = page.locator(`[data-figure="${id}"]`);
    await fig.scrollIntoViewIfNeeded();
    const offered = async (kind) => {
      const b = fig.locator(`[data-export="${kind}"]`);
      return (await b.count()) > 0 && (await b.isVisible()) && (await b.isEnabled());
    };
    if (story)
      for (const kind of ['svg', 'png', 'csv'])
        assert.ok(await offered(kind), `${id}: ${kind} export offered`);
    let svg = null;
    if (await offered('svg')) svg = await checkSvg(page, fig, id, story);
    if (await offered('png')) {
      const png = await checkPng(page, fig, id, story);
      if (svg)
        assert.deepEqual(
          [png.width, png.height],
          [svg.width * 2, svg.height * 2],
          `${id}.png is the SVG at 2×`,
        );
    }
    if (await offered('csv')) await checkCsv(page, fig, id);
  }
  assert.deepEqual(errors, [], errors.join('\n'));
  assert.deepEqual(foreign, [], 'no request leaves the origin');
  await context.close();
});

test('a dark-theme SVG export keeps the dark colours', async () => {
  const { page, context } = await openWithResults();
  await page.getByLabel('Theme').selectOption('dark');
  const fig = page.locator('[data-figure="spectrum"]');
  const svg = await download(page, () => fig.locator('[data-export="svg"]').click());
  const text = svg.bytes.toString('utf8');
  assert.match(text, /fill="rgb\(20, 23, 29\)"/, 'dark background');
  await context.close();
});

test('Save run → Open run (file picker) shows the same results; malformed files change nothing', async () => {
  const { page, context, errors } = await openWithResults();
  const before = await runState(page);
  const saved = await download(page, () => page.getByRole('button', { name: 'Save run' }).click());
  assert.match(saved.name, /^flat-minima-run-.*\.json$/);
  const bundle = JSON.parse(saved.bytes.toString('utf8'));
  assert.equal(bundle.format, 'flat-minima-lab/run');
  assert.equal(bundle.results.sgd.fits.psi.exponent, before.results.sgd.fits.psi.exponent);

  // A fresh page opens it: the same ψ and results, no training.
  const { page: p2, context: c2, errors: e2 } = await openWithResults();
  await p2
    .getByTestId('open-run-input')
    .setInputFiles({ name: 'my-run.json', mimeType: 'application/json', buffer: saved.bytes });
  await p2
    .getByTestId('source-banner')
    .filter({ hasText: 'my-run.json' })
    .waitFor({ timeout: WAIT.ui });
  const after = await runState(p2);
  assert.equal(after.source.kind, 'file');
  assert.equal(after.results.sgd.fits.psi.exponent, before.results.sgd.fits.psi.exponent, 'same ψ');
  assert.deepEqual(after.results, before.results, 'same results');
  assert.deepEqual(after.epochs, before.epochs, 'same training curves');
  assert.match(
    await p2.getByTestId('psi-value').innerText(),
    new RegExp(before.results.sgd.fits.psi.exponent.toFixed(2)),
  );
  // The run's settings are taken, so the URL reproduces it.
  assert.equal(new URL(p2.url()).searchParams.get('preset'), bundle.preset);
  assert.equal(after.runState, 'idle');

  // Malformed files: a clear message, nothing changes.
  const url = p2.url();
  const cases = [
    ['not-json.json', 'this is not json', /not JSON/],
    ['other.json', JSON.stringify({ hello: 1 }), /format/],
    [
      'broken.json',
      JSON.stringify({
        ...bundle,
        results: {
          sgd: {
            ...bundle.results.sgd,
            fits: { ...bundle.results.sgd.fits, psi: { exponent: 'x' } },
          },
        },
      }),
      /results\.sgd\.fits\.psi\.exponent/,
    ],
    [
      'bad-config.json',
      JSON.stringify({ ...bundle, config: { ...bundle.config, batchSize: -3 } }),
      /batchSize/,
    ],
  ];
  for (const [name, body, why] of cases) {
    await p2
      .getByTestId('open-run-input')
      .setInputFiles({ name, mimeType: 'application/json', buffer: Buffer.from(body) });
    const err = p2.getByTestId('open-run-error');
    await err.filter({ hasText: name }).waitFor({ timeout: WAIT.ui });
    const text = await err.innerText();
    assert.match(text, why, `${name}: ${text}`);
    assert.match(text, /Nothing was changed/);
    const now = await runState(p2);
    assert.deepEqual(now.results, after.results, `${name}: results unchanged`);
    assert.deepEqual(now.source, after.source, `${name}: source unchanged`);
    assert.equal(p2.url(), url, `${name}: URL unchanged`);
  }
  assert.deepEqual(errors, [], errors.join('\n'));
  assert.deepEqual(e2, [], e2.join('\n'));
  await c2.close();
  await context.close();
});

test('dropping a saved run on the page opens it', async () => {
  const { page, context } = await openWithResults();
  const saved = await download(page, () => page.getByRole('button', { name: 'Save run' }).click());
  const b = JSON.parse(saved.bytes.toString('utf8'));
  b.results.sgd.fits.psi.exponent = 9.87; // a recognisable number
  b.createdWith = 'the drop test';
  await page.evaluate((text) => {
    const dt = new DataTransfer();
    dt.items.add(new File([text], 'dropped.json', { type: 'application/json' }));
    const target = document.querySelector('.article');
    target.dispatchEvent(
      new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }),
    );
    target.dispatchEvent(
      new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }),
    );
  }, JSON.stringify(b));
  await page
    .getByTestId('source-banner')
    .filter({ hasText: 'dropped.json' })
    .waitFor({ timeout: WAIT.ui });
  assert.match(await page.getByTestId('psi-value').innerText(), /9\.87/);
  await context.close();
});
