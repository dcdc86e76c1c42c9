import { describe, expect, it } from 'vitest';
import {
  CONFIG_FIELDS,
  NOTICE_VALUE_CHARS,
  checkedConfig,
  clipUrlValue,
  parseUrl,
  presetConfig,
} from '../../src/state/configSchema';

const one = (query: string) => parseUrl(query);

describe('URL values are parsed strictly', () => {
  it('refuses what Number() would silently accept: hex, a sign, spaces, Infinity', () => {
    for (const [raw, shown] of [
      ['0x10', 'B=0x10'],
      // In a query '+' is a space (what a browser reads from ?B=+7); %2B is a real plus.
      ['+7', 'B= 7'],
      ['%2B7', 'B=+7'],
      ['%207', 'B= 7'],
      ['7%20', 'B=7 '],
      ['Infinity', 'B=Infinity'],
      ['1e400', 'B=1e400'],
      ['', 'B= '],
    ]) {
      const p = one(`?B=${raw}`);
      expect(p.config.batchSize).toBe(50);
      expect(p.notices).toHaveLength(1);
      expect(p.notices[0].startsWith(shown.trimEnd())).toBe(true);
      expect(p.notices[0]).toMatch(/Minibatch size B\): not a plain decimal number; using 50/);
    }
  });

  it('still reads plain decimals and exponents', () => {
    const p = one('?B=25&lr=.05&T=1e-7&seed=007&mom=0.5');
    expect(p.notices).toEqual([]);
    expect(p.config).toMatchObject({
      batchSize: 25,
      lr: 0.05,
      temperature: 1e-7,
      seed: 7,
      momentum: 0.5,
    });
  });

  it('autorun other than 1 or 0 gets a notice and does not start', () => {
    expect(one('?autorun=1')).toMatchObject({ autorun: true, notices: [] });
    expect(one('?autorun=0')).toMatchObject({ autorun: false, notices: [] });
    const p = one('?autorun=yes');
    expect(p.autorun).toBe(false);
    expect(p.notices).toEqual(['autorun=yes: expected 1 (start on load) or 0; not starting']);
  });

  it('a key given twice is refused, not guessed (the hash still wins over the query)', () => {
    const p = one('?B=25&B=100&seed=3');
    expect(p.config.batchSize).toBe(50);
    expect(p.config.seed).toBe(3);
    expect(p.notices).toEqual(['B appears 2 times in the link; using the default']);
    const twice = parseUrl('?preset=quick&preset=paper', '#autorun=1&autorun=1');
    expect(twice.preset).toBe('paper');
    expect(twice.autorun).toBe(false);
    expect(twice.notices).toHaveLength(2);
    const hashWins = parseUrl('?B=25', '#B=100');
    expect(hashWins).toMatchObject({ notices: [], config: { batchSize: 100 } });
    // Keys the page does not own may repeat (a course site's tracking keys).
    expect(one('?utm=a&utm=b').notices).toEqual([]);
  });

  it('every bad value is named with its key, and a long one is cut to 40 characters', () => {
    const long = 'x'.repeat(10_000);
    const p = one(
      `?preset=${long}&B=${long}&opt=${long}&contrast=${long}&backend=${long}&data=${long}&theme=${long}&hide=${long}&autorun=${long}`,
    );
    const clipped = `${'x'.repeat(NOTICE_VALUE_CHARS)}… (10,000 characters)`;
    expect(clipUrlValue(long)).toBe(clipped);
    for (const key of [
      'preset',
      'B',
      'opt',
      'contrast',
      'backend',
      'data',
      'theme',
      'hide',
      'autorun',
    ])
      expect(p.notices.some((n) => n.startsWith(`${key}=${clipped}`))).toBe(true);
    for (const n of p.notices) expect(n.length).toBeLessThan(260);
    expect(clipUrlValue('short')).toBe('short');
  });

  it('a huge hide= list names the first few and counts the rest', () => {
    const items = Array.from({ length: 5000 }, (_, i) => `k${i}`).join(',');
    const p = one(`?hide=seed,${items}`);
    expect(p.hide).toEqual(['seed']);
    expect(p.notices).toHaveLength(6);
    expect(p.notices[0]).toMatch(/^hide=k0: unknown/);
    expect(p.notices[5]).toBe('hide: 4,995 more unknown keys left out');
  });

  it('each schema key: a bad value falls back to the preset default with a notice', () => {
    for (const f of CONFIG_FIELDS) {
      const p = one(`?preset=quick&${f.url}=0x1`);
      expect(p.config[f.key]).toBe(presetConfig('quick')[f.key]);
      expect(p.notices).toHaveLength(1);
      expect(p.notices[0].startsWith(`${f.url}=0x1 (${f.label})`)).toBe(true);
    }
  });

  it('a run file config is read with the same strictness', () => {
    expect(checkedConfig('paper', { batchSize: 25, temperature: 1e-7 }).temperature).toBe(1e-7);
    expect(() => checkedConfig('paper', { batchSize: '0x10' })).toThrow(/config.batchSize/);
    expect(() => checkedConfig('paper', { lr: Infinity })).toThrow(/config.lr/);
  });
});
