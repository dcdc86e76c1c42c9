import { existsSync, readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../src/engine/data/rng';
import { loadEmbeddedDataset } from '../../src/engine/data/embedded';
import { PIXEL_LUT } from '../../src/engine/data/batches';
import { initMlp } from '../../src/engine/nets/mlp';
import {
  DEFAULT_FORGETTING_CONFIG,
  EwcPenalty,
  LdcPenalty,
  TaskScorer,
  W2Trainer,
  checkForgettingConfig,
  fisherDiagonal,
  forgettingRun,
  hiddenLayer,
  makeTasks,
  parseDigitGroup,
  reinitW2,
  runPlan,
  taskErrors,
  type ForgettingConfig,
  type ForgettingEvent,
  type ForgettingResult,
  type Penalty,
} from '../../src/engine/forgetting';
import { useBackend } from './tfBackend';
import { randn } from '../fixtures/forgettingConfig';
import { orthonormalRows } from '../../src/engine/pca/synthetic';

const dataPath = 'public/data/mnist-10k.bin';
const hasData = existsSync(dataPath);

// ───────────────────────── plain float64 helpers (independent of the engine) ─────────────────────────

/** log p(y | x) of the 3-layer no-bias ReLU net, float64, straight from the definition. */
function logLikelihood(
  x: Float64Array,
  y: number,
  W1: Float64Array,
  W2: Float64Array,
  W3: Float64Array,
  P: number,
  h: number,
  C: number,
): number {
  const h1 = new Float64Array(h);
  for (let b = 0; b < h; b++) {
    let s = 0;
    for (let a = 0; a < P; a++) s += x[a] * W1[a * h + b];
    h1[b] = Math.max(0, s);
  }
  const h2 = new Float64Array(h);
  for (let b = 0; b < h; b++) {
    let s = 0;
    for (let a = 0; a < h; a++) s += h1[a] * W2[a * h + b];
    h2[b] = Math.max(0, s);
  }
  const z = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    let s = 0;
    for (let b = 0; b < h; b++) s += h2[b] * W3[b * C + c];
    z[c] = s;
  }
  const m = Math.max(...z);
  let se = 0;
  for (const v of z) se += Math.exp(v - m);
  return z[y] - m - Math.log(se);
}

/** Orthonormal rows (Gram–Schmidt on Gaussian vectors), k × n. */
function penalties(rng: Rng, dim: number, lambda: number): { ldc: LdcPenalty; ewc: EwcPenalty } {
  const anchor = randn(rng, dim);
  const nc = 5;
  const modes = orthonormalRows(rng, nc, dim);
  // One unusable flatness (a side never crossed): that mode must carry no constraint.
  const F = Float64Array.from([0.3, 0.7, 1.5, Infinity, 4]);
  const fisher = Float64Array.from({ length: dim }, (_, j) =>
    j % 7 === 0 ? 0 : Math.exp(rng.normal() * 2),
  );
  return {
    ldc: new LdcPenalty(anchor, modes, F, lambda),
    ewc: new EwcPenalty(anchor, fisher, lambda),
  };
}

describe('forgetting: Fisher diagonal, penalties and proximal steps (plain float64)', () => {
  it('the EWC Fisher diagonal equals the mean squared per-sample gradient of log p (finite differences)', () => {
    const rng = new Rng(11);
    const P = 7;
    const h = 5;
    const C = 10;
    const N = 13;
    const W1 = randn(rng, P * h, 0.8);
    const W2 = randn(rng, h * h, 0.8);
    const W3 = randn(rng, h * C, 0.8);
    const X = Float64Array.from({ length: N * P }, () => rng.next());
    const labels = Int32Array.from({ length: N }, () => rng.int(C));
    // H1 for the engine (the frozen first layer's output).
    const h1 = new Float64Array(N * h);
    for (let s = 0; s < N; s++)
      for (let b = 0; b < h; b++) {
        let v = 0;
        for (let a = 0; a < P; a++) v += X[s * P + a] * W1[a * h + b];
        h1[s * h + b] = Math.max(0, v);
      }
    const F = fisherDiagonal({ h1, labels, count: N, hidden: h, w2: W2, w3: W3 });
    // Independently: central differences of log p(y_s|x_s) in each W2 entry, squared, averaged.
    const eps = 1e-6;
    const ref = new Float64Array(h * h);
    for (let s = 0; s < N; s++) {
      const x = X.subarray(s * P, (s + 1) * P);
      for (let j = 0; j < h * h; j++) {
        const w = W2[j];
        W2[j] = w + eps;
        const up = logLikelihood(x, labels[s], W1, W2, W3, P, h, C);
        W2[j] = w - eps;
        const dn = logLikelihood(x, labels[s], W1, W2, W3, P, h, C);
        W2[j] = w;
        const g = (up - dn) / (2 * eps);
        ref[j] += (g * g) / N;
      }
    }
    let maxRef = 0;
    for (const v of ref) maxRef = Math.max(maxRef, v);
    expect(maxRef).toBeGreaterThan(1e-3);
    for (let j = 0; j < h * h; j++)
      expect(Math.abs(F[j] - ref[j])).toBeLessThan(1e-7 * maxRef + 1e-12);
    // Some entries are exactly 0 (dead H1 unit or dead H2 unit for every sample) in both.
    for (let j = 0; j < h * h; j++) if (ref[j] === 0) expect(F[j]).toBe(0);
  });

  it('LDC and EWC penalty gradients equal central finite differences', () => {
    const rng = new Rng(3);
    const dim = 40;
    const { ldc, ewc } = penalties(rng, dim, 2.5);
    const w = randn(rng, dim);
    for (const p of [ldc, ewc] as Penalty[]) {
      const g = p.gradient(w);
      const eps = 1e-5;
      let scale = 0;
      for (const v of g) scale = Math.max(scale, Math.abs(v));
      expect(scale).toBeGreaterThan(0.1);
      for (let j = 0; j < dim; j++) {
        const x = w[j];
        w[j] = x + eps;
        const up = p.value(w);
        w[j] = x - eps;
        const dn = p.value(w);
        w[j] = x;
        expect(Math.abs((up - dn) / (2 * eps) - g[j])).toBeLessThan(1e-7 * scale);
      }
      expect(p.value(p.method === 'ldc' ? ldc.anchor : ewc.anchor)).toBe(0);
    }
    // The Infinity-flatness mode carries no constraint: moving along it costs nothing.
    const along = Float64Array.from(ldc.anchor);
    for (let j = 0; j < dim; j++) along[j] += 7 * ldc.modes[3 * dim + j];
    expect(ldc.value(along)).toBeCloseTo(0, 12);
  });

  it('the proximal steps are the exact minimisers of ½‖x−y‖²/α + P(x), at any λ', () => {
    const rng = new Rng(5);
    const dim = 30;
    for (const lambda of [0, 0.01, 1, 1e3, 1e12]) {
      const { ldc, ewc } = penalties(rng, dim, lambda);
      for (const p of [ldc, ewc] as Penalty[]) {
        const y = randn(rng, dim);
        const alpha = 0.1;
        const x = p.proximal(y, alpha);
        const obj = (v: Float64Array) => {
          let s = 0;
          for (let j = 0; j < dim; j++) s += (v[j] - y[j]) ** 2;
          return (0.5 * s) / alpha + p.value(v);
        };
        // Stationarity of the (strictly convex) objective: (x − y)/α + ∇P(x) = 0 ⇒ global minimum.
        const g = p.gradient(x);
        for (let j = 0; j < dim; j++) {
          expect(Number.isFinite(x[j])).toBe(true);
          const r = (x[j] - y[j]) / alpha + g[j];
          expect(Math.abs(r)).toBeLessThan(1e-9 * Math.max(1, lambda) * (1 + Math.abs(g[j])));
        }
        // And no nearby point does better.
        const f0 = obj(x);
        for (let t = 0; t < 20; t++) {
          const z = Float64Array.from(x, (v) => v + 1e-3 * rng.normal());
          expect(obj(z)).toBeGreaterThanOrEqual(f0 - 1e-12 * Math.abs(f0));
        }
        if (lambda === 0) expect(Array.from(x)).toEqual(Array.from(y));
      }
      if (lambda === 1e12) {
        // Stiff limit: the constrained LDC coordinates are pinned to w1*, the unusable mode is free.
        const y = randn(rng, dim);
        const c = ldc.coordinates(ldc.proximal(y, 0.1));
        const c0 = ldc.coordinates(y);
        for (const i of [0, 1, 2, 4]) expect(Math.abs(c[i])).toBeLessThan(1e-9);
        expect(c[3]).toBeCloseTo(c0[3], 12);
      }
    }
  });

  it('scores both ways: 10-way output and restricted to the task’s own classes', () => {
    // Sample 0: label 0, output favours 2 (10-way wrong), own classes {0,1}: 0 wins.
    // Sample 1: label 1, 1 wins everywhere. Sample 2: label 0, 1 beats 0 (wrong both ways).
    const z = new Float32Array(30);
    z.set([3, 1, 5, 0, 0, 0, 0, 0, 0, 0], 0);
    z.set([0, 4, 1, 0, 0, 0, 0, 0, 0, 0], 10);
    z.set([1, 2, 0, 0, 0, 0, 0, 0, 0, 0], 20);
    const e = taskErrors(z, [0, 1, 0], 3, [0, 1]);
    expect(e.eps).toBeCloseTo(2 / 3, 12);
    expect(e.epsOwn).toBeCloseTo(1 / 3, 12);
  });

  it('task groups and config are validated', () => {
    expect(parseDigitGroup('0,1')).toEqual([0, 1]);
    expect(parseDigitGroup('32')).toEqual([2, 3]);
    expect(() => parseDigitGroup('1,1')).toThrow(/twice/);
    expect(() => parseDigitGroup('a')).toThrow();
    expect(() => checkForgettingConfig({ ...DEFAULT_FORGETTING_CONFIG, task2: [1, 2] })).toThrow(
      /disjoint/,
    );
    expect(() => checkForgettingConfig({ ...DEFAULT_FORGETTING_CONFIG, lambdas: [-1] })).toThrow(
      /λ/,
    );
    const plan = runPlan(DEFAULT_FORGETTING_CONFIG, 4);
    const c = DEFAULT_FORGETTING_CONFIG;
    expect(plan).toHaveLength(1 + c.ewcLambdas.length + c.lambdas.length * c.ncList.length);
    expect(plan.every((k) => k.seed === 4)).toBe(true);
  });
});

describe.skipIf(!hasData)('forgetting on the embedded digits (tfjs wasm)', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });
  const data = hasData ? loadEmbeddedDataset(readFileSync(dataPath)) : null;

  it('λ = 0 reproduces unconstrained training bit for bit; W1 and W3 stay frozen', async () => {
    const [t1, t2] = makeTasks(data!, [
      [0, 1],
      [2, 3],
    ]);
    const init = initMlp(50, 1);
    const frozen = { hidden: 50, W1: init.W1.slice(), W3: init.W3.slice() };
    const w0 = reinitW2(50, 9);
    const dim = 2500;
    const anchor = Float64Array.from(w0);
    const rng = new Rng(2);
    const modes = orthonormalRows(rng, 8, dim);
    const F = Float64Array.from({ length: 8 }, (_, i) => 0.5 + i);
    const fisher = Float64Array.from({ length: dim }, () => rng.next());
    const steps = 60;
    const finalW2 = async (spec: Parameters<W2Trainer['setProximal']>[0] | null) => {
      const t = new W2Trainer(frozen, t2.train, w0, { lr: 0.1, batchSize: 50, seed: 4 });
      try {
        if (spec) t.setProximal(spec);
        await t.train(steps);
        return await t.getW2();
      } finally {
        t.dispose();
      }
    };
    const free = await finalW2(null);
    const ldc0 = await finalW2(new LdcPenalty(anchor, modes, F, 0).proximalSpec(0.1));
    const ewc0 = await finalW2(new EwcPenalty(anchor, fisher, 0).proximalSpec(0.1));
    expect(Buffer.from(ldc0.buffer).equals(Buffer.from(free.buffer))).toBe(true);
    expect(Buffer.from(ewc0.buffer).equals(Buffer.from(free.buffer))).toBe(true);
    // W2 did move; a positive λ changes the result.
    let moved = 0;
    for (let j = 0; j < dim; j++) moved = Math.max(moved, Math.abs(free[j] - w0[j]));
    expect(moved).toBeGreaterThan(1e-3);
    const ldc = await finalW2(new LdcPenalty(anchor, modes, F, 10).proximalSpec(0.1));
    expect(Buffer.from(ldc.buffer).equals(Buffer.from(free.buffer))).toBe(false);

    // Frozen layers: after task-2 training under LDC the trainer's logits are exactly those of
    // the ORIGINAL W1 and W3 with the trained W2, and its copies of W1, W3 are unchanged.
    const t = new W2Trainer(frozen, t2.train, w0, { lr: 0.1, batchSize: 50, seed: 4 });
    const h1Test = hiddenLayer(t1.test, init.W1, 50);
    try {
      t.setProximal(new LdcPenalty(anchor, modes, F, 10).proximalSpec(0.1));
      await t.train(steps);
      expect(Buffer.from(t.frozen.W1.buffer).equals(Buffer.from(init.W1.buffer))).toBe(true);
      expect(Buffer.from(t.frozen.W3.buffer).equals(Buffer.from(init.W3.buffer))).toBe(true);
      const w2 = await t.getW2();
      const z = await t.logits(h1Test);
      const P = 784;
      const x = new Float64Array(P);
      let maxErr = 0;
      for (let s = 0; s < 50; s++) {
        for (let a = 0; a < P; a++) x[a] = PIXEL_LUT[t1.test.images[s * P + a]];
        const W1 = Float64Array.from(init.W1);
        const W2 = Float64Array.from(w2);
        const W3 = Float64Array.from(init.W3);
        // log-softmax differences are enough: compare z_c − z_0 via the float64 reference.
        for (const c of [1, 2, 3]) {
          const ref =
            logLikelihood(x, c, W1, W2, W3, P, 50, 10) - logLikelihood(x, 0, W1, W2, W3, P, 50, 10);
          const got = z[s * 10 + c] - z[s * 10];
          maxErr = Math.max(maxErr, Math.abs(ref - got) / (1 + Math.abs(ref)));
        }
      }
      expect(maxErr).toBeLessThan(1e-4);
    } finally {
      t.dispose();
      h1Test.dispose();
    }
  });

  it('the Fisher diagonal from the trainer’s H1 matches the float64 definition on real digits', async () => {
    const [t1] = makeTasks(data!, [[0, 1]]);
    const init = initMlp(20, 3);
    const frozen = { hidden: 20, W1: init.W1, W3: init.W3 };
    const t = new W2Trainer(frozen, t1.train, init.W2, { lr: 0.1, batchSize: 50, seed: 1 });
    try {
      const h1 = await t.trainH1();
      const F = fisherDiagonal({
        h1,
        labels: t1.train.labels,
        count: t1.train.count,
        hidden: 20,
        w2: init.W2,
        w3: init.W3,
      });
      // Spot-check a few samples' per-sample gradients against central differences.
      const N = 40;
      const P = 784;
      const Fsub = fisherDiagonal({
        h1,
        labels: t1.train.labels,
        count: N,
        hidden: 20,
        w2: init.W2,
        w3: init.W3,
      });
      const W1 = Float64Array.from(init.W1);
      const W2 = Float64Array.from(init.W2);
      const W3 = Float64Array.from(init.W3);
      const x = new Float64Array(P);
      const ref = new Float64Array(400);
      for (let s = 0; s < N; s++) {
        for (let a = 0; a < P; a++) x[a] = PIXEL_LUT[t1.train.images[s * P + a]];
        for (const j of [0, 21, 137, 399]) {
          const w = W2[j];
          W2[j] = w + 1e-5;
          const up = logLikelihood(x, t1.train.labels[s], W1, W2, W3, P, 20, 10);
          W2[j] = w - 1e-5;
          const dn = logLikelihood(x, t1.train.labels[s], W1, W2, W3, P, 20, 10);
          W2[j] = w;
          ref[j] += ((up - dn) / 2e-5) ** 2 / N;
        }
      }
      for (const j of [0, 21, 137, 399]) expect(Fsub[j]).toBeCloseTo(ref[j], 4);
      expect(F.every((v) => v >= 0 && Number.isFinite(v))).toBe(true);
    } finally {
      t.dispose();
    }
  });

  it('end to end: task 1 is forgotten without a constraint, much less under a large-λ LDC; events stream', async () => {
    const config: ForgettingConfig = {
      ...DEFAULT_FORGETTING_CONFIG,
      seeds: [0],
      pretrainEpochs: 2,
      task1Epochs: 6,
      windowEpochs: 6,
      task2Steps: 200,
      curveEvery: 50,
      lambdas: [100],
      ewcLambdas: [3e5],
      ncList: [150],
      displacementModes: 20,
    };
    const events: ForgettingEvent[] = [];
    let result: ForgettingResult | null = null;
    for await (const e of forgettingRun(config, data!)) {
      events.push(e);
      if (e.type === 'done') result = e.result;
    }
    expect(result).not.toBeNull();
    const r = result!;
    const types = new Set(events.map((e) => e.type));
    for (const t of ['phase', 'progress', 'task1Modes', 'curve', 'run', 'sweepPoint', 'done'])
      expect(types.has(t as ForgettingEvent['type'])).toBe(true);
    expect(r.runs.map((x) => x.method)).toEqual(['none', 'ewc', 'ldc']);
    const rep = r.task1[0];
    expect(rep.atAnchor.task1.eps).toBeLessThan(0.02);
    expect(rep.modes).toHaveLength(150);
    expect(rep.modes[1].flatness).toBeGreaterThan(0);
    const none = r.runs[0];
    const ldc = r.runs[2];
    // Curves: steps 0, 50, …, 200, starting at w1*.
    expect(none.curve.map((p) => p.step)).toEqual([0, 50, 100, 150, 200]);
    expect(none.curve[0].eps1).toBeCloseTo(rep.atAnchor.task1.eps, 12);
    // Catastrophic forgetting: task 2 learnt, task 1 (10-way) lost …
    expect(none.eps2).toBeLessThan(0.1);
    expect(none.eps1).toBeGreaterThan(0.5);
    // … mostly through the shared head: within its own classes task 1 is still fine.
    expect(none.eps1Own).toBeLessThan(0.1);
    // LDC keeps task 1 while learning task 2.
    expect(ldc.eps1).toBeLessThan(none.eps1 - 0.3);
    expect(ldc.eps2).toBeLessThan(0.15);
    // Under LDC every constrained mode stays well inside its basin (|Δθ_i| < F_i/2); without a
    // constraint W2 leaves it along the drift mode (shrinking W2 erases task 1's margins).
    const out = (run: typeof none) =>
      run.displacement.slice(0, 20).filter((d, i) => Math.abs(d) > rep.modes[i].flatness / 2)
        .length;
    expect(out(ldc)).toBe(0);
    expect(out(none)).toBeGreaterThan(0);
    expect(rep.modes[0].source).toBe('fit');
    expect(rep.modes.slice(1).every((m) => m.source === 'measured')).toBe(true);
    expect(r.summary.best.ldc?.nc).toBe(150);
    expect(r.sweep.every((p) => p.n === 1)).toBe(true);
    // 15% of each task digit's training images held out, the rest trained on; test untouched.
    const [t1, t2] = makeTasks(data!, [config.task1, config.task2]);
    expect(r.tasks[0].train + r.tasks[0].validation).toBe(t1.train.count);
    expect(r.tasks[1].train + r.tasks[1].validation).toBe(t2.train.count);
    expect(r.tasks[0].validation / t1.train.count).toBeCloseTo(0.15, 2);
    expect(r.tasks.map((t) => t.test)).toEqual([t1.test.count, t2.test.count]);
    expect(r.validation.heldOut).toBe(r.tasks[0].validation + r.tasks[1].validation);
    // Every run is scored on the validation data too; the settings are chosen on it.
    for (const x of r.runs)
      for (const v of [x.valEps1, x.valEps2, x.valEps1Own, x.valEps2Own])
        expect(v >= 0 && v <= 1).toBe(true);
    expect(none.valEps1).toBeGreaterThan(0.5);
    expect(r.summary.selection).toBe('validation');
    expect(r.summary.budget).toEqual({ none: 1, ldc: 1, ewc: 1 });
  });

  it('cancels through an AbortSignal (in any phase) and frees every tensor', async () => {
    const config: ForgettingConfig = {
      ...DEFAULT_FORGETTING_CONFIG,
      seeds: [0, 1],
      pretrainEpochs: 1,
      task1Epochs: 2,
      windowEpochs: 3,
      task2Steps: 40,
      ncList: [5],
      lambdas: [1, 10],
      ewcLambdas: [1e5],
      displacementModes: 10,
    };
    const tensors = tf.memory().numTensors;
    for (const stopAt of ['progress', 'task1Modes', 'curve', 'run'] as const) {
      const ctl = new AbortController();
      const seen: string[] = [];
      await expect(
        (async () => {
          for await (const e of forgettingRun(config, data!, { signal: ctl.signal })) {
            seen.push(e.type);
            if (e.type === stopAt) ctl.abort(new Error('stopped by test'));
          }
        })(),
      ).rejects.toThrow(/stopped by test/);
      expect(seen).not.toContain('done');
      expect(seen.filter((t) => t === 'run').length).toBeLessThanOrEqual(1);
      expect(tf.memory().numTensors).toBe(tensors);
    }
    // A consumer that simply stops pulling (break) also frees everything.
    for await (const e of forgettingRun(config, data!)) if (e.type === 'curve') break;
    expect(tf.memory().numTensors).toBe(tensors);
  });

  it('the task scorer’s two error rates match a float64 forward pass (any digit groups)', async () => {
    const tasks = makeTasks(data!, [
      [4, 5, 6],
      [7, 9],
    ]);
    const h = 16;
    const init = initMlp(h, 2);
    const frozen = { hidden: h, W1: init.W1, W3: init.W3 };
    const t = new W2Trainer(frozen, tasks[0].train, init.W2, { lr: 0.1, batchSize: 50, seed: 0 });
    const sc = new TaskScorer(tasks, frozen);
    try {
      await t.train(100);
      const got = await sc.score(t);
      const W1 = Float64Array.from(init.W1);
      const W2 = Float64Array.from(await t.getW2());
      const W3 = Float64Array.from(init.W3);
      const P = 784;
      const x = new Float64Array(P);
      tasks.forEach((task, k) => {
        const n = task.test.count;
        const z = new Float64Array(n * 10);
        for (let s = 0; s < n; s++) {
          for (let a = 0; a < P; a++) x[a] = PIXEL_LUT[task.test.images[s * P + a]];
          // log p(c|x) differs from z_c by a per-sample constant: the argmax is the same.
          for (let c = 0; c < 10; c++) z[s * 10 + c] = logLikelihood(x, c, W1, W2, W3, P, h, 10);
        }
        const ref = taskErrors(z, task.test.labels, n, task.classes);
        expect(Math.abs(got[k].eps - ref.eps)).toBeLessThanOrEqual(1 / n);
        expect(Math.abs(got[k].epsOwn - ref.epsOwn)).toBeLessThanOrEqual(1 / n);
        expect(got[k].epsOwn).toBeLessThanOrEqual(got[k].eps);
      });
      // Trained on task 1 only: task 2's digits are never predicted over the 10-way output.
      expect(got[1].eps).toBeGreaterThan(0.9);
    } finally {
      t.dispose();
      sc.dispose();
    }
  });
});
