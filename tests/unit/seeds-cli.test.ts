/** `--seeds`: one run per seed, summarised as mean ± sd (issue 12 §2). */
import { describe, expect, it } from 'vitest';
import { parseArgs, seedStat } from '../../src/cli/reproduce';

describe('--seeds', () => {
  it('parses a list of seeds for variance-flatness and theory only', () => {
    expect(parseArgs(['--experiment', 'theory', '--seeds', '0,1,2,3,4']).seeds).toEqual([
      0, 1, 2, 3, 4,
    ]);
    expect(parseArgs(['--experiment', 'variance-flatness']).seeds).toBeNull();
    expect(() => parseArgs(['--experiment', 'variance-flatness', '--seeds', '0,x'])).toThrow(
      /--seeds/,
    );
    expect(() => parseArgs(['--experiment', 'width-sweep', '--seeds', '0,1'])).toThrow(/--seeds/);
  });

  it('summarises with the sample standard deviation', () => {
    const s = seedStat([3, 4, 5]);
    expect(s.mean).toBe(4);
    expect(s.sd).toBeCloseTo(1, 12);
    expect(s.n).toBe(3);
    expect(s.values).toEqual([3, 4, 5]);
    expect(Number.isNaN(seedStat([2]).sd)).toBe(true);
  });
});
