import { describe, expect, it } from 'vitest';
import { ExplorationDetector } from '../../src/engine/landscape/phase';

describe('ExplorationDetector', () => {
  it("mode 'error': starts after the first epoch with error ≤ threshold", () => {
    const d = new ExplorationDetector({ errorThreshold: 0.005, mode: 'error' });
    const errors = [0.2, 0.05, 0.01, 0.0051, 0.005, 0.001, 0.02];
    const started = errors.map((e) => d.recordEpoch(e));
    expect(started).toEqual([false, false, false, false, true, false, false]);
    expect(d.startEpoch).toBe(5);
    expect(d.inExploration).toBe(true);
    expect(d.reason).toMatch(/0\.50%/);
    expect(d.history.length).toBe(7);
  });

  it('per-step minibatch errors: the epoch average counts, not single minibatches', () => {
    const d = new ExplorationDetector({ errorThreshold: 0.005 });
    // Epoch 1: 160 batches of 50, one mistake in each of the first 50 → 0.625%.
    for (let i = 0; i < 160; i++) d.recordStep(i < 50 ? 1 : 0, 50);
    expect(d.endEpoch()).toBe(false);
    // Epoch 2: a few batches with one mistake each (2% per batch), 0.25% over the epoch.
    for (let i = 0; i < 160; i++) d.recordStep(i % 8 === 0 ? 1 : 0, 50); // 20/8000
    expect(d.endEpoch()).toBe(true);
    expect(d.startEpoch).toBe(2);
    expect(d.history.map((h) => h.error)).toEqual([50 / 8000, 20 / 8000]);
  });

  it("mode 'error' with a cap: warmupEpochs forces the start", () => {
    const d = new ExplorationDetector({ mode: 'error', warmupEpochs: 3 });
    expect(d.recordEpoch(0.1)).toBe(false);
    expect(d.recordEpoch(0.1)).toBe(false);
    expect(d.recordEpoch(0.1)).toBe(true);
    expect(d.startEpoch).toBe(3);
    expect(d.reason).toMatch(/cap/);
  });

  it("mode 'warmup': a fixed number of epochs, whatever the error", () => {
    const d = new ExplorationDetector({ mode: 'warmup', warmupEpochs: 4 });
    for (const e of [0, 0, 0]) d.recordEpoch(e);
    expect(d.startEpoch).toBeNull();
    expect(d.recordEpoch(0.3)).toBe(true);
    expect(d.startEpoch).toBe(4);
    expect(new ExplorationDetector({ mode: 'warmup', warmupEpochs: 0 }).startEpoch).toBe(0);
    expect(() => new ExplorationDetector({ mode: 'warmup' })).toThrow();
  });

  it('never starts on NaN errors, and reset() forgets', () => {
    const d = new ExplorationDetector();
    expect(d.endEpoch()).toBe(false); // no steps recorded: NaN
    expect(d.recordEpoch(NaN)).toBe(false);
    expect(d.recordEpoch(0)).toBe(true);
    d.reset();
    expect(d.startEpoch).toBeNull();
    expect(d.epochsCompleted).toBe(0);
    expect(d.history.length).toBe(0);
  });
});
