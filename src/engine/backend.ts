/**
 * Backend choice: webgpu → webgl → wasm → cpu, but never a software GPU over wasm.
 * Headless Chromium without a GPU offers SwiftShader for both WebGPU and WebGL, 7–100× slower
 * than wasm (NOTES-platform.md), so a GPU backend is taken only when its adapter is real.
 * Every skipped candidate is recorded with its reason so the UI can say why.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-backend-webgpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';

export const BACKENDS = ['webgpu', 'webgl', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];

export function isBackendName(s: string): s is BackendName {
  return (BACKENDS as readonly string[]).includes(s);
}

export interface BackendChoice {
  name: BackendName;
  reason: string;
  skipped: { name: BackendName; reason: string }[];
  /** The GPU adapter or renderer description, when a GPU backend was probed. */
  device?: string;
}

export interface BackendOptions {
  /** Use only this backend (the `?backend=` URL parameter); a software GPU is then accepted. */
  forced?: BackendName;
  /** Where the three .wasm binaries are served: a prefix or a map from file name to URL. */
  wasmPaths?: string | Record<string, string>;
  /**
   * Measures the current backend (steps/s of the real workload). When given, a hardware GPU is
   * kept only if it beats wasm on that measure: for a network this small, a GPU's per-step
   * latency can outweigh its arithmetic (measured: 300 steps/s on an H200 through WebGPU
   * against ~1,500 on one CPU core with wasm).
   */
  probe?: () => Promise<number>;
  /**
   * Fetches a .wasm binary for tfjs instead of its own fetch (e.g. one network fetch shared by
   * two workers, src/worker/wasmOnce.ts).
   */
  wasmFetch?: (url: string) => Promise<Response>;
  /** Candidates not to try (the caller decided on them itself, e.g. the fused WebGPU trainer). */
  exclude?: readonly BackendName[];
}

export interface GpuAdapterLike {
  isFallbackAdapter?: boolean;
  info?: {
    vendor?: string;
    architecture?: string;
    device?: string;
    description?: string;
    isFallbackAdapter?: boolean;
  };
}
interface GpuLike {
  requestAdapter(opts?: { powerPreference?: string }): Promise<GpuAdapterLike | null>;
}

const SOFTWARE = /swiftshader|llvmpipe|lavapipe|software|basic render|mesa offscreen/i;

async function probeWebGpu(): Promise<{ ok: boolean; software: boolean; device: string }> {
  const gpu = (globalThis.navigator as { gpu?: GpuLike } | undefined)?.gpu;
  if (!gpu)
    return {
      ok: false,
      software: false,
      device: 'navigator.gpu is absent (no WebGPU in this browser)',
    };
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) return { ok: false, software: false, device: 'no WebGPU adapter was offered' };
  return { ok: true, ...describeAdapter(adapter) };
}

/** A WebGPU adapter's name, and whether it is a software one (never chosen over wasm unforced). */
export function describeAdapter(adapter: GpuAdapterLike): { device: string; software: boolean } {
  const info = adapter.info ?? {};
  const device =
    [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ') ||
    'unknown adapter';
  const software = Boolean(
    adapter.isFallbackAdapter || info.isFallbackAdapter || SOFTWARE.test(device),
  );
  return { device, software };
}

function probeWebGl(): { ok: boolean; software: boolean; device: string } {
  const Canvas = (
    globalThis as {
      OffscreenCanvas?: new (w: number, h: number) => { getContext(t: string): unknown };
    }
  ).OffscreenCanvas;
  if (!Canvas)
    return { ok: false, software: false, device: 'OffscreenCanvas is absent (no WebGL here)' };
  const gl = new Canvas(1, 1).getContext('webgl2') as WebGL2RenderingContext | null;
  if (!gl) return { ok: false, software: false, device: 'no WebGL2 context' };
  const ext = gl.getExtension('WEBGL_debug_renderer_info');
  const renderer = String(
    ext ? gl.getParameter(ext.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER),
  );
  return { ok: true, software: SOFTWARE.test(renderer), device: renderer };
}

async function trySet(name: BackendName): Promise<string | null> {
  try {
    const ok = await tf.setBackend(name);
    if (!ok) return `tf.setBackend('${name}') failed`;
    await tf.ready();
    return null;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

/** Sends tfjs's fetches of .wasm files to `f` (tfjs uses its platform's fetch when told to). */
function routeWasmFetch(f: (url: string) => Promise<Response>): void {
  const platform = tf.env().platform;
  const plain = platform.fetch.bind(platform);
  platform.fetch = (path, init, details) =>
    /\.wasm(\?|$)/.test(path) ? f(path) : plain(path, init, details);
}

export async function selectBackend(opts: BackendOptions = {}): Promise<BackendChoice> {
  if (opts.wasmPaths) setWasmPaths(opts.wasmPaths, Boolean(opts.wasmFetch));
  if (opts.wasmFetch) routeWasmFetch(opts.wasmFetch);
  // Single-threaded by design: the page runs without cross-origin isolation (no
  // SharedArrayBuffer) and its workers already use the cores (README); the threaded binary is
  // not shipped, so tfjs must not reach for it.
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  const skipped: BackendChoice['skipped'] = [];
  const candidates: readonly BackendName[] = opts.forced
    ? [opts.forced]
    : BACKENDS.filter((b) => !opts.exclude?.includes(b));
  for (const name of candidates) {
    const forced = opts.forced === name;
    let device: string | undefined;
    if (name === 'webgpu' || name === 'webgl') {
      let probe;
      try {
        probe = name === 'webgpu' ? await probeWebGpu() : probeWebGl();
      } catch (e) {
        probe = { ok: false, software: false, device: e instanceof Error ? e.message : String(e) };
      }
      device = probe.device;
      if (!probe.ok) {
        skipped.push({ name, reason: probe.device });
        continue;
      }
      if (probe.software && !forced) {
        skipped.push({ name, reason: `software adapter (${probe.device}) is slower than wasm` });
        continue;
      }
    }
    const err = await trySet(name);
    if (err) {
      skipped.push({ name, reason: err });
      continue;
    }
    if ((name === 'webgpu' || name === 'webgl') && !forced && opts.probe) {
      const gpuRate = await opts.probe();
      const wasmErr = await trySet('wasm');
      if (!wasmErr) {
        const wasmRate = await opts.probe();
        const rates = `${Math.round(gpuRate)} vs ${Math.round(wasmRate)} steps/s`;
        if (wasmRate > gpuRate) {
          skipped.push({
            name,
            reason: `hardware GPU (${device}) measured slower than wasm for this network: ${rates}`,
          });
          return {
            name: 'wasm',
            reason: `fastest measured (wasm ${Math.round(wasmRate)} steps/s, ${name} ${Math.round(gpuRate)})`,
            skipped,
          };
        }
        await trySet(name);
        return {
          name,
          reason: `hardware GPU: ${device}; fastest measured (${name} ${rates} on wasm)`,
          skipped,
          device,
        };
      }
    }
    const reason = forced
      ? `forced by ?backend=${name}`
      : name === 'webgpu' || name === 'webgl'
        ? `hardware GPU: ${device}`
        : name === 'wasm'
          ? 'fastest CPU backend (single thread)'
          : 'last resort: plain JavaScript';
    return { name, reason, skipped, device };
  }
  throw new Error(
    `No TensorFlow.js backend could start: ${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}`,
  );
}
