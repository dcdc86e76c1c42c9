/**
 * The options of `npm run reproduce`: one table (args.ts) that parses them and prints the
 * usage, and the checks that need several options at once. A new option is one entry in
 * OPTIONS plus, where it feeds the run, one line in `parseCliOptions`.
 */
import {
  UsageError,
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
import { EXPERIMENTS, experimentNamed, experimentsUsage } from './experiments';
import { MEMORY_BUDGET_BYTES, formatBytes } from '../engine/experiments/runChecks';
import { SWEEP_DEFAULTS, type RunConfig } from '../engine/experiments/config';
import { ADAM_DEFAULT_LR, MAX_SWEEP_WIDTH } from '../engine/experiments/sweeps';
import { SHARP_THRESHOLD_C } from '../engine/landscape/effectiveDimension';
import { ARCH_DEFAULTS, archDefaults, type ArchConfig } from '../engine/experiments/architectures';
import { PRESETS, presetConfig } from '../state/configSchema';
import { defaultWorkers } from './pool';
import { QUEUE_HELP, WORKERS_HELP } from './runners';
import { GPU_HELP, GPU_MODES, type GpuMode } from './gpu';

export { UsageError };

export interface CliOptions {
  experiment: string;
  config: RunConfig;
  dynamics: 'sgd' | 'langevin';
  out: string;
  idx: string | null;
  quiet: boolean;
  bundle: string | null;
  /** --seeds: one run per seed (variance-flatness and theory); null: the one --seed. */
  seeds: number[] | null;
  preset: string;
  widths: number[];
  Bs: number[];
  lrs: number[];
  adamLr: number;
  sharpC: number;
  /** mlp4 / cnn (issue 7); null: the default 784-h-h-10 MLP. */
  arch: ArchConfig | null;
  /** Worker threads for sweeps and the flatness search (1: none); runners.ts. */
  workers: number;
  /** The BullMQ queue's redis:// URL for a sweep, or null. */
  queue: string | null;
  /** Sweeps: train on the fused GPU ensemble where Dawn for Node gives a device (gpu.ts). */
  gpu: GpuMode;
}

const ARCH =
  'architectures (variance-flatness and the sweeps; default --arch mlp, the 784-h-h-10 network)';
const count = (arg: string, help: string, group?: string) => whole(arg, help, group, 0);
const amount = (arg: string, help: string) => positive(arg, help, undefined, true);
const listOf = (what: string, ok: (x: number) => boolean) => (arg: string, help: string) =>
  numberList(arg, help, what, ok);
const wholeList = listOf('positive whole numbers', (x) => x > 0 && Number.isInteger(x));
const numList = listOf('positive numbers', (x) => x > 0);

function inRange(values: readonly number[], why: string, o: Option<number>): Option<number> {
  return {
    ...o,
    read: (raw, f) => {
      const v = o.read(raw, f);
      if (!values.includes(v)) throw new UsageError(why);
      return v;
    },
  };
}

export const OPTIONS = {
  experiment: text('NAME', 'the experiment (above); required'),
  arch: choice(
    ['mlp', 'mlp4', 'cnn'],
    'mlp4: 784-h-h-h-h-10; cnn: conv+pool, conv+pool, dense, output.\n' +
      'width-sweep takes mlp4 (it varies h; the analysed block is --block)\n' +
      'but not cnn (its sampled dense block does not grow with a width);\n' +
      'hyper-sweep and optimizer-comparison take both',
    ARCH,
  ),
  block: inRange(
    [2, 3, 4],
    '--block must be 2, 3 or 4 (W2…W4 of mlp4)',
    whole('N', `mlp4: analysed matrix W2, W3 or W4 (default ${ARCH_DEFAULTS.block})`, ARCH),
  ),
  kernel: inRange(
    [3, 5],
    '--kernel must be 3 or 5',
    whole('3|5', `CNN kernel size (default ${ARCH_DEFAULTS.kernel})`, ARCH),
  ),
  conv1: whole('N', `CNN first conv layer's channels (default ${ARCH_DEFAULTS.conv1})`, ARCH),
  conv2: whole('N', `CNN second conv layer's channels (default ${ARCH_DEFAULTS.conv2})`, ARCH),
  dense: whole('N', `CNN dense layer's width (default ${ARCH_DEFAULTS.dense})`, ARCH),
  'max-block-dim': whole(
    'N',
    'analyse at most N weights of the block: a larger block is analysed on\n' +
      `a fixed seeded subset of N entries (default ${ARCH_DEFAULTS.maxBlockDim})`,
    ARCH,
  ),
  preset: {
    ...choice(
      PRESETS.map((p) => p.id),
      `${PRESETS.map((p) => p.id).join(' | ')} (default paper)`,
    ),
    arg: 'NAME',
  },
  B: count('N', 'minibatch size'),
  lr: amount('X', 'learning rate α'),
  hidden: count('N', 'hidden width h'),
  optimizer: choice(
    ['sgd', 'momentum', 'adam'],
    'training optimizer (Adam: α = --adam-lr unless --lr)',
  ),
  momentum: amount('X', 'momentum coefficient μ in [0, 1) (default 0.9)'),
  sampling: choice(
    ['epoch', 'replacement'],
    'minibatches: a fresh permutation each epoch (default) or i.i.d. with\n' +
      'replacement (no epoch anticorrelation); recorded in the JSON config',
  ),
  widths: wholeList('LIST', 'width-sweep: hidden widths, e.g. 20,30,50,100'),
  Bs: wholeList('LIST', 'hyper-sweep: minibatch sizes, e.g. 25,50,100'),
  lrs: numList('LIST', 'hyper-sweep: learning rates, e.g. 0.05,0.1,0.2'),
  'adam-lr': positive(
    'X',
    "Adam's learning rate when --lr is not given, and Adam's in\n" +
      `optimizer-comparison (default ${ADAM_DEFAULT_LR})`,
  ),
  'sharp-c': positive('X', `D_s threshold constant c (default ${SHARP_THRESHOLD_C})`),
  seed: count('N', 'initialisation / shuffling seed'),
  seeds: numberList(
    'LIST',
    'variance-flatness / theory: one run per seed, e.g. 0,1,2,3,4; the JSON\n' +
      "is the first seed's, with perSeed and seedSummary (mean ± sd of ψ,\n" +
      'γ and the 2–35 variance share over the seeds)',
    'seeds ≥ 0',
    (x) => Number.isInteger(x) && x >= 0,
  ),
  dynamics: choice(
    ['sgd', 'langevin'],
    'analyse SGD (default) or the Langevin contrast run from the SGD solution',
  ),
  temperature: amount('T', 'Langevin temperature'),
  'langevin-lr': amount('X', 'Langevin step size'),
  'langevin-burn-in': count('N', 'Langevin burn-in steps'),
  'langevin-steps': count('N', 'Langevin window steps'),
  'langevin-every': count('N', 'keep every N-th Langevin step'),
  'warmup-epochs': count('N', 'warm-up epochs before the window'),
  'window-epochs': count('N', 'PCA window length in epochs'),
  phase: choice(['warmup', 'error'], 'how the exploration phase is found'),
  modes: count('N', 'number of log-spaced flatness modes'),
  factor: choice(['e', '2'], 'flatness threshold factor'),
  centre: choice(['mean', 'last'], 'profile centre'),
  step: choice(
    ['auto', 'wasm-simd', 'tfjs'],
    'training step: the WebAssembly SIMD kernel or tfjs ops (auto: kernel)',
  ),
  idx: text('DIR', 'use the four MNIST IDX files in DIR instead of the embedded digits'),
  out: text('FILE', 'JSON output (default results.json); CSVs are written next to it'),
  bundle: text('FILE', "also write a run bundle (the page's run format, opened by the app)"),
  quiet: flag('no progress on stderr'),
  workers: whole('N', WORKERS_HELP),
  queue: text('URL', QUEUE_HELP),
  gpu: choice(GPU_MODES, GPU_HELP),
} satisfies Record<string, Option<unknown>>;

/** Run settings set directly by an option of the same meaning. */
const CONFIG_OPTIONS = {
  B: 'batchSize',
  lr: 'lr',
  hidden: 'hidden',
  seed: 'seed',
  temperature: 'temperature',
  'langevin-lr': 'langevinLr',
  'langevin-burn-in': 'langevinBurnIn',
  'langevin-steps': 'langevinSteps',
  'langevin-every': 'langevinEvery',
  'warmup-epochs': 'warmupEpochs',
  'window-epochs': 'windowEpochs',
  modes: 'flatnessModes',
  momentum: 'momentum',
  sampling: 'sampling',
  optimizer: 'optimizer',
  phase: 'phaseMode',
  factor: 'thresholdFactor',
  centre: 'profileCentre',
  step: 'stepImpl',
} as const satisfies Partial<Record<keyof typeof OPTIONS, keyof RunConfig>>;

export function usage(): string {
  return `usage: npm run reproduce -- --experiment ${EXPERIMENTS.map((e) => e.name).join('|')} [options]

experiments:
${experimentsUsage()}
  Sweeps default to ${SWEEP_DEFAULTS.warmupEpochs} warm-up epochs, a ${SWEEP_DEFAULTS.windowEpochs}-epoch window and ${SWEEP_DEFAULTS.flatnessModes} flatness modes
  (override with --warmup-epochs, --window-epochs, --modes or --preset). Widths ≤ ${MAX_SWEEP_WIDTH}; a
  run's analysis may use at most ${formatBytes(MEMORY_BUDGET_BYTES)} (every k-th window step beyond that).

${optionsUsage(OPTIONS, {
  [ARCH]: `  Quick defaults for mlp4/cnn (the sweeps too): h = ${ARCH_DEFAULTS.hidden}, B = ${ARCH_DEFAULTS.batchSize}, α = ${ARCH_DEFAULTS.lr}, ${ARCH_DEFAULTS.flatnessModes} flatness modes,
  a fixed warm-up of ${ARCH_DEFAULTS.warmupEpochs} (mlp4) / ${archDefaults('cnn').warmupEpochs} (cnn) epochs and a ${ARCH_DEFAULTS.windowEpochs}- / ${archDefaults('cnn').windowEpochs}-epoch window; --B, --lr,
  --hidden, --seed, --warmup-epochs, --window-epochs, --modes, --factor and --centre override
  them. --optimizer, --momentum and --adam-lr work as for the default network (momentum's
  effective step is α/(1−μ): with μ = 0.9, --lr 0.01 matches SGD at α = 0.1).`,
})}`;
}

/** Reads the command line of `npm run reproduce`; bad arguments throw a UsageError. */
export function parseCliOptions(argv: string[]): CliOptions {
  const v = parseOptions(OPTIONS, argv);
  const experiment = v.experiment ?? '';
  const entry = experimentNamed(experiment);
  if (!entry || entry.kind === 'own')
    throw new UsageError(
      experiment ? `unknown experiment "${experiment}"` : '--experiment is required',
    );
  const sweep = entry.kind === 'sweep';
  const preset = v.preset ?? 'paper';
  const dynamics = v.dynamics ?? 'sgd';
  const bundle = v.bundle ?? null;
  const seeds = v.seeds ? [...new Set(v.seeds)] : null;
  const adamLr = v['adam-lr'] ?? ADAM_DEFAULT_LR;
  const widths = v.widths ?? [20, 30, 50, 100];
  const overrides: Partial<RunConfig> = {};
  for (const [option, key] of Object.entries(CONFIG_OPTIONS)) {
    const x = v[option as keyof typeof CONFIG_OPTIONS];
    if (x !== undefined) (overrides as Record<string, unknown>)[key] = x;
  }
  const sweepDefaults = sweep && v.preset === undefined ? SWEEP_DEFAULTS : {};
  const config = { ...presetConfig(preset), ...sweepDefaults, ...overrides } as RunConfig;
  // α = 0.1 sends Adam's per-weight steps of ~α far off: it gets its own default rate.
  if (config.optimizer === 'adam' && overrides.lr === undefined) config.lr = adamLr;
  if (!(config.momentum < 1)) throw new UsageError('--momentum must lie in [0, 1)');
  if (experiment === 'width-sweep' && widths.some((h) => h < 2 || h > MAX_SWEEP_WIDTH))
    throw new UsageError(
      `--widths must lie in 2…${MAX_SWEEP_WIDTH}: the analysed block has h² weights and the PCA window holds snapshots × h² floats`,
    );
  if (
    config.batchSize < 1 ||
    config.hidden < 2 ||
    config.lr <= 0 ||
    config.windowEpochs < 1 ||
    config.flatnessModes < 2
  ) {
    throw new UsageError('B ≥ 1, hidden ≥ 2, lr > 0, window-epochs ≥ 1 and modes ≥ 2 are required');
  }
  if (dynamics === 'langevin') config.contrast = true;
  const arch = v.arch ?? 'mlp';
  const archOverrides: Partial<ArchConfig> = {};
  if (v.block !== undefined) archOverrides.block = v.block;
  if (v.kernel !== undefined) archOverrides.kernel = v.kernel;
  if (v.conv1 !== undefined) archOverrides.conv1 = v.conv1;
  if (v.conv2 !== undefined) archOverrides.conv2 = v.conv2;
  if (v.dense !== undefined) archOverrides.dense = v.dense;
  if (v['max-block-dim'] !== undefined) archOverrides.maxBlockDim = v['max-block-dim'];
  let archConfig: ArchConfig | null = null;
  if (arch !== 'mlp') {
    if (experiment !== 'variance-flatness' && !sweep)
      throw new UsageError(
        '--arch mlp4|cnn runs the variance-flatness experiment and the sweeps only',
      );
    if (experiment === 'width-sweep' && arch === 'cnn')
      throw new UsageError(
        "width-sweep varies the hidden width h of --arch mlp or mlp4; the CNN's analysed dense block is a sampled subset whose size does not follow a width (run --dense values one by one instead)",
      );
    if (dynamics !== 'sgd' || bundle)
      throw new UsageError('--arch mlp4|cnn trains SGD-family optimizers and writes no bundle');
    type Knobs = Omit<ArchConfig, 'arch'>;
    const pick = <K extends keyof Knobs & keyof RunConfig>(k: K): Knobs[K] =>
      (overrides[k] as Knobs[K] | undefined) ?? archDefaults(arch)[k];
    archConfig = {
      ...archDefaults(arch),
      ...archOverrides,
      arch,
      hidden: pick('hidden'),
      batchSize: pick('batchSize'),
      lr: overrides.lr === undefined && config.optimizer === 'adam' ? adamLr : pick('lr'),
      optimizer: config.optimizer,
      momentum: pick('momentum'),
      seed: pick('seed'),
      warmupEpochs: pick('warmupEpochs'),
      windowEpochs: pick('windowEpochs'),
      flatnessModes: pick('flatnessModes'),
      thresholdFactor: pick('thresholdFactor'),
      profileCentre: pick('profileCentre'),
    };
  } else if (Object.keys(archOverrides).length > 0)
    throw new UsageError(
      '--block, --kernel, --conv1, --conv2, --dense, --max-block-dim need --arch mlp4|cnn',
    );
  if (seeds && experiment !== 'variance-flatness' && experiment !== 'theory')
    throw new UsageError('--seeds works with --experiment variance-flatness or theory');
  if (seeds && archConfig) throw new UsageError('--seeds works with the default network only');
  if (sweep && (dynamics !== 'sgd' || bundle))
    throw new UsageError('sweeps analyse SGD-family runs only and write no bundle');
  if (v.queue && !sweep)
    throw new UsageError(
      '--queue runs the sweeps (width-sweep, hyper-sweep, optimizer-comparison)',
    );
  if (v.gpu !== undefined && !sweep)
    throw new UsageError(
      '--gpu works with the sweeps (width-sweep, hyper-sweep, optimizer-comparison)',
    );
  if (v.gpu === 'on' && v.queue)
    throw new UsageError("--gpu on and --queue: a queue's sweep trains on its workers' CPUs");
  if (v.gpu === 'on' && archConfig)
    throw new UsageError(
      '--gpu on trains the 784-h-h-10 network; --arch mlp4|cnn runs train on the CPU',
    );
  return {
    experiment,
    config,
    dynamics,
    out: v.out ?? 'results.json',
    idx: v.idx ?? null,
    quiet: v.quiet ?? false,
    bundle,
    preset,
    widths,
    Bs: v.Bs ?? [25, 50, 100],
    lrs: v.lrs ?? [0.05, 0.1, 0.2],
    adamLr,
    sharpC: v['sharp-c'] ?? SHARP_THRESHOLD_C,
    arch: archConfig,
    seeds,
    workers: v.workers ?? defaultWorkers(),
    queue: v.queue ?? null,
    gpu: v.gpu ?? 'auto',
  };
}
