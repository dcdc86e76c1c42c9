// FusedTrainer's bookkeeping (chunks to epoch ends, steps handed out one by one, the fall-back
// to the CPU on a GPU fault) against the CPU trainer, with the GPU ensemble replaced by a CPU
// stand-in that steps the same SIMD kernel: any difference in the events is the bookkeeping's.
// The WGSL kernel itself is checked against a float64 step in tests/e2e/webgpu.test.mjs.
import { existsSync, readFileSync } from 'node:fs';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadEmbeddedDataset } from '../../src/engine/data/embedded';
import { FUSED_IMPL, FusedTrainer } from '../../src/engine/experiments/fusedTrainer';
import { trainingRun } from '../../src/engine/experiments/training';
import { runEvents, SMALL_RUN, type RunEventsOptions } from '../fixtures/fusedRun';
import { firstDiff } from '../fixtures/trainingEvents';
import { initMlp } from '../../src/engine/nets/mlp';
import * as fused from '../../src/engine/nets/webgpu/fusedMlp';
import { useBackend } from './tfBackend';

interface Control {
  /** The chunk (1-based) whose read-back fails as on a lost device, after drawing its batches. */
  failAtChunk: number | null;
  chunks: number;
  created: number[];
}

vi.mock('../../src/engine/nets/webgpu/fusedMlp', async () => {
  const { MinibatchSampler } = await import('../../src/engine/data/batches');
  const { SimdMlp } = await import('../../src/engine/nets/simdMlp');
  class FusedGpuError extends Error {}
  const control: Control = { failAtChunk: null, chunks: 0, created: [] };
  class FusedMlpEnsemble {
    readonly samplers: InstanceType<typeof MinibatchSampler>[] = [];
    readonly maxChunk: number;
    /** SGD only: momentum and Adam are fusedOptimizerFallback.test.ts's. */
    readonly optimizer = { kind: 'sgd' };
    private readonly net: InstanceType<typeof SimdMlp>;
    private lr: number;
    private constructor(
      private readonly train: { images: Uint8Array; labels: Uint8Array; count: number },
      spec: { weights: never; lr: number; batchSize: number },
      maxChunk: number,
    ) {
      this.net = new SimdMlp(spec.weights);
      this.lr = spec.lr;
      this.maxChunk = maxChunk;
    }
    static async create(
      _device: unknown,
      train: { images: Uint8Array; labels: Uint8Array; count: number },
      specs: { weights: never; lr: number; batchSize: number; seed: number }[],
      opts: { maxChunk?: number },
    ) {
      const s = specs[0];
      control.created.push(s.batchSize);
      const e = new FusedMlpEnsemble(train, s, opts.maxChunk ?? 64);
      e.samplers.push(new MinibatchSampler(train.count, s.batchSize, s.seed));
      return e;
    }
    get error(): string | null {
      return null;
    }
    setLr(_run: number, lr: number) {
      this.lr = lr;
    }
    /** The chunk queued last: reads wait for it, as the GPU's queue runs them in order. */
    private queue: Promise<unknown> = Promise.resolve();
    runChunk(steps: number, wantSnapshots = false) {
      const p = this.queue.then(() => this.chunk(steps, wantSnapshots));
      this.queue = p.catch(() => {});
      return p;
    }
    private async chunk(steps: number, wantSnapshots: boolean) {
      control.chunks++;
      const sampler = this.samplers[0];
      const idx = new Uint32Array(sampler.batchSize);
      // Float64 where the GPU gives float32: the comparison is of the bookkeeping, exactly.
      const loss = new Float64Array(steps);
      const errors = new Float64Array(steps);
      const h2 = this.net.hidden ** 2;
      const w2 = wantSnapshots ? new Float32Array(steps * h2) : undefined;
      for (let s = 0; s < steps; s++) {
        const B = sampler.nextInto(idx);
        if (control.chunks === control.failAtChunk) continue;
        const r = await this.net.stepIndices(this.train, idx, B, this.lr);
        loss[s] = r.loss;
        errors[s] = r.errors;
        w2?.set(r.w2!, s * h2);
      }
      if (control.chunks === control.failAtChunk)
        throw new FusedGpuError('the WebGPU device was lost (stand-in)');
      return { steps, loss, errors, w2 };
    }
    async readWeights() {
      await this.queue;
      return [await this.net.getWeights()];
    }
    dispose() {
      this.net.dispose();
    }
  }
  return { FusedGpuError, FusedMlpEnsemble, control };
});

const control = (fused as unknown as { control: Control }).control;
const dataPath = 'public/data/mnist-10k.bin';
const cfg = SMALL_RUN;

describe.skipIf(!existsSync(dataPath))('FusedTrainer (GPU replaced by a CPU stand-in)', () => {
  const data = existsSync(dataPath) ? loadEmbeddedDataset(readFileSync(dataPath)) : null;
  beforeAll(async () => {
    await useBackend('wasm');
  });
  beforeEach(() => {
    control.failAtChunk = null;
    control.chunks = 0;
    control.created.length = 0;
  });

  /** The run on the CPU trainer, or on the fused trainer over the mocked kernel. */
  function run(onGpu: boolean, opts: Omit<RunEventsOptions, 'fused'> = {}): Promise<unknown[]> {
    return runEvents(cfg, data!, {
      ...opts,
      fused: onGpu
        ? (cpu, onFallback) => FusedTrainer.create({} as GPUDevice, cpu, data!, cfg, { onFallback })
        : undefined,
    });
  }

  it('hands out the same run as the CPU trainer: steps, W2 snapshots, epochs, checkpoints', async () => {
    const cpu = await run(false);
    const impls: string[] = [];
    const gpu = await run(true, { impls });
    expect(impls).toEqual([FUSED_IMPL]);
    // Two chunks an epoch (64 + 16 steps), the last one ending where the epoch ends.
    expect(control.chunks).toBe(8);
    expect(gpu).toHaveLength(cpu.length);
    expect(firstDiff(gpu, cpu)).toBe(null);
  });

  it('a device lost mid-window: the run goes on from that chunk’s start on the CPU, nothing lost', async () => {
    const cpu = await run(false);
    control.failAtChunk = 6; // epochs 1–2: chunks 1–4; the window: chunk 5 (from step 160), 6
    const notes: string[] = [];
    const gpu = await run(true, { notes });
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(
      /^WebGPU failed at step 224 \(the WebGPU device was lost \(stand-in\)\); the run continues on wasm-simd/,
    );
    expect(firstDiff(gpu, cpu)).toBe(null);
  });

  it('a live B rebuilds the kernel at the next chunk and the run goes on to done', async () => {
    let step = 0;
    const steps: number[] = [];
    const gen = trainingRun(cfg, data!, {
      initial: initMlp(cfg.hidden, cfg.seed),
      controls: () => (step >= 100 ? { batchSize: 200 } : {}),
      trainer: (cpu) =>
        FusedTrainer.create({} as GPUDevice, cpu, data!, cfg, { onFallback: () => {} }),
    });
    let done = false;
    for await (const e of gen) {
      if (e.type === 'step') steps.push((step = e.step));
      if (e.type === 'done') done = true;
    }
    expect(done).toBe(true);
    expect(control.created).toEqual([100, 200]);
    // Every step once, in order, across the rebuild.
    expect(steps).toEqual(Array.from(steps, (_, i) => i + 1));
  });
});
