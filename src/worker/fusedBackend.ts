/// <reference types="@webgpu/types" />
/**
 * The trainer's WebGPU side: whether the page's runs train on the fused WGSL trainer, the
 * device it runs on, and which runs it takes.
 *
 * Choice: unforced, a hardware adapter's fused step is timed against the WebAssembly SIMD step
 * (fusedProbe.ts) and the faster one trains; a software adapter (SwiftShader, llvmpipe) is never
 * chosen. `?backend=webgpu` forces the fused trainer, on any adapter (the tests run it so). Either
 * way tfjs itself runs on wasm: what the fused kernel does not train (the deeper networks,
 * section 6) trains there, and the badge says so. The fused kernel trains SGD, momentum and
 * Adam. Section 7's sweep runs train as fused ensembles (one per width and optimizer) in a job
 * worker on a device of its own (poolSweeps.ts).
 */
import { describeAdapter, type BackendChoice, type BackendOptions } from '../engine/backendInfo';
import { chooseBackend } from './tfLazy';
import type { RunConfig } from '../engine/experiments/config';
import { FusedTrainer } from '../engine/experiments/fusedTrainer';
import type { FusedLayout } from '../engine/nets/webgpu/fusedTrainer';
import {
  fusedChoice,
  fusedStepsPerSecond,
  simdStepsPerSecond,
} from '../engine/experiments/fusedProbe';
import type { Dataset } from '../engine/data/dataset';
import type { RunTrainer, SgdTrainer } from '../engine/experiments/training';
import { TEST_HOOKS } from '../protocol/testHooks';

/** Set once the fused trainer was chosen; the device is requested again if it was lost. */
let chosen = false;
let device: GPUDevice | null = null;
/** The fused kernel's layout: the faster on a hardware adapter, one workgroup per run on a software one. */
let layout: FusedLayout = 'workgroup';
/** Test builds only: the device is destroyed when a fused run is about to run this step. */
let loseAtStep: number | null = null;

/** A WebGPU device with the limits the fused kernel uses (also the job workers' ensembles). */
export async function openDevice(): Promise<{
  device: GPUDevice;
  name: string;
  software: boolean;
}> {
  const gpu = (globalThis.navigator as { gpu?: GPU } | undefined)?.gpu;
  if (!gpu) throw new Error('navigator.gpu is absent (no WebGPU in this browser)');
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new Error('no WebGPU adapter was offered');
  const { device: name, software } = describeAdapter(adapter);
  const lim = adapter.limits;
  // The fused kernel runs 1,024 threads per run where allowed (2.1× 256 on an H200).
  const d = await adapter.requestDevice({
    requiredLimits: {
      maxStorageBufferBindingSize: lim.maxStorageBufferBindingSize,
      maxComputeInvocationsPerWorkgroup: lim.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupSizeX: lim.maxComputeWorkgroupSizeX,
    },
  });
  void d.lost.then(() => {
    if (device === d) device = null;
  });
  return { device: d, name, software };
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * The trainer's backend: tfjs's (selectBackend, through tfLazy.ts: tfjs loads only when that
 * choice needs it) plus, for WebGPU, the fused trainer. Unforced,
 * webgpu means the fused trainer measured faster than wasm; tfjs's own WebGPU step is not tried
 * (8–10× slower than wasm for this network, README).
 */
export async function chooseTrainerBackend(opts: BackendOptions): Promise<BackendChoice> {
  if (opts.forced && opts.forced !== 'webgpu') return chooseBackend(opts);
  let gpu;
  try {
    gpu = await openDevice();
  } catch (e) {
    if (opts.forced)
      throw new Error(`No TensorFlow.js backend could start: webgpu: ${message(e)}`, { cause: e });
    const skip = { name: 'webgpu' as const, reason: message(e) };
    const base = await chooseBackend({ ...opts, exclude: ['webgpu'] });
    return { ...base, skipped: [skip, ...base.skipped] };
  }
  if (opts.forced) {
    await chooseBackend({ ...opts, forced: 'wasm' });
    chosen = true;
    device = gpu.device;
    // A software adapter pays per workgroup (the split layout ran 0.75 steps/s against 12.5 on
    // SwiftShader): timing both there would cost the page seconds, so it is named.
    if (!gpu.software) layout = (await fasterLayout(gpu.device)).layout;
    return {
      name: 'webgpu',
      reason: `forced by ?backend=webgpu: the fused WGSL trainer (${layout} layout) on ${gpu.name} (runs it does not train use wasm)`,
      skipped: [],
      device: gpu.name,
    };
  }
  const base = await chooseBackend({ ...opts, exclude: ['webgpu'] });
  if (gpu.software) {
    gpu.device.destroy();
    const reason = `software adapter (${gpu.name}) is slower than wasm`;
    return { ...base, skipped: [{ name: 'webgpu', reason }, ...base.skipped] };
  }
  let fused: { layout: FusedLayout; stepsPerSec: number };
  try {
    fused = await fasterLayout(gpu.device);
  } catch (e) {
    gpu.device.destroy();
    const reason = `the fused trainer failed on ${gpu.name}: ${message(e)}`;
    return { ...base, skipped: [{ name: 'webgpu', reason }, ...base.skipped] };
  }
  const simd = simdStepsPerSecond();
  const choice = fusedChoice(base, {
    adapter: gpu.name,
    layout: fused.layout,
    fused: fused.stepsPerSec,
    cpu: simd ?? (opts.probe ? await opts.probe() : 0),
    cpuName: simd !== null ? 'wasm' : base.name,
  });
  if (choice.name === 'webgpu') {
    chosen = true;
    device = gpu.device;
    layout = fused.layout;
  } else gpu.device.destroy();
  return choice;
}

/** Times one run in each layout of the fused kernel and keeps the faster. */
async function fasterLayout(d: GPUDevice): Promise<{ layout: FusedLayout; stepsPerSec: number }> {
  const workgroup = await fusedStepsPerSecond(d, 'workgroup');
  const split = await fusedStepsPerSecond(d, 'split');
  return split > workgroup
    ? { layout: 'split', stepsPerSec: split }
    : { layout: 'workgroup', stepsPerSec: workgroup };
}

/** Why the fused trainer does not take this run (null: it does), when the fused backend is on. */
function notFused(config: RunConfig): string | null {
  if ((config.stepImpl ?? 'auto') !== 'auto')
    return `the step is set to ${config.stepImpl} (stepImpl), so the fused WebGPU kernel is not used`;
  return null;
}

export interface FusedRunHooks {
  /** The step implementation changed (or was chosen) for a reason the page should show. */
  onNote: (note: string, impl?: string) => void;
}

/**
 * The trainer factory for trainingRun when the fused backend is on and takes this run; undefined
 * otherwise (after telling `onNote` why, where the fused backend is on).
 */
export function fusedTrainerFor(
  config: RunConfig,
  data: Dataset,
  hooks: FusedRunHooks,
): ((cpu: SgdTrainer) => Promise<RunTrainer>) | undefined {
  if (!chosen) return undefined;
  const why = notFused(config);
  if (why) {
    hooks.onNote(why);
    return undefined;
  }
  return async (cpu) => {
    if (!device) {
      try {
        device = (await openDevice()).device;
      } catch (e) {
        hooks.onNote(
          `the WebGPU device is gone (${message(e)}); this run trains on ${cpu.impl}`,
          cpu.impl,
        );
        return cpu;
      }
    }
    const d = device;
    return FusedTrainer.create(d, cpu, data, config, {
      onFallback: hooks.onNote,
      layout,
      beforeChunk: TEST_HOOKS
        ? (step) => {
            if (loseAtStep !== null && step >= loseAtStep) {
              loseAtStep = null;
              d.destroy();
            }
          }
        : undefined,
    });
  };
}

/** Test builds only: the fused run loses its device when it reaches `step`. */
export function loseGpuAt(step: number): void {
  if (TEST_HOOKS) loseAtStep = step;
}
