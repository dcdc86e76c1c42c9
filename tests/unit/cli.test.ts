import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const hasData = existsSync('public/data/mnist-10k.bin');

function cli(args: string[]) {
  return spawnSync('npx', ['tsx', 'src/cli/reproduce.ts', ...args], { encoding: 'utf8' });
}

describe('command-line reproduction', () => {
  it('bad arguments print the usage and exit with code 2', () => {
    for (const args of [
      [],
      ['--experiment', 'nope'],
      ['--experiment', 'variance-flatness', '--B', 'x'],
      ['--experiment', 'variance-flatness', '--bogus'],
    ]) {
      const r = cli(args);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/usage: npm run reproduce/);
    }
  });

  it.skipIf(!hasData)('a tiny run writes valid JSON with the documented schema, and CSVs', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fml-cli-'));
    const out = join(dir, 'tiny.json');
    const r = cli([
      '--experiment',
      'variance-flatness',
      '--preset',
      'quick',
      '--hidden',
      '12',
      '--B',
      '100',
      '--warmup-epochs',
      '2',
      '--window-epochs',
      '2',
      '--modes',
      '8',
      '--out',
      out,
      '--quiet',
    ]);
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(readFileSync(out, 'utf8'));
    expect(j.config.hidden).toBe(12);
    expect(j.backend).toBe('wasm');
    expect(j.training.epoch).toEqual([0, 1, 2, 3, 4]);
    expect(j.training.trainLoss).toHaveLength(5);
    expect(j.explorationStartEpoch).toBe(2);
    expect(j.spectrum.variance).toHaveLength(144);
    for (let i = 1; i < j.spectrum.variance.length; i++)
      expect(j.spectrum.variance[i]).toBeLessThanOrEqual(j.spectrum.variance[i - 1]);
    expect(j.modes.length).toBeGreaterThanOrEqual(5);
    for (const m of j.modes) {
      expect(Object.keys(m).sort()).toEqual([
        'L0',
        'flatness',
        'left',
        'rank',
        'right',
        'variance',
      ]);
      expect(m.left).toBeLessThan(0);
      expect(m.right).toBeGreaterThan(0);
      expect(m.flatness).toBeCloseTo(m.right - m.left, 10);
    }
    for (const f of [j.fits.gamma, j.fits.psi]) {
      expect(Number.isFinite(f.exponent)).toBe(true);
      expect(f.ci95[0]).toBeLessThanOrEqual(f.exponent);
      expect(f.ci95[1]).toBeGreaterThanOrEqual(f.exponent);
      expect(f.r2).toBeGreaterThanOrEqual(0);
      expect(f.ranks).toHaveLength(2);
    }
    expect(j.varianceFraction35).toBeGreaterThan(0);
    expect(j.varianceFraction35).toBeLessThanOrEqual(1);
    expect(j.timings.total).toBeGreaterThan(0);
    const csv = readFileSync(join(dir, 'tiny.modes.csv'), 'utf8').split('\n');
    expect(csv[0]).toBe('rank,variance,flatness,left,right,L0');
    expect(readFileSync(join(dir, 'tiny.spectrum.csv'), 'utf8').split('\n')[0]).toBe(
      'rank,variance',
    );
  });
});
