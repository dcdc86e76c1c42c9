// A momentum or Adam run on the fused trainer (FusedTrainer) that falls back to the CPU mid-run,
// or rebuilds its kernel for a live B, continues with the optimizer's state read back from the
// GPU: its events are those of the same run trained on the CPU throughout. The GPU kernel is
// replaced by a CPU stand-in lane stepping the CPU path's own TfMlp on the run's sampler, so any
// difference is the hand-over's. The WGSL optimizers are checked against a float64 step in
// tests/e2e/webgpu.test.mjs.
import { existsSync, readFileSync } from 'node:fs';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadEmbeddedDataset } from '../../src/engine/data/embedded';
import type { RunConfig } from '../../src/engine/experiments/config';
import {
  FUSED_IMPL,
  FusedTrainer,
  type FusedLaneFactory,
} from '../../src/engine/experiments/fusedTrainer';
import { fillBatch } from '../../src/engine/experiments/training';
import { runEvents, SMALL_RUN, type RunEventsOptions } from '../fixtures/fusedRun';
import { firstDiff } from '../fixtures/trainingEvents';
import { cloneWeights } from '../../src/engine/nets/mlp';
import { allocBatch, type OptimizerState } from '../../src/engine/nets/netTypes';
import { TfMlp } from '../../src/engine/nets/tfMlp';
import { FusedGpuError } from '../../src/engine/nets/webgpu/fusedRuntime';
import type { Dataset } from '../../src/engine/data/dataset';
import { useBackend } from './tfBackend';

interface Control {
  /** The chunk (1-based) that fails as on a lost device, after drawing its batches. */
  failAtChunk: number | null;
  /** Hand back no optimizer state (as a trainer that forgot it would): the negative control. */
  dropState: boolean;
  chunks: number;
  /** Each kernel built: its B and the state it started from. */
  built: { B: number; state: OptimizerState | null }[];
}

const control: Control = { failAtChunk: null, dropState: false, chunks: 0, built: [] };

/** Lanes that step TfMlp (the CPU path's net for momentum and Adam) on the run's sampler. */
function standInLanes(data: Dataset): FusedLaneFactory {
  return async (weights, lr, sampler, optimizer) => {
    control.built.push({ B: sampler.batchSize, state: optimizer.state });
    const net = new TfMlp(cloneWeights(weights), 'explicit-transpose', optimizer.settings);
    if (optimizer.state) net.setOptimizerState(optimizer.state);
    let rate = lr;
    return {
      maxChunk: 64,
      setLr: (v) => (rate = v),
      async run(steps, wantSnapshots) {
        const fail = ++control.chunks === control.failAtChunk;
        const B = sampler.batchSize;
        const idx = new Uint32Array(B);
        const batch = allocBatch(B, 784);
        // Float64 where the GPU gives float32: the comparison is of the hand-over, exactly.
        const loss = new Float64Array(steps);
        const errors = new Float64Array(steps);
        const h2 = net.hidden ** 2;
        const w2 = wantSnapshots ? new Float32Array(steps * h2) : undefined;
        for (let s = 0; s < steps; s++) {
          sampler.nextInto(idx);
          if (fail) continue;
          fillBatch(data.train, idx, B, batch);
          const r = await net.step(batch, rate);
          loss[s] = r.loss;
          errors[s] = r.errors;
          w2?.set(r.w2, s * h2);
        }
        if (fail) throw new FusedGpuError('the WebGPU device was lost (stand-in)');
        return {
          chunk: { steps, loss, errors, w2 } as never,
          weights: await net.getWeights(),
          state: control.dropState ? null : await net.getOptimizerState(),
        };
      },
      dispose: () => net.dispose(),
    };
  };
}

const dataPath = 'public/data/mnist-10k.bin';
const momentum: RunConfig = { ...SMALL_RUN, optimizer: 'momentum', momentum: 0.9, lr: 0.01 };
const adam: RunConfig = { ...SMALL_RUN, optimizer: 'adam', lr: 0.001 };

describe.skipIf(!existsSync(dataPath))(
  'momentum and Adam on the fused trainer hand their state over (GPU replaced by a CPU stand-in)',
  () => {
    const data = existsSync(dataPath) ? loadEmbeddedDataset(readFileSync(dataPath)) : null;
    beforeAll(async () => {
      await useBackend('wasm');
    });
    /** The step the run in progress has reached (for live controls). */
    let liveStep = 0;
    beforeEach(() => {
      control.failAtChunk = null;
      control.dropState = false;
      control.chunks = 0;
      control.built.length = 0;
    });

    /** The run on the CPU trainer, or on the fused trainer over the stand-in lanes. */
    function run(
      cfg: RunConfig,
      onGpu: boolean,
      opts: Omit<RunEventsOptions, 'fused' | 'onStep'> = {},
    ): Promise<unknown[]> {
      liveStep = 0;
      return runEvents(cfg, data!, {
        ...opts,
        fused: onGpu
          ? (cpu, onFallback) => FusedTrainer.onLane(cpu, cfg, standInLanes(data!), { onFallback })
          : undefined,
        onStep: (step) => (liveStep = step),
      });
    }

    for (const [cfg, words] of [
      [momentum, 'momentum’s velocities'],
      [adam, 'Adam’s moments and step count'],
    ] as const)
      it(`${cfg.optimizer}: a device lost mid-window, the run goes on on the CPU with the optimizer where it stood`, async () => {
        const cpu = await run(cfg, false);
        control.failAtChunk = 6; // epochs 1–2: chunks 1–4; the window: chunk 5 (from step 160), 6
        const notes: string[] = [];
        const impls: string[] = [];
        const gpu = await run(cfg, true, { notes, impls });
        expect(impls).toEqual([FUSED_IMPL]);
        expect(notes).toHaveLength(1);
        expect(notes[0]).toContain(
          `WebGPU failed at step 224 (the WebGPU device was lost (stand-in)); the run continues on explicit-transpose from there with the weights (and ${words}) read back from the GPU`,
        );
        expect(firstDiff(gpu, cpu)).toBe(null);
      });

    it('momentum: without the velocities the fallen-back run would differ (the check can fail)', async () => {
      const cpu = await run(momentum, false);
      control.failAtChunk = 6;
      control.dropState = true;
      const gpu = await run(momentum, true);
      // The steps before the fault agree; the first after it does not.
      expect(firstDiff(gpu, cpu)).toMatch(/"step":225/);
    });

    it('momentum: a live B rebuilds the kernel from the velocities read back', async () => {
      // Asked for at step 100, B changes on the GPU from the next chunk, the one from step 144
      // (chunks of 64 and 16 steps an epoch): the CPU run changes it there too.
      const at = (step: number) => () => (liveStep >= step ? { batchSize: 200 } : {});
      const cpu = await run(momentum, false, { controls: at(144) });
      const gpu = await run(momentum, true, { controls: at(100) });
      expect(control.built.map((b) => b.B)).toEqual([100, 200]);
      expect(control.built[0].state).toBe(null);
      expect(control.built[1].state?.moments).toHaveLength(1);
      expect(firstDiff(gpu, cpu)).toBe(null);
    });
  },
);
