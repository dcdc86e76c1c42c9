// The split fused layout's shader (src/engine/nets/webgpu/fusedMlpSplitWgsl.ts) must fit every
// WebGPU device's guaranteed 16 KiB of workgroup memory per entry point, and its `update`
// dispatch must reach every weight. Its arithmetic is checked on a GPU adapter against the
// float64 step in tests/e2e/webgpu.test.mjs.
import { describe, expect, it } from 'vitest';
import { CLASSES } from '../../src/engine/nets/mlp';
import {
  fusedMlpSplitWgsl,
  splitUpdateGroups,
} from '../../src/engine/nets/webgpu/fusedMlpSplitWgsl';

/** Bytes of workgroup memory each entry point's variables take. */
function workgroupBytes(src: string): { forward: number; update: number } {
  const sizes = new Map<string, number>();
  for (const m of src.matchAll(/var<workgroup> (\w+): array<f32, (\d+)>/g))
    sizes.set(m[1], 4 * Number(m[2]));
  const body = (entry: string) => {
    const from = src.indexOf(`fn ${entry}(`);
    const next = src.indexOf('@compute', from);
    return src.slice(from, next < 0 ? undefined : next);
  };
  const used = (entry: string) =>
    [...sizes]
      .filter(([n]) => new RegExp(`\\b${n}\\[`).test(body(entry)))
      .reduce((a, [, b]) => a + b, 0);
  return { forward: used('forward'), update: used('update') };
}

describe('split fused WGSL', () => {
  for (const [h, B, wg] of [
    [50, 50, 256],
    [50, 50, 1024],
    [50, 50, 64],
    [100, 50, 256],
    [50, 500, 256],
    [200, 10, 1024],
  ])
    it(`fits 16 KiB of workgroup memory (h = ${h}, B = ${B}, ${wg} threads)`, () => {
      const src = fusedMlpSplitWgsl(h, 784, B, 2, wg);
      expect(src).toMatch(new RegExp(`@workgroup_size\\(${wg}\\)`));
      const bytes = workgroupBytes(src);
      expect(bytes.forward).toBeGreaterThan(0);
      expect(bytes.forward).toBeLessThanOrEqual(16384);
      expect(bytes.update).toBeLessThanOrEqual(16384);
    });

  it('dispatches enough update workgroups for every weight', () => {
    for (const [h, wg] of [
      [50, 256],
      [50, 1024],
      [7, 64],
      [300, 256],
    ]) {
      const ppw = Math.max(1, Math.floor(wg / h));
      const groups = splitUpdateGroups(h, 784, wg);
      // W1 by ⌊WG/h⌋ pixel rows per workgroup, then W2 and W3 one thread per weight.
      expect((groups - Math.ceil(784 / ppw)) * wg).toBeGreaterThanOrEqual(h * h + h * CLASSES);
      expect(Math.ceil(784 / ppw) * ppw).toBeGreaterThanOrEqual(784);
    }
  });
});
