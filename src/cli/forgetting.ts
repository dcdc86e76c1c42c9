/**
 * Headless catastrophic-forgetting sweep (SCIENCE.md, Fig. 4): LDC versus EWC.
 *
 *   npm run reproduce -- --experiment forgetting [--task1 0,1 --task2 2,3 --lambdas 1,10,100
 *     --ewc-lambdas 1e3,1e5 --nc 5,10,20 --seeds 0,1,2,3,4 --out forgetting.json]
 *
 * Writes JSON: `runs` (one row per task-2 run: method, λ, N_c, seed, final test and validation
 * errors, the error curve and the displacement along the task-1 modes), `task1Modes` (rank,
 * variance, flatness per seed), `sweep` (means over seeds), `summary` (per method the setting
 * chosen on validation data and its test ε₁+ε₂, the selection budgets, LDC's N_c curve, the
 * paired LDC − EWC comparison over seeds) and `timings`. A CSV of the runs is written next to
 * it; `--page-summary FILE` also writes the compact summary the page bundles as its reference
 * sweep (src/views/forgettingReference.json). Numbers that are NaN in the engine (an unmeasured
 * flatness, say) are written as null. Bad arguments print the usage and exit with code 2.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
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
} from './args';
import { cliBackend, loadData } from './setup';
import { defaultWorkers, type FailedJob } from './pool';
import { QUEUE_HELP, WORKERS_HELP, forgettingOnRunner } from './runners';
import { GPU_INSTALL, GPU_MODES, chooseGpu, type GpuMode } from './gpu';
import { dawnTask2Gpu, forgettingOnGpu, type ForgettingGpuReport } from './forgettingGpu';
import type { Dataset } from '../engine/data/dataset';
import {
  CLI_FORGETTING_SEEDS,
  DEFAULT_FORGETTING_CONFIG,
  checkForgettingConfig,
  forgettingRun,
  parseDigitGroup,
  type ForgettingConfig,
  type ForgettingResult,
} from '../engine/forgetting';

const D = DEFAULT_FORGETTING_CONFIG;
const list = (what: string, ok: (x: number) => boolean) => (arg: string, help: string) =>
  numberList(arg, help, what, ok);
const numbers = list('numbers ≥ 0', (x) => x >= 0);
const wholes = list('whole numbers ≥ 0', (x) => x >= 0 && Number.isInteger(x));
const count = (help: string) => whole('N', help, undefined, 0);
function digits(help: string): Option<number[]> {
  return {
    arg: 'DIGITS',
    help,
    read: (raw, f) => {
      try {
        return parseDigitGroup(raw);
      } catch (e) {
        throw new UsageError(`${f}: ${e instanceof Error ? e.message : String(e)}`);
      }
    },
  };
}

/** The forgetting experiment's options: parsed by this table, which also prints the usage. */
export const FORGETTING_OPTIONS = {
  experiment: choice(['forgetting'], 'this experiment'),
  task1: digits(`task-1 digits, e.g. 0,1 [${D.task1.join(',')}]`),
  task2: digits(`task-2 digits, disjoint from task 1 [${D.task2.join(',')}]`),
  lambdas: numbers('LIST', `LDC λ grid [${D.lambdas.join(',')}]`),
  'ewc-lambdas': numbers('LIST', 'EWC λ grid [49 values, 12 per decade from 1e3 to 1e7]'),
  nc: wholes(
    'LIST',
    `numbers of constrained modes N_c [${D.ncList.join(',')}]\n` +
      "(each method's setting is chosen on validation data; by default LDC\n" +
      'and EWC both choose among 49 settings)',
  ),
  seeds: wholes('LIST', `seeds, each a full repetition [${CLI_FORGETTING_SEEDS.join(',')}]`),
  'validation-fraction': positive(
    'X',
    "share of each task digit's training examples held out for choosing\n" +
      `the settings [${D.validationFraction}]`,
  ),
  flatness: choice(
    ['measured', 'estimated'],
    `F_i measured, or from σ_i via F ∝ σ^(−2/ψ) [${D.flatnessSource}]`,
  ),
  psi: positive('X', `ψ of the estimate [${D.psi}]`),
  'exclude-drift': flag('constrain the diffusive modes 2..N_c+1 (default: ranks 1..N_c, Eq. 14)'),
  'include-drift': flag('constrain ranks 1..N_c (the default)'),
  anchor: choice(['mean', 'last'], `w1* = window mean or last snapshot [${D.anchor}]`),
  pretrain: choice(
    ['all', 'tasks'],
    `pretrain on all digits or the two tasks' digits [${D.pretrain}]`,
  ),
  'pretrain-epochs': count(`[${D.pretrainEpochs}]`),
  'task1-epochs': count(`task-1 epochs before its window [${D.task1Epochs}]`),
  'window-epochs': count(`task-1 PCA window [${D.windowEpochs}]`),
  'task2-steps': count(`task-2 SGD steps per run [${D.task2Steps}]`),
  'curve-every': count(`test errors every N task-2 steps [${D.curveEvery}]`),
  'displacement-modes': count(`modes whose displacement is reported [${D.displacementModes}]`),
  B: count(`minibatch size [${D.batchSize}]`),
  lr: positive('X', `learning rate α [${D.lr}]`),
  hidden: count(`hidden width h [${D.hidden}]`),
  factor: choice(['e', '2'], `flatness threshold factor [${D.thresholdFactor}]`),
  idx: text('DIR', 'use the four MNIST IDX files in DIR instead of the embedded digits'),
  out: text('FILE', 'JSON output [forgetting.json]; a runs CSV is written next to it'),
  'page-summary': text('FILE', 'also write the compact summary the page bundles as its reference'),
  quiet: flag('no progress on stderr'),
  workers: whole('N', WORKERS_HELP),
  queue: text('URL', QUEUE_HELP),
  gpu: choice(
    GPU_MODES,
    "each seed's task-2 runs as one GPU ensemble (auto: a hardware adapter\n" +
      'if Dawn for Node is installed, where measured faster; on: any adapter,\n' +
      `forced; off: the CPU only) [auto]. Dawn for Node: ${GPU_INSTALL}`,
  ),
} satisfies Record<string, Option<unknown>>;

export function forgettingUsage(): string {
  return `usage: npm run reproduce -- --experiment forgetting [options]

Catastrophic forgetting (Fig. 4): pretrain the network, freeze W1 and W3, train W2 on task 1,
PCA + flatness of its window, then train task 2 with no constraint, EWC and LDC.

${optionsUsage(FORGETTING_OPTIONS).replace(/^options:/, 'options (defaults in brackets):')}`;
}

export { UsageError as ForgettingUsageError };

export interface ForgettingCliOptions {
  config: ForgettingConfig;
  out: string;
  idx: string | null;
  quiet: boolean;
  pageSummary: string | null;
  /** Worker threads (1: none) and the BullMQ queue's URL (null: none); runners.ts. */
  workers: number;
  queue: string | null;
  /** Task-2 runs on a Dawn for Node device (forgettingGpu.ts). */
  gpu: GpuMode;
}

/** Options that set the config field of the same meaning. */
const CONFIG_OPTIONS = {
  task1: 'task1',
  task2: 'task2',
  lambdas: 'lambdas',
  'ewc-lambdas': 'ewcLambdas',
  nc: 'ncList',
  seeds: 'seeds',
  'validation-fraction': 'validationFraction',
  flatness: 'flatnessSource',
  psi: 'psi',
  anchor: 'anchor',
  pretrain: 'pretrain',
  'pretrain-epochs': 'pretrainEpochs',
  'task1-epochs': 'task1Epochs',
  'window-epochs': 'windowEpochs',
  'task2-steps': 'task2Steps',
  'curve-every': 'curveEvery',
  'displacement-modes': 'displacementModes',
  B: 'batchSize',
  lr: 'lr',
  hidden: 'hidden',
  factor: 'thresholdFactor',
} as const satisfies Partial<Record<keyof typeof FORGETTING_OPTIONS, keyof ForgettingConfig>>;

export function parseForgettingArgs(argv: string[]): ForgettingCliOptions {
  const v = parseOptions(FORGETTING_OPTIONS, argv);
  const c: ForgettingConfig = { ...DEFAULT_FORGETTING_CONFIG, seeds: [...CLI_FORGETTING_SEEDS] };
  for (const [option, key] of Object.entries(CONFIG_OPTIONS)) {
    const x = v[option as keyof typeof CONFIG_OPTIONS];
    if (x !== undefined) (c as unknown as Record<string, unknown>)[key] = x;
  }
  if (v['exclude-drift'] && v['include-drift'])
    throw new UsageError('give one of --exclude-drift and --include-drift');
  if (v.gpu === 'on' && v.queue)
    throw new UsageError("--gpu on and --queue: a queue's seeds train on its workers' CPUs");
  if (v['exclude-drift']) c.includeDrift = false;
  if (v['include-drift']) c.includeDrift = true;
  try {
    checkForgettingConfig(c);
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
  return {
    config: c,
    out: v.out ?? 'forgetting.json',
    idx: v.idx ?? null,
    quiet: v.quiet ?? false,
    pageSummary: v['page-summary'] ?? null,
    workers: v.workers ?? defaultWorkers(),
    queue: v.queue ?? null,
    gpu: v.gpu ?? 'auto',
  };
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** The JSON document of a finished sweep. */
export function forgettingJson(
  r: ForgettingResult,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    experiment: 'forgetting',
    ...extra,
    config: r.config,
    tasks: r.tasks,
    validation: r.validation,
    task1Modes: r.task1.flatMap((t) =>
      t.modes.map((m) => ({
        seed: t.seed,
        rank: m.rank,
        variance: m.variance,
        flatness: m.flatness,
        source: m.source,
        measured: m.measured,
        left: m.left,
        right: m.right,
      })),
    ),
    task1: r.task1.map(({ modes: _modes, ...rest }) => rest),
    runs: r.runs,
    sweep: r.sweep,
    summary: r.summary,
    timings: r.timings,
  };
}

/**
 * What the page bundles as its reference sweep (section 6's text is written from it): the
 * summary and what it was run on, without the runs.
 */
export function forgettingPageSummary(
  r: ForgettingResult,
  meta: { backend: string; data: string },
): Record<string, unknown> {
  const anchor = r.task1.map((t) => t.atAnchor.task1.eps);
  return {
    command: 'npm run reproduce -- --experiment forgetting',
    backend: meta.backend,
    data: meta.data,
    seeds: r.config.seeds,
    task1: r.config.task1,
    task2: r.config.task2,
    grids: { lambdas: r.config.lambdas, ewcLambdas: r.config.ewcLambdas, ncList: r.config.ncList },
    validation: r.validation,
    runs: r.timings.runs,
    seconds: Number(r.timings.total.toFixed(1)),
    task1ErrorBefore: anchor.reduce((a, b) => a + b, 0) / anchor.length,
    summary: r.summary,
  };
}

/** Runs the sweep, logging progress; returns the result. */
export async function runForgetting(
  opts: ForgettingCliOptions,
  log: (s: string) => void,
): Promise<{
  result: ForgettingResult;
  backend: string;
  data: Dataset;
  failed?: FailedJob[];
  gpu?: ForgettingGpuReport | { reason: string };
}> {
  const backend = await cliBackend();
  const data = await loadData(opts.idx);
  log(
    `backend ${backend.name}; data ${data.name}: ${data.train.count} train / ${data.test.count} test`,
  );
  let gpu: { reason: string } | undefined;
  if (!opts.queue && opts.gpu !== 'off') {
    const g = await chooseGpu(opts.gpu);
    if (g.device && g.adapter) {
      log(`task-2 runs: offered to ${g.reason}; the seeds run one after another in this process`);
      const task2Gpu = dawnTask2Gpu(
        { device: g.device, adapter: g.adapter, software: g.software },
        opts.gpu === 'on',
      );
      const r = await forgettingOnGpu(opts.config, data, task2Gpu, log);
      return { result: r.result, backend: backend.name, data, gpu: r.gpu };
    }
    gpu = { reason: g.reason.replace(/^every run trains/, "every seed's task-2 runs train") };
    log(gpu.reason);
  }
  if (opts.queue || opts.workers > 1) {
    const choice = { ...opts, experiment: 'forgetting', log };
    const { result, failed } = await forgettingOnRunner(opts.config, data, choice);
    return { result, backend: backend.name, data, failed, ...(gpu && { gpu }) };
  }
  let lastLog = 0;
  const gen = forgettingRun(opts.config, data, { streamCurves: false });
  for (;;) {
    const it = await gen.next();
    if (it.done) return { result: it.value, backend: backend.name, data, ...(gpu && { gpu }) };
    const e = it.value;
    if (e.type === 'phase') log(e.message);
    else if (e.type === 'task1Modes') {
      const r = e.report;
      log(
        `seed ${r.seed}: pretrained test error ${pct(r.pretrainTestError)}; task-1 train error ${pct(r.task1TrainError)}; at w1*: ε₁ ${pct(r.atAnchor.task1.eps)}, ε₂ ${pct(r.atAnchor.task2.eps)}; ` +
          `PCA rank ${r.pcaRank}, ψ ${r.psi.value.toFixed(2)} (R² ${r.psi.r2.toFixed(2)}); F₂…F₆ ${r.modes
            .slice(1, 6)
            .map((m) => m.flatness.toPrecision(3))
            .join(' ')}`,
      );
    } else if (e.type === 'progress') {
      const now = performance.now();
      if (now - lastLog > 3000) {
        lastLog = now;
        log(
          `  ${(100 * e.fraction).toFixed(0)}%${e.etaSeconds !== null ? `, about ${Math.ceil(e.etaSeconds)} s left` : ''}`,
        );
      }
    }
  }
}

function summaryLines(r: ForgettingResult): string[] {
  const s = r.summary;
  const lines: string[] = [
    `settings chosen on validation data (${pct(r.validation.fraction)} of each task digit's training examples, ${r.validation.heldOut} held out); budgets: LDC ${s.budget.ldc}, EWC ${s.budget.ewc}, none ${s.budget.none}`,
  ];
  for (const m of ['none', 'ewc', 'ldc'] as const) {
    const b = s.best[m];
    if (!b) continue;
    lines.push(
      `${m.padEnd(4)} test ε₁+ε₂ = ${b.total.toFixed(3)} ± ${b.totalSd.toFixed(3)} over ${b.n} seeds (ε₁ ${pct(b.eps1)}, ε₂ ${pct(b.eps2)}; validation ${b.valTotal.toFixed(3)}) at λ = ${b.lambda}${b.nc !== null ? `, N_c = ${b.nc}` : ''}; own classes ${s.bestOwn[m]?.total.toFixed(3)}`,
    );
  }
  const d = s.paired.ldcMinusEwc;
  if (d)
    lines.push(
      `LDC − EWC, paired over ${d.n} seeds: ${d.mean.toFixed(3)} (95% CI ${d.ci95[0].toFixed(3)} to ${d.ci95[1].toFixed(3)})`,
    );
  lines.push(
    `LDC ε₁+ε₂ vs N_c (λ chosen on validation): ${s.ncCurve.map((p) => `${p.nc}: ${p.total.toFixed(3)}`).join(', ')} (EWC ${s.ewcReference.toFixed(3)})`,
  );
  lines.push(
    `${r.timings.runs} runs in ${r.timings.total.toFixed(1)} s (pretrain ${r.timings.pretrain.toFixed(1)}, task 1 ${r.timings.task1.toFixed(1)}, analysis ${r.timings.analysis.toFixed(1)}, task 2 ${r.timings.task2.toFixed(1)})`,
  );
  return lines;
}

export async function forgettingMain(argv: string[]): Promise<void> {
  const opts: ForgettingCliOptions = parseOrExit(() => parseForgettingArgs(argv), forgettingUsage);
  const log = opts.quiet ? () => undefined : (s: string) => process.stderr.write(s + '\n');
  const { result, backend, data, failed, gpu } = await runForgetting(opts, log);
  const out = forgettingJson(result, {
    backend,
    data: { name: data.name, train: data.train.count, test: data.test.count },
    ...(failed ? { failed } : {}),
    ...(gpu ? { gpu } : {}),
  });
  mkdirSync(dirname(resolve(opts.out)), { recursive: true });
  writeFileSync(opts.out, JSON.stringify(out, null, 1));
  const csvFile = opts.out.replace(/\.json$/i, '') + '.runs.csv';
  const rows = [
    [
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
      'penalty',
    ].join(','),
  ];
  for (const r of result.runs)
    rows.push(
      [
        r.method,
        r.lambda,
        r.nc ?? '',
        r.seed,
        r.eps1,
        r.eps2,
        r.eps1Own,
        r.eps2Own,
        r.valEps1,
        r.valEps2,
        r.valEps1Own,
        r.valEps2Own,
        r.penalty,
      ].join(','),
    );
  writeFileSync(csvFile, rows.join('\n') + '\n');
  if (opts.pageSummary) {
    mkdirSync(dirname(resolve(opts.pageSummary)), { recursive: true });
    writeFileSync(
      opts.pageSummary,
      JSON.stringify(forgettingPageSummary(result, { backend, data: data.name }), null, 1) + '\n',
    );
  }
  for (const l of summaryLines(result)) log(l);
  log(`wrote ${opts.out}, ${csvFile}`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  forgettingMain(process.argv.slice(2)).catch((e) => {
    process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
