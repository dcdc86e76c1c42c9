// The sweeps and optimizers on the deeper architectures (issue 7) from the command line, on a
// small IDX copy of the embedded digits (1,000 train / 200 test) so that each run takes seconds.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadEmbeddedDataset } from '../../src/engine/data/embedded';

const ASSET = 'public/data/mnist-10k.bin';
const hasData = existsSync(ASSET);

function cli(args: string[]) {
  return spawnSync('npx', ['tsx', 'src/cli/reproduce.ts', ...args], { encoding: 'utf8' });
}

function idx(magic: number, dims: number[], data: Uint8Array): Uint8Array {
  const head = new DataView(new ArrayBuffer(4 + 4 * dims.length));
  head.setUint32(0, magic, false);
  dims.forEach((d, i) => head.setUint32(4 + 4 * i, d, false));
  const out = new Uint8Array(head.byteLength + data.length);
  out.set(new Uint8Array(head.buffer), 0);
  out.set(data, head.byteLength);
  return out;
}

/** The first `nTrain` / `nTest` digits of each embedded split as the four IDX files. */
function writeSmallIdx(dir: string, nTrain: number, nTest: number): void {
  const d = loadEmbeddedDataset(readFileSync(ASSET));
  mkdirSync(dir, { recursive: true });
  const P = 28 * 28;
  const put = (prefix: string, split: typeof d.train, n: number) => {
    writeFileSync(
      join(dir, `${prefix}-images-idx3-ubyte`),
      idx(0x803, [n, 28, 28], split.images.subarray(0, n * P)),
    );
    writeFileSync(
      join(dir, `${prefix}-labels-idx1-ubyte`),
      idx(0x801, [n], split.labels.subarray(0, n)),
    );
  };
  put('train', d.train, nTrain);
  put('t10k', d.test, nTest);
}

interface Row {
  hidden: number;
  B: number;
  lr: number;
  optimizer: string;
  momentum: number;
  params: number;
  dim: number;
  snapshots: number;
  stepEvery: number;
  DL90: number;
  DL95: number;
  Ds: number;
  DsRanks: [number, number];
  dsCurve: { c: number; Ds: number }[];
  psi: { exponent: number; ci95: [number, number] };
  gamma: { exponent: number; ci95: [number, number] };
  variance: number[];
  modes: { rank: number; variance: number; flatness: number }[];
  flatnessSpectrum: number[];
  arch: string;
  block: { name: string; fullDim: number; dim: number; sampled: boolean };
}

function checkRow(r: Row): void {
  expect(r.dim).toBe(r.block.dim);
  expect(r.variance.length).toBeGreaterThan(10);
  expect(r.stepEvery).toBe(1);
  expect(r.DL90).toBeGreaterThanOrEqual(1);
  expect(r.DL95).toBeGreaterThanOrEqual(r.DL90);
  expect(r.Ds).toBeGreaterThanOrEqual(0);
  expect(r.dsCurve.map((d) => d.c)).toEqual([1, 2, 4, 8, 16]);
  expect(r.modes.length).toBeGreaterThanOrEqual(4);
  expect(r.flatnessSpectrum.length).toBeGreaterThan(0);
  for (const f of [r.psi, r.gamma]) {
    expect(Number.isFinite(f.exponent)).toBe(true);
    expect(f.ci95[0]).toBeLessThanOrEqual(f.exponent);
    expect(f.ci95[1]).toBeGreaterThanOrEqual(f.exponent);
  }
}

describe.skipIf(!hasData)('sweeps and optimizers on mlp4 and the CNN', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fml-arch-sweep-'));
  const data = join(dir, 'idx');
  beforeAll(() => writeSmallIdx(data, 1000, 200));

  it('width-sweep --arch mlp4 --optimizer momentum: one row per h, params of 784-h-h-h-h-10', () => {
    const out = join(dir, 'widths.json');
    const r = cli([
      '--experiment',
      'width-sweep',
      '--arch',
      'mlp4',
      '--block',
      '2',
      '--optimizer',
      'momentum',
      '--momentum',
      '0.5',
      '--lr',
      '0.05',
      '--widths',
      '6,10',
      '--B',
      '25',
      '--warmup-epochs',
      '1',
      '--window-epochs',
      '1',
      '--modes',
      '8',
      '--idx',
      data,
      '--out',
      out,
      '--quiet',
    ]);
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(readFileSync(out, 'utf8'));
    expect(j.experiment).toBe('width-sweep');
    expect(j.arch).toBe('mlp4');
    expect(j.config).toMatchObject({
      arch: 'mlp4',
      optimizer: 'momentum',
      momentum: 0.5,
      block: 2,
    });
    expect(j.data.train).toBe(1000);
    expect(j.widths.map((w: Row) => w.hidden)).toEqual([6, 10]);
    for (const w of j.widths as Row[]) {
      expect(w.arch).toBe('mlp4');
      expect(w.optimizer).toBe('momentum');
      expect(w.momentum).toBe(0.5);
      expect(w.lr).toBe(0.05);
      expect(w.params).toBe(784 * w.hidden + 3 * w.hidden ** 2 + 10 * w.hidden);
      expect(w.block).toEqual({
        name: 'W2',
        fullDim: w.hidden ** 2,
        dim: w.hidden ** 2,
        sampled: false,
      });
      expect(w.snapshots).toBe(40);
      checkRow(w);
    }
    expect(j.timings.perWidth).toHaveLength(2);
    expect(existsSync(join(dir, 'widths.summary.csv'))).toBe(true);
  });

  it('optimizer-comparison --arch cnn: SGD, momentum and Adam (at --adam-lr) on the dense block', () => {
    const out = join(dir, 'opt.json');
    const r = cli([
      '--experiment',
      'optimizer-comparison',
      '--arch',
      'cnn',
      '--conv1',
      '2',
      '--conv2',
      '4',
      '--dense',
      '8',
      '--max-block-dim',
      '400',
      '--adam-lr',
      '0.002',
      '--B',
      '25',
      '--warmup-epochs',
      '0',
      '--window-epochs',
      '1',
      '--modes',
      '8',
      '--idx',
      data,
      '--out',
      out,
      '--quiet',
    ]);
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(readFileSync(out, 'utf8'));
    expect(j.experiment).toBe('optimizer-comparison');
    expect(j.arch).toBe('cnn');
    const rows = j.optimizers as Row[];
    expect(rows.map((x) => x.optimizer)).toEqual(['sgd', 'momentum', 'adam']);
    // Momentum at α(1 − μ) = 0.1 × 0.1: the same effective step as SGD.
    expect(rows.map((x) => x.lr)).toEqual([0.1, 0.01, 0.002]);
    for (const x of rows) {
      expect(x.arch).toBe('cnn');
      expect(x.hidden).toBe(8);
      expect(x.params).toBe(9 * 2 + 9 * 2 * 4 + 7 * 7 * 4 * 8 + 8 * 10);
      expect(x.block).toEqual({ name: 'dense', fullDim: 196 * 8, dim: 400, sampled: true });
      checkRow(x);
    }
  });

  it('--arch mlp4 --optimizer adam trains at Adam’s α and records optimizer, μ and D_L, D_s', () => {
    const out = join(dir, 'adam.json');
    const r = cli([
      '--experiment',
      'variance-flatness',
      '--arch',
      'mlp4',
      '--optimizer',
      'adam',
      '--hidden',
      '8',
      '--B',
      '50',
      '--warmup-epochs',
      '1',
      '--window-epochs',
      '2',
      '--modes',
      '8',
      '--idx',
      data,
      '--out',
      out,
      '--quiet',
    ]);
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(readFileSync(out, 'utf8'));
    expect(j).toMatchObject({ optimizer: 'adam', lr: 0.001, momentum: 0.9 });
    expect(j.config).toMatchObject({ optimizer: 'adam', lr: 0.001 });
    expect(j.effectiveDimension.DL90).toBeGreaterThanOrEqual(1);
    expect(j.meanNorm).toBeGreaterThan(0);
    expect(Number.isFinite(j.fits.psi.exponent)).toBe(true);
  });

  it('refuses width-sweep --arch cnn, theory with --arch, and --dynamics langevin with --arch', () => {
    for (const args of [
      ['--experiment', 'width-sweep', '--arch', 'cnn'],
      ['--experiment', 'theory', '--arch', 'mlp4'],
      ['--experiment', 'hyper-sweep', '--arch', 'mlp4', '--dynamics', 'langevin'],
    ]) {
      const c = cli(args);
      expect(c.status, args.join(' ')).toBe(2);
      expect(c.stderr).toMatch(/usage: npm run reproduce/);
    }
  });
});
