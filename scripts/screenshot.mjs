// Screenshot of the built site: node scripts/screenshot.mjs "<query>" out.png [width] [waitForState]
import { launch, openPage, serveDist } from '../tests/e2e/harness.mjs';

const [query = '', out = 'screenshot.png', width = '1440', waitFor = ''] = process.argv.slice(2);
const server = await serveDist();
const browser = await launch();
const { page, errors } = await openPage(browser, `${server.url}${query}`, server.origin, {
  viewport: { width: Number(width), height: 900 },
});
if (waitFor) {
  await page.waitForFunction(
    (s) => document.getElementById('root').dataset.runState === s,
    waitFor,
    { timeout: 600_000 },
  );
} else {
  await page.waitForTimeout(3000);
}
const scrollY = Number(process.env.SCROLL ?? -1);
if (scrollY >= 0) await page.evaluate((y) => window.scrollTo(0, y), scrollY);
await page.screenshot({ path: out, fullPage: scrollY < 0 });
console.log(`wrote ${out}; console errors: ${errors.length ? errors.join('\n') : 'none'}`);
await browser.close();
await server.close();
