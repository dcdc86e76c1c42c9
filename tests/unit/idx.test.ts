import { describe, expect, it } from 'vitest';
import { IdxError, loadIdxDataset, parseIdx } from '../../src/engine/data/idx';
import {
  goodFiles,
  gzip,
  idxBytes,
  imagePayload,
  imagesFile,
  labelPayload,
  labelsFile,
  type NamedFile,
} from '../fixtures/idx-builders';

/** Run `p`, expect an IdxError, return it. */
async function idxError(p: Promise<unknown>): Promise<IdxError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(IdxError);
    if (e instanceof IdxError) return e;
  }
  throw new Error('expected an IdxError, got success');
}

describe('parseIdx', () => {
  it('parses raw image and label files', async () => {
    const img = await parseIdx('train-images-idx3-ubyte', imagesFile(5));
    expect(img.kind).toBe('images');
    expect(img.dims).toEqual([5, 28, 28]);
    expect(img.count).toBe(5);
    expect(img.gzipped).toBe(false);
    expect(Array.from(img.data)).toEqual(Array.from(imagePayload(5)));

    const lab = await parseIdx('train-labels-idx1-ubyte', labelsFile(7, 2));
    expect(lab.kind).toBe('labels');
    expect(lab.dims).toEqual([7]);
    expect(Array.from(lab.data)).toEqual(Array.from(labelPayload(7, 2)));
  });

  it('parses gzip files (detected by magic, not name)', async () => {
    const gz = await gzip(imagesFile(4));
    expect(gz[0]).toBe(0x1f);
    const img = await parseIdx('images.bin', gz);
    expect(img.gzipped).toBe(true);
    expect(img.dims).toEqual([4, 28, 28]);
    expect(Array.from(img.data)).toEqual(Array.from(imagePayload(4)));
  });

  it('rejects a wrong magic number', async () => {
    const bad = imagesFile(2);
    bad[0] = 0x03; // little-endian written magic, say
    const e = await idxError(parseIdx('train-images-idx3-ubyte', bad));
    expect(e.file).toBe('train-images-idx3-ubyte');
    expect(e.message).toMatch(/^train-images-idx3-ubyte: not an MNIST IDX file/);
    expect(e.message).toMatch(/00 00 08 03/);

    const float = idxBytes(0x0d, [2], new Uint8Array(8));
    const e2 = await idxError(parseIdx('x', float));
    expect(e2.problem).toMatch(/float/);
  });

  it('rejects a wrong number of dimensions', async () => {
    const twoD = idxBytes(0x08, [3, 784], imagePayload(3));
    const e = await idxError(parseIdx('train-images-idx3-ubyte', twoD));
    expect(e.problem).toMatch(/has 2 dimensions/);
  });

  it('rejects a truncated image file', async () => {
    const full = imagesFile(3);
    const e = await idxError(
      parseIdx('t10k-images-idx3-ubyte', full.subarray(0, full.length - 100)),
    );
    expect(e.message).toMatch(/^t10k-images-idx3-ubyte: truncated/);
    expect(e.problem).toMatch(/3 images of 28×28/);

    const e2 = await idxError(parseIdx('t10k-images-idx3-ubyte', full.subarray(0, 10)));
    expect(e2.problem).toMatch(/truncated.*header/);

    const e3 = await idxError(parseIdx('empty', new Uint8Array(0)));
    expect(e3.problem).toMatch(/empty/);
  });

  it('rejects trailing bytes', async () => {
    const full = labelsFile(5);
    const longer = new Uint8Array(full.length + 3);
    longer.set(full);
    const e = await idxError(parseIdx('train-labels-idx1-ubyte', longer));
    expect(e.problem).toMatch(/3 unexpected trailing bytes/);
  });

  it('rejects a label out of range, naming index and value', async () => {
    const payload = labelPayload(8);
    payload[5] = 12;
    const gz = await gzip(idxBytes(0x08, [8], payload));
    const e = await idxError(parseIdx('train-labels-idx1-ubyte.gz', gz));
    expect(e.message).toBe('train-labels-idx1-ubyte.gz: label 12 at index 5 is out of range 0–9');
    expect(e.file).toBe('train-labels-idx1-ubyte.gz');
  });

  it('reports a corrupt or truncated .gz as an IdxError', async () => {
    const gz = await gzip(imagesFile(6));
    const e = await idxError(
      parseIdx('train-images-idx3-ubyte.gz', gz.subarray(0, gz.length - 30)),
    );
    expect(e.problem).toMatch(/gzip/);
    const corrupt = Uint8Array.from(gz);
    for (let i = 20; i < 40; i++) corrupt[i] ^= 0x5a;
    const e2 = await idxError(parseIdx('train-images-idx3-ubyte.gz', corrupt));
    expect(e2.problem).toMatch(/gzip/);
  });
});

describe('loadIdxDataset', () => {
  it('loads four good raw files in any order, by header not name', async () => {
    const files = goodFiles(30, 12);
    const shuffled: NamedFile[] = [files[3], files[0], files[2], files[1]].map((f, i) => ({
      name: `file${i}`,
      bytes: f.bytes,
    }));
    const d = await loadIdxDataset(shuffled);
    expect(d.source).toBe('idx');
    expect(d.rows).toBe(28);
    expect(d.train.count).toBe(30);
    expect(d.test.count).toBe(12);
    expect(d.train.images.length).toBe(30 * 784);
    expect(Array.from(d.train.images)).toEqual(Array.from(imagePayload(30, 28, 28, 1)));
    expect(Array.from(d.test.labels)).toEqual(Array.from(labelPayload(12, 3)));
  });

  it('loads four good .gz files', async () => {
    const files = await Promise.all(
      goodFiles(20, 10).map(async (f) => ({ name: `${f.name}.gz`, bytes: await gzip(f.bytes) })),
    );
    const d = await loadIdxDataset(files);
    expect(d.train.count).toBe(20);
    expect(d.test.count).toBe(10);
    expect(Array.from(d.train.labels)).toEqual(Array.from(labelPayload(20, 0)));
  });

  it('uses names to tell train from test when counts are equal', async () => {
    const files = goodFiles(10, 10);
    const d = await loadIdxDataset([files[2], files[3], files[0], files[1]]);
    expect(Array.from(d.train.images)).toEqual(Array.from(imagePayload(10, 28, 28, 1)));
    expect(Array.from(d.test.labels)).toEqual(Array.from(labelPayload(10, 3)));
  });

  it('rejects an image/label count mismatch', async () => {
    const files = goodFiles(30, 12);
    files[3] = { name: 't10k-labels-idx1-ubyte', bytes: labelsFile(11) };
    const e = await idxError(loadIdxDataset(files));
    expect(e.file).toBe('t10k-images-idx3-ubyte');
    expect(e.problem).toMatch(/count mismatch: 12 images but t10k-labels-idx1-ubyte has 11 labels/);
  });

  it('rejects missing files and names what is missing', async () => {
    const files = goodFiles(30, 12);
    const e = await idxError(loadIdxDataset([files[0], files[1], files[2]]));
    expect(e.file).toBe('t10k-labels-idx1-ubyte');
    expect(e.problem).toMatch(/missing file: no label file for the 12 images/);

    const e2 = await idxError(loadIdxDataset([files[0], files[1]]));
    expect(e2.problem).toMatch(/missing files/);
    const e3 = await idxError(loadIdxDataset([]));
    expect(e3.problem).toMatch(/no files were given/);
  });

  it('rejects duplicate files', async () => {
    const files = goodFiles(30, 12);
    const e = await idxError(loadIdxDataset([...files, files[1]]));
    expect(e.problem).toMatch(/duplicate/);
    const copy = { name: 'copy-of-t10k-labels', bytes: files[3].bytes };
    const e2 = await idxError(loadIdxDataset([files[0], files[2], files[3], copy]));
    expect(e2.problem).toMatch(/duplicate file/);
  });

  it('rejects wrong or inconsistent image dims', async () => {
    const small = goodFiles(30, 12);
    small[0] = { name: 'train-images-idx3-ubyte', bytes: imagesFile(30, 20, 20) };
    small[2] = { name: 't10k-images-idx3-ubyte', bytes: imagesFile(12, 20, 20) };
    const e = await idxError(loadIdxDataset(small));
    expect(e.problem).toMatch(/20×20.*28×28/);

    const mixed = goodFiles(30, 12);
    mixed[2] = { name: 't10k-images-idx3-ubyte', bytes: imagesFile(12, 28, 27) };
    const e2 = await idxError(loadIdxDataset(mixed));
    expect(e2.file).toBe('t10k-images-idx3-ubyte');
    expect(e2.problem).toMatch(/28×27 does not match/);
  });

  it('propagates per-file errors with the file name', async () => {
    const files = goodFiles(30, 12);
    const lab = labelPayload(30);
    lab[29] = 200;
    files[1] = { name: 'train-labels-idx1-ubyte', bytes: idxBytes(0x08, [30], lab) };
    const e = await idxError(loadIdxDataset(files));
    expect(e.message).toBe('train-labels-idx1-ubyte: label 200 at index 29 is out of range 0–9');
  });
});
