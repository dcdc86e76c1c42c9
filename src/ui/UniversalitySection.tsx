/**
 * Section 7 of the article: is the inverse variance–flatness relation universal? (a) SGD,
 * momentum and Adam one after another in the trainer worker, their σ²–F points overlaid with ψ
 * in the legend; (b) a width sweep with D_s and D_L against the parameter count (Fig. 6). Both
 * run on the quick settings (8 warm-up epochs, a 3-epoch window, 30 flatness modes) with the
 * other settings from the run panel, with progress and cancel. The architectures of issue 7
 * (a 4-layer MLP, a CNN) are not built.
 */
import type { RunConfig } from '../engine/experiments/config';
import { useConfig } from '../state/configStore';
import { PRESETS } from '../state/configSchema';
import { useRun } from '../state/runStore';
import { PAGE_WIDTHS, useUniversality, type UniversalityRuns } from '../state/universalityStore';
import { EffectiveDimensionView, OptimizerComparisonView } from '../views';
import type { UniversalityMode } from '../worker/protocol';
import { workers } from './workers';

const ADAM_LR = 0.001;

function quickConfig(config: RunConfig): RunConfig {
  const quick = PRESETS.find((p) => p.id === 'quick')?.config ?? {};
  return {
    ...config,
    warmupEpochs: quick.warmupEpochs ?? 8,
    windowEpochs: quick.windowEpochs ?? 3,
    flatnessModes: quick.flatnessModes ?? 30,
    contrast: false,
  };
}

const PHASE_LABEL = { warmup: 'warm-up', window: 'PCA window', analysis: 'analysis' };

function statusText(mode: UniversalityMode, r: UniversalityRuns): string {
  const what = mode === 'optimizers' ? 'optimizer' : 'width';
  if (r.status === 'idle') return '';
  if (r.status === 'running' || r.status === 'cancelling') {
    const p = r.progress;
    const done = `${r.runs.length} of ${r.total} runs done`;
    const cur = p
      ? `; ${what} ${r.runs.length + 1}: ${PHASE_LABEL[p.phase]}${p.phase === 'analysis' ? '' : `, epoch ${p.epoch}`}`
      : '';
    return r.status === 'cancelling' ? 'Cancelling…' : done + cur;
  }
  if (r.status === 'done') return `Done: ${r.runs.length} runs.`;
  return r.message ?? r.status;
}

function Controls({ mode }: { mode: UniversalityMode }) {
  const r = useUniversality((s) => s[mode]);
  const active = useUniversality((s) => s.active);
  const config = useConfig((s) => s.config);
  const dataset = useRun((s) => s.dataset);
  const runState = useRun((s) => s.runState);
  const busy = active === mode;
  const start = () =>
    workers.startUniversality(mode, quickConfig(config), mode === 'widths' ? PAGE_WIDTHS : []);
  const fraction =
    r.status === 'done'
      ? 1
      : r.total > 0
        ? (r.runs.length +
            (r.progress?.phase === 'analysis' ? 0.8 : r.progress?.phase === 'window' ? 0.5 : 0)) /
          r.total
        : 0;
  return (
    <div className="universality-controls">
      <div className="buttons">
        {busy ? (
          <button
            type="button"
            data-testid={`universality-${mode}-cancel`}
            disabled={r.status === 'cancelling'}
            onClick={() => workers.cancelUniversality()}
          >
            Cancel
          </button>
        ) : (
          <button
            type="button"
            className="primary"
            data-testid={`universality-${mode}-start`}
            disabled={active !== null || !dataset || runState === 'loading'}
            onClick={start}
          >
            {mode === 'optimizers'
              ? 'Compare optimizers'
              : `Sweep widths ${PAGE_WIDTHS.join(', ')}`}
          </button>
        )}
      </div>
      <div className="progress" aria-live="polite">
        <progress max={1} value={fraction} aria-label={`${mode} progress`} />
        <span className="progress-text" data-testid={`universality-${mode}-progress`}>
          {statusText(mode, r)}
        </span>
      </div>
    </div>
  );
}

export function UniversalitySection() {
  const config = useConfig((s) => s.config);
  return (
    <section id="universality">
      <h2>7. Is it universal? Optimizers and widths</h2>
      <p>
        The paper finds the inverse relation for other optimizers and other network sizes too. Test
        it here: each run below is a quick warm-up (8 epochs), a 3-epoch PCA window and 30 flatness
        modes, with B = {config.batchSize}, h = {config.hidden} and the seed from the run panel.
        Starting one stops a training run in progress: one experiment runs at a time.
      </p>
      <p>
        <strong>Optimizers.</strong> Plain SGD and SGD with momentum μ = {config.momentum} (v ← μv +
        g, w ← w − αv) at α = {config.lr}; Adam (β₁ 0.9, β₂ 0.999, ε 10⁻⁸) at α = {ADAM_LR}, since
        Adam&rsquo;s per-weight steps make α = 0.1 diverge. Momentum and Adam train with
        TensorFlow.js ops (the WebAssembly kernel is SGD-only), so they are slower.
      </p>
      <Controls mode="optimizers" />
      <OptimizerComparisonView />
      <p>
        <strong>Widths.</strong> The number of weights grows as h² in W2, yet the paper reports that
        the number of sharp directions and the number of modes carrying the variance stay about the
        same. D_s counts directions with flatness below c·‖ŵ₂‖/h (c = 4: a few typical weights; it
        depends strongly on c), D_L the modes from mode 2 holding 90% or 95% of the variance. A
        3-epoch window resolves at most a few hundred directions, which bounds both.
      </p>
      <Controls mode="widths" />
      <EffectiveDimensionView />
      <p className="try">
        Try: change μ or B in the run panel and compare again — does ψ stay positive for all three?
      </p>
    </section>
  );
}
