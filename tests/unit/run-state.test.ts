// The page's one truth about a run: where a stopped run resumes from, what stays of it, and
// what the progress line says in each phase.
import { describe, expect, it } from 'vitest';
import type { EpochRecord } from '../../src/engine/experiments/training';
import { initialRunState, rewoundRun, type RunStoreState } from '../../src/state/runStore';
import { analysisText, progressText } from '../../src/ui/progressText';
import { appendCheckpoint, ResumeTracker } from '../../src/protocol/checkpoints';
import type { RunCheckpoint } from '../../src/protocol/messages';

const weights = (v: number) => ({
  hidden: 1,
  W1: new Float32Array([v]),
  W2: new Float32Array([v]),
  W3: new Float32Array([v]),
});
const cp = (epoch: number): RunCheckpoint => ({ epoch, step: epoch * 10, weights: weights(epoch) });
const rec = (epoch: number, trainError: number): EpochRecord => ({
  epoch,
  step: epoch * 10,
  trainLoss: 1,
  trainError,
  testLoss: 1,
  testError: trainError,
});

describe('appendCheckpoint', () => {
  it('keeps every checkpoint up to the cap, then thins the middle and keeps both ends', () => {
    let list: number[] = [];
    for (let i = 0; i < 4; i++) list = appendCheckpoint(list, i, 4);
    expect(list).toEqual([0, 1, 2, 3]);
    list = appendCheckpoint(list, 4, 4);
    expect(list).toEqual([0, 2, 4]);
    for (let i = 5; i < 50; i++) list = appendCheckpoint(list, i, 4);
    expect(list.length).toBeLessThanOrEqual(4);
    expect(list[0]).toBe(0);
    expect(list[list.length - 1]).toBe(49);
  });
});

describe('ResumeTracker', () => {
  it('resumes from the last warm-up checkpoint, with the errors of the epochs before it', () => {
    const t = new ResumeTracker();
    expect(t.resumePoint({})).toBeNull();
    t.epoch(rec(0, 0.9));
    t.checkpoint(cp(0));
    t.epoch(rec(1, 0.5));
    t.checkpoint(cp(1));
    t.epoch(rec(2, 0.1));
    t.checkpoint(cp(2));
    const p = t.resumePoint({ lr: 0.05 });
    expect(p?.checkpoint.epoch).toBe(2);
    expect(p?.trainErrors).toEqual([0.5, 0.1]);
    expect(p?.history.map((c) => c.epoch)).toEqual([0, 1, 2]);
    expect(p?.controls).toEqual({ lr: 0.05 });
  });

  it('never resumes inside the PCA window: the window is redone from its first epoch', () => {
    const t = new ResumeTracker();
    for (let e = 0; e <= 3; e++) {
      t.epoch(rec(e, 0.3 - e * 0.1));
      t.checkpoint(cp(e));
    }
    t.windowStart('sgd');
    t.epoch(rec(4, 0));
    t.checkpoint(cp(4));
    t.epoch(rec(5, 0));
    t.checkpoint(cp(5));
    const p = t.resumePoint({});
    expect(p?.checkpoint.epoch).toBe(3);
    expect(p?.history.map((c) => c.epoch)).toEqual([0, 1, 2, 3]);
  });

  it('a resumed run can be resumed again from the same point or a later warm-up epoch', () => {
    const t = new ResumeTracker();
    t.epoch(rec(0, 0.9));
    t.checkpoint(cp(0));
    t.epoch(rec(1, 0.5));
    t.checkpoint(cp(1));
    const p = t.resumePoint({ batchSize: 25 })!;
    const u = new ResumeTracker();
    u.restore(p);
    expect(u.resumePoint({ batchSize: 25 })).toEqual(p);
    u.epoch(rec(2, 0.2));
    u.checkpoint(cp(2));
    expect(u.resumePoint({})?.trainErrors).toEqual([0.5, 0.2]);
    expect(u.resumePoint({})?.history.map((c) => c.epoch)).toEqual([0, 1, 2]);
  });

  it('a checkpoint whose earlier epochs were not all recorded is no resume point', () => {
    const t = new ResumeTracker();
    t.epoch(rec(2, 0.1));
    t.checkpoint(cp(2));
    expect(t.resumePoint({})).toBeNull();
  });
});

function stateWith(over: Partial<RunStoreState>): RunStoreState {
  return { ...initialRunState, ...over };
}

describe('rewoundRun', () => {
  it('keeps what was measured up to the checkpoint and drops what will be measured again', () => {
    const s = stateWith({
      runState: 'error',
      crashed: true,
      error: 'The training worker crashed',
      resumeFrom: { epoch: 3, step: 30 },
      epochs: [0, 1, 2, 3, 4, 5].map((e) => rec(e, 0.1)),
      minibatch: [10, 20, 30, 40, 50].map((step) => ({ step, loss: 1 })),
      exploration: { epoch: 3, step: 30, reason: 'r' },
      windows: [{ run: 'sgd', startStep: 30, endStep: null }],
      progress: {
        phase: 'window',
        epoch: 5,
        step: 52,
        stepsPerSecond: 100,
        fraction: 0.52,
        etaSeconds: 3,
      },
    });
    const r = rewoundRun(s, { epoch: 3, step: 30 });
    expect(r.epochs?.map((e) => e.epoch)).toEqual([0, 1, 2, 3]);
    expect(r.minibatch?.map((p) => p.step)).toEqual([10, 20, 30]);
    expect(r.exploration).toBeNull();
    expect(r.windows).toEqual([]);
    expect(r.results).toEqual({});
    expect(r.progress).toMatchObject({ epoch: 3, step: 30, stepsPerSecond: 0 });
    expect(r.progress?.fraction).toBeCloseTo(0.3);
    expect(r).toMatchObject({ error: null, crashed: false, resumeFrom: null });
  });
});

describe('progressText', () => {
  const training = {
    phase: 'warmup' as const,
    epoch: 4,
    step: 640,
    stepsPerSecond: 1234.4,
    fraction: 0.1,
    etaSeconds: 30,
  };

  it('shows the training rate only while training runs', () => {
    const run = stateWith({ runState: 'training', progress: training });
    expect(progressText(run)).toBe('warm-up · epoch 4 · step 640 · 1,234 steps/s · ETA 30 s');
    expect(progressText({ ...run, paused: true })).toBe('Paused · warm-up · epoch 4 · step 640');
  });

  it('an analysis phase shows its own progress and no training rate', () => {
    const run = stateWith({
      runState: 'analyzing',
      progress: { ...training, phase: 'window', stepsPerSecond: 11 },
      analysisProgress: {
        run: 'sgd',
        phase: 'flatness',
        fraction: 0.4,
        etaSeconds: 63,
        detail: '12 of 30 modes measured',
      },
    });
    const text = progressText(run);
    expect(text).toBe('Analysis (SGD): flatness: 12 of 30 modes measured · 40% · ETA 1 min 3 s');
    expect(text).not.toMatch(/steps\/s/);
    const pca = progressText({
      ...run,
      analysisProgress: {
        run: 'sgd',
        phase: 'pca',
        fraction: 0.5,
        etaSeconds: null,
        detail: 'eigenvectors',
      },
    });
    expect(pca).toBe('Analysis (SGD): PCA: eigendecomposition (eigenvectors) · 50%');
    // Between phases (no progress yet): still no stale training rate.
    expect(progressText({ ...run, analysisProgress: null })).toBe('Analysis: starting…');
  });

  it('with the Langevin contrast, training and the SGD analysis show side by side', () => {
    const a = {
      run: 'sgd' as const,
      phase: 'theory' as const,
      fraction: 0.25,
      etaSeconds: null,
      detail: null,
    };
    const run = stateWith({
      runState: 'training',
      progress: { ...training, phase: 'langevin-burnin' },
      analysisProgress: a,
    });
    expect(progressText(run)).toBe(
      `Langevin burn-in · epoch 4 · step 640 · 1,234 steps/s · ETA 30 s | ${analysisText(a)}`,
    );
  });

  it('a stopped run says where it stopped and where it can resume, with no rate', () => {
    const run = stateWith({
      runState: 'error',
      progress: training,
      resumeFrom: { epoch: 3, step: 480 },
    });
    expect(progressText(run)).toBe('Stopped · epoch 4 · step 640 · can resume from epoch 3');
    // The progress messages are throttled: the epochs and losses may have got further.
    const later = {
      ...run,
      progress: { ...training, step: 40 },
      epochs: [rec(5, 0.1)],
      minibatch: [{ step: 65, loss: 1 }],
    };
    expect(progressText(later)).toBe('Stopped · epoch 5 · step 65 · can resume from epoch 3');
  });
});
