/**
 * Section 7 of the article: is the inverse variance–flatness relation universal? (a) SGD,
 * momentum and Adam overlaid with ψ in the legend; (b) a width sweep with D_s and D_L against
 * the parameter count and each width's spectra (Fig. 6); (c) ψ and γ over a (B, α) grid;
 * (d) deeper networks — a 4-hidden-layer MLP and a small CNN — with a selectable weight block.
 * Every sweep runs in the trainer worker on quick settings with progress, pause, cancel and
 * continue; runs another sweep already made are reused (universalityStore.ts).
 */
import { useId, useState } from 'react';
import { SWEEP_DEFAULTS, momentumLr, type RunConfig } from '../engine/experiments/config';
import { useConfig } from '../state/configStore';
import { useRun } from '../state/runStore';
import {
  ADAM_LR,
  DEFAULT_ARCH_FORM,
  archLr,
  archPlan,
  gridPlan,
  optimizerPlan,
  sweepWindow,
  widthPlan,
  type ArchChoice,
  type ArchForm,
  type PlanItem,
} from '../state/universalityPlans';
import {
  MAX_ARCH_RUNS,
  PAGE_ARCH,
  PAGE_GRID,
  PAGE_WIDTHS,
  useUniversality,
} from '../state/universalityStore';
import { Figure } from './figures';
import { SweepControls } from './SweepControls';
import { usePrecomputedUniversality } from './usePrecomputedUniversality';
import './universality.css';

/** Allowed ranges of the architecture settings (inclusive). */
const ARCH_LIMITS = {
  hidden: [5, 200],
  conv1: [1, 16],
  conv2: [1, 32],
  dense: [4, 256],
} as const;

/** The analysed block's size, and whether the snapshot cap samples it. */
function blockSize(f: ArchForm): { rows: number; cols: number; dim: number; sampled: boolean } {
  const rows = f.arch === 'mlp4' ? f.hidden : 7 * 7 * f.conv2;
  const cols = f.arch === 'mlp4' ? f.hidden : f.dense;
  const full = rows * cols;
  return {
    rows,
    cols,
    dim: Math.min(full, PAGE_ARCH.maxBlockDim),
    sampled: full > PAGE_ARCH.maxBlockDim,
  };
}

function NumberField({
  label,
  value,
  range,
  disabled,
  onChange,
}: {
  label: string;
  value: number;
  range: readonly [number, number];
  disabled: boolean;
  onChange: (v: number) => void;
}) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type="number"
        min={range[0]}
        max={range[1]}
        step={1}
        value={value}
        disabled={disabled}
        onChange={(e) => {
          const v = Math.round(Number(e.target.value));
          if (Number.isFinite(v)) onChange(Math.min(range[1], Math.max(range[0], v)));
        }}
      />
    </div>
  );
}

function ArchitecturePanel({ config }: { config: RunConfig }) {
  const [form, setFormState] = useState<ArchForm>(DEFAULT_ARCH_FORM);
  const busy = useUniversality((s) => s.active !== null);
  const set = (p: Partial<ArchForm>) => setFormState((f) => ({ ...f, ...p }));
  const archId = useId();
  const blockId = useId();
  const kernelId = useId();
  const optId = useId();
  const lr = archLr(form.optimizer, config.lr, config.momentum);
  const size = blockSize(form);
  const warm = PAGE_ARCH.warmupEpochs[form.arch];
  const win = PAGE_ARCH.windowEpochs[form.arch];
  const plan = (): PlanItem[] => [archPlan(form, config)];
  return (
    <>
      <div className="universality-arch" role="group" aria-label="Architecture of the next run">
        <div className="field">
          <label htmlFor={archId}>Network</label>
          <select
            id={archId}
            value={form.arch}
            disabled={busy}
            onChange={(e) => set({ arch: e.target.value as ArchChoice })}
          >
            <option value="mlp4">4-hidden-layer MLP (784-h-h-h-h-10)</option>
            <option value="cnn">CNN (2 conv + pool, dense, output)</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor={optId}>Optimizer</label>
          <select
            id={optId}
            value={form.optimizer}
            disabled={busy}
            onChange={(e) => set({ optimizer: e.target.value as ArchForm['optimizer'] })}
          >
            <option value="sgd">SGD</option>
            <option value="momentum">Momentum (μ = {config.momentum})</option>
            <option value="adam">Adam</option>
          </select>
        </div>
        {form.arch === 'mlp4' ? (
          <>
            <NumberField
              label="Hidden width h"
              value={form.hidden}
              range={ARCH_LIMITS.hidden}
              disabled={busy}
              onChange={(hidden) => set({ hidden })}
            />
            <div className="field">
              <label htmlFor={blockId}>Analysed block</label>
              <select
                id={blockId}
                value={form.block}
                disabled={busy}
                onChange={(e) => set({ block: Number(e.target.value) })}
              >
                <option value={2}>W2 (hidden 1 → 2)</option>
                <option value={3}>W3 (hidden 2 → 3)</option>
                <option value={4}>W4 (hidden 3 → 4)</option>
              </select>
            </div>
          </>
        ) : (
          <>
            <div className="field">
              <label htmlFor={kernelId}>Kernel</label>
              <select
                id={kernelId}
                value={form.kernel}
                disabled={busy}
                onChange={(e) => set({ kernel: Number(e.target.value) })}
              >
                <option value={3}>3×3</option>
                <option value={5}>5×5</option>
              </select>
            </div>
            <NumberField
              label="Conv 1 channels"
              value={form.conv1}
              range={ARCH_LIMITS.conv1}
              disabled={busy}
              onChange={(conv1) => set({ conv1 })}
            />
            <NumberField
              label="Conv 2 channels"
              value={form.conv2}
              range={ARCH_LIMITS.conv2}
              disabled={busy}
              onChange={(conv2) => set({ conv2 })}
            />
            <NumberField
              label="Dense units"
              value={form.dense}
              range={ARCH_LIMITS.dense}
              disabled={busy}
              onChange={(dense) => set({ dense })}
            />
          </>
        )}
      </div>
      <p className="universality-plan" data-testid="universality-arch-plan">
        Analysed block: {form.arch === 'mlp4' ? `W${form.block}` : 'the dense hidden matrix'},{' '}
        {size.rows} × {size.cols} = {(size.rows * size.cols).toLocaleString('en')} weights
        {size.sampled
          ? ` — above the cap of ${PAGE_ARCH.maxBlockDim.toLocaleString('en')}, so a fixed random subset of ${size.dim.toLocaleString('en')} entries is snapshotted and analysed (the other entries sit at their window mean in the flatness profiles)`
          : ` (under the cap of ${PAGE_ARCH.maxBlockDim.toLocaleString('en')}: all of them)`}
        . {warm} warm-up epochs and a {win}-epoch window at B = {config.batchSize}, α = {lr}
        {form.optimizer === 'momentum'
          ? ` = α(1 − μ) with the run panel’s α = ${config.lr}, the same effective step as SGD`
          : form.optimizer === 'adam'
            ? ' (Adam’s own rate)'
            : ''}
        , seed {config.seed}.
      </p>
      <SweepControls mode="architectures" startLabel="Add this run" plan={plan} append />
    </>
  );
}

/** How many W2 snapshots a sweep run's window holds on the data set the page has loaded. */
function WindowSnapshots({ config }: { config: RunConfig }) {
  const trainCount = useRun((s) => s.dataset?.trainCount ?? null);
  const epochs = SWEEP_DEFAULTS.windowEpochs;
  if (trainCount === null) return <>one snapshot per step of its {epochs} epochs</>;
  const w = sweepWindow(config.batchSize, trainCount);
  const n = (x: number) => x.toLocaleString('en-US');
  const steps = `${epochs} epochs of ${n(trainCount)} training digits at B = ${config.batchSize}`;
  return w.every === 1 ? (
    <>
      one snapshot per step, {n(w.snapshots)} ({steps})
    </>
  ) : (
    <>
      {n(w.snapshots)} snapshots, one every {w.every} steps of {n(w.steps)} ({steps}; the
      window&rsquo;s cap)
    </>
  );
}

export function UniversalitySection() {
  const config = useConfig((s) => s.config);
  const bundleError = useUniversality((s) => s.bundleError);
  usePrecomputedUniversality();
  return (
    <section id="universality">
      <h2>7. Is it universal? Optimizers, widths, batch sizes and deeper networks</h2>
      <p>
        The paper finds the inverse relation for other optimizers, network sizes and architectures
        too. Test it here: each run below has the paper&rsquo;s {SWEEP_DEFAULTS.warmupEpochs}{' '}
        warm-up epochs and {SWEEP_DEFAULTS.windowEpochs}-epoch PCA window, and measures{' '}
        {SWEEP_DEFAULTS.flatnessModes} flatness modes (the paper preset&rsquo;s 50 would make each
        run&rsquo;s longest phase longer still), with B = {config.batchSize}, α = {config.lr}, h ={' '}
        {config.hidden} and the seed from the run panel unless the sweep varies them. Sweeps run on
        a pool of background workers (the badge in the run panel says how many) and can be paused,
        cancelled and continued; a run that another sweep already made at the same settings is
        reused, not trained again. Starting one stops a training run in progress: one experiment
        runs at a time. Until you run a sweep, its figure shows runs precomputed at the default
        settings.
      </p>
      {bundleError ? (
        <p className="notice" role="status">
          {bundleError}
        </p>
      ) : null}
      <h3>Optimizers</h3>
      <p>
        Plain SGD at α = {config.lr}; SGD with momentum μ = {config.momentum} (v ← μv + g, w ← w −
        αv) at α(1 − μ) = {momentumLr(config.lr, config.momentum)}, since momentum moves 1/(1 − μ)
        times further per step and so takes the same effective step as SGD; Adam (β₁ 0.9, β₂ 0.999,
        ε 10⁻⁸) at α = {ADAM_LR}, since Adam&rsquo;s per-weight steps make α = 0.1 diverge. On a
        CPU, momentum and Adam train with TensorFlow.js ops (the WebAssembly kernel is SGD-only), so
        they are slower; the fused WebGPU trainer has all three.
      </p>
      <SweepControls
        mode="optimizers"
        startLabel="Compare optimizers"
        plan={() => optimizerPlan(config)}
      />
      <Figure id="optimizer-comparison" />
      <h3>Widths</h3>
      <p>
        The number of weights grows as h² in W2, yet the paper reports that the number of sharp
        directions and the number of modes carrying the variance stay about the same. D_s counts
        directions with flatness below a threshold F<sub>c</sub> &ldquo;set by the norm of the
        solution&rdquo;, D_L the modes from mode 2 holding 90% or 95% of the variance. The paper
        does not give its threshold, and how it scales with width decides the answer: pick it with
        the control above the D_s figure. Wider sweeps at the paper&rsquo;s settings run from the
        command line, <code>npm run reproduce -- --experiment width-sweep</code>; the figures below
        show the page&rsquo;s widths only. Here each window holds{' '}
        <WindowSnapshots config={config} />, and its PCA resolves at most that many directions.
      </p>
      <SweepControls
        mode="widths"
        startLabel={`Sweep widths ${PAGE_WIDTHS.join(', ')}`}
        plan={() => widthPlan(config)}
      />
      <Figure id="effective-dimension" />
      <Figure id="width-spectra" />
      <h3>Batch size and learning rate</h3>
      <p>
        In the paper&rsquo;s theory the noise of SGD grows with α/B. Does the exponent ψ move as the
        noise changes? The grid below makes one run per B ∈ {'{'}
        {PAGE_GRID.batchSizes.join(', ')}
        {'}'} and α ∈ {'{'}
        {PAGE_GRID.lrs.join(', ')}
        {'}'} ({PAGE_GRID.batchSizes.length * PAGE_GRID.lrs.length} runs); a run that diverges is
        reported and the grid goes on. Under the figure: the range of ψ over the runs shown, how
        many have their 95% interval above zero, and whether ψ rises with α along each row and falls
        with B down each column.
      </p>
      <SweepControls
        mode="hyper"
        startLabel={`Run the ${PAGE_GRID.batchSizes.length}×${PAGE_GRID.lrs.length} grid`}
        plan={() => gridPlan(config)}
      />
      <Figure id="hyper-sweep" />
      <h3>Deeper networks</h3>
      <p>
        Does the relation hold inside a deeper network, or in a convolutional one? Pick a network
        and the weight block to analyse, and add its run to the plot (up to {MAX_ARCH_RUNS} are
        kept). These networks train with TensorFlow.js autodiff, several times slower than the
        two-layer network&rsquo;s WebAssembly step; the table gives each run&rsquo;s time. The
        snapshot dimension is capped at {PAGE_ARCH.maxBlockDim.toLocaleString('en')} weights: the
        window&rsquo;s snapshots are held in memory and the PCA&rsquo;s cost grows with their size,
        so a larger block is analysed on a fixed random subset of its entries.
      </p>
      <ArchitecturePanel config={config} />
      <Figure id="architecture-comparison" />
      <p className="try">
        Try: change μ or B in the run panel and compare again — does ψ stay positive for all three
        optimizers? Switch the D_s threshold between its three scalings: which one keeps D_s flat?
        Analyse W2, W3 and W4 of the same 4-layer network: is ψ the same in every layer?
      </p>
    </section>
  );
}
