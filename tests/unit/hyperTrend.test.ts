import { describe, expect, it } from 'vitest';
import { noiseTrend, noiseTrendText } from '../../src/views/hyperTrend';

describe('noiseTrend', () => {
  it('counts the rows where ψ rises with α and the columns where it falls with B', () => {
    // The bundled grid at the paper's settings: rows rise; the α = 0.05 column does not fall.
    const grid: [number, number, number][] = [
      [25, 0.05, 3.14],
      [25, 0.1, 3.68],
      [25, 0.2, 4.56],
      [50, 0.05, 2.96],
      [50, 0.1, 3.53],
      [50, 0.2, 3.93],
      [100, 0.05, 2.99],
      [100, 0.1, 3.29],
      [100, 0.2, 3.56],
    ];
    const runs = grid.map(([batchSize, lr, psi]) => ({ batchSize, lr, psi: { exponent: psi } }));
    const t = noiseTrend(runs);
    expect(t).toEqual({ rowsRising: 3, rows: 3, columnsFalling: 2, columns: 3 });
    expect(noiseTrendText(t)).toBe(
      'ψ rises with α at fixed B in 3 of 3 rows and falls with B at fixed α in 2 of 3 columns (point estimates)',
    );
  });

  it('skips failed runs and lines of one run', () => {
    const runs = [
      { batchSize: 25, lr: 0.1, psi: { exponent: 3 } },
      { batchSize: 25, lr: 0.2, psi: { exponent: NaN } },
      { batchSize: 50, lr: 0.1, psi: { exponent: 2 } },
    ];
    expect(noiseTrend(runs)).toEqual({ rowsRising: 0, rows: 0, columnsFalling: 1, columns: 1 });
    expect(noiseTrendText(noiseTrend([]))).toBe('');
  });
});
