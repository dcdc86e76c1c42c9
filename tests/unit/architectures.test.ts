import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/engine/data/rng';
import { cnn, convSame, type CnnSpec } from '../../src/engine/nets/cnn';
import { deepMlp, type DeepMlpSpec } from '../../src/engine/nets/deepMlp';
import {
  BlockLoss,
  SgdNet,
  blockSubset,
  initParams,
  meanCrossEntropy,
  type NetDefinition,
} from '../../src/engine/nets/tfNet';
import { useBackend } from './tfBackend';

const hasData = existsSync('public/data/mnist-10k.bin');

// ── float64 references ──
function relu(v: Float64Array): Float64Array {
  return v.map((x) => Math.max(0, x));
}
/** a (n×r) · w (r×c). */
function dense(a: Float64Array, w: Float64Array, n: number, r: number, c: number): Float64Array {
  const o = new Float64Array(n * c);
  for (let s = 0; s < n; s++)
    for (let i = 0; i < r; i++) {
      const v = a[s * r + i];
      for (let j = 0; j < c; j++) o[s * c + j] += v * w[i * c + j];
    }
  return o;
}
function conv(
  x: Float64Array,
  f: Float64Array,
  n: number,
  side: number,
  cin: number,
  cout: number,
  k: number,
) {
  const p = (k - 1) / 2;
  const o = new Float64Array(n * side * side * cout);
  for (let b = 0; b < n; b++)
    for (let y = 0; y < side; y++)
      for (let xx = 0; xx < side; xx++)
        for (let dy = 0; dy < k; dy++)
          for (let dx = 0; dx < k; dx++) {
            const yy = y + dy - p;
            const xc = xx + dx - p;
            if (yy < 0 || yy >= side || xc < 0 || xc >= side) continue;
            for (let c = 0; c < cin; c++) {
              const v = x[((b * side + yy) * side + xc) * cin + c];
              const row = ((dy * k + dx) * cin + c) * cout;
              for (let q = 0; q < cout; q++)
                o[((b * side + y) * side + xx) * cout + q] += v * f[row + q];
            }
          }
  return o;
}
function pool(x: Float64Array, n: number, side: number, c: number): Float64Array {
  const h = side / 2;
  const o = new Float64Array(n * h * h * c).fill(-Infinity);
  for (let b = 0; b < n; b++)
    for (let y = 0; y < side; y++)
      for (let xx = 0; xx < side; xx++)
        for (let q = 0; q < c; q++) {
          const i = ((b * h + (y >> 1)) * h + (xx >> 1)) * c + q;
          o[i] = Math.max(o[i], x[((b * side + y) * side + xx) * c + q]);
        }
  return o;
}
function ce(z: Float64Array, labels: Int32Array, n: number, C: number): number {
  let t = 0;
  for (let s = 0; s < n; s++) {
    const row = z.subarray(s * C, (s + 1) * C);
    const m = Math.max(...row);
    t += Math.log(row.reduce((a, v) => a + Math.exp(v - m), 0)) + m - row[labels[s]];
  }
  return t / n;
}
function cnnLoss64(
  s: CnnSpec,
  p: Float64Array[],
  x: Float64Array,
  y: Int32Array,
  n: number,
): number {
  const { side, kernel: k, conv1, conv2, dense: d, classes } = s;
  const a1 = pool(relu(conv(x, p[0], n, side, 1, conv1, k)), n, side, conv1);
  const a2 = pool(relu(conv(a1, p[1], n, side / 2, conv1, conv2, k)), n, side / 2, conv2);
  const flat = (side / 4) ** 2 * conv2;
  const h = relu(dense(a2, p[2], n, flat, d));
  return ce(dense(h, p[3], n, d, classes), y, n, classes);
}
function mlpLoss64(
  s: DeepMlpSpec,
  p: Float64Array[],
  x: Float64Array,
  y: Int32Array,
  n: number,
): number {
  let a = x;
  for (let l = 0; l < p.length; l++) {
    const r = l === 0 ? s.inputSize : s.hidden;
    const c = l === p.length - 1 ? s.classes : s.hidden;
    const z = dense(a, p[l], n, r, c);
    a = l === p.length - 1 ? z : relu(z);
  }
  return ce(a, y, n, s.classes);
}

/** Largest relative error (norm-wise per parameter) of the tfjs gradient against central FD. */
function gradCheck(
  def: NetDefinition,
  loss64: (p: Float64Array[], x: Float64Array, y: Int32Array, n: number) => number,
  n: number,
): number {
  const rng = new Rng(3);
  const x = new Float32Array(n * def.inputSize).map(() => rng.next());
  const y = Int32Array.from({ length: n }, () => rng.int(def.classes));
  const init = initParams(def, 11);
  const grads = tf.tidy(() => {
    const ps = init.map((w, i) => tf.tensor(w, def.params[i].shape));
    const g = tf.grads((...q: tf.Tensor[]) =>
      meanCrossEntropy(def.logits(tf.tensor2d(x, [n, def.inputSize]), q), tf.tensor1d(y, 'int32')),
    )(ps);
    return g.map((t) => t.dataSync() as Float32Array);
  });
  const p64 = init.map((w) => Float64Array.from(w));
  const x64 = Float64Array.from(x);
  let worst = 0;
  const eps = 1e-6;
  p64.forEach((w, pi) => {
    let num = 0;
    let den = 0;
    for (let i = 0; i < w.length; i++) {
      const v = w[i];
      w[i] = v + eps;
      const up = loss64(p64, x64, y, n);
      w[i] = v - eps;
      const dn = loss64(p64, x64, y, n);
      w[i] = v;
      const fd = (up - dn) / (2 * eps);
      num += (grads[pi][i] - fd) ** 2;
      den += fd * fd;
    }
    worst = Math.max(worst, Math.sqrt(num / den));
  });
  return worst;
}

beforeAll(async () => {
  await useBackend();
});

describe('deeper architectures (issue 7)', () => {
  it('the im2col convolution equals tf.conv2d with the reshaped filter', () => {
    const rng = new Rng(1);
    const x = tf.tensor4d(
      Float32Array.from({ length: 2 * 6 * 6 * 3 }, () => rng.normal()),
      [2, 6, 6, 3],
    );
    for (const k of [3, 5]) {
      const f = tf.tensor2d(
        Float32Array.from({ length: k * k * 3 * 4 }, () => rng.normal()),
        [k * k * 3, 4],
      );
      const a = convSame(x, f, k);
      const b = tf.conv2d(x, f.reshape([k, k, 3, 4]) as tf.Tensor4D, 1, 'same');
      expect(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]).toBeLessThan(1e-4);
      tf.dispose([f, a, b]);
    }
    x.dispose();
  });

  it("the CNN's gradients match central finite differences (float64 reference)", () => {
    for (const kernel of [3, 5]) {
      const spec: CnnSpec = { side: 8, kernel, conv1: 2, conv2: 3, dense: 5, classes: 10 };
      const err = gradCheck(cnn(spec), (p, x, y, n) => cnnLoss64(spec, p, x, y, n), 4);
      expect(err, `kernel ${kernel}`).toBeLessThan(1e-3);
    }
  });

  it("the 4-hidden-layer MLP's gradients match central finite differences", () => {
    const spec: DeepMlpSpec = { inputSize: 12, hidden: 6, depth: 4, classes: 10 };
    expect(gradCheck(deepMlp(spec), (p, x, y, n) => mlpLoss64(spec, p, x, y, n), 5)).toBeLessThan(
      1e-3,
    );
  });

  it('an SGD step moves the weights by −α·g and leaks no tensors', () => {
    const def = deepMlp({ inputSize: 12, hidden: 6, depth: 4, classes: 10 });
    const init = initParams(def, 2);
    const net = new SgdNet(def, init);
    const rng = new Rng(5);
    const x = Float32Array.from({ length: 3 * 12 }, () => rng.next());
    const y = Int32Array.from([1, 4, 7]);
    const before = tf.memory().numTensors;
    const g = tf.tidy(() =>
      tf
        .grads((...q: tf.Tensor[]) =>
          meanCrossEntropy(def.logits(tf.tensor2d(x, [3, 12]), q), tf.tensor1d(y, 'int32')),
        )(init.map((w, i) => tf.tensor(w, def.params[i].shape)))
        .map((t) => t.dataSync() as Float32Array),
    );
    net.step(x, y, 3, 0.1);
    expect(tf.memory().numTensors).toBe(before);
    const after = net.weights();
    for (let l = 0; l < after.length; l++)
      for (let i = 0; i < after[l].length; i++)
        expect(after[l][i]).toBeCloseTo(init[l][i] - 0.1 * g[l][i], 5);
    net.dispose();
  });

  it('BlockLoss equals the network loss at δ = 0 and moves only the analysed entries', async () => {
    const def = deepMlp({ inputSize: 12, hidden: 6, depth: 4, classes: 10 });
    const w = initParams(def, 4);
    const n = 20;
    const rng = new Rng(8);
    const x = Float32Array.from({ length: n * 12 }, () => rng.next());
    const labels = Uint8Array.from({ length: n }, () => rng.int(10));
    const p64 = w.map((a) => Float64Array.from(a));
    const spec: DeepMlpSpec = { inputSize: 12, hidden: 6, depth: 4, classes: 10 };
    const y32 = Int32Array.from(labels);
    const param = 2; // W3
    const subset = blockSubset(36, 10, 1)!;
    expect(subset).toHaveLength(10);
    const features = tf.tidy(() =>
      def.features(
        tf.tensor2d(x, [n, 12]),
        w.map((a, i) => tf.tensor(a, def.params[i].shape)),
        param,
      ),
    );
    const bl = new BlockLoss({
      features,
      labels,
      rows: 6,
      cols: 6,
      suffix: [3, 4].map((i) => ({ values: w[i], rows: 6, cols: i === 4 ? 10 : 6 })),
      base: w[param],
      subset,
    });
    const centre = Float64Array.from(subset, (j) => w[param][j]);
    const d = Float64Array.from({ length: 10 }, () => rng.normal());
    const [l0, l1] = await bl.evaluate(centre, [
      { direction: d, delta: 0 },
      { direction: d, delta: 0.3 },
    ]);
    expect(l0).toBeCloseTo(mlpLoss64(spec, p64, Float64Array.from(x), y32, n), 4);
    subset.forEach((j, i) => (p64[param][j] += 0.3 * d[i]));
    expect(l1).toBeCloseTo(mlpLoss64(spec, p64, Float64Array.from(x), y32, n), 4);
    bl.dispose();
  });

  it.skipIf(!hasData)('a tiny --arch cnn run writes valid JSON', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fml-arch-'));
    const out = join(dir, 'cnn.json');
    const r = spawnSync(
      'npx',
      [
        'tsx',
        'src/cli/reproduce.ts',
        '--experiment',
        'variance-flatness',
        '--arch',
        'cnn',
        '--conv1',
        '2',
        '--conv2',
        '4',
        '--dense',
        '16',
        '--B',
        '100',
        '--warmup-epochs',
        '0',
        '--window-epochs',
        '1',
        '--modes',
        '8',
        '--max-block-dim',
        '100',
        '--out',
        out,
        '--quiet',
      ],
      { encoding: 'utf8' },
    );
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(readFileSync(out, 'utf8'));
    expect(j.arch.name).toBe('cnn');
    expect(j.block).toMatchObject({ name: 'dense', dim: 100, sampled: true, fullDim: 196 * 16 });
    expect(j.spectrum.variance.length).toBeGreaterThan(10);
    expect(j.modes.length).toBeGreaterThan(3);
    expect(Number.isFinite(j.fits.psi.exponent)).toBe(true);
    expect(Number.isFinite(j.fits.gamma.exponent)).toBe(true);
    expect(j.varianceFraction35).toBeGreaterThan(0);
    expect(j.timings.total).toBeGreaterThan(0);
  });
});
