// The memory terms for the curvature figures and for a flatness share on the page's pool
// (memoryPolicy.ts) against what the real code holds on a small problem: every buffer reachable
// from a kernel (typed arrays, WebAssembly memories), each ArrayBuffer once, or the buffers a
// kernel hands to its operator.
import { describe, expect, it } from 'vitest';
import { C, P, h, heldBytes, problem, vector } from '../fixtures/heldBytes';
import {
  EMBEDDED_DATA_SHAPE,
  MEMORY_BUDGET_BYTES,
  curvatureBytes,
  estimateRunMemory,
  flatnessSearchBytes,
  flatnessShareWorkerBytes,
  sgdWindowEvery,
} from '../../src/engine/experiments/memoryPolicy';
import { DEFAULT_CONFIG, type RunConfig } from '../../src/engine/experiments/config';
import { PlainFullSetLoss } from '../../src/engine/landscape/fullSetLossPlain';
import { W2Hessian, hessianBytes, hessianCentreBytes } from '../../src/engine/landscape/hessian';
import { lanczos, lanczosBytes } from '../../src/engine/landscape/lanczos';
import { firstLayerH1, firstLayerWorkspaceDoubles } from '../../src/engine/nets/firstLayerPlain';
import { eigenWorkspace } from '../../src/engine/pca/eigen';
import { workspaceBytes } from '../../src/engine/pca/kernels';
import { PRESETS } from '../../src/state/configSchema';
import { poolSizing } from '../../src/ui/poolSize';

/** The byte sizes of the WebAssembly memories `f` creates. */
function wasmMemoriesOf(f: () => void): number[] {
  const wasm = WebAssembly as unknown as { Memory: typeof WebAssembly.Memory };
  const Original = wasm.Memory;
  const made: number[] = [];
  wasm.Memory = class extends Original {
    constructor(d: WebAssembly.MemoryDescriptor) {
      super(d);
      made.push(this.buffer.byteLength);
    }
  };
  try {
    f();
  } finally {
    wasm.Memory = Original;
  }
  return made;
}

describe('the curvature computation holds what the memory estimate counts', () => {
  const N = 500;

  it('a Hessian built from data: H1 as float64 and its centre; another centre shares H1', async () => {
    const data = problem(N);
    const hess = await W2Hessian.fromData(data, vector(0));
    expect(heldBytes(hess)).toBe(hessianBytes(N, h, C));
    const moved = hess.at(vector(1));
    expect(heldBytes([hess, moved])).toBe(hessianBytes(N, h, C) + hessianCentreBytes(N, h, C));
  });

  it("building H1: the float32 rows and the first layer's GEMM workspace", () => {
    const data = problem(N);
    let h1: Float32Array = new Float32Array(0);
    const memories = wasmMemoriesOf(() => {
      h1 = firstLayerH1(data.images, data.w1, P, h, N);
    });
    expect(h1.byteLength).toBe(N * h * 4);
    expect(memories).toEqual([workspaceBytes(firstLayerWorkspaceDoubles(N, P, h))]);
  });

  it('a Lanczos run: its basis, residual and Ritz vectors', () => {
    const dim = h * h;
    const m = 30;
    const k = 20;
    const buffers = new Set<ArrayBufferLike>();
    const diag = Float64Array.from({ length: dim }, (_, i) => 1 + i);
    const res = lanczos(
      {
        dim,
        apply(v, out) {
          buffers.add(v.buffer);
          buffers.add(out.buffer);
          for (let i = 0; i < dim; i++) out[i] = diag[i] * v[i];
        },
      },
      { iterations: m, vectors: k },
    );
    // The operator sees the basis Q (m·dim) and the residual w (dim); the start vector q (dim)
    // is a local of its own; the rest is the m-sized tridiagonal problem.
    const seen = [...buffers].reduce((a, b) => a + b.byteLength, 0);
    expect(seen).toBe(8 * (m + 1) * dim);
    expect(res.vectors.byteLength).toBe(8 * k * dim);
    const tridiagonal = 8 * (4 * m + 3 * m * m + eigenWorkspace(m, m));
    expect(lanczosBytes(dim, m, k)).toBe(seen + 8 * dim + res.vectors.byteLength + tridiagonal);
  });

  it('the peak: both Hessians and the largest of a build, the Lanczos run and a GD step', () => {
    const dim = h * h;
    const hess = hessianBytes(N, h, C);
    const build = N * h * 4 + workspaceBytes(firstLayerWorkspaceDoubles(N, P, h));
    const gdStep = hessianCentreBytes(N, h, C) + 16 * dim + lanczosBytes(dim, 20, 0);
    expect(curvatureBytes(N, h, P)).toBe(
      Math.max(
        hess + Math.max(build, lanczosBytes(dim, 30, 20) + 8 * dim),
        2 * hess + Math.max(build, gdStep),
      ),
    );
  });
});

describe("a flatness share's loss on a pool worker", () => {
  it('holds at most what flatnessSearchBytes counts, within one direction', async () => {
    const N = 600;
    const perDirection = PlainFullSetLoss.bytesPerDirection(N, h, C);
    // The default budget (64 MiB) filled: one direction more than it keeps.
    const loss = new PlainFullSetLoss(problem(N));
    const kept = loss.directionCapacity;
    await loss.evaluate(
      vector(0),
      Array.from({ length: kept + 1 }, (_, k) => ({ direction: vector(k + 1), delta: 0.1 })),
    );
    const held = heldBytes(loss);
    loss.dispose();
    expect(held).toBeLessThanOrEqual(flatnessSearchBytes(N, h));
    expect(held).toBeGreaterThan(flatnessSearchBytes(N, h) - perDirection);
  });

  it("counts the worker's data copy beside it", () => {
    const shape = { ...EMBEDDED_DATA_SHAPE, trainCount: 600, testCount: 100, inputSize: P };
    expect(flatnessShareWorkerBytes(600, h, shape)).toBe(
      700 * (P + 1) + flatnessSearchBytes(600, h),
    );
  });
});

describe('the new terms at the paper preset', () => {
  const part = (c: RunConfig, what: RegExp) =>
    estimateRunMemory(c, EMBEDDED_DATA_SHAPE).parts.find((p) => what.test(p.what))?.bytes;
  const MiB = 2 ** 20;

  it('curvature is a part of the run, about 13 MB on 8,000 digits at h = 50', () => {
    const bytes = part(DEFAULT_CONFIG, /^curvature/)!;
    expect(bytes).toBe(curvatureBytes(8000, 50, 784));
    expect(Math.round(bytes / MiB)).toBe(13);
  });

  it("a share's worker holds 78 MB there, which sizes the pool for shares (9 of 16 asked)", () => {
    const share = flatnessShareWorkerBytes(8000, 50, EMBEDDED_DATA_SHAPE);
    expect(Math.round(share / MiB)).toBe(78);
    expect(poolSizing(32, 16, 0).size).toBe(16);
    expect(poolSizing(32, 16, share).size).toBe(9);
  });

  it('refuse no preset and stride none that kept every step', () => {
    for (const p of PRESETS) {
      const c: RunConfig = { ...DEFAULT_CONFIG, ...p.config };
      expect(sgdWindowEvery(c, EMBEDDED_DATA_SHAPE), p.id).toBe(1);
      expect(estimateRunMemory(c, EMBEDDED_DATA_SHAPE).total).toBeLessThan(MEMORY_BUDGET_BYTES);
    }
  });
});
