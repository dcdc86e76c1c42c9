import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadEmbeddedDataset } from '../../src/engine/data/embedded';
import { useBackend } from './tfBackend';
import { DEFAULT_CONFIG, type RunConfig } from '../../src/engine/experiments/config';
import {
  CHANCE_LOSS,
  EMBEDDED_DATA_SHAPE,
  EXPLODING_WINDOW,
  MAX_WINDOW_SNAPSHOTS,
  MEMORY_BUDGET_BYTES,
  RunSettingsError,
  SgdDivergenceWatch,
  blockWindowProblems,
  checkLandscape,
  deadNetworkMessage,
  estimateBlockWindowMemory,
  estimateRunMemory,
  langevinLeftMinimum,
  maxLangevinTemperature,
  planRun,
  sgdWindowEvery,
} from '../../src/engine/experiments/runChecks';
import { trainingRun } from '../../src/engine/experiments/training';
import { initMlp } from '../../src/engine/nets/mlp';
import { pcaWorkspaceDoubles } from '../../src/engine/pca/pca';
import type { Dataset } from '../../src/engine/data/dataset';

const cfg = (c: Partial<RunConfig> = {}): RunConfig => ({ ...DEFAULT_CONFIG, ...c });
const part = (c: RunConfig, what: RegExp, every = 1) =>
  estimateRunMemory(c, EMBEDDED_DATA_SHAPE, every).parts.find((p) => what.test(p.what))?.bytes;

describe('the memory estimate', () => {
  it('counts the window, the PCA workspace, the ensemble and the checkpoints exactly', () => {
    const c = cfg();
    // Paper preset: 10 epochs × 160 steps = 1,600 snapshots of W2's 2,500 weights.
    expect(part(c, /^SGD window/)).toBe(1600 * 2500 * 4);
    // Gram route (m < n), 20 trajectory + 50 flatness + 3 profile modes.
    expect(part(c, /^SGD PCA workspace/)).toBe(8 * pcaWorkspaceDoubles(1600, 2500, 73));
    expect(pcaWorkspaceDoubles(1600, 2500, 73)).toBeGreaterThan(2 * 1600 * 2500 + 1600 ** 2);
    // 801 minibatches (5% standard error) of B = 50 samples, h = 50 activations each.
    expect(part(c, /^active-temperature ensemble/)).toBe(801 * 50 * 50 * 4);
    expect(part(c, /checkpoints/)).toBe(120 * 4 * (784 * 50 + 2500 + 500));
    const m = estimateRunMemory(c, EMBEDDED_DATA_SHAPE);
    expect(m.total).toBe(m.parts.reduce((a, p) => a + p.bytes, 0));
    expect(m.total).toBeLessThan(MEMORY_BUDGET_BYTES / 2);
  });

  it('a strided window holds ⌈steps / k⌉ snapshots', () => {
    const c = cfg({ hidden: 200, batchSize: 25 });
    expect(part(c, /^SGD window/, 4)).toBe(800 * 40_000 * 4);
    expect(part(c, /^SGD PCA workspace/, 4)).toBe(8 * pcaWorkspaceDoubles(800, 40_000, 73));
  });

  it('the Langevin contrast counts its own window beside what the SGD analysis keeps', () => {
    const c = cfg({ hidden: 200, batchSize: 100, contrast: true });
    const m = estimateRunMemory(c, EMBEDDED_DATA_SHAPE);
    expect(m.parts.find((p) => /^Langevin window/.test(p.what))?.bytes).toBe(1600 * 40_000 * 4);
    expect(m.parts.some((p) => /SGD analysis kept/.test(p.what))).toBe(true);
  });
});

describe('planRun', () => {
  it('the presets pass unchanged', () => {
    for (const c of [
      cfg(),
      cfg({ contrast: true }),
      cfg({ batchSize: 25 }),
      cfg({ batchSize: 200, warmupEpochs: 120, windowEpochs: 40 }),
      cfg({ warmupEpochs: 8, windowEpochs: 3, flatnessModes: 30, hidden: 200 }),
    ]) {
      const p = planRun(c);
      expect(p.problems).toEqual([]);
      expect(p.notes).toEqual([]);
      expect(p.sgd.every).toBe(1);
    }
  });

  it('h = 200, B = 25 keeps every 4th step and says so, within the budget', () => {
    const c = cfg({ hidden: 200, batchSize: 25 });
    expect(estimateRunMemory(c, EMBEDDED_DATA_SHAPE).total).toBeGreaterThan(2.5 * 2 ** 30);
    const p = planRun(c);
    expect(p.problems).toEqual([]);
    expect(p.sgd).toEqual({ steps: 3200, every: 4, snapshots: 800 });
    expect(p.memory.total).toBeLessThanOrEqual(MEMORY_BUDGET_BYTES);
    expect(p.notes).toHaveLength(1);
    expect(p.notes[0]).toMatch(/h = 200, B = 25: .*3,200 snapshots .*2\.8 GB, over the 1\.0 GB/);
    expect(p.notes[0]).toMatch(/keeps every 4th step \(800 snapshots/);
  });

  it('refuses what no stride can fit, naming the setting, the estimate and the limit', () => {
    const p = planRun(cfg({ hidden: 200, batchSize: 10 }));
    expect(p.problems).toHaveLength(1);
    expect(p.problems[0].setting).toBe('hidden');
    expect(p.problems[0].message).toMatch(/h = 200 with B = 10/);
    expect(p.problems[0].message).toMatch(/about 6\.8 GB .*over the 1\.0 GB limit/);
    expect(p.problems[0].message).toMatch(/Use h ≤ \d+ or B ≥ \d+/);
    // The range it names does fit.
    const hMax = Number(/h ≤ (\d+)/.exec(p.problems[0].message)![1]);
    expect(planRun(cfg({ hidden: hMax, batchSize: 10 })).problems).toEqual([]);
    expect(planRun(cfg({ hidden: hMax + 1, batchSize: 10 })).problems).not.toEqual([]);
  });

  it('B = 1 is refused before anything trains, with the B that works', () => {
    const p = planRun(cfg({ batchSize: 1 }));
    expect(p.problems.map((x) => x.setting)).toEqual(['batchSize']);
    expect(p.problems[0].message).toMatch(/B = 1 gives 8,000 steps per epoch/);
    expect(p.problems[0].message).toMatch(/Use B ≥ 4 with this window, or a window of ≤ 2 epochs/);
    expect(planRun(cfg({ batchSize: 4 })).problems).toEqual([]);
    expect(planRun(cfg({ batchSize: 3 })).problems).not.toEqual([]);
    expect(planRun(cfg({ batchSize: 1, windowEpochs: 2 })).problems).toEqual([]);
    expect(sgdWindowEvery(cfg({ batchSize: 1, windowEpochs: 2 }), EMBEDDED_DATA_SHAPE)).toBe(4);
  });

  it('a window with too few snapshots, B beyond the data set', () => {
    expect(planRun(cfg({ batchSize: 2000, windowEpochs: 1 })).problems[0].setting).toBe(
      'windowEpochs',
    );
    expect(planRun(cfg({ batchSize: 9000 })).problems[0].message).toMatch(/8,000 training images/);
  });

  it('the contrast at T = 1 is refused by temperature, with the range that works', () => {
    const p = planRun(cfg({ contrast: true, temperature: 1, langevinLr: 5 }));
    expect(p.problems.map((x) => x.setting)).toEqual(['temperature']);
    expect(p.problems[0].message).toMatch(/T = 1 is too hot for h = 50/);
    expect(p.problems[0].message).toMatch(/Use T ≤ 0\.0018/);
    expect(maxLangevinTemperature(50)).toBeCloseTo((2 * Math.log(10)) / 2500, 12);
    expect(planRun(cfg({ contrast: true, temperature: 1e-3 })).problems).toEqual([]);
    // Without the contrast the Langevin settings are not read.
    expect(planRun(cfg({ temperature: 1 })).problems).toEqual([]);
  });

  it('Langevin windows beyond the snapshot cap or below the minimum', () => {
    const big = planRun(cfg({ contrast: true, langevinSteps: 200_000, langevinEvery: 1 }));
    expect(big.problems[0].setting).toBe('langevinEvery');
    expect(big.problems[0].message).toMatch(
      new RegExp(
        `200,000 snapshots; the PCA holds at most ${MAX_WINDOW_SNAPSHOTS.toLocaleString('en')}`,
      ),
    );
    const small = planRun(cfg({ contrast: true, langevinSteps: 10, langevinEvery: 5 }));
    expect(small.problems[0].setting).toBe('langevinSteps');
  });
});

describe('the deeper architectures keep every window step, so their window is checked', () => {
  const mlp4 = { batchSize: 50, windowEpochs: 5, flatnessModes: 30 };

  it('the quick defaults fit; B = 1 and an oversized block are refused with what fits', () => {
    expect(blockWindowProblems(mlp4, 10_000, EMBEDDED_DATA_SHAPE)).toEqual([]);
    expect(blockWindowProblems({ ...mlp4, windowEpochs: 2 }, 10_000, EMBEDDED_DATA_SHAPE)).toEqual(
      [],
    );
    const b1 = blockWindowProblems({ ...mlp4, batchSize: 1 }, 10_000, EMBEDDED_DATA_SHAPE);
    expect(b1[0].message).toMatch(
      /5-epoch window at B = 1 keeps 40,000 snapshots of the block's 10,000 weights: more than the 4,000/,
    );
    expect(b1[0].message).toMatch(/Use B ≥ 10/);
    const wide = blockWindowProblems(mlp4, 200_000, EMBEDDED_DATA_SHAPE);
    expect(wide[0].message).toMatch(
      /800 snapshots of the block's 200,000 weights: about \d+\.\d GB, over the 1\.0 GB limit/,
    );
    expect(estimateBlockWindowMemory(mlp4, 10_000, EMBEDDED_DATA_SHAPE)).toBe(
      4 * 800 * 10_000 + 8 * pcaWorkspaceDoubles(800, 10_000, 32) + 4 * 10_000 * 784,
    );
  });
});

describe('watches on a running run', () => {
  it('SGD: a non-finite loss at once, a loss above ten times chance over 20 steps', () => {
    const w = new SgdDivergenceWatch({ optimizer: 'sgd', momentum: 0.9 });
    expect(w.push(1, 2.3, 0.1)).toBeNull();
    expect(w.push(2, NaN, 0.1)).toMatch(/α = 0\.1 made the weights diverge at step 2 .*not finite/);
    const x = new SgdDivergenceWatch({ optimizer: 'sgd', momentum: 0.9 });
    let msg: string | null = null;
    let at = 0;
    for (let s = 1; s <= 100 && !msg; s++) {
      msg = x.push(s, s < 10 ? 2 : 50, 3);
      at = s;
    }
    // Steps 1–9 at 2, then 50: the 20-step mean (28.4 at step 20) passes 10·ln 10 ≈ 23 once 20
    // steps are in.
    expect(at).toBe(EXPLODING_WINDOW);
    expect(msg).toMatch(
      /α = 3 made the weights diverge at step 20 .*averaged 28 .*Lower α: the presets train/,
    );
    // One terrible minibatch among good ones is not divergence.
    const y = new SgdDivergenceWatch({ optimizer: 'sgd', momentum: 0.9 });
    for (let s = 1; s <= 100; s++) expect(y.push(s, s === 50 ? 200 : 0.5, 0.1)).toBeNull();
  });

  it('a dead network: exactly ln 10 over the training set at high error', () => {
    const c = { hidden: 8, batchSize: 1 };
    expect(deadNetworkMessage(c, 0.1, 3, Math.log(10), 0.9)).toMatch(/died in epoch 3/);
    expect(deadNetworkMessage(c, 0.1, 0, 2.345, 0.86)).toBeNull();
    expect(deadNetworkMessage(c, 0.1, 3, Math.log(10), 0.1)).toBeNull();
  });

  it('Langevin: above chance level is leaving the minimum, named by its step', () => {
    const c = { langevinLr: 5, temperature: 1e-7, hidden: 50 };
    expect(langevinLeftMinimum(c, 3, 0.05)).toBeNull();
    expect(langevinLeftMinimum(c, 3, CHANCE_LOSS)).toBeNull();
    const m = langevinLeftMinimum(c, 12, 45.2)!;
    expect(m).toMatch(
      /Langevin step α = 5 made the weights diverge at step 12 of the Langevin run/,
    );
    expect(m).toMatch(/loss reached 45, above the chance level 2\.30/);
    expect(m).not.toMatch(/lower T/);
    expect(langevinLeftMinimum({ ...c, temperature: 1e-3 }, 1, Infinity)).toMatch(/lower T too/);
  });

  it('a window that left its minimum is a degenerate landscape, in words', () => {
    const c = { lr: 0.1, langevinLr: 5, temperature: 1e-7 };
    expect(() => checkLandscape('sgd', c, 1e-4, 0.005, 1e3)).not.toThrow();
    expect(() => checkLandscape('langevin', c, 1e8, 5e3, 1e3)).toThrow(
      /Langevin window wandered 10000 along its first mode, farther than the 1,000 .*Langevin step α = 5/,
    );
  });
});

describe('trainingRun checks before its first step', () => {
  // The check needs only the data set's shape: nothing is trained or uploaded.
  const data: Dataset = {
    name: 'shape only',
    source: 'embedded',
    train: { images: new Uint8Array(8000 * 784), labels: new Uint8Array(8000), count: 8000 },
    test: { images: new Uint8Array(2000 * 784), labels: new Uint8Array(2000), count: 2000 },
  } as Dataset;

  it('B = 1 throws RunSettingsError naming B', async () => {
    const c = cfg({ batchSize: 1, hidden: 8 });
    const gen = trainingRun(c, data, { initial: initMlp(8, 0) });
    const err = await gen.next().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RunSettingsError);
    expect((err as RunSettingsError).problems[0].setting).toBe('batchSize');
    expect((err as Error).message).toMatch(/B = 1/);
  });
});

const dataPath = 'public/data/mnist-10k.bin';

describe.skipIf(!existsSync(dataPath))('trainingRun follows the plan', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });
  const digits = existsSync(dataPath) ? loadEmbeddedDataset(readFileSync(dataPath)) : null;

  it('a network that dies (every ReLU off) is stopped at that epoch, not at the window end', async () => {
    // h = 8 at B = 1 and α = 0.1: single-sample steps switch every hidden unit off.
    const c = cfg({ hidden: 8, batchSize: 1, warmupEpochs: 3, windowEpochs: 2 });
    const events: string[] = [];
    let message = '';
    for await (const e of trainingRun(c, digits!, { initial: initMlp(8, 0) })) {
      if (e.type !== 'step' && e.type !== 'checkpoint') events.push(e.type);
      if (e.type === 'diverged') message = e.message;
    }
    expect(message).toMatch(/^The network died in epoch [1-5]: every hidden unit is inactive/);
    expect(message).toMatch(/h = 8 and B = 1 the learning rate α = 0\.1 is too large/);
    expect(events).not.toContain('windowEnd');
    expect(events[events.length - 1]).toBe('diverged');
  });

  it('B = 1 with a 2-epoch window keeps every 4th step: 4,000 snapshots, 4 steps apart', async () => {
    const c = cfg({ hidden: 16, batchSize: 1, lr: 0.02, warmupEpochs: 1, windowEpochs: 2 });
    let start: { every: number; expectedSnapshots: number } | null = null;
    const kept: number[] = [];
    for await (const e of trainingRun(c, digits!, { initial: initMlp(16, 0) })) {
      if (e.type === 'windowStart') start = e;
      else if (e.type === 'step' && e.w2) kept.push(e.step);
      else if (e.type === 'windowEnd') break;
      else if (e.type === 'diverged') throw new Error(e.message);
    }
    expect(start).toMatchObject({ every: 4, expectedSnapshots: 4000 });
    expect(kept).toHaveLength(4000);
    expect(kept.slice(1).every((s, i) => s - kept[i] === 4)).toBe(true);
  });
});

describe.skipIf(!existsSync(dataPath))('the CLI checks a run before training it', () => {
  const cli = (args: string[]) =>
    spawnSync(
      'npx',
      ['tsx', 'src/cli/reproduce.ts', '--experiment', 'variance-flatness', ...args],
      {
        encoding: 'utf8',
      },
    );

  it('B = 1 and a run over the memory budget exit with code 2 and the reason, untrained', () => {
    const b1 = cli(['--B', '1']);
    expect(b1.status).toBe(2);
    expect(b1.stderr).toMatch(/error: The minibatch size B = 1 gives 8,000 steps per epoch/);
    expect(b1.stderr).not.toMatch(/^epoch \d+:/m);
    const big = cli(['--hidden', '200', '--B', '10']);
    expect(big.status).toBe(2);
    expect(big.stderr).toMatch(
      /h = 200 with B = 10 and a 10-epoch window: this run would need about 6\.8 GB/,
    );
    expect(big.stderr).toMatch(/over the 1\.0 GB limit/);
  });
});
