// The analysis worker carries no TensorFlow.js (issue 21): its kernels are the project's own, so
// its chunk of the build — with every chunk it imports — holds none of tfjs's kernel names, while
// the build as a whole still does (the trainer needs tfjs), which shows the marker still finds
// tfjs. No browser: it reads the build the other browser tests serve.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const ASSETS = join(process.env.E2E_DIST || 'dist', 'assets');
/** Kernel names every tfjs backend registers (string literals survive minification). */
const TFJS = /FusedMatMul|tfjs-backend-wasm/;
/** The budget for what an embed may load before Start; the worker is far below it. */
const MAX_BYTES = 512 * 1024;

/** A chunk and, transitively, the chunks it imports statically or dynamically. */
function withImports(name, seen = new Set()) {
  if (seen.has(name)) return seen;
  seen.add(name);
  const code = readFileSync(join(ASSETS, name), 'utf8');
  for (const m of code.matchAll(/(?:from|import)\s*\(?\s*["']\.\/([^"']+\.js)["']/g))
    withImports(m[1], seen);
  return seen;
}

test('the analysis worker chunk and its imports hold no TensorFlow.js', () => {
  const files = readdirSync(ASSETS);
  const workers = files.filter((f) => /^analysis\.worker-[^/]*\.js$/.test(f));
  assert.equal(workers.length, 1, `one analysis worker chunk in ${ASSETS}: ${workers.join(', ')}`);
  const chunks = [...withImports(workers[0])];
  let bytes = 0;
  for (const c of chunks) {
    const code = readFileSync(join(ASSETS, c), 'utf8');
    bytes += Buffer.byteLength(code);
    // Not assert.doesNotMatch: its message would quote megabytes of script.
    assert.ok(!TFJS.test(code), `${c} (loaded by the analysis worker) contains tfjs`);
  }
  assert.ok(bytes < MAX_BYTES, `the analysis worker loads ${bytes} bytes of script`);
  const withTf = files.filter(
    (f) => f.endsWith('.js') && TFJS.test(readFileSync(join(ASSETS, f), 'utf8')),
  );
  assert.ok(withTf.length > 0, 'no chunk of the build matches the tfjs marker: update TFJS');
});
