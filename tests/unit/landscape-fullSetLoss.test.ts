import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { fileURLToPath } from 'node:url';
import { FullSetLoss } from '../../src/engine/landscape/fullSetLoss';
import { measureFlatness, type ProfilePoint } from '../../src/engine/landscape/flatness';
import { Rng } from '../../src/engine/data/rng';

const WASM_DIR = fileURLToPath(
  new URL('../../node_modules/@tensorflow/tfjs-backend-wasm/dist/', import.meta.url),
);

interface Net {
  images: Uint8Array;
  labels: Uint8Array;
  w1: Float32Array;
  w2: Float32Array;
  w3: Float32Array;
  h: number;
  P: number;
  N: number;
}

function tinyNet(N: number, h: number, P: number, seed: number): Net {
  const rng = new Rng(seed);
  const images = new Uint8Array(N * P);
  for (let i = 0; i < images.length; i++) images[i] = rng.next() < 0.7 ? 0 : rng.int(256);
  const labels = new Uint8Array(N);
  for (let i = 0; i < N; i++) labels[i] = rng.int(10);
  const init = (n: number, scale: number): Float32Array =>
    Float32Array.from({ length: n }, () => scale * rng.normal());
  return {
    images,
    labels,
    w1: init(P * h, 2 / Math.sqrt(P)),
    w2: init(h * h, 1.5 / Math.sqrt(h)),
    w3: init(h * 10, 3 / Math.sqrt(h)),
    h,
    P,
    N,
  };
}

/** Mean cross-entropy in float64, plain loops: the reference. */
function referenceLoss(net: Net, w2: ArrayLike<number>): number {
  const { h, P, N } = net;
  let total = 0;
  const h1 = new Float64Array(h);
  const h2 = new Float64Array(h);
  const z = new Float64Array(10);
  for (let n = 0; n < N; n++) {
    for (let j = 0; j < h; j++) {
      let s = 0;
      for (let p = 0; p < P; p++) s += (net.images[n * P + p] / 255) * net.w1[p * h + j];
      h1[j] = Math.max(0, s);
    }
    for (let j = 0; j < h; j++) {
      let s = 0;
      for (let i = 0; i < h; i++) s += h1[i] * w2[i * h + j];
      h2[j] = Math.max(0, s);
    }
    let max = -Infinity;
    for (let c = 0; c < 10; c++) {
      let s = 0;
      for (let j = 0; j < h; j++) s += h2[j] * net.w3[j * 10 + c];
      z[c] = s;
      max = Math.max(max, s);
    }
    let se = 0;
    for (let c = 0; c < 10; c++) se += Math.exp(z[c] - max);
    total += Math.log(se) + max - z[net.labels[n]];
  }
  return total / N;
}

function unit(n: number, rng: Rng): Float64Array {
  const d = Float64Array.from({ length: n }, () => rng.normal());
  const norm = Math.hypot(...d);
  return d.map((v) => v / norm);
}

for (const backend of ['wasm', 'cpu'] as const) {
  describe(`FullSetLoss on ${backend}`, () => {
    let previous = '';
    beforeAll(async () => {
      previous = tf.getBackend();
      if (backend === 'wasm') {
        setWasmPaths(WASM_DIR);
        tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
      }
      expect(await tf.setBackend(backend)).toBe(true);
      await tf.ready();
    });
    afterAll(async () => {
      if (previous) await tf.setBackend(previous);
    });

    const net = tinyNet(300, 12, 40, 3);
    const rng = new Rng(11);
    const dirs = [unit(net.h * net.h, rng), unit(net.h * net.h, rng), unit(net.h * net.h, rng)];
    const points: ProfilePoint[] = [];
    for (const d of dirs)
      for (const delta of [-1.5, -0.2, 0, 0.7, 3]) points.push({ direction: d, delta });

    it('matches a plain float64 computation of the mean cross-entropy to 1e-5', async () => {
      const loss = new FullSetLoss({
        images: net.images,
        labels: net.labels,
        w1: net.w1,
        w3: net.w3,
        hidden: net.h,
        inputSize: net.P,
      });
      try {
        const got = await loss.evaluate(net.w2, points);
        points.forEach((p, k) => {
          const w = Float64Array.from(net.w2, (v, i) => v + p.delta * p.direction[i]);
          const ref = referenceLoss(net, w);
          expect(Math.abs(got[k] - ref) / ref).toBeLessThan(1e-5);
        });
        expect(await loss.lossAt(net.w2)).toBeCloseTo(got[2], 6);
      } finally {
        loss.dispose();
      }
    });

    it('batched evaluation equals one point at a time, across chunkings; no tensors leak', async () => {
      const before = tf.memory().numTensors;
      // A tiny budget forces many sample chunks and point groups.
      const small = new FullSetLoss({
        images: net.images,
        labels: net.labels,
        w1: net.w1,
        w3: net.w3,
        hidden: net.h,
        inputSize: net.P,
        budgetBytes: 4 * 12 * 12 * 7,
        maxPointsPerGroup: 4,
      });
      const big = new FullSetLoss({
        images: net.images,
        labels: net.labels,
        w1: net.w1,
        w3: net.w3,
        hidden: net.h,
        inputSize: net.P,
      });
      const resident = tf.memory().numTensors;
      try {
        const batched = await big.evaluate(net.w2, points);
        const chunked = await small.evaluate(net.w2, points);
        for (let k = 0; k < points.length; k++) {
          const single = (await big.evaluate(net.w2, [points[k]]))[0];
          expect(Math.abs(single - batched[k]) / batched[k]).toBeLessThan(1e-6);
          expect(Math.abs(chunked[k] - batched[k]) / batched[k]).toBeLessThan(1e-6);
        }
        expect(tf.memory().numTensors).toBe(resident);
        const rep = await measureFlatness(
          big.evalFnAt(net.w2),
          dirs.map((direction, i) => ({ rank: i + 1, direction })),
          {
            initialStep: 0.1,
          },
        );
        expect(tf.memory().numTensors).toBe(resident);
        for (const m of rep.modes) {
          expect(m.flatness).toBeGreaterThan(0);
          if (m.leftFound)
            expect(
              Math.abs(
                (await big.evaluate(net.w2, [{ direction: dirs[m.rank - 1], delta: m.left }]))[0] /
                  m.threshold -
                  1,
              ),
            ).toBeLessThan(5e-3);
        }
      } finally {
        small.dispose();
        big.dispose();
      }
      expect(tf.memory().numTensors).toBe(before);
    });

    it('keeps relative precision for tiny losses (well-classified samples)', async () => {
      // Labels = the net's own predictions, W3 scaled up, and only samples with a per-sample
      // loss < 1e-4 kept: the mean is ~1e-6, far below float32 resolution of the logits (~1e-6
      // absolute), where logsumexp(z) − z_y would lose it.
      const w3 = net.w3.map((v) => v * 40);
      const keep: number[] = [];
      const pred: number[] = [];
      const h1 = new Float64Array(net.h);
      const h2 = new Float64Array(net.h);
      const z = new Float64Array(10);
      for (let n = 0; n < net.N; n++) {
        for (let j = 0; j < net.h; j++) {
          let s = 0;
          for (let p = 0; p < net.P; p++)
            s += (net.images[n * net.P + p] / 255) * net.w1[p * net.h + j];
          h1[j] = Math.max(0, s);
        }
        for (let j = 0; j < net.h; j++) {
          let s = 0;
          for (let i = 0; i < net.h; i++) s += h1[i] * net.w2[i * net.h + j];
          h2[j] = Math.max(0, s);
        }
        for (let c = 0; c < 10; c++) {
          let s = 0;
          for (let j = 0; j < net.h; j++) s += h2[j] * w3[j * 10 + c];
          z[c] = s;
        }
        const best = z.indexOf(Math.max(...z));
        let se = 0;
        for (let c = 0; c < 10; c++) se += Math.exp(z[c] - z[best]);
        if (Math.log(se) < 1e-4) {
          keep.push(n);
          pred.push(best);
        }
      }
      expect(keep.length).toBeGreaterThan(20);
      const images = new Uint8Array(keep.length * net.P);
      keep.forEach((n, k) =>
        images.set(net.images.subarray(n * net.P, (n + 1) * net.P), k * net.P),
      );
      const teacher: Net = { ...net, images, labels: Uint8Array.from(pred), w3, N: keep.length };
      const ref = referenceLoss(teacher, net.w2);
      const loss = new FullSetLoss({
        images,
        labels: teacher.labels,
        w1: net.w1,
        w3,
        hidden: net.h,
        inputSize: net.P,
      });
      try {
        const got = await loss.lossAt(net.w2);
        expect(ref).toBeLessThan(1e-4);
        expect(Math.abs(got - ref) / ref).toBeLessThan(1e-4);
      } finally {
        loss.dispose();
      }
    });
  });
}
