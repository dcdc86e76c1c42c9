/**
 * Headless reproduction: the same engine code as the browser, in Node on the wasm backend.
 *
 *   npm run reproduce -- --experiment variance-flatness [--preset paper] [--B 50 --lr 0.1
 *     --seed 0 --dynamics sgd|langevin --temperature T --warmup-epochs 60 --window-epochs 10
 *     --out results.json]
 *
 * Writes JSON (schema in the README) and, next to it, CSVs of the spectrum, the modes and the
 * training curves. Bad arguments print the usage and exit with code 2.
 *
 * Universality (issue 7): `--optimizer sgd|momentum|adam` on every experiment, and
 *   --experiment width-sweep --widths 20,30,50,100        ψ, γ, D_L, D_s per hidden width
 *   --experiment hyper-sweep --Bs 25,50,100 --lrs 0.05,0.1,0.2   ψ, γ per (B, α)
 *   --experiment optimizer-comparison                     SGD, momentum and Adam
 * Architectures (issue 7): `--arch mlp4 --block 3` (784-h-h-h-h-10, block W2|W3|W4) or
 *   `--arch cnn` (two conv + pool layers, a dense layer; its dense matrix is analysed) run the
 *   variance–flatness pipeline on that block with quick defaults (architectures.ts), with any
 *   `--optimizer`; the three sweeps take them too (width-sweep: mlp4 only).
 * Sweeps use quick warm-up/window defaults (sweeps.ts, SWEEP_DEFAULTS) unless set, write one
 * JSON document and a CSV of the per-run summary next to it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cliBackend, loadData } from './setup';
import {
  MEMORY_BUDGET_BYTES,
  RunSettingsError,
  dataShape,
  formatBytes,
  planRun,
} from '../engine/experiments/runChecks';
import { WindowAnalysis, type AnalysisResult } from '../engine/experiments/analysis';
import type { RunConfig } from '../engine/experiments/config';
import { trainingRun, type EpochRecord, type RunId } from '../engine/experiments/training';
import { initMlp } from '../engine/nets/mlp';
import { SnapshotWindow } from '../engine/pca/snapshotWindow';
import type { WeightCheckpoint } from '../engine/landscape/activeTemperature';
import { PRESETS, presetConfig } from '../state/configSchema';
import {
  ADAM_DEFAULT_LR,
  MAX_SWEEP_WIDTH,
  SWEEP_DEFAULTS,
  archHyperSweep,
  archOptimizerComparison,
  archWidthSweep,
  hyperSweep,
  optimizerComparison,
  widthSweep,
  type RunSummary,
} from '../engine/experiments/sweeps';
import { SHARP_THRESHOLD_C } from '../engine/landscape/effectiveDimension';
import {
  ARCH_DEFAULTS,
  archDefaults,
  architectureRun,
  collapseWarning,
  type ArchConfig,
  type ArchResult,
} from '../engine/experiments/architectures';
import {
  BUNDLE_FORMAT,
  BUNDLE_VERSION,
  roundNumbers,
  slimResult,
  thinSeries,
  type RunBundle,
} from '../state/runBundle';

const SWEEPS = ['width-sweep', 'hyper-sweep', 'optimizer-comparison'];

const USAGE = `usage: npm run reproduce -- --experiment variance-flatness|theory|forgetting|width-sweep|hyper-sweep|optimizer-comparison [options]

experiments:
  variance-flatness      PCA spectrum, flatness and the σ²–F fit (Figs. 1–2)
  theory                 the same, plus noise strength D, correlation time τ and the
                         active temperature (Figs. 3, 5)
  forgetting             catastrophic forgetting, LDC versus EWC (Fig. 4); its options:
                         npm run reproduce -- --experiment forgetting --help
  width-sweep            one run per hidden width: ψ, γ, the variance and flatness spectra,
                         D_L (modes from mode 2 holding 90%/95% of the variance) and D_s
                         (directions with F below c·‖ŵ2‖/√h², c = ${SHARP_THRESHOLD_C}) against the parameter count
  hyper-sweep            one run per (B, α): ψ and γ with their 95% intervals
  optimizer-comparison   SGD, momentum and Adam from the same initialisation (momentum at
                         α(1 − μ), the same effective step as SGD at α; Adam at
                         α = ${ADAM_DEFAULT_LR} unless --adam-lr)
  Sweeps default to ${SWEEP_DEFAULTS.warmupEpochs} warm-up epochs, a ${SWEEP_DEFAULTS.windowEpochs}-epoch window and ${SWEEP_DEFAULTS.flatnessModes} flatness modes
  (override with --warmup-epochs, --window-epochs, --modes or --preset). Widths ≤ ${MAX_SWEEP_WIDTH}; a
  run's analysis may use at most ${formatBytes(MEMORY_BUDGET_BYTES)} (every k-th window step beyond that).

architectures (variance-flatness and the sweeps; default --arch mlp, the 784-h-h-10 network):
  --arch mlp|mlp4|cnn    mlp4: 784-h-h-h-h-10; cnn: conv+pool, conv+pool, dense, output.
                         width-sweep takes mlp4 (it varies h; the analysed block is --block)
                         but not cnn (its sampled dense block does not grow with a width);
                         hyper-sweep and optimizer-comparison take both
  --block N              mlp4: analysed matrix W2, W3 or W4 (default ${ARCH_DEFAULTS.block})
  --kernel 3|5 --conv1 N --conv2 N --dense N   CNN sizes (default ${ARCH_DEFAULTS.kernel}, ${ARCH_DEFAULTS.conv1}, ${ARCH_DEFAULTS.conv2}, ${ARCH_DEFAULTS.dense})
  --max-block-dim N      analyse at most N weights of the block: a larger block is analysed on
                         a fixed seeded subset of N entries (default ${ARCH_DEFAULTS.maxBlockDim})
  Quick defaults for mlp4/cnn (the sweeps too): h = ${ARCH_DEFAULTS.hidden}, B = ${ARCH_DEFAULTS.batchSize}, α = ${ARCH_DEFAULTS.lr}, ${ARCH_DEFAULTS.flatnessModes} flatness modes,
  a fixed warm-up of ${ARCH_DEFAULTS.warmupEpochs} (mlp4) / ${archDefaults('cnn').warmupEpochs} (cnn) epochs and a ${ARCH_DEFAULTS.windowEpochs}- / ${archDefaults('cnn').windowEpochs}-epoch window; --B, --lr,
  --hidden, --seed, --warmup-epochs, --window-epochs, --modes, --factor and --centre override
  them. --optimizer, --momentum and --adam-lr work as for the default network (momentum's
  effective step is α/(1−μ): with μ = 0.9, --lr 0.01 matches SGD at α = 0.1).

options:
  --preset NAME          ${PRESETS.map((p) => p.id).join(' | ')} (default paper)
  --B N                  minibatch size
  --lr X                 learning rate α
  --hidden N             hidden width h
  --optimizer sgd|momentum|adam  training optimizer (Adam: α = --adam-lr unless --lr)
  --momentum X           momentum coefficient μ in [0, 1) (default 0.9)
  --widths LIST          width-sweep: hidden widths, e.g. 20,30,50,100
  --Bs LIST              hyper-sweep: minibatch sizes, e.g. 25,50,100
  --lrs LIST             hyper-sweep: learning rates, e.g. 0.05,0.1,0.2
  --adam-lr X            Adam's learning rate when --lr is not given, and Adam's in
                         optimizer-comparison (default ${ADAM_DEFAULT_LR})
  --sharp-c X            D_s threshold constant c (default ${SHARP_THRESHOLD_C})
  --seed N               initialisation / shuffling seed
  --seeds LIST           variance-flatness / theory: one run per seed, e.g. 0,1,2,3,4; the JSON
                         is the first seed's, with perSeed and seedSummary (mean ± sd of ψ,
                         γ and the 2–35 variance share over the seeds)
  --dynamics sgd|langevin  analyse SGD (default) or the Langevin contrast run from the SGD solution
  --temperature T        Langevin temperature
  --langevin-lr X        Langevin step size
  --langevin-burn-in N   Langevin burn-in steps
  --langevin-steps N     Langevin window steps
  --langevin-every N     keep every N-th Langevin step
  --warmup-epochs N      warm-up epochs before the window
  --window-epochs N      PCA window length in epochs
  --phase warmup|error   how the exploration phase is found
  --modes N              number of log-spaced flatness modes
  --factor e|2           flatness threshold factor
  --centre mean|last     profile centre
  --step auto|wasm-simd|tfjs  training step: the WebAssembly SIMD kernel or tfjs ops (auto: kernel)
  --idx DIR              use the four MNIST IDX files in DIR instead of the embedded digits
  --out FILE             JSON output (default results.json); CSVs are written next to it
  --bundle FILE          also write a run bundle (the page's run format, opened by the app)
  --quiet                no progress on stderr`;

class UsageError extends Error {}

interface CliOptions {
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
}

const NUMERIC: Record<string, keyof RunConfig> = {
  '--B': 'batchSize',
  '--lr': 'lr',
  '--hidden': 'hidden',
  '--seed': 'seed',
  '--temperature': 'temperature',
  '--langevin-lr': 'langevinLr',
  '--langevin-burn-in': 'langevinBurnIn',
  '--langevin-steps': 'langevinSteps',
  '--langevin-every': 'langevinEvery',
  '--warmup-epochs': 'warmupEpochs',
  '--window-epochs': 'windowEpochs',
  '--modes': 'flatnessModes',
  '--momentum': 'momentum',
};
const INTEGER = new Set<keyof RunConfig>([
  'batchSize',
  'hidden',
  'seed',
  'langevinBurnIn',
  'langevinSteps',
  'langevinEvery',
  'warmupEpochs',
  'windowEpochs',
  'flatnessModes',
]);

export function parseArgs(argv: string[]): CliOptions {
  let experiment = '';
  let preset = 'paper';
  let dynamics: 'sgd' | 'langevin' = 'sgd';
  let out = 'results.json';
  let idx: string | null = null;
  let quiet = false;
  let bundle: string | null = null;
  let seeds: number[] | null = null;
  const overrides: Partial<Record<keyof RunConfig, number | string>> = {};
  let presetGiven = false;
  let widths: number[] = [20, 30, 50, 100];
  let Bs: number[] = [25, 50, 100];
  let lrs: number[] = [0.05, 0.1, 0.2];
  let adamLr = ADAM_DEFAULT_LR;
  let sharpC = SHARP_THRESHOLD_C;
  let arch: 'mlp' | 'mlp4' | 'cnn' = 'mlp';
  const archOverrides: Partial<ArchConfig> = {};
  const whole = (a: string, raw: string): number => {
    const v = Number(raw);
    if (!Number.isInteger(v) || v < 1)
      throw new UsageError(`${a} expects a positive whole number, got "${raw}"`);
    return v;
  };
  const list = (a: string, raw: string, integer: boolean): number[] => {
    const v = raw.split(',').map((x) => Number(x.trim()));
    if (
      v.length === 0 ||
      v.some((x) => !Number.isFinite(x) || x <= 0 || (integer && !Number.isInteger(x)))
    )
      throw new UsageError(
        `${a} expects a comma-separated list of positive ${integer ? 'whole ' : ''}numbers, got "${raw}"`,
      );
    return v;
  };
  const positive = (a: string, raw: string): number => {
    const v = Number(raw);
    if (!Number.isFinite(v) || v <= 0)
      throw new UsageError(`${a} expects a positive number, got "${raw}"`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${a} needs a value`);
      return v;
    };
    if (a === '--experiment') experiment = value();
    else if (a === '--preset') {
      preset = value();
      presetGiven = true;
      if (!PRESETS.some((p) => p.id === preset)) throw new UsageError(`unknown preset "${preset}"`);
    } else if (a === '--dynamics') {
      const v = value();
      if (v !== 'sgd' && v !== 'langevin')
        throw new UsageError(`--dynamics must be sgd or langevin, got "${v}"`);
      dynamics = v;
    } else if (a === '--out') out = value();
    else if (a === '--idx') idx = value();
    else if (a === '--bundle') bundle = value();
    else if (a === '--seeds') {
      const raw = value();
      const v = raw.split(',').map((x) => Number(x.trim()));
      if (v.length === 0 || v.some((x) => !Number.isInteger(x) || x < 0))
        throw new UsageError(`--seeds expects a comma-separated list of seeds ≥ 0, got "${raw}"`);
      seeds = [...new Set(v)];
    } else if (a === '--quiet') quiet = true;
    else if (a === '--phase') {
      const v = value();
      if (v !== 'warmup' && v !== 'error') throw new UsageError(`--phase must be warmup or error`);
      overrides.phaseMode = v;
    } else if (a === '--factor') {
      const v = value();
      if (v !== 'e' && v !== '2') throw new UsageError(`--factor must be e or 2`);
      overrides.thresholdFactor = v;
    } else if (a === '--step') {
      const v = value();
      if (v !== 'auto' && v !== 'wasm-simd' && v !== 'tfjs')
        throw new UsageError(`--step must be auto, wasm-simd or tfjs`);
      overrides.stepImpl = v;
    } else if (a === '--centre') {
      const v = value();
      if (v !== 'mean' && v !== 'last') throw new UsageError(`--centre must be mean or last`);
      overrides.profileCentre = v;
    } else if (a === '--optimizer') {
      const v = value();
      if (v !== 'sgd' && v !== 'momentum' && v !== 'adam')
        throw new UsageError(`--optimizer must be sgd, momentum or adam, got "${v}"`);
      overrides.optimizer = v;
    } else if (a === '--widths') widths = list(a, value(), true);
    else if (a === '--Bs') Bs = list(a, value(), true);
    else if (a === '--lrs') lrs = list(a, value(), false);
    else if (a === '--adam-lr') adamLr = positive(a, value());
    else if (a === '--sharp-c') sharpC = positive(a, value());
    else if (a === '--arch') {
      const v = value();
      if (v !== 'mlp' && v !== 'mlp4' && v !== 'cnn')
        throw new UsageError(`--arch must be mlp, mlp4 or cnn, got "${v}"`);
      arch = v;
    } else if (a === '--block') {
      const v = whole(a, value());
      if (v < 2 || v > 4) throw new UsageError(`--block must be 2, 3 or 4 (W2…W4 of mlp4)`);
      archOverrides.block = v;
    } else if (a === '--kernel') {
      const v = whole(a, value());
      if (v !== 3 && v !== 5) throw new UsageError(`--kernel must be 3 or 5`);
      archOverrides.kernel = v;
    } else if (a === '--conv1') archOverrides.conv1 = whole(a, value());
    else if (a === '--conv2') archOverrides.conv2 = whole(a, value());
    else if (a === '--dense') archOverrides.dense = whole(a, value());
    else if (a === '--max-block-dim') archOverrides.maxBlockDim = whole(a, value());
    else if (a in NUMERIC) {
      const key = NUMERIC[a];
      const raw = value();
      const v = Number(raw);
      if (!Number.isFinite(v) || v < 0 || (INTEGER.has(key) && !Number.isInteger(v))) {
        throw new UsageError(
          `${a} expects a ${INTEGER.has(key) ? 'non-negative whole number' : 'non-negative number'}, got "${raw}"`,
        );
      }
      overrides[key] = v;
    } else if (a === '--help' || a === '-h') {
      throw new UsageError('');
    } else throw new UsageError(`unknown option "${a}"`);
  }
  if (
    experiment !== 'variance-flatness' &&
    experiment !== 'theory' &&
    !SWEEPS.includes(experiment)
  ) {
    throw new UsageError(
      experiment ? `unknown experiment "${experiment}"` : '--experiment is required',
    );
  }
  const sweepDefaults = SWEEPS.includes(experiment) && !presetGiven ? SWEEP_DEFAULTS : {};
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
  let archConfig: ArchConfig | null = null;
  if (arch !== 'mlp') {
    if (experiment !== 'variance-flatness' && !SWEEPS.includes(experiment))
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
  if (SWEEPS.includes(experiment) && (dynamics !== 'sgd' || bundle))
    throw new UsageError('sweeps analyse SGD-family runs only and write no bundle');
  return {
    experiment,
    config,
    dynamics,
    out,
    idx,
    quiet,
    bundle,
    preset,
    widths,
    Bs,
    lrs,
    adamLr,
    sharpC,
    arch: archConfig,
    seeds,
  };
}

function csv(rows: (string | number)[][]): string {
  return rows.map((r) => r.join(',')).join('\n') + '\n';
}

function modesJson(r: AnalysisResult) {
  return r.modes.map((m) => ({
    rank: m.rank,
    variance: m.variance,
    flatness: m.flatness,
    left: m.left,
    right: m.right,
    L0: m.L0,
  }));
}

function fitJson(f: AnalysisResult['fits']['psi']) {
  return {
    exponent: f.exponent,
    ci95: f.ci95,
    method: f.method ?? 'ols-t',
    ciOls: f.ciOls ?? f.ci95,
    ...(f.tls ? { tls: f.tls } : {}),
    r2: f.r2,
    ranks: f.ranks,
    n: f.n,
    slope: f.slope,
  };
}

function analysisJson(r: AnalysisResult) {
  const th = r.theory;
  const byRank = new Map(th?.modes.map((m) => [m.rank, m]));
  return {
    spectrum: { variance: r.variance },
    modes: modesJson(r).map((m) => {
      const t = byRank.get(m.rank);
      return t
        ? { ...m, D: t.D, tau: t.tau, tauIntegral: t.tauIntegral, tauAcf: t.tauAcf, T0: t.T0 }
        : m;
    }),
    fits: {
      gamma: fitJson(r.fits.gamma),
      psi: fitJson(r.fits.psi),
      ...(th
        ? {
            D: fitJson(th.fits.D),
            tau: fitJson(th.fits.tau),
            tauIntegral: fitJson(th.fits.tauIntegral),
            psiPredicted: { ...th.fits.psiPredicted, identity: true },
          }
        : {}),
    },
    ...(th?.fits.tauAgreement
      ? {
          tauCheck: {
            medianRatio: th.fits.tauAgreement.medianRatio,
            quartiles: th.fits.tauAgreement.quartiles,
            slope: fitJson(th.fits.tauAgreement.fit),
            n: th.fits.tauAgreement.n,
          },
        }
      : {}),
    ...(r.einstein ? { einstein: r.einstein } : {}),
    ...(th
      ? {
          activeTemperature: th.temperature.map((t) => ({
            rank: t.rank,
            flatness: t.flatness,
            K: t.K,
            deltas: t.deltas,
            T: t.T,
            stderr: t.stderr,
            loss: t.loss,
            minimaSpread: t.minima.std,
          })),
          trajectory: th.trajectory,
        }
      : {}),
    varianceFraction35: r.varianceFraction35,
    rank90: r.rank90,
    driftAlignment: r.driftAlignment,
    snapshots: r.snapshots,
    method: r.method,
  };
}

/** Runs the experiment; returns the JSON document and the run bundle of the same run. */
export async function reproduce(
  opts: CliOptions,
  log: (s: string) => void,
): Promise<{ out: Record<string, unknown>; bundle: RunBundle }> {
  const t0 = performance.now();
  const backend = await cliBackend();
  const data = await loadData(opts.idx);
  const cfg = opts.config;
  // The page's check before Start: settings that cannot work stop here, before any training.
  const plan = planRun(cfg, dataShape(data));
  if (plan.problems.length) throw new RunSettingsError(plan.problems);
  for (const note of plan.notes) log(note);
  log(
    `backend ${backend.name}; data ${data.name}: ${data.train.count} train / ${data.test.count} test`,
  );
  const epochs: EpochRecord[] = [];
  const minibatch: { step: number; loss: number }[] = [];
  const windowSteps: RunBundle['windows'] = [];
  let lossSum = 0;
  let lossN = 0;
  let exploration: RunBundle['exploration'] = null;
  let explorationStartEpoch: number | null = null;
  const windows = new Map<RunId, { win: SnapshotWindow; first: number | null; every: number }>();
  const checkpoints: (WeightCheckpoint & { epoch: number })[] = [];
  const results = new Map<RunId, AnalysisResult>();
  const timings: Record<string, number> = {};
  let phaseStart = performance.now();
  let lastLog = 0;
  for await (const e of trainingRun(cfg, data, { initial: initMlp(cfg.hidden, cfg.seed) })) {
    if (e.type === 'epoch') {
      epochs.push(e.record);
      const now = performance.now();
      if (now - lastLog > 2000) {
        lastLog = now;
        log(
          `epoch ${e.record.epoch}: train loss ${e.record.trainLoss.toExponential(3)}, error ${(e.record.trainError * 100).toFixed(2)}%`,
        );
      }
    } else if (e.type === 'checkpoint') {
      if (opts.experiment === 'theory')
        checkpoints.push({ epoch: e.epoch, step: e.step, ...e.weights });
    } else if (e.type === 'exploration') {
      explorationStartEpoch = e.epoch;
      exploration = { epoch: e.epoch, step: e.step, reason: e.reason };
      timings.warmup = (performance.now() - phaseStart) / 1000;
      phaseStart = performance.now();
      log(`exploration phase from epoch ${e.epoch} (${e.reason})`);
    } else if (e.type === 'windowStart') {
      windowSteps.push({ run: e.run, startStep: e.step, endStep: null });
      windows.set(e.run, {
        win: new SnapshotWindow(cfg.hidden ** 2, { maxSnapshots: e.expectedSnapshots + 16 }),
        first: null,
        every: e.every,
      });
      phaseStart = performance.now();
    } else if (e.type === 'step') {
      lossSum += e.loss;
      if (++lossN === 20) {
        minibatch.push({ step: e.step, loss: lossSum / lossN });
        lossSum = 0;
        lossN = 0;
      }
      if (!e.w2) continue;
      const w = windows.get(e.phase === 'langevin-window' ? 'langevin' : 'sgd');
      if (w) {
        if (w.first === null) w.first = e.step;
        w.win.add(e.w2);
      }
    } else if (e.type === 'windowEnd') {
      timings[e.run === 'sgd' ? 'window' : 'langevin'] = (performance.now() - phaseStart) / 1000;
      for (const w of windowSteps) if (w.run === e.run && w.endStep === null) w.endStep = e.step;
      const w = windows.get(e.run)!;
      log(`${e.run} window: ${w.win.count} snapshots; analysing…`);
      const a = await WindowAnalysis.analyze(
        e.run,
        w.win,
        e.weights,
        data.train,
        cfg,
        w.first ?? 0,
        w.every,
      );
      if (opts.experiment === 'theory') {
        const th = await a.theory(e.run === 'sgd' ? checkpoints : []);
        a.result.theory = th;
        timings[`${e.run === 'sgd' ? '' : 'langevin.'}theory`] =
          th.timings.velocity + th.timings.temperature + th.timings.trajectory;
        log(
          `${e.run}: β₁ = ${th.fits.D.exponent.toFixed(3)}, β₂ = ${th.fits.tau.exponent.toFixed(3)} (β₁ + β₂ = ψ by the definition of τ)${th.fits.tauAgreement ? `; τ check: τ_acf/τ median ${th.fits.tauAgreement.medianRatio.toFixed(3)}, slope ${th.fits.tauAgreement.fit.exponent.toFixed(3)}` : ''}${th.trajectory ? `; corr(T, L) along the trajectory ${th.trajectory.correlation.toFixed(3)}` : ''}`,
        );
      }
      results.set(e.run, a.result);
      timings[`${e.run === 'sgd' ? '' : 'langevin.'}pca`] = a.result.timings.pca;
      timings[`${e.run === 'sgd' ? '' : 'langevin.'}flatness`] = a.result.timings.flatness;
      a.dispose();
      const ein = a.result.einstein;
      log(
        `${e.run}: ψ = ${a.result.fits.psi.exponent.toFixed(3)} (R² ${a.result.fits.psi.r2.toFixed(3)}), γ = ${a.result.fits.gamma.exponent.toFixed(3)}; PCA ${a.result.timings.pca.toFixed(2)} s, flatness ${a.result.timings.flatness.toFixed(2)} s${ein ? `; Einstein check: ${ein.equilibratedCount} of ${ein.modes.length} modes equilibrated` : ''}`,
      );
      phaseStart = performance.now();
      if (e.run === 'sgd' && opts.dynamics === 'sgd') break;
    } else if (e.type === 'diverged') {
      throw new Error(e.message);
    }
  }
  timings.total = (performance.now() - t0) / 1000;
  const primary = results.get(opts.dynamics);
  if (!primary) throw new Error(`the ${opts.dynamics} run produced no analysis`);
  const out: Record<string, unknown> = {
    experiment: opts.experiment,
    dynamics: opts.dynamics,
    config: cfg,
    backend: backend.name,
    data: { name: data.name, train: data.train.count, test: data.test.count },
    training: {
      epoch: epochs.map((r) => r.epoch),
      step: epochs.map((r) => r.step),
      trainLoss: epochs.map((r) => r.trainLoss),
      trainError: epochs.map((r) => r.trainError),
      testLoss: epochs.map((r) => r.testLoss),
      testError: epochs.map((r) => r.testError),
    },
    explorationStartEpoch,
    ...analysisJson(primary),
    timings,
  };
  if (opts.dynamics === 'langevin' && results.get('sgd'))
    out.sgd = analysisJson(results.get('sgd')!);
  const bundleResults: RunBundle['results'] = {};
  for (const [run, r] of results) bundleResults[run] = slimResult(r);
  const bundle: RunBundle = roundNumbers({
    format: BUNDLE_FORMAT,
    version: BUNDLE_VERSION,
    createdAt: new Date().toISOString(),
    createdWith: `npm run reproduce (Node ${process.version}, tfjs ${backend.name})`,
    preset: opts.preset,
    config: cfg,
    epochs,
    minibatch: thinSeries(minibatch),
    exploration,
    windows: windowSteps,
    results: bundleResults,
    profiles: [...results.values()].flatMap((r) => r.profiles),
  });
  return { out, bundle };
}

/** Mean, sample sd (n − 1) and the values of one number over seeds. */
export function seedStat(values: number[]): {
  mean: number;
  sd: number;
  n: number;
  values: number[];
} {
  const v = values.filter((x) => Number.isFinite(x));
  const n = v.length;
  const mean = n ? v.reduce((a, b) => a + b, 0) / n : NaN;
  const sd = n > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : NaN;
  return { mean, sd, n, values };
}

/**
 * One run per seed: a headline exponent is a mean ± sd over seeds (SCIENCE.md). The document is
 * the first seed's, with each seed's fits (`perSeed`) and their summary (`seedSummary`).
 */
export async function reproduceSeeds(
  opts: CliOptions,
  seeds: number[],
  log: (s: string) => void,
): Promise<{ out: Record<string, unknown>; bundle: RunBundle }> {
  let first: { out: Record<string, unknown>; bundle: RunBundle } | null = null;
  const perSeed: Record<string, unknown>[] = [];
  for (const seed of seeds) {
    log(`seed ${seed} (${perSeed.length + 1} of ${seeds.length})`);
    const r = await reproduce({ ...opts, config: { ...opts.config, seed } }, log);
    first ??= r;
    const fits = r.out.fits as Record<string, ReturnType<typeof fitJson>>;
    perSeed.push({
      seed,
      psi: fits.psi,
      gamma: fits.gamma,
      ...(fits.D ? { D: fits.D } : {}),
      varianceFraction35: r.out.varianceFraction35,
      ...(r.out.einstein ? { einstein: r.out.einstein } : {}),
    });
  }
  const pick = (f: (p: Record<string, unknown>) => unknown) =>
    seedStat(perSeed.map((p) => Number(f(p))));
  const fit = (p: Record<string, unknown>, k: string) =>
    (p[k] as ReturnType<typeof fitJson> | undefined)?.exponent;
  const seedSummary: Record<string, unknown> = {
    psi: pick((p) => fit(p, 'psi')),
    psiTls: pick((p) => (p.psi as ReturnType<typeof fitJson>).tls?.exponent),
    gamma: pick((p) => fit(p, 'gamma')),
    varianceFraction35: pick((p) => p.varianceFraction35),
    ...(perSeed[0].D ? { beta1: pick((p) => fit(p, 'D')) } : {}),
  };
  log(
    `over ${seeds.length} seeds: ψ = ${fmtStat(seedSummary.psi)}, γ = ${fmtStat(seedSummary.gamma)}, 2–35 share = ${fmtStat(seedSummary.varianceFraction35)}`,
  );
  const { out, bundle } = first!;
  return { out: { ...out, seeds, perSeed, seedSummary }, bundle };
}

function fmtStat(x: unknown): string {
  const s = x as ReturnType<typeof seedStat>;
  return `${s.mean.toFixed(3)} ± ${s.sd.toFixed(3)}`;
}

/** Runs the variance–flatness pipeline on mlp4 or the CNN; returns the JSON document. */
export async function reproduceArchitecture(
  opts: CliOptions,
  cfg: ArchConfig,
  log: (s: string) => void,
): Promise<Record<string, unknown>> {
  const backend = await cliBackend();
  const data = await loadData(opts.idx);
  log(`backend ${backend.name}; data ${data.name}; --arch ${cfg.arch}`);
  const r: ArchResult = await architectureRun(cfg, data, { log, sharpC: opts.sharpC });
  log(
    `${cfg.arch} block ${r.block.name} (${r.block.dim}${r.block.sampled ? ` of ${r.block.fullDim}, sampled` : ''}), ${r.optimizer} α ${r.lr}${r.optimizer === 'momentum' ? ` μ ${r.momentum}` : ''}: ψ = ${r.fits.psi.exponent.toFixed(3)} (R² ${r.fits.psi.r2.toFixed(3)}), γ = ${r.fits.gamma.exponent.toFixed(3)}; D_L90 = ${r.dims.DL90}, D_s = ${r.dims.Ds}`,
  );
  const warning = collapseWarning(r);
  if (warning) log(warning);
  const e = r.epochs;
  return {
    experiment: opts.experiment,
    dynamics: 'sgd',
    arch: r.arch,
    block: r.block,
    optimizer: r.optimizer,
    lr: r.lr,
    momentum: r.momentum,
    config: cfg,
    backend: backend.name,
    data: { name: data.name, train: data.train.count, test: data.test.count },
    training: {
      epoch: e.map((x) => x.epoch),
      step: e.map((x) => x.step),
      trainLoss: e.map((x) => x.trainLoss),
      trainError: e.map((x) => x.trainError),
      testLoss: e.map((x) => x.testLoss),
      testError: e.map((x) => x.testError),
    },
    explorationStartEpoch: cfg.warmupEpochs,
    spectrum: { variance: r.variance },
    modes: r.modes.map((m) => ({
      rank: m.rank,
      variance: m.variance,
      flatness: m.flatness,
      left: m.left,
      right: m.right,
      L0: m.L0,
    })),
    fits: { gamma: fitJson(r.fits.gamma), psi: fitJson(r.fits.psi) },
    varianceFraction35: r.varianceFraction35,
    rank90: r.rank90,
    effectiveDimension: r.dims,
    meanNorm: r.meanNorm,
    snapshots: r.snapshots,
    method: r.method,
    timings: r.timings,
  };
}

function sweepRow(r: RunSummary) {
  return {
    hidden: r.hidden,
    B: r.batchSize,
    lr: r.lr,
    optimizer: r.optimizer,
    momentum: r.momentum,
    params: r.params,
    dim: r.dim,
    snapshots: r.snapshots,
    stepEvery: r.stepEvery,
    DL90: r.dims.DL90,
    DL95: r.dims.DL95,
    Ds: r.dims.Ds,
    sharpThreshold: r.dims.threshold,
    sharpC: r.dims.c,
    meanNorm: r.dims.norm,
    DsRanks: r.dims.ranks,
    dsCurve: r.dsCurve,
    dsByScale: r.dsByScale,
    psi: fitJson(r.psi),
    gamma: fitJson(r.gamma),
    finalTrainError: r.finalTrainError,
    finalTestError: r.finalTestError,
    variance: r.variance,
    modes: r.modes,
    flatnessSpectrum: r.flatnessSpectrum,
    timings: r.timings,
    ...(r.arch ? { arch: r.arch, block: r.block } : {}),
  };
}

/** Runs a width sweep, a (B, α) sweep or the optimizer comparison; returns the JSON document. */
export async function reproduceSweep(
  opts: CliOptions,
  log: (s: string) => void,
): Promise<Record<string, unknown>> {
  const t0 = performance.now();
  const backend = await cliBackend();
  const data = await loadData(opts.idx);
  const cfg = opts.config;
  const arch = opts.arch;
  log(
    `backend ${backend.name}; data ${data.name}; ${opts.experiment}${arch ? ` --arch ${arch.arch}` : ''}`,
  );
  const sweepOpts = { log, sharpC: opts.sharpC };
  const head = {
    experiment: opts.experiment,
    arch: arch ? arch.arch : 'mlp',
    config: arch ?? cfg,
    backend: backend.name,
    data: { name: data.name, train: data.train.count, test: data.test.count },
  };
  if (opts.experiment === 'width-sweep') {
    const runs = arch
      ? await archWidthSweep(arch, opts.widths, data, sweepOpts)
      : await widthSweep(cfg, opts.widths, data, sweepOpts);
    return {
      ...head,
      widths: runs.map(sweepRow),
      timings: {
        perWidth: runs.map((r) => r.timings.total),
        total: (performance.now() - t0) / 1000,
      },
    };
  }
  if (opts.experiment === 'hyper-sweep') {
    const runs = arch
      ? await archHyperSweep(arch, opts.Bs, opts.lrs, data, sweepOpts)
      : await hyperSweep(cfg, opts.Bs, opts.lrs, data, sweepOpts);
    return {
      ...head,
      Bs: opts.Bs,
      lrs: opts.lrs,
      runs: runs.map((r) => ({ ...sweepRow(r), BoverLr: r.batchSize / r.lr })),
      timings: { perRun: runs.map((r) => r.timings.total), total: (performance.now() - t0) / 1000 },
    };
  }
  const runs = arch
    ? await archOptimizerComparison(arch, data, sweepOpts, undefined, opts.adamLr)
    : await optimizerComparison(cfg, data, sweepOpts, undefined, opts.adamLr);
  return {
    ...head,
    optimizers: runs.map(sweepRow),
    timings: { perRun: runs.map((r) => r.timings.total), total: (performance.now() - t0) / 1000 },
  };
}

function writeSweepOutputs(out: Record<string, unknown>, file: string): string[] {
  mkdirSync(dirname(resolve(file)), { recursive: true });
  writeFileSync(file, JSON.stringify(out, null, 1));
  const rows = (out.widths ?? out.runs ?? out.optimizers) as ReturnType<typeof sweepRow>[];
  const summary = file.replace(/\.json$/i, '') + '.summary.csv';
  writeFileSync(
    summary,
    csv([
      [
        'hidden',
        'B',
        'lr',
        'optimizer',
        'params',
        'dim',
        'DL90',
        'DL95',
        'Ds',
        'psi',
        'psiLo',
        'psiHi',
        'gamma',
        'gammaLo',
        'gammaHi',
      ],
      ...rows.map((r) => [
        r.hidden,
        r.B,
        r.lr,
        r.optimizer,
        r.params,
        r.dim,
        r.DL90,
        r.DL95,
        r.Ds,
        r.psi.exponent,
        r.psi.ci95[0],
        r.psi.ci95[1],
        r.gamma.exponent,
        r.gamma.ci95[0],
        r.gamma.ci95[1],
      ]),
    ]),
  );
  return [file, summary];
}

function writeOutputs(out: Record<string, unknown>, file: string): string[] {
  mkdirSync(dirname(resolve(file)), { recursive: true });
  writeFileSync(file, JSON.stringify(out, null, 1));
  const base = file.replace(/\.json$/i, '');
  const spectrum = (out.spectrum as { variance: number[] }).variance;
  const modes = out.modes as ReturnType<typeof modesJson>;
  const t = out.training as Record<string, number[]>;
  const files = [`${base}.spectrum.csv`, `${base}.modes.csv`, `${base}.training.csv`];
  writeFileSync(files[0], csv([['rank', 'variance'], ...spectrum.map((v, i) => [i + 1, v])]));
  writeFileSync(
    files[1],
    csv([
      ['rank', 'variance', 'flatness', 'left', 'right', 'L0'],
      ...modes.map((m) => [m.rank, m.variance, m.flatness, m.left, m.right, m.L0]),
    ]),
  );
  writeFileSync(
    files[2],
    csv([
      ['epoch', 'step', 'trainLoss', 'trainError', 'testLoss', 'testError'],
      ...t.epoch.map((e, i) => [
        e,
        t.step[i],
        t.trainLoss[i],
        t.trainError[i],
        t.testLoss[i],
        t.testError[i],
      ]),
    ]),
  );
  return [file, ...files];
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const ei = argv.indexOf('--experiment');
  if (ei >= 0 && argv[ei + 1] === 'forgetting') {
    // The forgetting sweep (Fig. 4) parses its own options.
    const { forgettingMain } = await import('./forgetting');
    return forgettingMain(argv);
  }
  let opts: CliOptions;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    if (e instanceof UsageError) {
      if (e.message) process.stderr.write(`error: ${e.message}\n\n`);
      process.stderr.write(USAGE + '\n');
      process.exit(e.message ? 2 : 0);
    }
    throw e;
  }
  const log = opts.quiet ? () => undefined : (s: string) => process.stderr.write(s + '\n');
  if (SWEEPS.includes(opts.experiment)) {
    const out = await reproduceSweep(opts, log);
    log(`wrote ${writeSweepOutputs(out, opts.out).join(', ')}`);
    return;
  }
  if (opts.arch) {
    const out = await reproduceArchitecture(opts, opts.arch, log);
    log(`wrote ${writeOutputs(out, opts.out).join(', ')}`);
    return;
  }
  const { out, bundle } = opts.seeds
    ? await reproduceSeeds(opts, opts.seeds, log)
    : await reproduce(opts, log);
  const files = writeOutputs(out, opts.out);
  if (opts.bundle) {
    mkdirSync(dirname(resolve(opts.bundle)), { recursive: true });
    writeFileSync(opts.bundle, JSON.stringify(bundle));
    files.push(opts.bundle);
  }
  log(`wrote ${files.join(', ')}`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
    // Settings that cannot work together are bad arguments too.
    process.exit(e instanceof RunSettingsError ? 2 : 1);
  });
}
