import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { datasetSummary } from '../../src/engine/data/dataset';
import {
  EMBEDDED_HEADER_BYTES,
  decodeEmbedded,
  embeddedBytes,
  encodeEmbedded,
  loadEmbeddedDataset,
  type RawImageSet,
} from '../../src/engine/data/embedded';

function synthetic(count: number, rows = 28, cols = 28): RawImageSet {
  const images = new Uint8Array(count * rows * cols);
  for (let i = 0; i < images.length; i++) images[i] = (i * 7 + (i >>> 5)) & 0xff;
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) labels[i] = (i * 3) % 10;
  return { images, labels, count, rows, cols };
}

describe('embedded FMLD format', () => {
  it('round-trips a small synthetic set', () => {
    const set = synthetic(13);
    const bytes = encodeEmbedded(set);
    expect(bytes.length).toBe(EMBEDDED_HEADER_BYTES + 13 * (1 + 784));
    expect(String.fromCharCode(...bytes.subarray(0, 4))).toBe('FMLD');
    // Decode from a standalone ArrayBuffer, as fetch() would hand it over.
    const back = decodeEmbedded(bytes.slice().buffer);
    expect(back.count).toBe(13);
    expect(back.rows).toBe(28);
    expect(back.cols).toBe(28);
    expect(Array.from(back.labels)).toEqual(Array.from(set.labels));
    expect(Array.from(back.images)).toEqual(Array.from(set.images));
  });

  it('validates magic, version, sizes and labels with clear messages', () => {
    const good = encodeEmbedded(synthetic(5));
    expect(() => decodeEmbedded(good.subarray(0, 8))).toThrow(/shorter than the 16-byte header/);

    const html = new TextEncoder().encode('<!doctype html><html><body>not found</body></html>');
    expect(() => decodeEmbedded(html)).toThrow(/wrong magic.*HTML page/);

    const v2 = good.slice();
    v2[4] = 2;
    expect(() => decodeEmbedded(v2)).toThrow(/version 2 is not supported/);

    expect(() => decodeEmbedded(good.subarray(0, good.length - 1))).toThrow(/truncated/);
    const longer = new Uint8Array(good.length + 4);
    longer.set(good);
    expect(() => decodeEmbedded(longer)).toThrow(/4 unexpected trailing bytes/);

    const badLabel = good.slice();
    badLabel[EMBEDDED_HEADER_BYTES + 2] = 10;
    expect(() => decodeEmbedded(badLabel)).toThrow(/label 10 at index 2 is out of range 0–9/);
  });

  it('loadEmbeddedDataset splits with defaults capped by the count', () => {
    const d = loadEmbeddedDataset(encodeEmbedded(synthetic(50)), { nTrain: 40, nTest: 10 });
    expect(d.source).toBe('embedded');
    expect(d.train.count + d.test.count).toBe(50);
    expect(() => loadEmbeddedDataset(encodeEmbedded(synthetic(3, 16, 16)))).toThrow(/16×16/);
  });
});

describe('embeddedBytes', () => {
  it('gunzips gzip, passes FMLD through, and names a damaged asset', async () => {
    const fmld = encodeEmbedded(synthetic(4));
    const gz = gzipSync(fmld);
    expect(
      Buffer.from(await embeddedBytes(new Response(Uint8Array.from(gz)))).equals(Buffer.from(fmld)),
    ).toBe(true);
    expect((await embeddedBytes(new Response(Uint8Array.from(fmld)))).length).toBe(fmld.length);
    await expect(embeddedBytes(new Response(Uint8Array.from(gz.subarray(0, 40))))).rejects.toThrow(
      /damaged/,
    );
  });
});

const plain = fileURLToPath(new URL('../../public/data/mnist-10k.bin', import.meta.url));
const asset = `${plain}.gz`;
/** The site's asset decoded the way the trainer worker decodes it (DecompressionStream). */
const decoded = async () => embeddedBytes(new Response(Uint8Array.from(readFileSync(asset))));

describe.runIf(existsSync(asset))('built asset public/data/mnist-10k.bin.gz', () => {
  it('is gzip that decodes to exactly the plain FMLD file the Node tools read', async () => {
    const gz = readFileSync(asset);
    expect([gz[0], gz[1]]).toEqual([0x1f, 0x8b]);
    const bytes = await decoded();
    expect(Buffer.from(bytes).equals(readFileSync(plain))).toBe(true);
    // A host that already decompressed it (Content-Encoding: gzip) hands over the FMLD bytes.
    const passed = await embeddedBytes(new Response(Uint8Array.from(readFileSync(plain))));
    expect(passed.length).toBe(bytes.length);
  });

  it('holds 10,000 digits, ~1,000 per class, ordered by digit, sensible pixels', async () => {
    const raw = decodeEmbedded(await decoded());
    expect(raw.count).toBe(10000);
    expect(raw.rows).toBe(28);
    expect(raw.cols).toBe(28);
    const perClass = new Array<number>(10).fill(0);
    for (let i = 0; i < raw.count; i++) perClass[raw.labels[i]]++;
    for (const c of perClass) {
      expect(c).toBeGreaterThan(800);
      expect(c).toBeLessThan(1200);
    }
    for (let i = 1; i < raw.count; i++)
      expect(raw.labels[i]).toBeGreaterThanOrEqual(raw.labels[i - 1]);
    let sum = 0;
    for (let i = 0; i < raw.images.length; i++) sum += raw.images[i];
    const mean = sum / raw.images.length / 255;
    // MNIST's mean pixel intensity is ~0.13.
    expect(mean).toBeGreaterThan(0.1);
    expect(mean).toBeLessThan(0.16);
    // Every image has ink.
    for (let i = 0; i < raw.count; i += 97) {
      expect(Math.max(...raw.images.subarray(i * 784, (i + 1) * 784))).toBeGreaterThan(200);
    }
  });

  it('loads as the default 8,000 / 2,000 split with every class in both halves', async () => {
    const d = loadEmbeddedDataset(await decoded());
    const s = datasetSummary(d);
    expect(s.trainCount).toBe(8000);
    expect(s.testCount).toBe(2000);
    expect(s.trainPerClass.reduce((a, b) => a + b, 0)).toBe(8000);
    for (const c of s.testPerClass) expect(c).toBeGreaterThan(120);
  });
});
