import { describe, expect, it } from 'vitest';
import { MinibatchSampler } from '../../src/engine/data/batches';

/**
 * With replacement every index is an i.i.d. uniform draw, so over S steps of B each index is
 * drawn Binomial(S·B, 1/N) times, and within one batch an index that appears does so
 * Binomial(B, 1/N) times. The tolerances are ~4 standard errors of the statistics tested.
 */
describe('MinibatchSampler with replacement', () => {
  const N = 200;
  const B = 40;

  it('draws every example at frequency 1/N', () => {
    const s = new MinibatchSampler(N, B, 7, 'replacement');
    const steps = 5000;
    const counts = new Float64Array(N);
    for (let t = 0; t < steps; t++) for (const i of s.next()) counts[i]++;
    const expected = (steps * B) / N; // 1,000 per index
    // Pearson's χ² over N − 1 = 199 degrees of freedom: mean 199, sd √398 ≈ 20.
    let chi2 = 0;
    for (const c of counts) chi2 += (c - expected) ** 2 / expected;
    expect(chi2).toBeGreaterThan(199 - 4 * 20);
    expect(chi2).toBeLessThan(199 + 4 * 20);
    for (const c of counts) expect(Math.abs(c - expected)).toBeLessThan(5 * Math.sqrt(expected));
  });

  it('repeats within a batch at the binomial rate', () => {
    const s = new MinibatchSampler(N, B, 3, 'replacement');
    const steps = 4000;
    // Expected number of distinct indices in a batch: N·(1 − (1 − 1/N)^B).
    const distinctExpected = N * (1 - (1 - 1 / N) ** B);
    // P(a given index appears exactly twice in a batch) = C(B,2) p² (1−p)^(B−2).
    const p = 1 / N;
    const pairExpected = N * ((B * (B - 1)) / 2) * p * p * (1 - p) ** (B - 2);
    let distinct = 0;
    let twice = 0;
    const seen = new Uint16Array(N);
    for (let t = 0; t < steps; t++) {
      seen.fill(0);
      for (const i of s.next()) seen[i]++;
      for (const c of seen) {
        if (c > 0) distinct++;
        if (c === 2) twice++;
      }
    }
    // 40 draws from 200: ~36.2 distinct, ~3.6 indices twice per batch.
    expect(distinct / steps).toBeCloseTo(distinctExpected, 1);
    expect(Math.abs(twice / steps - pairExpected)).toBeLessThan(0.15);
    // Without replacement a batch never repeats an index.
    const e = new MinibatchSampler(N, B, 3, 'epoch');
    for (let t = 0; t < 50; t++) expect(new Set(e.next()).size).toBe(B);
  });

  it('counts epochs as floor(N/B) steps and seeks to an epoch exactly', () => {
    const a = new MinibatchSampler(N, B, 11, 'replacement');
    const drawn: Uint32Array[] = [];
    for (let t = 0; t < 3 * a.stepsPerEpoch; t++) drawn.push(a.next());
    expect(a.epoch).toBe(3);
    const b = new MinibatchSampler(N, B, 11, 'replacement');
    b.seekEpoch(2, 2 * b.stepsPerEpoch);
    for (let t = 0; t < b.stepsPerEpoch; t++)
      expect(Array.from(b.next())).toEqual(Array.from(drawn[2 * a.stepsPerEpoch + t]));
  });

  it('refuses an unknown mode', () => {
    expect(() => new MinibatchSampler(N, B, 0, 'bootstrap' as 'epoch')).toThrow(/sampling/);
  });
});

describe('--sampling on the command line', () => {
  it('sets the run config (recorded in the JSON config) and refuses other values', async () => {
    const { parseCliOptions, UsageError } = await import('../../src/cli/options');
    for (const experiment of ['variance-flatness', 'theory']) {
      expect(parseCliOptions(['--experiment', experiment]).config.sampling).toBe('epoch');
      expect(
        parseCliOptions(['--experiment', experiment, '--sampling', 'replacement']).config.sampling,
      ).toBe('replacement');
    }
    expect(() => parseCliOptions(['--experiment', 'theory', '--sampling', 'bootstrap'])).toThrow(
      UsageError,
    );
  });
});
