import { describe, expect, it } from 'vitest';
import type { BackendChoice } from '../../src/engine/backend';
import { fusedChoice, syntheticSplit } from '../../src/engine/experiments/fusedProbe';

const wasm: BackendChoice = {
  name: 'wasm',
  reason: 'fastest CPU backend (single thread)',
  skipped: [{ name: 'webgl', reason: 'no WebGL2 context' }],
};

describe('fusedChoice: the trainer keeps the faster of the fused WebGPU step and wasm', () => {
  it('takes WebGPU when the fused step is faster, and says by how much', () => {
    const c = fusedChoice(wasm, {
      adapter: 'nvidia hopper',
      fused: 5250,
      cpu: 2500,
      cpuName: 'wasm',
    });
    expect(c.name).toBe('webgpu');
    expect(c.reason).toMatch(/^WebGPU fused 2\.1× wasm \(5,250 vs 2,500 steps\/s, nvidia hopper;/);
    expect(c.reason).toMatch(/runs it does not train use wasm\)$/);
    expect(c.skipped).toEqual(wasm.skipped);
    expect(c.device).toBe('nvidia hopper');
  });

  it('keeps wasm when the fused step is slower, and records the measurement against WebGPU', () => {
    const c = fusedChoice(wasm, {
      adapter: 'nvidia hopper',
      fused: 2000,
      cpu: 2500,
      cpuName: 'wasm',
    });
    expect(c.name).toBe('wasm');
    expect(c.reason).toBe(
      'fastest CPU backend (single thread); fused WebGPU step 0.8× wasm (2,000 vs 2,500 steps/s)',
    );
    expect(c.skipped[0]).toEqual({
      name: 'webgpu',
      reason:
        'hardware GPU (nvidia hopper): the fused step measured 0.80× wasm (2,000 vs 2,500 steps/s)',
    });
    expect(c.skipped.slice(1)).toEqual(wasm.skipped);
  });

  it('a tie keeps wasm (the GPU must be faster to be worth its start-up)', () => {
    expect(fusedChoice(wasm, { adapter: 'a', fused: 100, cpu: 100, cpuName: 'wasm' }).name).toBe(
      'wasm',
    );
  });
});

describe('syntheticSplit: the probe’s digits', () => {
  it('has 784 bytes per image, about one pixel in five lit, labels 0–9 in turn', () => {
    const s = syntheticSplit(100);
    expect(s.images.length).toBe(100 * 784);
    expect(Array.from(s.labels.subarray(0, 12))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
    let lit = 0;
    for (const v of s.images) if (v > 0) lit++;
    expect(lit / s.images.length).toBeGreaterThan(0.15);
    expect(lit / s.images.length).toBeLessThan(0.25);
  });
});
