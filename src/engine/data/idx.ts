/**
 * Reader for the standard MNIST IDX files, raw or gzip-compressed:
 *   train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte
 *
 * IDX format (big-endian): bytes 0–1 are zero, byte 2 is the data type (0x08 = unsigned byte,
 * the only one MNIST uses), byte 3 the number of dimensions d; then d uint32 sizes; then the data.
 * So images start 00 00 08 03 (count, rows, cols) and labels 00 00 08 01 (count).
 *
 * Every problem is reported as an `IdxError` naming the file and the problem in plain words.
 * Files are recognised by their headers, never by their names (names only break a tie between two
 * sets of equal size).
 */

import { NUM_CLASSES, type Dataset } from './dataset';

export class IdxError extends Error {
  readonly file: string;
  readonly problem: string;
  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.name = 'IdxError';
    this.file = file;
    this.problem = problem;
  }
}

export interface IdxArray {
  /** The name the file was given under (e.g. "train-images-idx3-ubyte.gz"). */
  name: string;
  kind: 'images' | 'labels';
  /** Sizes from the header: [count] for labels, [count, rows, cols] for images. */
  dims: number[];
  /** dims[0]. */
  count: number;
  /** The payload after the header (a view, no copy): uint8 pixels or labels. */
  data: Uint8Array;
  /** Whether the file was gzip-compressed. */
  gzipped: boolean;
}

/** Refuse to inflate beyond this (a real MNIST training-image file is 47 MB). */
const MAX_DECOMPRESSED_BYTES = 512 * 1024 * 1024;

const fmt = (n: number): string => n.toLocaleString('en-US');
const hex = (b: Uint8Array): string =>
  Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');

const TYPE_NAMES: Record<number, string> = {
  0x08: 'unsigned byte',
  0x09: 'signed byte',
  0x0b: 'short',
  0x0c: 'int',
  0x0d: 'float',
  0x0e: 'double',
};

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Inflate gzip bytes with the platform's DecompressionStream; failures become IdxErrors. */
export async function gunzip(name: string, bytes: Uint8Array): Promise<Uint8Array> {
  // BufferSource needs an ArrayBuffer-backed view (not a SharedArrayBuffer one).
  const owned: Uint8Array<ArrayBuffer> =
    bytes.buffer instanceof ArrayBuffer
      ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
      : bytes.slice();
  const input = new ReadableStream<BufferSource>({
    start(controller) {
      controller.enqueue(owned);
      controller.close();
    },
  });
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    const reader = input.pipeThrough(new DecompressionStream('gzip')).getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > MAX_DECOMPRESSED_BYTES) {
        await reader.cancel();
        throw new IdxError(
          name,
          `decompresses to more than ${fmt(MAX_DECOMPRESSED_BYTES)} bytes, far more than any MNIST file`,
        );
      }
      chunks.push(value);
    }
  } catch (e) {
    if (e instanceof IdxError) throw e;
    const why = e instanceof Error ? e.message : String(e);
    throw new IdxError(
      name,
      `the gzip data is corrupt or incomplete and cannot be decompressed (${why})`,
    );
  }
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

/**
 * Parse one IDX file (raw, or gzip detected by its 1f 8b magic). Checks the magic number, the
 * number of dimensions, the declared sizes against the actual file size (truncated or trailing
 * bytes) and, for label files, that every label is a digit 0–9.
 */
export async function parseIdx(name: string, bytes: Uint8Array): Promise<IdxArray> {
  const gzipped = isGzip(bytes);
  const raw = gzipped ? await gunzip(name, bytes) : bytes;
  const where = gzipped ? ' after decompression' : '';

  if (raw.length < 4) {
    throw new IdxError(
      name,
      raw.length === 0
        ? `the file is empty${where}`
        : `the file is only ${raw.length} bytes${where}, too short for an IDX header`,
    );
  }
  if (raw[0] !== 0 || raw[1] !== 0) {
    throw new IdxError(
      name,
      `not an MNIST IDX file: it starts with bytes ${hex(raw.subarray(0, 4))}${where}, expected 00 00 08 03 (images) or 00 00 08 01 (labels)`,
    );
  }
  const type = raw[2];
  const ndim = raw[3];
  if (type !== 0x08) {
    const tn = TYPE_NAMES[type];
    throw new IdxError(
      name,
      tn
        ? `holds ${tn} values (IDX type 0x${type.toString(16).padStart(2, '0')}); MNIST files hold unsigned bytes (type 0x08)`
        : `wrong magic number 0x${hex(raw.subarray(0, 4)).replace(/ /g, '')}: expected 0x00000803 (images) or 0x00000801 (labels)`,
    );
  }
  if (ndim !== 3 && ndim !== 1) {
    throw new IdxError(
      name,
      `has ${ndim} dimension${ndim === 1 ? '' : 's'} (magic 0x0000080${ndim.toString(16)}); expected 3 for an image file (0x00000803) or 1 for a label file (0x00000801)`,
    );
  }
  const kind: IdxArray['kind'] = ndim === 3 ? 'images' : 'labels';
  const headerBytes = 4 + 4 * ndim;
  if (raw.length < headerBytes) {
    throw new IdxError(
      name,
      `truncated: the file is ${raw.length} bytes${where}, shorter than the ${headerBytes}-byte header of an IDX ${kind} file`,
    );
  }
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < ndim; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const count = dims[0];
  let payload = 1;
  for (const d of dims) payload *= d;

  if (kind === 'images' && (dims[1] === 0 || dims[2] === 0)) {
    throw new IdxError(name, `declares images of ${dims[1]}×${dims[2]} pixels`);
  }
  const what =
    kind === 'images'
      ? `${fmt(count)} images of ${dims[1]}×${dims[2]} pixels`
      : `${fmt(count)} labels`;
  const expected = headerBytes + payload;
  if (raw.length < expected) {
    throw new IdxError(
      name,
      `truncated: the header declares ${what} (${fmt(expected)} bytes) but the file has only ${fmt(raw.length)} bytes${where}`,
    );
  }
  if (raw.length > expected) {
    throw new IdxError(
      name,
      `${fmt(raw.length - expected)} unexpected trailing bytes${where} after the ${what} the header declares (expected ${fmt(expected)} bytes, got ${fmt(raw.length)})`,
    );
  }
  const data = raw.subarray(headerBytes, expected);
  if (kind === 'labels') {
    for (let i = 0; i < count; i++) {
      if (data[i] >= NUM_CLASSES) {
        throw new IdxError(name, `label ${data[i]} at index ${i} is out of range 0–9`);
      }
    }
  }
  return { name, kind, dims, count, data, gzipped };
}

const STANDARD = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

type Role = 'train' | 'test';

/** Name hint: 'train', 'test' or null. Only used to break a tie between sets of equal size. */
function nameRole(name: string): Role | null {
  const n = name.toLowerCase();
  const isTest = n.includes('t10k') || n.includes('test');
  const isTrain = n.includes('train');
  if (isTest && !isTrain) return 'test';
  if (isTrain && !isTest) return 'train';
  return null;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Order two same-kind files as [train, test]: larger count = train; names break a tie. */
function orderPair(a: IdxArray, b: IdxArray, noun: string): [IdxArray, IdxArray] {
  if (a.count > b.count) return [a, b];
  if (b.count > a.count) return [b, a];
  if (sameBytes(a.data, b.data)) {
    throw new IdxError(
      b.name,
      `duplicate file: it holds exactly the same ${noun} as ${a.name}; expected one training and one test file`,
    );
  }
  const ra = nameRole(a.name);
  const rb = nameRole(b.name);
  if (ra === 'train' && rb === 'test') return [a, b];
  if (ra === 'test' && rb === 'train') return [b, a];
  throw new IdxError(
    b.name,
    `${a.name} and ${b.name} both hold ${fmt(a.count)} ${noun}, so it is unclear which is the training set; name them train-… and t10k-…`,
  );
}

function missing(images: IdxArray[], labels: IdxArray[], files: { name: string }[]): IdxError {
  const got =
    files.length === 0
      ? 'no files were given'
      : `got ${images.length} image file${images.length === 1 ? '' : 's'} and ${labels.length} label file${labels.length === 1 ? '' : 's'} (${files.map((f) => f.name).join(', ')})`;
  let file = 'MNIST IDX files';
  let what = `need 4 files: ${Object.values(STANDARD).join(', ')} (optionally .gz)`;
  if (images.length === 2 && labels.length === 1) {
    const [tr, te] = orderPair(images[0], images[1], 'images');
    const lacking = labels[0].count === tr.count ? te : tr;
    file = lacking === tr ? STANDARD.trainLabels : STANDARD.testLabels;
    what = `missing file: no label file for the ${fmt(lacking.count)} images in ${lacking.name}`;
  } else if (images.length === 1 && labels.length === 2) {
    const [tr, te] = orderPair(labels[0], labels[1], 'labels');
    const lacking = images[0].count === tr.count ? te : tr;
    file = lacking === tr ? STANDARD.trainImages : STANDARD.testImages;
    what = `missing file: no image file for the ${fmt(lacking.count)} labels in ${lacking.name}`;
  } else if (images.length > 2 || labels.length > 2) {
    what = `too many files: need exactly 2 image files and 2 label files`;
  } else if (files.length > 0) {
    what = `missing files: need 2 image files (idx3) and 2 label files (idx1)`;
  }
  return new IdxError(file, `${what}; ${got}`);
}

/** Pick the labels file whose count matches `img`, or explain the mismatch. */
function matchLabels(img: IdxArray, role: Role, labels: [IdxArray, IdxArray]): IdxArray {
  const [trL, teL] = labels;
  const preferred = role === 'train' ? trL : teL;
  if (preferred.count === img.count) return preferred;
  throw new IdxError(
    img.name,
    `image/label count mismatch: ${fmt(img.count)} images but ${preferred.name} has ${fmt(preferred.count)} labels`,
  );
}

/**
 * Load the four MNIST IDX files (any order, raw or .gz, any names). Files are identified by their
 * headers: image files (0x00000803) vs label files (0x00000801); within each kind, the larger
 * count is the training set. Any counts are accepted as long as images and labels pair up.
 * Images must be 28×28 (the network's input) and the same size in both sets.
 */
export async function loadIdxDataset(
  files: { name: string; bytes: Uint8Array }[],
): Promise<Dataset> {
  // Duplicate names are almost always the same file given twice.
  const seen = new Set<string>();
  for (const f of files) {
    if (seen.has(f.name)) {
      throw new IdxError(f.name, 'duplicate file: the same file name was given twice');
    }
    seen.add(f.name);
  }
  // Sequential: keeps peak memory low and error reports deterministic.
  const parsed: IdxArray[] = [];
  for (const f of files) parsed.push(await parseIdx(f.name, f.bytes));
  const images = parsed.filter((p) => p.kind === 'images');
  const labels = parsed.filter((p) => p.kind === 'labels');
  if (images.length !== 2 || labels.length !== 2) throw missing(images, labels, files);

  const [trI, teI] = orderPair(images[0], images[1], 'images');
  const labelPair = orderPair(labels[0], labels[1], 'labels');
  // Counts: with distinct sizes, ordering both kinds by size pairs them; check they agree.
  const trL = matchLabels(trI, 'train', labelPair);
  const teL = matchLabels(teI, 'test', labelPair);

  const [, trRows, trCols] = trI.dims;
  const [, teRows, teCols] = teI.dims;
  if (trRows !== teRows || trCols !== teCols) {
    throw new IdxError(
      teI.name,
      `image size ${teRows}×${teCols} does not match the ${trRows}×${trCols} images of ${trI.name}`,
    );
  }
  if (trRows !== 28 || trCols !== 28) {
    throw new IdxError(
      trI.name,
      `images are ${trRows}×${trCols} pixels; the network needs MNIST's 28×28`,
    );
  }
  if (trI.count === 0 || teI.count === 0) {
    const empty = trI.count === 0 ? trI : teI;
    throw new IdxError(empty.name, 'the file declares 0 images');
  }
  return {
    name: `MNIST ${fmt(trI.count)} / ${fmt(teI.count)} (IDX files)`,
    source: 'idx',
    rows: 28,
    cols: 28,
    train: { images: trI.data, labels: trL.data, count: trI.count },
    test: { images: teI.data, labels: teL.data, count: teI.count },
  };
}
