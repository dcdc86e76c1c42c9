/**
 * The trainer's TensorFlow.js, loaded when first needed. The backend choice is made at init
 * without tfjs when it can be (backendInfo.ts: a CPU backend whose step is the WebAssembly SIMD
 * kernel); tfjs then starts on that backend the first time a tfjs step, the Langevin contrast,
 * a forgetting sweep or noise shaping asks for it (`tfSide`). The default run — the σ²–F run on
 * the SIMD step, or on the fused WebGPU trainer, which evaluates on the SIMD kernel — fetches
 * no tfjs at all.
 */
import { cpuChoiceWithoutTf, type BackendChoice, type BackendOptions } from '../engine/backendInfo';
import type { RunNets } from '../engine/experiments/training';
import { SimdMlp } from '../engine/nets/simdMlp';

type TfSide = typeof import('./tfSide');

/** selectBackend's options for the CPU backend chosen without tfjs; null: none was deferred. */
let deferred: BackendOptions | null = null;
let side: Promise<TfSide> | null = null;

/** The tfjs side of the worker, its backend started (the one `chooseBackend` deferred). */
export function tfSide(): Promise<TfSide> {
  side ??= import('./tfSide')
    .then(async (m) => {
      if (deferred) await m.selectBackend(deferred);
      return m;
    })
    .catch((e: unknown) => {
      // A failed fetch or backend start is not kept: the next command that needs tfjs retries.
      side = null;
      throw e;
    });
  return side;
}

/**
 * selectBackend's choice; tfjs is not loaded when that choice is a CPU backend whose step is
 * the SIMD kernel (it starts on that backend later, if ever, trying wasm then cpu unless forced).
 */
export async function chooseBackend(opts: BackendOptions): Promise<BackendChoice> {
  const cpu = await cpuChoiceWithoutTf(opts, SimdMlp.available());
  if (!cpu) return (await tfSide()).selectBackend(opts);
  const { wasmPaths, wasmFetch } = opts;
  deferred = opts.forced
    ? { wasmPaths, wasmFetch, forced: cpu.name }
    : { wasmPaths, wasmFetch, exclude: ['webgpu', 'webgl'] };
  return cpu;
}

/**
 * The trainer's networks: the SIMD step without tfjs where createNet would choose it (plain SGD,
 * a CPU backend, the kernel compiles), tfjs's otherwise.
 */
export const WORKER_NETS: RunNets = {
  async net(weights, choice, optimizer) {
    const simd =
      optimizer.kind === 'sgd' &&
      (choice === 'wasm-simd' ||
        (choice === 'auto' && deferred !== null && SimdMlp.available(weights.hidden)));
    if (simd) return new SimdMlp(weights);
    return (await tfSide()).TF_RUN_NETS.net(weights, choice, optimizer);
  },
  async langevin(start, train, temperature, lr, seed) {
    return (await tfSide()).TF_RUN_NETS.langevin(start, train, temperature, lr, seed);
  },
};
