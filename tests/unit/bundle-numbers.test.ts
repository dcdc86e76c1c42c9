import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { validateBundle } from '../../src/state/runBundle';
import { validateUniversalityBundle } from '../../src/state/universalityBundle';
import { checkedConfig } from '../../src/state/configSchema';

const RUN = readFileSync('src/data/precomputed-run.json', 'utf8');
const UNIVERSALITY = readFileSync('src/data/universality-precomputed.json', 'utf8');

/**
 * The file's JSON text with one value replaced by `literal` as written in the file (1e400 is
 * parsed as Infinity, as JSON.parse does with any file a reader opens).
 */
function withLiteral(text: string, path: (string | number)[], literal: string): unknown {
  const o = JSON.parse(text) as Record<string, unknown>;
  let at: Record<string | number, unknown> = o;
  for (const k of path.slice(0, -1)) at = at[k] as Record<string | number, unknown>;
  at[path[path.length - 1]] = '__MARK__';
  return JSON.parse(JSON.stringify(o).replace('"__MARK__"', literal));
}

describe('run bundles: Infinity and null inside numbers are refused, the field named', () => {
  it('the bundled run passes', () => {
    expect(() => validateBundle(JSON.parse(RUN))).not.toThrow();
  });

  it.each([
    [['results', 'sgd', 'variance', 3], '1e400', /results\.sgd\.variance\[3\] is not finite/],
    [['results', 'sgd', 'variance', 3], 'null', /results\.sgd\.variance\[3\] is null/],
    [['epochs', 2, 'trainLoss'], '1e400', /epochs\[2\]\.trainLoss is not finite/],
    [['minibatch', 0, 'step'], '-1e400', /minibatch\[0\]\.step is not finite/],
    [
      ['results', 'sgd', 'trajectory', 'theta', 0, 5],
      'null',
      /results\.sgd\.trajectory\.theta\[0\]\[5\] is null/,
    ],
    [['profiles', 0, 'losses', 1], '1e400', /profiles\[0\]\.losses\[1\] is not finite/],
    [['results', 'sgd', 'fits', 'psi', 'exponent'], '1e400', /fits\.psi\.exponent is not finite/],
  ])('%j = %s', (path, literal, message) => {
    const bundle = withLiteral(RUN, path, literal);
    expect(() => validateBundle(bundle)).toThrow(message);
  });

  it('a single missing value (the engine NaN) and an undefined fit interval stay readable', () => {
    const nanScalar = withLiteral(RUN, ['results', 'sgd', 'fits', 'psi', 'r2'], 'null');
    expect(() => validateBundle(nanScalar)).not.toThrow();
    const openInterval = withLiteral(RUN, ['results', 'sgd', 'fits', 'gamma', 'ci95', 0], 'null');
    expect(() => validateBundle(openInterval)).not.toThrow();
  });

  it('the run config refuses 1e400 and null by its field', () => {
    const b = withLiteral(RUN, ['config', 'lr'], '1e400') as { config: Record<string, unknown> };
    expect(() => checkedConfig('paper', b.config)).toThrow(/config\.lr = null|config\.lr/);
    const n = withLiteral(RUN, ['config', 'batchSize'], 'null') as {
      config: Record<string, unknown>;
    };
    expect(() => checkedConfig('paper', n.config)).toThrow(/config\.batchSize/);
  });
});

describe('the universality bundle refuses them too', () => {
  it('the shipped bundle passes', () => {
    expect('bundle' in validateUniversalityBundle(JSON.parse(UNIVERSALITY))).toBe(true);
  });

  it('Infinity anywhere and null inside a numeric list are named', () => {
    const inf = withLiteral(
      UNIVERSALITY,
      ['sweeps', 'widths', 1, 'result', 'summary', 'variance', 4],
      '1e400',
    );
    expect(validateUniversalityBundle(inf)).toEqual({
      error: 'sweeps.widths[1].result.summary.variance[4] is not finite',
    });
    const nul = withLiteral(
      UNIVERSALITY,
      ['sweeps', 'widths', 0, 'result', 'summary', 'variance', 2],
      'null',
    );
    expect(validateUniversalityBundle(nul)).toEqual({
      error: 'sweeps.widths[0].result.summary.variance[2] is null, not a number',
    });
    const cfg = withLiteral(UNIVERSALITY, ['config', 'lr'], '1e400');
    expect(validateUniversalityBundle(cfg)).toEqual({ error: 'config.lr is not finite' });
  });
});
