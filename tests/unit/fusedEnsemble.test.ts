// A sweep's runs trained together as one fused ensemble (FusedEnsemble through runEnsembleJob)
// against the same runs trained alone on the CPU, with the GPU kernel replaced by a CPU
// stand-in that steps R copies of the same SIMD kernel, each on the batches of its own run's
// sampler: any difference in the windows or summaries is the ensemble's bookkeeping (chunks cut
// to the shortest epoch, members leaving, per-run B and α). The WGSL kernel itself is checked
// against a float64 step in tests/e2e/webgpu.test.mjs.
import { existsSync, readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadEmbeddedDataset } from '../../src/engine/data/embedded';
import type { RunConfig } from '../../src/engine/experiments/config';
import {
  summariseRun,
  trainWindow,
  type RunResumePoint,
  type RunSummary,
} from '../../src/engine/experiments/sweeps';
import { analyseWindow, runEnsembleJob, type EnsembleWindow } from '../../src/engine/jobs/ensemble';
import { ensembleProblem } from '../../src/engine/experiments/ensemblePlan';
import { initMlp } from '../../src/engine/nets/mlp';
import { useBackend } from './tfBackend';
import { CpuEnsemble, ENSEMBLE_TEST_BASE, ENSEMBLE_TEST_CONFIGS } from '../fixtures/cpuEnsemble';

const dataPath = 'public/data/mnist-10k.bin';
const base = ENSEMBLE_TEST_BASE;
const configs = ENSEMBLE_TEST_CONFIGS;

function same(w: EnsembleWindow, alone: Awaited<ReturnType<typeof trainWindow>>): void {
  expect(w.count).toBe(alone.win.count);
  expect(w.first).toBe(alone.first);
  expect(w.stride).toBe(alone.stride);
  for (let t = 0; t < w.count; t++) {
    const a = alone.win.snapshot(t);
    const b = w.snapshots.subarray(t * a.length, (t + 1) * a.length);
    // Bit for bit: the same kernel on the same batches from the same weights.
    expect(Buffer.from(b.buffer, b.byteOffset, b.byteLength)).toEqual(
      Buffer.from(a.buffer, a.byteOffset, a.byteLength),
    );
  }
  expect(Array.from(w.weights.W2)).toEqual(Array.from(alone.weights.W2));
  expect(w.last?.epoch).toBe(alone.last?.epoch);
  expect(w.last?.step).toBe(alone.last?.step);
  expect(w.last?.trainError).toBe(alone.last?.trainError);
  expect(w.last?.testError).toBe(alone.last?.testError);
}

const withoutTimings = (s: RunSummary) => ({ ...s, timings: null });

describe.skipIf(!existsSync(dataPath))(
  'a fused ensemble of runs (GPU replaced by a CPU stand-in)',
  () => {
    const data = existsSync(dataPath) ? loadEmbeddedDataset(readFileSync(dataPath)) : null;
    beforeAll(async () => {
      await useBackend('wasm');
    });

    async function ensemble(
      cs: RunConfig[],
      failAtChunk: number | null = null,
      failAtStep: number | null = null,
    ) {
      const windows = new Map<number, EnsembleWindow>();
      const failed = new Map<number, string>();
      const resumePoints = new Map<number, RunResumePoint>();
      const kernels: CpuEnsemble[] = [];
      const job = runEnsembleJob(
        cs,
        data!,
        async (specs) => {
          const k = new CpuEnsemble(data!.train, specs, failAtChunk, failAtStep);
          kernels.push(k);
          return k;
        },
        {
          onWindow: (m, w) => windows.set(m, w),
          onRunFailed: (m, message) => failed.set(m, message),
          onResumePoint: (m, p) => resumePoints.set(m, p),
        },
      );
      return { job, windows, failed, resumePoints, kernels };
    }

    it('R runs with their own B, α and seed give the windows and summaries of the runs alone', async () => {
      const { job, windows, failed, kernels } = await ensemble(configs);
      await job;
      expect(failed.size).toBe(0);
      // One kernel for all three runs.
      expect(kernels).toHaveLength(1);
      expect(kernels[0].runs).toBe(3);
      for (let m = 0; m < configs.length; m++) {
        const alone = await trainWindow(configs[m], data!);
        same(windows.get(m)!, alone);
      }
      // The analysis of the handed-out window is the summary of the run trained alone.
      for (const m of [0, 1]) {
        const fromWindow = await analyseWindow(configs[m], data!, windows.get(m)!);
        const aloneSummary = await summariseRun(configs[m], data!);
        expect(withoutTimings(fromWindow)).toEqual(withoutTimings(aloneSummary));
      }
    });

    it('momentum runs with their own μ, B and α share one kernel and give the runs alone', async () => {
      const cs: RunConfig[] = [
        { ...configs[0], optimizer: 'momentum', momentum: 0.9, lr: 0.01 },
        { ...configs[1], optimizer: 'momentum', momentum: 0.5, lr: 0.05 },
      ];
      const { job, windows, failed, kernels } = await ensemble(cs);
      await job;
      expect(failed.size).toBe(0);
      expect(kernels).toHaveLength(1);
      expect(kernels[0].optimizer.kind).toBe('momentum');
      for (let m = 0; m < cs.length; m++) same(windows.get(m)!, await trainWindow(cs[m], data!));
    });

    it('a lost device stops the job with its reason; windows handed out before stay', async () => {
      // Runs 0 and 2 end at step 240 (chunk 4 or so); run 1 at 480: the loss comes in between.
      const { job, windows, failed, kernels } = await ensemble(configs, 7);
      await expect(job).rejects.toThrow(/WebGPU device was lost \(stand-in\)/);
      expect(kernels[0].chunks).toBe(7);
      expect([...windows.keys()].sort()).toEqual([0, 2]);
      expect(failed.size).toBe(0);
      same(windows.get(0)!, await trainWindow(configs[0], data!));
    });

    it('after a lost device, a run continued on the CPU from its last checkpoint gives the summary of the run trained alone', async () => {
      // 80-step epochs at B = 100, 160 at B = 50. Run 0's window ends at step 240; run 1's warm-up
      // ends at 480 (epoch 3), run 2's window is steps 320–400 (warm-up of 4 epochs). The device
      // is lost at the chunk from step 384: run 1 is in its warm-up (last checkpoint: epoch 2),
      // run 2 inside its window (which cannot resume half-way: its start, epoch 4).
      const cs: RunConfig[] = [
        configs[0],
        { ...configs[1], warmupEpochs: 3 },
        { ...configs[2], warmupEpochs: 4 },
      ];
      const { job, windows, resumePoints } = await ensemble(cs, null, 360);
      await expect(job).rejects.toThrow(/WebGPU device was lost \(stand-in\)/);
      expect([...windows.keys()]).toEqual([0]);
      const points = [1, 2].map((m) => resumePoints.get(m)!);
      expect(points.map((p) => [p.epoch, p.step, p.trainErrors.length])).toEqual([
        [2, 320, 2],
        [4, 320, 4],
      ]);
      for (const m of [1, 2]) {
        const point = resumePoints.get(m)!;
        const trained: number[] = [];
        const resumed = await summariseRun(cs[m], data!, {
          resume: point,
          onProgress: (p) => {
            if (p.phase !== 'analysis') trained.push(p.epoch);
          },
        });
        // It continued: its first epoch is the one after the checkpoint.
        expect(trained[0]).toBe(point.epoch + 1);
        const alone = await summariseRun(cs[m], data!);
        // ψ, the window (its spacing, snapshots, variances), the training errors: bit for bit.
        expect(resumed.psi.exponent).toBe(alone.psi.exponent);
        expect(resumed.finalTrainError).toBe(alone.finalTrainError);
        expect(withoutTimings(resumed)).toEqual(withoutTimings(alone));
      }
    });

    it('a checkpoint of another width is refused, saying why', async () => {
      const point = { epoch: 1, step: 80, weights: initMlp(20, 3), trainErrors: [0.5] };
      await expect(summariseRun(configs[0], data!, { resume: point })).rejects.toThrow(
        'the checkpoint to continue from has h = 20, the run h = 12',
      );
    });

    it('a run that diverges fails alone; the others go on to their windows', async () => {
      const cs = [configs[0], { ...configs[2], lr: 1e4 }];
      const { job, windows, failed } = await ensemble(cs);
      await job;
      expect([...windows.keys()]).toEqual([0]);
      expect([...failed.keys()]).toEqual([1]);
      expect(failed.get(1)).toMatch(/diverge|not finite|loss/i);
      same(windows.get(0)!, await trainWindow(configs[0], data!));
    });

    it('refuses runs that cannot share one kernel, saying why', () => {
      expect(ensembleProblem([base, { ...base, hidden: 20 }])).toMatch(/same width/);
      expect(ensembleProblem([base, { ...base, optimizer: 'adam' }])).toMatch(
        /same optimizer \(sgd and adam\)/,
      );
      // One optimizer a kernel, whichever it is; μ may differ between runs.
      expect(
        ensembleProblem([
          { ...base, optimizer: 'momentum', momentum: 0.9 },
          { ...base, optimizer: 'momentum', momentum: 0.5 },
        ]),
      ).toBe(null);
      expect(ensembleProblem(configs)).toBe(null);
    });
  },
);
