/**
 * What the backend choice knows without TensorFlow.js: the candidates, the GPU probes
 * (WebGPU adapter, WebGL renderer), and the choice itself when it is a CPU backend whose step is
 * the WebAssembly SIMD kernel, so tfjs can load later (backend.ts's selectBackend starts tfjs).
 */
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
  /**
   * Where a hardware adapter's fused step was timed against the CPU step (fusedProbe.ts): both
   * speeds, which a sweep weighs its GPU ensemble against (ensembleChoice.ts).
   */
  fusedProbe?: { adapter: string; fused: number; cpu: number; cpuName: string };
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

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** selectBackend's candidates, in order: the forced one, or all but the excluded. */
export function backendCandidates(opts: BackendOptions): readonly BackendName[] {
  return opts.forced ? [opts.forced] : BACKENDS.filter((b) => !opts.exclude?.includes(b));
}

/**
 * Whether a GPU candidate may be tried: its device, and why it is skipped when it is not (no
 * adapter or context, or a software one unless forced: SwiftShader is 7–100× slower than wasm).
 */
export async function screenGpu(
  name: 'webgpu' | 'webgl',
  forced: boolean,
): Promise<{ device: string; skip?: string }> {
  let probe;
  try {
    probe = name === 'webgpu' ? await probeWebGpu() : probeWebGl();
  } catch (e) {
    probe = { ok: false, software: false, device: message(e) };
  }
  if (!probe.ok) return { device: probe.device, skip: probe.device };
  if (probe.software && !forced)
    return { device: probe.device, skip: `software adapter (${probe.device}) is slower than wasm` };
  return { device: probe.device };
}

/**
 * selectBackend's choice, made without TensorFlow.js, when it is a CPU backend and the run's
 * step there is the WebAssembly SIMD kernel (`simd`: it compiles here), so tfjs need not start
 * until a tfjs step is asked for; null when the choice needs tfjs now: a forced GPU backend, a
 * hardware GPU (timed against wasm with tfjs), or no SIMD. The reasons are selectBackend's.
 */
export async function cpuChoiceWithoutTf(
  opts: BackendOptions,
  simd: boolean,
): Promise<BackendChoice | null> {
  if (!simd) return null;
  const skipped: BackendChoice['skipped'] = [];
  for (const name of backendCandidates(opts)) {
    const forced = opts.forced === name;
    if (name === 'webgpu' || name === 'webgl') {
      const gpu = await screenGpu(name, forced);
      if (!gpu.skip) return null;
      skipped.push({ name, reason: gpu.skip });
      continue;
    }
    const reason = forced
      ? `forced by ?backend=${name}`
      : name === 'wasm'
        ? 'fastest CPU backend (single thread)'
        : 'last resort: plain JavaScript';
    return { name, reason, skipped };
  }
  return null;
}
