/**
 * `--experiment noise-shaping` (SI §S9, issue 17): SGD, full-batch GD, GD + isotropic noise and
 * GD + flatness-detecting noise from the same initialisation with the same gradient budget, per
 * seed; JSON `{config, runs[], summary.<method>.{finalTestError, medianTopFlatness}}`.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { OwnExperiment } from '.';
import {
  UsageError,
  parseOrExit,
  choice,
  flag,
  numberList,
  optionsUsage,
  parseOptions,
  positive,
  text,
  whole,
  type Option,
} from '../args';
import { writeText } from './output';
import { cliBackend, loadData } from '../setup';
import {
  NOISE_SHAPING_DEFAULTS as D,
  noiseShapingProblems,
  noiseShapingSeed,
  noiseShapingVerdict,
  summarizeNoiseShaping,
  type NoiseShapingConfig,
  type NoiseShapingRun,
} from '../../engine/experiments/noiseShaping';

const count = (help: string) => whole('N', help);

export const NOISE_SHAPING_OPTIONS = {
  seeds: numberList(
    'LIST',
    'one set of four runs per seed [0,1,2]',
    'seeds ≥ 0',
    (x) => Number.isInteger(x) && x >= 0,
  ),
  B: count(`SGD's minibatch size [${D.batchSize}]`),
  lr: positive('X', `learning rate α of every method [${D.lr}]`),
  hidden: count(`hidden width h [${D.hidden}]`),
  sampling: choice(['epoch', 'replacement'], `SGD's minibatch sampling [${D.sampling}]`),
  'train-count': count(`training examples (the first N of the split) [${D.trainCount}]`),
  'test-count': count(`test examples [${D.testCount}]`),
  epochs: count(`gradient budget in epochs: epochs·N example gradients each [${D.epochs}]`),
  'window-epochs': count(`epochs of recent trajectory for the PCA [${D.windowEpochs}]`),
  modes: count(`modes of the flatness noise / sharpest directions measured [${D.modes}]`),
  'refresh-every': count(`GD steps between refreshes of the flatness noise [${D.refreshEvery}]`),
  idx: text('DIR', 'use the four MNIST IDX files in DIR instead of the embedded digits'),
  out: text('FILE', 'JSON output [noise-shaping.json]'),
  quiet: flag('no progress on stderr'),
} satisfies Record<string, Option<unknown>>;

export function noiseShapingUsage(): string {
  return `usage: npm run reproduce -- --experiment noise-shaping [options]

Which noise finds flat minima (SI §S9)? SGD, full-batch GD, GD + isotropic noise and GD +
flatness-detecting noise (D_i ∝ F_i^(−β₁) along the recent trajectory's PCA modes, β₁ from the
SGD run), same initialisation, same number of example gradients (a GD step counts N).

${optionsUsage(NOISE_SHAPING_OPTIONS).replace(/^options:/, 'options (defaults in brackets):')}`;
}

export interface NoiseShapingCli {
  config: NoiseShapingConfig;
  seeds: number[];
  idx: string | null;
  out: string;
  quiet: boolean;
}

export function parseNoiseShapingArgs(argv: string[]): NoiseShapingCli {
  const v = parseOptions(
    { experiment: text('NAME', 'noise-shaping'), ...NOISE_SHAPING_OPTIONS },
    argv,
  );
  const config: NoiseShapingConfig = {
    ...D,
    batchSize: v.B ?? D.batchSize,
    lr: v.lr ?? D.lr,
    hidden: v.hidden ?? D.hidden,
    sampling: v.sampling ?? D.sampling,
    trainCount: v['train-count'] ?? D.trainCount,
    testCount: v['test-count'] ?? D.testCount,
    epochs: v.epochs ?? D.epochs,
    windowEpochs: v['window-epochs'] ?? D.windowEpochs,
    modes: v.modes ?? D.modes,
    refreshEvery: v['refresh-every'] ?? D.refreshEvery,
  };
  if (config.hidden < 2) throw new UsageError('--hidden must be at least 2');
  return {
    config,
    seeds: v.seeds ? [...new Set(v.seeds)] : [0, 1, 2],
    idx: v.idx ?? null,
    out: v.out ?? 'noise-shaping.json',
    quiet: v.quiet ?? false,
  };
}

/** The JSON document: the runs (curves included) and the mean ± sd over seeds per method. */
export function noiseShapingJson(
  config: NoiseShapingConfig,
  seeds: number[],
  runs: NoiseShapingRun[],
  meta: { backend: string; data: string },
) {
  const summary = summarizeNoiseShaping(runs);
  return {
    experiment: 'noise-shaping',
    config: { ...config, seeds },
    backend: meta.backend,
    data: meta.data,
    runs,
    summary,
    verdict: noiseShapingVerdict(summary),
  };
}

export async function runNoiseShaping(
  opts: NoiseShapingCli,
  log: (s: string) => void,
): Promise<ReturnType<typeof noiseShapingJson>> {
  const backend = await cliBackend();
  const data = await loadData(opts.idx);
  const problems = noiseShapingProblems(opts.config, data);
  if (problems.length) throw new UsageError(problems.join('; '));
  const runs: NoiseShapingRun[] = [];
  for (const seed of opts.seeds) {
    const t0 = performance.now();
    for await (const ev of noiseShapingSeed({ ...opts.config, seed }, data)) {
      if (ev.type !== 'run') continue;
      const r = ev.run;
      runs.push(r);
      log(
        `seed ${seed} ${r.method.padEnd(12)} test ${(100 * r.finalTestError).toFixed(2)}%  train ${(100 * r.finalTrainError).toFixed(2)}%  exploration ${r.explorationStartEpoch ?? 'never'}  median F ${r.medianTopFlatness.toFixed(3)}  λ₁ ${r.topCurvature[0]?.toFixed(3)}${r.beta1 !== undefined ? `  β₁ ${r.beta1.toFixed(2)}` : ''}  (${((performance.now() - t0) / 1000).toFixed(1)} s)`,
      );
    }
  }
  return noiseShapingJson(opts.config, opts.seeds, runs, {
    backend: backend.name,
    data: data.name,
  });
}

export async function noiseShapingMain(argv: string[]): Promise<void> {
  const opts: NoiseShapingCli = parseOrExit(() => parseNoiseShapingArgs(argv), noiseShapingUsage);
  const log = opts.quiet ? () => undefined : (s: string) => process.stderr.write(s + '\n');
  const out = await runNoiseShaping(opts, log);
  for (const [m, s] of Object.entries(out.summary))
    log(
      `${m.padEnd(12)} test error ${(100 * s.finalTestError.mean).toFixed(2)} ± ${(100 * s.finalTestError.sd).toFixed(2)}%  median top F ${s.medianTopFlatness.mean.toFixed(3)} ± ${s.medianTopFlatness.sd.toFixed(3)}  explored ${s.explored}/${s.finalTestError.n}`,
    );
  writeText(opts.out, JSON.stringify(out, null, 1) + '\n');
  log(`wrote ${opts.out}`);
}

export const noiseShaping: OwnExperiment = {
  name: 'noise-shaping',
  help:
    'SGD vs GD, GD + isotropic and GD + flatness-detecting noise (SI §S9);\n' +
    'its options: npm run reproduce -- --experiment noise-shaping --help',
  kind: 'own',
  main: noiseShapingMain,
};

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  noiseShapingMain(process.argv.slice(2)).catch((e) => {
    process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
