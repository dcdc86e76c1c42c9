/**
 * WebGPU for the command line (issue 14): Node has it only through Dawn for Node, the npm
 * package `webgpu`, which is not a dependency of this project (CI machines have no GPU, and its
 * binary is ~30 MB). `--gpu auto` (the default) imports it if the user installed it
 * (GPU_INSTALL) and uses a hardware adapter it offers; a software adapter (SwiftShader,
 * llvmpipe) is never chosen automatically, as on the page, but `--gpu on` forces it. `--gpu on`
 * without the package or an adapter is an error naming the install command. Everything
 * Dawn-specific is here; the sweep on the device it opens is gpuSweep.ts.
 */
import { describeAdapter } from '../engine/backendInfo';

export const GPU_MODES = ['auto', 'off', 'on'] as const;
export type GpuMode = (typeof GPU_MODES)[number];

/** Installs Dawn for Node next to the project without recording it in package.json. */
export const GPU_INSTALL = 'npm install --no-save webgpu@0.6.2';

export const GPU_HELP =
  'sweeps: train the runs of each width and optimizer together on the GPU\n' +
  '(auto: a hardware adapter if Dawn for Node is installed; on: any\n' +
  'adapter, software too, else an error; off: the CPU only).\n' +
  `Dawn for Node: ${GPU_INSTALL}`;

/** What the `webgpu` package exports. */
export interface DawnModule {
  create: (flags: string[]) => GPU;
  globals: Record<string, unknown>;
}

export type DawnLoader = () => Promise<DawnModule>;

/** `import('webgpu')`: resolvable only where the user installed it. */
export const loadDawn: DawnLoader = async () => {
  // A name in a variable: neither tsc nor a bundler tries to resolve a package that is absent.
  const name = 'webgpu';
  const mod = (await import(name)) as Partial<DawnModule>;
  if (typeof mod.create !== 'function' || typeof mod.globals !== 'object' || !mod.globals)
    throw new Error('the installed webgpu package exports no create() and globals');
  return mod as DawnModule;
};

/** Where a sweep's runs may train, and why. */
export interface GpuChoice {
  /** The device the ensembles train on, or null: every run on the CPU. */
  device: GPUDevice | null;
  /** The adapter as the page's badge names it (vendor, architecture, device), if one was seen. */
  adapter: string | null;
  software: boolean;
  /** Why, in one sentence. */
  reason: string;
}

/** `--gpu on` cannot be honoured: the message is the command's one line. */
export class GpuUnavailableError extends Error {}

function message(e: unknown): string {
  return e instanceof Error ? e.message.split('\n')[0] : String(e);
}

const cpuOnly = (reason: string, adapter: string | null = null): GpuChoice => ({
  device: null,
  adapter,
  software: false,
  reason,
});

/** The device for `mode`; `load` is the package's import (tests pass a fake). */
export async function chooseGpu(mode: GpuMode, load: DawnLoader = loadDawn): Promise<GpuChoice> {
  if (mode === 'off') return cpuOnly('--gpu off: every run trains on the CPU');
  const refuse = (why: string, adapter: string | null = null): GpuChoice => {
    if (mode === 'on') throw new GpuUnavailableError(`--gpu on: ${why}`);
    return cpuOnly(`every run trains on the CPU: ${why}`, adapter);
  };
  let dawn: DawnModule;
  try {
    dawn = await load();
  } catch (e) {
    const missing = (e as { code?: unknown }).code === 'ERR_MODULE_NOT_FOUND';
    return refuse(
      missing
        ? `WebGPU for Node is not installed (${GPU_INSTALL})`
        : `WebGPU for Node did not load (${message(e)}; reinstall: ${GPU_INSTALL})`,
    );
  }
  // The fused kernel reads GPUBufferUsage, GPUMapMode and GPUShaderStage as globals.
  for (const [k, v] of Object.entries(dawn.globals))
    if (!(k in globalThis)) Object.defineProperty(globalThis, k, { value: v, configurable: true });
  let adapter: GPUAdapter | null;
  try {
    adapter = await dawn.create([]).requestAdapter({ powerPreference: 'high-performance' });
  } catch (e) {
    return refuse(`Dawn for Node offered no adapter (${message(e)})`);
  }
  if (!adapter) return refuse('Dawn for Node offered no WebGPU adapter on this machine');
  const { device: name, software } = describeAdapter(adapter);
  if (software && mode === 'auto')
    return cpuOnly(
      `every run trains on the CPU: the only adapter is a software one (${name}), never chosen automatically; --gpu on forces it`,
      name,
    );
  const lim = adapter.limits;
  try {
    // The limits the page's worker asks for (src/worker/fusedBackend.ts openDevice): the fused
    // kernel runs up to 1,024 threads per run where the adapter allows it.
    const device = await adapter.requestDevice({
      requiredLimits: {
        maxStorageBufferBindingSize: lim.maxStorageBufferBindingSize,
        maxComputeInvocationsPerWorkgroup: lim.maxComputeInvocationsPerWorkgroup,
        maxComputeWorkgroupSizeX: lim.maxComputeWorkgroupSizeX,
      },
    });
    return {
      device,
      adapter: name,
      software,
      reason: software
        ? `--gpu on: the software adapter ${name}, forced`
        : `the hardware adapter ${name}`,
    };
  } catch (e) {
    return refuse(`the adapter ${name} gave no device (${message(e)})`, name);
  }
}
