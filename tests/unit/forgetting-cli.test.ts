import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ForgettingUsageError, parseForgettingArgs } from '../../src/cli/forgetting';
import { CLI_FORGETTING_SEEDS, DEFAULT_FORGETTING_CONFIG } from '../../src/engine/forgetting';

const hasData = existsSync('public/data/mnist-10k.bin');

function cli(args: string[]) {
  return spawnSync('npx', ['tsx', 'src/cli/reproduce.ts', '--experiment', 'forgetting', ...args], {
    encoding: 'utf8',
  });
}

describe('reproduce --experiment forgetting', () => {
  it('parses its options; bad ones are usage errors', () => {
    const o = parseForgettingArgs([
      '--experiment',
      'forgetting',
      '--task1',
      '4,5',
      '--task2',
      '6,7,8',
      '--lambdas',
      '1,10,100',
      '--nc',
      '5,10',
      '--seeds',
      '3,4',
      '--flatness',
      'estimated',
      '--psi',
      '3',
      '--out',
      'x.json',
    ]);
    expect(o.config.task1).toEqual([4, 5]);
    expect(o.config.task2).toEqual([6, 7, 8]);
    expect(o.config.lambdas).toEqual([1, 10, 100]);
    expect(o.config.ewcLambdas).toEqual(DEFAULT_FORGETTING_CONFIG.ewcLambdas);
    expect(o.config.ncList).toEqual([5, 10]);
    expect(o.config.seeds).toEqual([3, 4]);
    expect(o.config.flatnessSource).toBe('estimated');
    expect(o.config.psi).toBe(3);
    expect(o.out).toBe('x.json');
    // The page's sweep, with 5 seeds: enough for a paired interval over seeds.
    expect(parseForgettingArgs([]).config).toEqual({
      ...DEFAULT_FORGETTING_CONFIG,
      seeds: [0, 1, 2, 3, 4],
    });
    expect(CLI_FORGETTING_SEEDS.length).toBeGreaterThanOrEqual(5);
    expect(parseForgettingArgs(['--validation-fraction', '0.2']).config.validationFraction).toBe(
      0.2,
    );
    for (const bad of [
      ['--task1', '1,1'],
      ['--task2', '0,5'],
      ['--lambdas', 'x'],
      ['--lambdas', '-1'],
      ['--nc', '2.5'],
      ['--seeds', ''],
      ['--flatness', 'guessed'],
      ['--task2-steps', '0'],
      ['--bogus'],
      ['--out'],
      ['--lambdas', '1,1'],
      ['--validation-fraction', '0.9'],
    ]) {
      expect(() => parseForgettingArgs(bad), bad.join(' ')).toThrow(ForgettingUsageError);
    }
  });

  it('bad arguments print the usage and exit with code 2', () => {
    const r = cli(['--task1', '0,1', '--task2', '1,2']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/share digit 1/);
    expect(r.stderr).toMatch(/usage: npm run reproduce -- --experiment forgetting/);
  });

  it.skipIf(!hasData)(
    'a tiny sweep writes JSON with runs, the task-1 mode table, a summary and timings',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'fml-forget-'));
      const out = join(dir, 'f.json');
      const r = cli([
        '--hidden',
        '20',
        '--seeds',
        '0,1',
        '--pretrain-epochs',
        '1',
        '--task1-epochs',
        '2',
        '--window-epochs',
        '3',
        '--task2-steps',
        '40',
        '--curve-every',
        '20',
        '--nc',
        '3,6',
        '--lambdas',
        '1,100',
        '--ewc-lambdas',
        '1e5',
        '--displacement-modes',
        '8',
        '--out',
        out,
        '--page-summary',
        join(dir, 'ref.json'),
        '--quiet',
      ]);
      expect(r.status, r.stderr).toBe(0);
      const j = JSON.parse(readFileSync(out, 'utf8'));
      expect(j.experiment).toBe('forgetting');
      expect(j.backend).toBe('wasm');
      expect(j.config.hidden).toBe(20);
      // Per seed: none, EWC × 1, LDC × 2 N_c × 2 λ.
      expect(j.runs).toHaveLength(2 * 6);
      for (const run of j.runs) {
        for (const k of [
          'method',
          'lambda',
          'nc',
          'seed',
          'eps1',
          'eps2',
          'eps1Own',
          'eps2Own',
          'valEps1',
          'valEps2',
          'valEps1Own',
          'valEps2Own',
          'curve',
        ])
          expect(run).toHaveProperty(k);
        expect(run.curve.map((p: { step: number }) => p.step)).toEqual([0, 20, 40]);
        expect(run.displacement).toHaveLength(8);
      }
      expect(
        j.runs
          .filter((x: { method: string }) => x.method === 'ldc')
          .map((x: { nc: number }) => x.nc),
      ).toEqual([3, 3, 6, 6, 3, 3, 6, 6]);
      expect(j.task1Modes.filter((m: { seed: number }) => m.seed === 1)).toHaveLength(8);
      for (const m of j.task1Modes)
        for (const k of ['rank', 'variance', 'flatness']) expect(m).toHaveProperty(k);
      expect(j.summary.best.ldc.nc === 3 || j.summary.best.ldc.nc === 6).toBe(true);
      expect(j.summary.best.ewc.lambda).toBe(100000);
      // Chosen on validation data, with the budgets and the paired comparison stated.
      expect(j.summary.selection).toBe('validation');
      expect(j.summary.budget).toEqual({ none: 1, ldc: 4, ewc: 1 });
      for (const m of ['none', 'ldc', 'ewc'])
        for (const k of ['valTotal', 'total', 'totalSd', 'n'])
          expect(j.summary.best[m]).toHaveProperty(k);
      expect(j.summary.paired.ldcMinusEwc.n).toBe(2);
      expect(j.summary.paired.ldcMinusEwc.ci95).toHaveLength(2);
      expect(j.validation).toMatchObject({ fraction: 0.15, seed: 2021 });
      expect(j.tasks[0].validation).toBeGreaterThan(0);
      // The compact summary the page bundles: the same summary, without the runs.
      const ref = JSON.parse(readFileSync(join(dir, 'ref.json'), 'utf8'));
      expect(ref.summary).toEqual(j.summary);
      expect(ref.seeds).toEqual([0, 1]);
      expect(ref.runs).toBe(12);
      expect(ref).not.toHaveProperty('sweep');
      expect(j.summary.ncCurve.map((p: { nc: number }) => p.nc)).toEqual([3, 6]);
      expect(j.sweep.every((p: { n: number }) => p.n === 2)).toBe(true);
      expect(j.timings.total).toBeGreaterThan(0);
      const csv = readFileSync(join(dir, 'f.runs.csv'), 'utf8').split('\n');
      expect(csv[0]).toBe(
        'method,lambda,nc,seed,eps1,eps2,eps1Own,eps2Own,valEps1,valEps2,valEps1Own,valEps2Own,penalty',
      );
      expect(csv).toHaveLength(1 + 12 + 1);
    },
  );
});
