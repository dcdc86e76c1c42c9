/**
 * Which noise finds flat minima? (SI §S9, issue 17.) Four ways to train the same network from
 * the same initialisation with the same budget of gradient evaluations:
 *  - 'sgd'          minibatch SGD (B, α, sampling as configured): the reference;
 *  - 'gd'           full-batch gradient descent at the same α, no noise;
 *  - 'gd-isotropic' GD + isotropic Gaussian noise on W2 (Langevin) matched to SGD's noise:
 *                   P̄ = SGD's mean noise power per step over W2 (α²·E‖g^μ − g‖², averaged over
 *                   the SGD run, computed exactly at `powerSamples` points); a GD step costs the
 *                   gradients of N/B SGD steps, so it injects the noise of N/B SGD steps,
 *                   P_GD = (N/B)·P̄ — the same noise per gradient evaluation, hence the same
 *                   total injected variance over the run. Temperature T = P_GD/(2αd), d = h²;
 *  - 'gd-flatness'  GD + flatness-detecting noise: the same total power P_GD per step, spread
 *                   over the top PCA modes p_i (ranks 2…k+1) of the recent GD trajectory with
 *                   D_i ∝ F_i^(−β₁), β₁ measured from the SGD run (D_i against F_i over the same
 *                   ranks of SGD's last window).
 *
 * Why the PCA modes of the trajectory (not the diagonal of the minibatch-gradient covariance):
 * the diagonal needs per-example gradients every step, which would make the noise as costly as
 * SGD's own and blur "shaped by flatness" with "copied from SGD"; the PCA modes carry the
 * paper's own flatness F_i, so the noise depends on the landscape only through F_i and the
 * measured β₁. Before the first refresh there is no trajectory yet: that stretch gets isotropic
 * noise of the same power.
 *
 * Budget. A full-batch step evaluates N example gradients, a minibatch step B. Every method gets
 * `epochs`·N example gradients: SGD takes epochs·⌊N/B⌋ steps, each GD method `epochs` steps
 * (N/B times fewer). Train and test error are measured after every epoch of that budget.
 *
 * The flatness of a solution: the median F_i (threshold factor e, W1 and W3 fixed) along its k
 * sharpest directions — the top eigenvectors of the W2 Hessian at the final weights (Lanczos) —
 * with the profiles centred on the final W2. Not along each run's own PCA modes: those are picked
 * by the run's noise (under isotropic noise they are random directions, which are flat in
 * 2,500 dimensions: measured so, they made the Langevin solution look 20× flatter than SGD's while
 * the test errors agreed), so they would measure the noise rather than the minimum. The
 * Hessian's top directions belong to the solution alone and are the same kind for every method.
 */
import type { Dataset, DataSplit } from '../data/dataset';
import { Rng } from '../data/rng';
import { initMlp, type MlpWeights } from '../nets/mlp';
import {
  IsotropicNoise,
  ModeNoise,
  flatnessStrengths,
  sgdNoisePower,
} from '../nets/noiseInjection';
import { ExplorationDetector } from '../landscape/phase';
import { FullSetLoss } from '../landscape/fullSetLoss';
import { measureFlatness } from '../landscape/flatness';
import { powerLawFit } from '../landscape/fits';
import { W2Hessian } from '../landscape/hessian';
import { lanczos } from '../landscape/lanczos';
import { symmetricEigen } from '../pca/eigen';
import { DEFAULT_CONFIG, type RunConfig } from './config';
import { SgdTrainer } from './training';
import { createNet } from './trainingTf';
import {
  NOISE_METHODS,
  median,
  type NoiseMethod,
  type NoiseShapingConfig,
  type NoiseShapingEvent,
  type NoiseShapingProgress,
  type NoiseShapingRun,
} from './noiseShapingSummary';

export * from './noiseShapingSummary';

export interface NoiseShapingOptions {
  signal?: AbortSignal;
}

/** The settings that cannot work, in words (empty when the config is usable). */
export function noiseShapingProblems(cfg: NoiseShapingConfig, data: Dataset): string[] {
  const p: string[] = [];
  const N = Math.min(cfg.trainCount, data.train.count);
  if (!Number.isInteger(cfg.trainCount) || cfg.trainCount < 10)
    p.push(`training examples must be an integer ≥ 10 (got ${cfg.trainCount})`);
  if (!Number.isInteger(cfg.batchSize) || cfg.batchSize < 1 || cfg.batchSize >= N)
    p.push(
      `B must be an integer in 1..${N - 1} so that SGD differs from GD (got ${cfg.batchSize})`,
    );
  if (!(cfg.lr > 0) || !Number.isFinite(cfg.lr)) p.push(`α must be > 0 (got ${cfg.lr})`);
  if (!Number.isInteger(cfg.epochs) || cfg.epochs < 2)
    p.push(`the budget must be at least 2 epochs (got ${cfg.epochs})`);
  if (!Number.isInteger(cfg.modes) || cfg.modes < 2)
    p.push(`at least 2 modes are needed (got ${cfg.modes})`);
  if (!Number.isInteger(cfg.windowEpochs) || cfg.windowEpochs < cfg.modes + 2)
    p.push(
      `the window must hold at least ${cfg.modes + 2} GD steps (modes + 2) to give ${cfg.modes} modes past the drift (got ${cfg.windowEpochs} epochs)`,
    );
  if (cfg.windowEpochs > cfg.epochs)
    p.push(`the window (${cfg.windowEpochs} epochs) is longer than the budget (${cfg.epochs})`);
  if (!Number.isInteger(cfg.refreshEvery) || cfg.refreshEvery < 1)
    p.push(`refresh interval must be a positive integer (got ${cfg.refreshEvery})`);
  if (!Number.isInteger(cfg.powerSamples) || cfg.powerSamples < 1)
    p.push(`at least one noise-power sample is needed (got ${cfg.powerSamples})`);
  return p;
}

/** The first n examples of a split (the embedded split is already a seeded shuffle). */
function head(split: DataSplit, n: number): DataSplit {
  const P = split.images.length / split.count;
  const m = Math.min(n, split.count);
  return { images: split.images.subarray(0, m * P), labels: split.labels.subarray(0, m), count: m };
}

/** Top modes of a window of W2 snapshots (rows of `snaps`), by the M×M Gram matrix. */
export interface TrajectoryModes {
  /** Window mean of W2. */
  mean: Float64Array;
  /** Variances σ_r² of ranks 1…k+1, descending. */
  variance: Float64Array;
  /** Unit directions of ranks 2…k+1 (rank 1, the drift, left out), k × d. */
  directions: Float64Array;
  /** Velocity variance D_r = var(θ_r(t+1) − θ_r(t)) of ranks 2…k+1. */
  velocityVariance: Float64Array;
  /** Modes actually returned (≤ k: a window of M snapshots has at most M − 1). */
  k: number;
}

export function trajectoryModes(snaps: Float32Array[], k: number): TrajectoryModes {
  const M = snaps.length;
  if (M < 3) throw new Error(`trajectoryModes: ${M} snapshots, need at least 3`);
  const d = snaps[0].length;
  const mean = new Float64Array(d);
  for (const s of snaps) for (let j = 0; j < d; j++) mean[j] += s[j] / M;
  const X = new Float64Array(M * d);
  for (let t = 0; t < M; t++) for (let j = 0; j < d; j++) X[t * d + j] = snaps[t][j] - mean[j];
  const G = new Float64Array(M * M);
  for (let a = 0; a < M; a++)
    for (let b = a; b < M; b++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += X[a * d + j] * X[b * d + j];
      G[a * M + b] = G[b * M + a] = s;
    }
  const want = Math.min(k + 1, M - 1);
  const eig = symmetricEigen(G, M, { vectors: want });
  const top = eig.values[0];
  // Ranks past the window's numerical rank have no direction: stop there.
  let usable = 0;
  while (usable < want && eig.values[usable] > top * 1e-12) usable++;
  const kk = Math.max(0, usable - 1);
  const variance = new Float64Array(usable);
  const directions = new Float64Array(kk * d);
  const velocityVariance = new Float64Array(kk);
  for (let r = 0; r < usable; r++) {
    const lam = eig.values[r];
    variance[r] = lam / M;
    if (r === 0) continue;
    const u = eig.vectors.subarray(r * M, (r + 1) * M);
    const out = directions.subarray((r - 1) * d, r * d);
    const inv = 1 / Math.sqrt(lam);
    for (let t = 0; t < M; t++) {
      const c = u[t] * inv;
      for (let j = 0; j < d; j++) out[j] += c * X[t * d + j];
    }
    // θ_r(t) = √λ·u[t]; the velocity's variance over the window.
    const sl = Math.sqrt(lam);
    let m1 = 0;
    let m2 = 0;
    for (let t = 0; t + 1 < M; t++) {
      const v = sl * (u[t + 1] - u[t]);
      m1 += v;
      m2 += v * v;
    }
    const n = M - 1;
    velocityVariance[r - 1] = m2 / n - (m1 / n) ** 2;
  }
  return { mean, variance, directions, velocityVariance, k: kk };
}

/** F_i along the given directions at W2 = centre, W1 and W3 of `w`, on `train` (factor e). */
export async function modeFlatness(
  w: MlpWeights,
  train: DataSplit,
  centre: Float64Array,
  directions: Float64Array,
  k: number,
  initialStep: number,
  signal?: AbortSignal,
  firstRank = 2,
): Promise<number[]> {
  if (k === 0) return [];
  const d = centre.length;
  const loss = new FullSetLoss({
    images: train.images,
    labels: train.labels,
    w1: w.W1,
    w3: w.W3,
    hidden: w.hidden,
    count: train.count,
  });
  try {
    const rep = await measureFlatness(
      (points) => loss.evaluate(centre, points),
      Array.from({ length: k }, (_, i) => ({
        rank: i + firstRank,
        direction: directions.subarray(i * d, (i + 1) * d),
      })),
      { factor: Math.E, initialStep, signal },
    );
    return rep.modes.map((m) => m.flatness);
  } finally {
    loss.dispose();
  }
}

/** The first step of a search along a window's modes: half its top spread, as the analysis does. */
function pcaStep(tm: TrajectoryModes): number {
  return Math.max(1e-3, 0.5 * Math.sqrt(tm.variance[0]));
}

/** The k sharpest directions of the W2 Hessian at `w` and the flatness along each. */
export async function solutionFlatness(
  w: MlpWeights,
  train: DataSplit,
  k: number,
  seed: number,
  signal?: AbortSignal,
): Promise<{ flatness: number[]; curvature: number[] }> {
  const hess = await W2Hessian.fromData(
    {
      images: train.images,
      labels: train.labels,
      w1: w.W1,
      w3: w.W3,
      hidden: w.hidden,
      count: train.count,
    },
    w.W2,
  );
  const lz = lanczos(hess, {
    iterations: Math.min(hess.dim, Math.max(30, 3 * k)),
    vectors: k,
    seed,
  });
  const flatness = await modeFlatness(
    w,
    train,
    Float64Array.from(w.W2),
    lz.vectors,
    k,
    // F ≈ 2·√(2·ln e·L⁰/λ) for a quadratic ln L: start a tenth of the way out for the sharpest.
    Math.max(1e-3, 0.1 * Math.sqrt((2 * hess.loss) / Math.max(lz.values[0], 1e-12))),
    signal,
    1,
  );
  return { flatness, curvature: Array.from(lz.values.subarray(0, k)) };
}

/** A ring of the last `cap` W2 snapshots, oldest first. */
class Ring {
  private readonly buf: Float32Array[] = [];
  constructor(private readonly cap: number) {}
  push(w2: Float32Array): void {
    this.buf.push(w2.slice());
    if (this.buf.length > this.cap) this.buf.shift();
  }
  get items(): Float32Array[] {
    return this.buf;
  }
}

interface MethodPlan {
  method: NoiseMethod;
  /** For the GD+noise methods: the total injected power per step. */
  power: number;
  beta1: number;
}

/**
 * One seed: SGD first (it gives P̄ and β₁), then the three GD runs from the same initial
 * weights. Yields progress, per-epoch test errors and each finished run.
 */
export async function* noiseShapingSeed(
  cfg: NoiseShapingConfig,
  data: Dataset,
  opts: NoiseShapingOptions = {},
): AsyncGenerator<NoiseShapingEvent, NoiseShapingRun[], void> {
  const problems = noiseShapingProblems(cfg, data);
  if (problems.length) throw new Error(`noise shaping: ${problems.join('; ')}`);
  const train = head(data.train, cfg.trainCount);
  const sub: Dataset = { ...data, train, test: head(data.test, cfg.testCount) };
  const init = initMlp(cfg.hidden, cfg.seed);
  const runs: NoiseShapingRun[] = [];
  let plan: MethodPlan = { method: 'sgd', power: 0, beta1: NaN };
  for (let m = 0; m < NOISE_METHODS.length; m++) {
    const method = NOISE_METHODS[m];
    plan = { ...plan, method };
    const gen = runMethod(cfg, sub, init, plan, opts.signal, (f, message) => ({
      type: 'progress',
      seed: cfg.seed,
      method,
      fraction: (m + f) / NOISE_METHODS.length,
      message,
    }));
    let r = await gen.next();
    while (!r.done) {
      yield r.value;
      r = await gen.next();
    }
    const run = r.value;
    runs.push(run);
    yield { type: 'run', run };
    if (method === 'sgd') {
      plan.power = (run.noisePower * sub.train.count) / cfg.batchSize;
      plan.beta1 = run.beta1 ?? NaN;
    }
  }
  return runs;
}

async function* runMethod(
  cfg: NoiseShapingConfig,
  data: Dataset,
  init: MlpWeights,
  plan: MethodPlan,
  signal: AbortSignal | undefined,
  progress: (fraction: number, message: string) => NoiseShapingProgress,
): AsyncGenerator<NoiseShapingEvent, NoiseShapingRun, void> {
  const { method } = plan;
  const train = data.train;
  const N = train.count;
  const isSgd = method === 'sgd';
  const B = isSgd ? cfg.batchSize : N;
  // B = N with epoch sampling deals out all N examples every step: exact full-batch GD.
  const rc: RunConfig = {
    ...DEFAULT_CONFIG,
    hidden: cfg.hidden,
    batchSize: B,
    lr: cfg.lr,
    seed: cfg.seed,
    sampling: isSgd ? cfg.sampling : 'epoch',
    optimizer: 'sgd',
    stepImpl: cfg.stepImpl,
  };
  const net = createNet(
    { hidden: init.hidden, W1: init.W1.slice(), W2: init.W2.slice(), W3: init.W3.slice() },
    cfg.stepImpl,
  );
  const trainer = new SgdTrainer(net, data, rc);
  const d = cfg.hidden * cfg.hidden;
  const rng = new Rng((cfg.seed * 7919 + 104729) >>> 0);
  const stepsPerEpoch = trainer.sampler.stepsPerEpoch;
  // The window holds every step of the last windowEpochs epochs (SGD: N/B per epoch, GD: 1).
  const ring = new Ring(cfg.windowEpochs * stepsPerEpoch);
  const detector = new ExplorationDetector({ mode: 'error', errorThreshold: cfg.errorThreshold });
  const epochs: number[] = [0];
  const evalEvery = Math.ceil(cfg.epochs / 100);
  const first = await trainer.evaluateEpoch();
  const trainError = [first.trainError];
  const testError = [first.testError];
  const powers: number[] = [];
  const powerEvery = Math.max(1, Math.floor(cfg.epochs / cfg.powerSamples));
  // gd-flatness starts isotropic too: it has no trajectory to take modes from yet.
  let noise: IsotropicNoise | ModeNoise | null =
    method === 'gd-isotropic' || method === 'gd-flatness'
      ? new IsotropicNoise(d, plan.power)
      : null;
  if (method === 'gd-flatness' && !Number.isFinite(plan.beta1))
    throw new Error('noise shaping: the SGD run gave no β₁ for the flatness-detecting noise');
  let refreshes = 0;
  let explorationStartEpoch: number | null = null;
  let steps = 0;
  try {
    yield progress(0, `${method}: training`);
    if (isSgd) powers.push(sgdNoisePower(init, train, B, cfg.lr, cfg.sampling).power);
    for (let e = 1; e <= cfg.epochs; e++) {
      signal?.throwIfAborted();
      for (let s = 0; s < stepsPerEpoch; s++) {
        const r = await trainer.trainStep(true);
        if (!r) throw new Error(`noise shaping: ${method} diverged at step ${steps + 1}`);
        steps++;
        let w2 = r.w2 as Float32Array;
        if (noise) {
          const w = await net.getWeights();
          noise.addTo(w.W2, rng);
          net.setWeights(w);
          w2 = w.W2;
        }
        ring.push(w2);
        if (
          method === 'gd-flatness' &&
          steps % cfg.refreshEvery === 0 &&
          ring.items.length >= cfg.modes + 2
        ) {
          const w = await net.getWeights();
          const tm = trajectoryModes(ring.items, cfg.modes);
          const F = await modeFlatness(w, train, tm.mean, tm.directions, tm.k, pcaStep(tm), signal);
          const D = flatnessStrengths(F, plan.beta1, plan.power);
          if (D) {
            noise = new ModeNoise(tm.directions, d, D);
            refreshes++;
          }
        }
      }
      if (isSgd && e % powerEvery === 0) {
        powers.push(sgdNoisePower(await net.getWeights(), train, B, cfg.lr, cfg.sampling).power);
      }
      if (e % evalEvery === 0 || e === cfg.epochs) {
        const rec = await trainer.evaluateEpoch();
        epochs.push(e);
        trainError.push(rec.trainError);
        testError.push(rec.testError);
        // The detector counts the evaluations it is given: its start maps back through `epochs`.
        if (detector.recordEpoch(rec.trainError)) explorationStartEpoch = e;
        yield { type: 'epoch', seed: cfg.seed, method, epoch: e, testError: rec.testError };
      }
      if (e % Math.max(1, Math.floor(cfg.epochs / 20)) === 0)
        yield progress((0.8 * e) / cfg.epochs, `${method}: epoch ${e} of ${cfg.epochs}`);
    }
    yield progress(0.85, `${method}: flatness of the solution`);
    const final = await net.getWeights();
    let beta1: number | undefined;
    if (isSgd) {
      // D_i ∝ F_i^(−β₁) over SGD's own window modes: the negated log–log slope of D against F.
      const tm = trajectoryModes(ring.items, cfg.modes);
      const F = await modeFlatness(final, train, tm.mean, tm.directions, tm.k, pcaStep(tm), signal);
      beta1 = -powerLawFit(F, Array.from(tm.velocityVariance)).slope;
    }
    yield progress(0.92, `${method}: flatness along the solution's sharpest directions`);
    const sol = await solutionFlatness(final, train, cfg.modes, cfg.seed + 1, signal);
    const F = sol.flatness;
    const meanPower = powers.length ? powers.reduce((a, b) => a + b, 0) / powers.length : 0;
    const injected = noise ? plan.power : 0;
    return {
      method,
      seed: cfg.seed,
      epochs,
      trainError,
      testError,
      explorationStartEpoch,
      finalTrainError: trainError[trainError.length - 1],
      finalTestError: testError[testError.length - 1],
      medianTopFlatness: median(F),
      topFlatness: F,
      topCurvature: sol.curvature,
      noisePower: isSgd ? meanPower : injected,
      temperature: noise ? injected / (2 * cfg.lr * d) : 0,
      steps,
      gradientEvaluations: steps * B,
      ...(beta1 !== undefined ? { beta1 } : {}),
      ...(method === 'gd-flatness' ? { refreshes } : {}),
    };
  } finally {
    trainer.dispose();
    net.dispose();
  }
}
