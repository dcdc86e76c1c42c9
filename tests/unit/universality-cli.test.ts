import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const hasData = existsSync('public/data/mnist-10k.bin');

function cli(args: string[]) {
  return spawnSync('npx', ['tsx', 'src/cli/reproduce.ts', ...args], { encoding: 'utf8' });
}

describe('universality on the command line', () => {
  it('bad sweep and optimizer arguments print the usage and exit with code 2', () => {
    for (const args of [
      ['--experiment', 'width-sweep', '--widths', '8,x'],
      ['--experiment', 'width-sweep', '--widths', '8,400'],
      ['--experiment', 'hyper-sweep', '--lrs', '-1'],
      ['--experiment', 'variance-flatness', '--optimizer', 'rmsprop'],
      ['--experiment', 'variance-flatness', '--optimizer', 'momentum', '--momentum', '1'],
    ]) {
      const r = cli(args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/usage: npm run reproduce/);
    }
  });

  it.skipIf(!hasData)(
    'a tiny width sweep writes valid JSON: D_L, D_s, ψ, γ and spectra per width',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'fml-univ-'));
      const out = join(dir, 'widths.json');
      const r = cli([
        '--experiment',
        'width-sweep',
        '--widths',
        '8,12',
        '--B',
        '100',
        '--warmup-epochs',
        '1',
        '--window-epochs',
        '1',
        '--modes',
        '8',
        '--out',
        out,
        '--quiet',
      ]);
      expect(r.status, r.stderr).toBe(0);
      const j = JSON.parse(readFileSync(out, 'utf8'));
      expect(j.experiment).toBe('width-sweep');
      expect(j.config.optimizer).toBe('sgd');
      expect(j.widths.map((w: { hidden: number }) => w.hidden)).toEqual([8, 12]);
      // Where the runs trained, and why (--gpu auto: the CPU unless Dawn for Node is installed).
      expect(j.gpu).toMatchObject({ mode: 'auto', note: expect.any(String) });
      for (const w of j.widths) {
        expect(w.params).toBe(784 * w.hidden + w.hidden ** 2 + 10 * w.hidden);
        expect(w.dim).toBe(w.hidden ** 2);
        expect(w.variance).toHaveLength(w.dim);
        expect(w.DL90).toBeGreaterThanOrEqual(1);
        expect(w.DL95).toBeGreaterThanOrEqual(w.DL90);
        expect(w.Ds).toBeGreaterThanOrEqual(0);
        expect(w.Ds).toBeLessThanOrEqual(w.DsRanks[1] - w.DsRanks[0] + 1);
        expect(w.sharpThreshold).toBeCloseTo((w.sharpC * w.meanNorm) / w.hidden, 10);
        expect(w.sharpC).toBe(4);
        expect(w.dsCurve.map((d: { c: number }) => d.c)).toEqual([1, 2, 4, 8, 16]);
        expect(w.modes.length).toBeGreaterThanOrEqual(5);
        for (const f of [w.psi, w.gamma]) {
          expect(Number.isFinite(f.exponent)).toBe(true);
          expect(f.ci95[0]).toBeLessThanOrEqual(f.exponent);
          expect(f.ci95[1]).toBeGreaterThanOrEqual(f.exponent);
        }
      }
      expect(j.timings.perWidth).toHaveLength(2);
      expect(existsSync(join(dir, 'widths.summary.csv'))).toBe(true);
    },
  );

  it.skipIf(!hasData)(
    '--optimizer adam trains the variance–flatness run at Adam’s default α',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'fml-univ-'));
      const out = join(dir, 'adam.json');
      const r = cli([
        '--experiment',
        'hyper-sweep',
        '--optimizer',
        'adam',
        '--hidden',
        '8',
        '--Bs',
        '100',
        '--lrs',
        '0.001,0.002',
        '--warmup-epochs',
        '1',
        '--window-epochs',
        '1',
        '--modes',
        '8',
        '--out',
        out,
        '--quiet',
      ]);
      expect(r.status, r.stderr).toBe(0);
      const j = JSON.parse(readFileSync(out, 'utf8'));
      expect(j.runs.map((x: { lr: number }) => x.lr)).toEqual([0.001, 0.002]);
      for (const x of j.runs) {
        expect(x.optimizer).toBe('adam');
        expect(x.BoverLr).toBeCloseTo(100 / x.lr, 8);
        expect(Number.isFinite(x.psi.exponent)).toBe(true);
      }
    },
  );
});
