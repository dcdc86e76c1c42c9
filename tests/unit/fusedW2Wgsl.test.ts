// The task-2 ensemble kernel's host side (src/engine/nets/webgpu/fusedW2Wgsl.ts,
// fusedW2Ensemble.ts): the packing of the runs' proximal steps and of the evaluation sets into
// the layouts the shader reads, the shader's specialisation and limits, and the refusals made
// before any GPU work. Its arithmetic is checked on a GPU adapter against the float64 reference
// in tests/e2e/webgpu.test.mjs (there is no WebGPU in Node here).
import { describe, expect, it } from 'vitest';
import type { W2EnsembleShared, W2Prox } from '../../src/engine/forgetting/w2EnsembleKernel';
import { FusedW2Ensemble } from '../../src/engine/nets/webgpu/fusedW2Ensemble';
import {
  BATCH_TILE,
  batchTiles,
  fusedW2ScoreWgsl,
  fusedW2StepWgsl,
  packEvalSets,
  packW2Runs,
  SCORE_WORKGROUP,
  SET_RECORD,
  w2ScratchFloats,
} from '../../src/engine/nets/webgpu/fusedW2Wgsl';

const bits = (x: number) => new Uint32Array(Float32Array.of(x).buffer)[0];

describe('packW2Runs', () => {
  it('lays out (kind, N_c, shrink offset, 0) per run, then the shrinks in run order', () => {
    const runs: W2Prox[] = [
      { kind: 'none' },
      { kind: 'ewc', shrink: Float32Array.of(0.5, 0.25, 1, 2) },
      { kind: 'ldc', nc: 2, shrink: Float32Array.of(0.1, 0.3) },
      { kind: 'ewc', shrink: Float32Array.of(3, 4, 5, 6) },
    ];
    const u = packW2Runs(runs);
    expect([...u.subarray(0, 16)]).toEqual([0, 0, 0, 0, 1, 0, 16, 0, 2, 2, 20, 0, 1, 0, 22, 0]);
    expect(u.length).toBe(26);
    expect([...u.subarray(16)]).toEqual([0.5, 0.25, 1, 2, 0.1, 0.3, 3, 4, 5, 6].map(bits));
  });

  it('pads a lone unpenalised run to a bindable 16 bytes', () => {
    expect([...packW2Runs([{ kind: 'none' }])]).toEqual([0, 0, 0, 0]);
  });
});

describe('packEvalSets', () => {
  it('gives each set whole workgroups, its first example, own classes, then the labels', () => {
    const h = 2;
    const a = { h1: Float32Array.from({ length: 70 * h }, (_, i) => i), count: 70 };
    const p = packEvalSets(
      [
        { ...a, labels: Array.from({ length: 70 }, (_, i) => i % 10), own: [0, 1, 2, 3, 4] },
        { h1: Float32Array.of(-1, -2, -3, -4, -5, -6), labels: [9, 8, 7], count: 3, own: [7, 9] },
      ],
      h,
    );
    // 70 examples take two workgroups of SCORE_WORKGROUP = 64, the second set one more.
    expect(SCORE_WORKGROUP).toBe(64);
    expect(p.groups).toBe(3);
    expect([...p.ints.subarray(0, 10)]).toEqual([0, 2, 0, 70, 5, 0, 1, 2, 3, 4]);
    expect([...p.ints.subarray(SET_RECORD, SET_RECORD + 7)]).toEqual([2, 1, 70, 3, 2, 7, 9]);
    const labels = p.ints.subarray(2 * SET_RECORD);
    expect(labels.length).toBe(73);
    expect(labels[69]).toBe(9);
    expect([...labels.subarray(70)]).toEqual([9, 8, 7]);
    expect(p.h1[139]).toBe(139);
    expect([...p.h1.subarray(140)]).toEqual([-1, -2, -3, -4, -5, -6]);
  });

  it('an empty set takes no workgroup; no sets still bind a buffer', () => {
    const p = packEvalSets([{ h1: new Float32Array(0), labels: [], count: 0, own: [1] }], 3);
    expect(p.groups).toBe(0);
    expect(packEvalSets([], 3).ints.length).toBeGreaterThan(0);
  });
});

describe('task-2 WGSL', () => {
  const storageBindings = (src: string) => src.match(/var<storage/g)?.length ?? 0;

  it('a batch up to BATCH_TILE is one tile; a larger one accumulates over tiles', () => {
    expect(batchTiles(50)).toEqual({ tile: 50, tiles: 1 });
    expect(batchTiles(BATCH_TILE)).toEqual({ tile: BATCH_TILE, tiles: 1 });
    expect(batchTiles(300)).toEqual({ tile: BATCH_TILE, tiles: 2 });
    // One tile: H2/D2, logits, losses, the LDC coefficients and partial sums (one a thread, or
    // one a mode); several tiles: W2's gradient too.
    expect(w2ScratchFloats(50, 50, 20, 256)).toBe(50 * 50 + 50 * 10 + 50 + 20 + 256);
    expect(w2ScratchFloats(50, 50, 300, 256)).toBe(50 * 50 + 50 * 10 + 50 + 300 + 300);
    expect(w2ScratchFloats(200, 300, 3, 1024)).toBe(
      200 * 200 + 256 * 200 + 256 * 10 + 256 + 3 + 1024,
    );
  });

  it('keeps a run’s scratch bounded whatever B is (99 runs of h = 200 fit 128 MiB)', () => {
    const S = w2ScratchFloats(200, 60_000, 300, 1024);
    expect(S).toBe(w2ScratchFloats(200, 300, 300, 1024));
    expect(99 * S * 4).toBeLessThan(128 * 2 ** 20);
  });

  for (const [h, B, wg] of [
    [50, 50, 256],
    [50, 50, 1024],
    [200, 50, 256],
    [200, 300, 1024],
  ])
    it(`specialises the step to h = ${h}, B = ${B}, ${wg} threads within WebGPU's limits`, () => {
      const src = fusedW2StepWgsl({
        hidden: h,
        batchSize: B,
        trainCount: 1000,
        modeCount: 300,
        workgroupSize: wg,
      });
      expect(src).toContain(`@workgroup_size(${wg})`);
      expect(src).toContain(`const H = ${h}u;`);
      expect(src).toContain(`const B = ${B}u;`);
      expect(src).toContain(`const BT = ${Math.min(B, BATCH_TILE)}u;`);
      expect(src).toContain(`const S = ${w2ScratchFloats(h, B, 300, wg)}u;`);
      // The indices follow the 1,000 labels in one buffer.
      expect(src).toContain('const N = 1000u;');
      // WebGPU guarantees eight storage buffers per stage; the step needs no workgroup memory.
      expect(storageBindings(src)).toBeLessThanOrEqual(8);
      expect(src).not.toContain('var<workgroup>');
      // Several tiles accumulate W2's gradient before the step; one tile steps at once.
      expect(src.includes('if (b0 > 0u)')).toBe(B > BATCH_TILE);
    });

  it('scores with five storage buffers and 8 bytes of workgroup memory', () => {
    const src = fusedW2ScoreWgsl(200, 2);
    expect(src).toContain(`@workgroup_size(${SCORE_WORKGROUP})`);
    expect(src).toContain('const SETS = 2u;');
    expect(storageBindings(src)).toBe(5);
    expect([...src.matchAll(/var<workgroup> \w+: array<atomic<u32>, (\d+)>/g)]).toHaveLength(1);
    expect(src).toContain('var<workgroup> wrong: array<atomic<u32>, 2>;');
  });
});

describe('FusedW2Ensemble.create refuses before any GPU work', () => {
  const h = 4;
  const shared = (over: Partial<W2EnsembleShared> = {}): W2EnsembleShared => ({
    hidden: h,
    lr: 0.1,
    batchSize: 2,
    trainH1: new Float32Array(3 * h),
    trainLabels: [0, 1, 2],
    trainCount: 3,
    W3: new Float32Array(h * 10),
    anchor: new Float32Array(h * h),
    modes: new Float32Array(0),
    modeCount: 0,
    evalSets: [],
    ...over,
  });
  const device = (maxBytes = 2 ** 27, threads = 256) =>
    ({
      limits: {
        maxStorageBufferBindingSize: maxBytes,
        maxComputeInvocationsPerWorkgroup: threads,
        maxComputeWorkgroupSizeX: threads,
        maxComputeWorkgroupsPerDimension: 65535,
      },
    }) as unknown as GPUDevice;

  it('a label outside 0…9', async () => {
    await expect(
      FusedW2Ensemble.create(device(), shared({ trainLabels: [0, 10, 2] }), [{ kind: 'none' }], 4),
    ).rejects.toThrow(/training label is outside 0…9/);
  });

  it('a malformed run (the contract’s check)', async () => {
    await expect(
      FusedW2Ensemble.create(device(), shared(), [{ kind: 'ewc', shrink: new Float32Array(3) }], 4),
    ).rejects.toThrow(/EWC shrink is not h × h/);
  });

  it('more threads than the device allows', async () => {
    await expect(
      FusedW2Ensemble.create(device(2 ** 27, 256), shared(), [{ kind: 'none' }], 4, {
        workgroupSize: 512,
      }),
    ).rejects.toThrow(/512 threads per workgroup; this device allows 256/);
  });

  it('a buffer larger than the adapter binds, saying what would make it fit', async () => {
    const runs: W2Prox[] = Array.from({ length: 99 }, () => ({ kind: 'none' }));
    await expect(FusedW2Ensemble.create(device(1024), shared(), runs, 4)).rejects.toThrow(
      /task-2 ensemble \(the runs’ W2\) needs a .* buffer; this adapter allows .*fewer runs/,
    );
  });
});
