import { describe, expect, it } from 'vitest';
import { fmtDash, fmtExponent, logTicks, sharedLabel } from '../../src/views/format';
import { exponentSign, psiSignReadout } from '../../src/views/theoryParts';
import type { PowerFit } from '../../src/engine/experiments/analysis';

const labels = (d: [number, number], n: number) => {
  const t = logTicks(d, n);
  return t.values.map((v) => t.label(v));
};

describe('logTicks', () => {
  it('marks powers of ten only beyond three decades, in one notation', () => {
    expect(labels([2e-9, 3e-3], 8)).toEqual(['10⁻⁸', '10⁻⁷', '10⁻⁶', '10⁻⁵', '10⁻⁴', '10⁻³']);
    // 10⁻³ to 10: a mix would print "0.01" beside "10⁻³"; one notation is used instead.
    expect(labels([1e-3, 10], 8)).toEqual(['10⁻³', '10⁻²', '10⁻¹', '10⁰', '10¹']);
    expect(labels([0.5, 2e4], 8)).toEqual(['1', '10', '100', '1,000', '10,000']);
  });

  it('thins decades to the room there is, keeping 10⁰', () => {
    const t = logTicks([1e-12, 1e6], 4);
    expect(t.values.length).toBeLessThanOrEqual(4);
    expect(t.values).toContain(1);
  });

  it('labels a span under one decade with evenly spaced values of one precision', () => {
    // The σ²–F axis after a short run: every minor tick got a label ("9×10⁻⁹ 8×10⁻⁹ …").
    const l = labels([3e-9, 9e-9], 5);
    expect(l.length).toBeGreaterThanOrEqual(2);
    expect(l.length).toBeLessThanOrEqual(6);
    expect(new Set(l.map((s) => s.replace(/×.*/, '').length)).size).toBe(1);
    expect(l.every((s) => s.endsWith('10⁻⁹'))).toBe(true);
  });

  it('uses 1-2-5 steps over one to three decades', () => {
    expect(labels([0.1, 20], 10)).toEqual(['0.1', '0.2', '0.5', '1', '2', '5', '10', '20']);
    expect(labels([0.1, 20], 4)).toEqual(['0.1', '1', '10']);
  });

  it('gives every tick a label and no more ticks than asked', () => {
    for (const d of [
      [1e-7, 4e-7],
      [0.03, 400],
      [5, 5e8],
      [1, 2],
    ] as [number, number][]) {
      for (const n of [2, 4, 8]) {
        const t = logTicks(d, n);
        expect(t.values.length).toBeLessThanOrEqual(Math.max(n, 6));
        for (const v of t.values) {
          expect(v).toBeGreaterThanOrEqual(d[0] * 0.999);
          expect(v).toBeLessThanOrEqual(d[1] * 1.001);
          expect(t.label(v)).not.toBe('');
        }
      }
    }
  });
});

describe('one precision per quantity', () => {
  it('writes exponents with two decimals', () => {
    expect(fmtExponent(3.3333)).toBe('3.33');
    expect(fmtExponent(-1.5)).toBe('−1.50');
  });
  it('shares one mantissa precision across an axis', () => {
    const f = sharedLabel([2.5e-8, 5e-8, 7.5e-8]);
    expect([2.5e-8, 5e-8, 7.5e-8].map((v) => f(v))).toEqual(['2.5×10⁻⁸', '5.0×10⁻⁸', '7.5×10⁻⁸']);
  });
});

describe('intervals in prose', () => {
  it('writes a range with a negative end with "to", not a dash that reads as minus', () => {
    expect(fmtDash([2.73, 2.9], 2)).toBe('2.73–2.90');
    expect(fmtDash([-0.22, 7.35], 2)).toBe('−0.22 to 7.35');
    expect(fmtDash([-3, -1], 0)).toBe('−3 to −1');
  });

  it('states a trend only where the 95% interval excludes zero', () => {
    const fit = (ci95: [number, number]) => ({ exponent: 1, ci95 }) as PowerFit;
    expect(exponentSign(fit([3.24, 3.82]))).toBe('positive');
    expect(exponentSign(fit([-0.22, 7.35]))).toBe('undecided');
    expect(exponentSign(fit([0, 1]))).toBe('undecided');
    expect(exponentSign(fit([-2, -0.5]))).toBe('negative');
  });

  it('judges ψ over several runs by their intervals, naming the runs it cannot vouch for', () => {
    const run = (label: string, ci95: [number, number]) => ({ label, psi: { ci95 } });
    expect(
      psiSignReadout([run('SGD', [3.24, 3.82]), run('Momentum', [3.35, 5.7])], 'it holds'),
    ).toBe("ψ's 95% interval is above zero in all 2: it holds.");
    expect(psiSignReadout([run('SGD', [3.24, 3.82])], 'it holds')).toBe(
      "ψ's 95% interval is above zero: it holds.",
    );
    expect(
      psiSignReadout(
        [run('SGD', [3.24, 3.82]), run('Momentum', [3.35, 5.7]), run('Adam', [-4.46, 11.16])],
        'it holds',
      ),
    ).toBe(
      "ψ's 95% interval is above zero for SGD and Momentum; includes zero for Adam (its sign not resolved).",
    );
    const block = (b: string, ci95: [number, number]) => run(`MLP h 50, ${b}`, ci95);
    expect(
      psiSignReadout(
        [block('W2', [1, 9]), block('W3', [2, 7]), block('W4', [3, 5]), run('CNN', [-2, 7])],
        'it holds',
      ),
    ).toBe(
      "ψ's 95% interval is above zero in 3 of 4 runs; includes zero for CNN (its sign not resolved).",
    );
    expect(psiSignReadout([block('W2', [-1, 9]), block('W3', [-2, 7])], 'it holds')).toBe(
      "ψ's 95% interval includes zero for MLP h 50, W2 · MLP h 50, W3 (its sign not resolved).",
    );
  });
});
