/**
 * The runs each sweep of section 7 plans, as pure functions of the run panel's settings: the
 * page (UniversalitySection) and the precomputed bundle (scripts/build-universality-bundle.ts)
 * build the very same specs from them.
 */
import { momentumLr, type RunConfig } from '../engine/experiments/config';
import { SWEEP_DEFAULTS } from '../engine/experiments/config';
import { MAX_WINDOW_SNAPSHOTS } from '../engine/experiments/memoryPolicy';
import type { UniversalityMode, UniversalityRunSpec } from '../protocol/messages';
import { PAGE_ARCH, PAGE_GRID, PAGE_WIDTHS } from './universalityStore';

/** Adam's learning rate on the page (α = 0.1 makes Adam diverge). */
export const ADAM_LR = 0.001;

export interface PlanItem {
  spec: UniversalityRunSpec;
  label: string;
}

/** The settings every sweep run uses (the engine's SWEEP_DEFAULTS, as the CLI's sweeps). */
export function quickConfig(config: RunConfig): RunConfig {
  return { ...config, ...SWEEP_DEFAULTS, contrast: false };
}

/**
 * A sweep run's PCA window on a training set of `trainCount` examples: its steps, and the W2
 * snapshots it keeps (every `every`-th step once the steps pass the window's cap).
 */
export function sweepWindow(
  batchSize: number,
  trainCount: number,
): { steps: number; snapshots: number; every: number } {
  const steps = SWEEP_DEFAULTS.windowEpochs * Math.max(1, Math.floor(trainCount / batchSize));
  const every = Math.ceil(steps / MAX_WINDOW_SNAPSHOTS);
  return { steps, snapshots: Math.ceil(steps / every), every };
}

export function optimizerPlan(config: RunConfig): PlanItem[] {
  const q = quickConfig(config);
  return [
    { spec: { kind: 'mlp', config: { ...q, optimizer: 'sgd' } }, label: 'SGD' },
    {
      spec: {
        kind: 'mlp',
        config: { ...q, optimizer: 'momentum', lr: momentumLr(q.lr, q.momentum) },
      },
      label: 'Momentum',
    },
    { spec: { kind: 'mlp', config: { ...q, optimizer: 'adam', lr: ADAM_LR } }, label: 'Adam' },
  ];
}

export function widthPlan(config: RunConfig): PlanItem[] {
  const q = quickConfig(config);
  return PAGE_WIDTHS.map((h) => ({
    spec: { kind: 'mlp', config: { ...q, hidden: h } },
    label: `h ${h}`,
  }));
}

export function gridPlan(config: RunConfig): PlanItem[] {
  const q = quickConfig(config);
  return PAGE_GRID.batchSizes.flatMap((B) =>
    PAGE_GRID.lrs.map((lr) => ({
      spec: { kind: 'mlp', config: { ...q, batchSize: B, lr } } as UniversalityRunSpec,
      label: `B ${B}, α ${lr}`,
    })),
  );
}

export type ArchChoice = 'mlp4' | 'cnn';

/** The architecture panel's settings. */
export interface ArchForm {
  arch: ArchChoice;
  optimizer: 'sgd' | 'momentum' | 'adam';
  hidden: number;
  block: number;
  kernel: number;
  conv1: number;
  conv2: number;
  dense: number;
}

export const DEFAULT_ARCH_FORM: ArchForm = {
  arch: 'mlp4',
  optimizer: 'sgd',
  hidden: PAGE_ARCH.hidden,
  block: PAGE_ARCH.block,
  kernel: PAGE_ARCH.kernel,
  conv1: PAGE_ARCH.conv1,
  conv2: PAGE_ARCH.conv2,
  dense: PAGE_ARCH.dense,
};

const OPTIMIZER_NAME = { sgd: 'SGD', momentum: 'momentum', adam: 'Adam' } as const;

export function archLabel(f: ArchForm): string {
  const net =
    f.arch === 'mlp4'
      ? `4-layer MLP h ${f.hidden}, W${f.block}`
      : `CNN ${f.kernel}×${f.kernel}, ${f.conv1}/${f.conv2} channels, dense ${f.dense}`;
  return f.optimizer === 'sgd' ? net : `${net}, ${OPTIMIZER_NAME[f.optimizer]}`;
}

/**
 * The learning rate of an architecture run: the run panel's α for SGD; α(1 − μ) for momentum,
 * whose steady step is α/(1 − μ) times the gradient (at α = 0.1, μ = 0.9 the 4-layer MLP
 * collapses), so that it moves as far per step as SGD; Adam's own 0.001.
 */
export function archLr(optimizer: ArchForm['optimizer'], lr: number, momentum: number): number {
  if (optimizer === 'adam') return ADAM_LR;
  return optimizer === 'momentum' ? momentumLr(lr, momentum) : lr;
}

/** One architecture run of the panel's settings. */
export function archPlan(form: ArchForm, config: RunConfig): PlanItem {
  return {
    spec: {
      kind: 'arch',
      arch: form.arch,
      settings: {
        hidden: form.hidden,
        block: form.block,
        kernel: form.kernel,
        conv1: form.conv1,
        conv2: form.conv2,
        dense: form.dense,
        batchSize: config.batchSize,
        lr: archLr(form.optimizer, config.lr, config.momentum),
        optimizer: form.optimizer,
        momentum: config.momentum,
        seed: config.seed,
        warmupEpochs: PAGE_ARCH.warmupEpochs[form.arch],
        windowEpochs: PAGE_ARCH.windowEpochs[form.arch],
        flatnessModes: 30,
        maxBlockDim: PAGE_ARCH.maxBlockDim,
      },
    },
    label: archLabel(form),
  };
}

/** What a sweep's start button plans (the embeds' buttons; the article builds the same). */
export function sweepPlan(
  mode: UniversalityMode,
  config: RunConfig,
): { items: PlanItem[]; append: boolean; startLabel: string } {
  switch (mode) {
    case 'optimizers':
      return { items: optimizerPlan(config), append: false, startLabel: 'Compare optimizers' };
    case 'widths':
      return {
        items: widthPlan(config),
        append: false,
        startLabel: `Sweep widths ${PAGE_WIDTHS.join(', ')}`,
      };
    case 'hyper':
      return {
        items: gridPlan(config),
        append: false,
        startLabel: `Run the ${PAGE_GRID.batchSizes.length}×${PAGE_GRID.lrs.length} grid`,
      };
    case 'architectures': {
      const item = archPlan(DEFAULT_ARCH_FORM, config);
      return { items: [item], append: true, startLabel: `Add a run: ${item.label}` };
    }
  }
}
