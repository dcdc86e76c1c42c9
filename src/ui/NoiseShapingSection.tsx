/**
 * Section 5b (SI §S9, issue 17): which noise finds flat minima? SGD, full-batch GD, GD +
 * isotropic noise and GD + flatness-detecting noise from the same start with the same gradient
 * budget. Shows the bundled command-line runs until the reader runs the comparison (one seed,
 * B, α, sampling and seed from the run panel) in the trainer worker. Every number in the text
 * is computed from the runs shown.
 */
import { useMemo } from 'react';
import { useConfig } from '../state/configStore';
import {
  NOISE_METHODS,
  methodLabel,
  noiseShapingBusy,
  noiseShapingSummary,
  pageNoiseShapingConfig,
  useNoiseShaping,
  type NoiseMethod,
  type NoiseShapingRun,
} from '../state/noiseShapingStore';
import { useSamplingRuns, SAMPLING_BUNDLE_CONFIG } from '../state/samplingComparison';
import { fmt } from '../views/format';
import { exponentSign } from '../views/theoryParts';
import { leaderBySeed } from '../state/claims';
import { Figure } from './figures';
import { workers } from './workers';

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** The plain answer, from the runs shown: a method leads only where the paired interval says so. */
function Verdict({ runs }: { runs: NoiseShapingRun[] }) {
  const { summary, verdict } = useMemo(() => noiseShapingSummary(runs), [runs]);
  const present = NOISE_METHODS.filter((m) => summary[m].finalTestError.n > 0);
  const groups = (ms: readonly NoiseMethod[]) =>
    ms.map((key) => ({ key, runs: runs.filter((r) => r.method === key) }));
  // A few runs per method: cheap enough to redo on each render.
  const flat = leaderBySeed(groups(verdict.explored), (r) => r.medianTopFlatness, true);
  const low = leaderBySeed(groups(present), (r) => r.finalTestError, false);
  if (present.length < NOISE_METHODS.length || !low) return null;
  const err = (m: NoiseMethod) => summary[m].finalTestError;
  const F = (m: NoiseMethod) => summary[m].medianTopFlatness.mean;
  const spread =
    Math.max(...present.map((m) => err(m).mean)) - Math.min(...present.map((m) => err(m).mean));
  const sdMax = Math.max(...present.map((m) => (Number.isFinite(err(m).sd) ? err(m).sd : 0)));
  const never = present.filter((m) => summary[m].explored < summary[m].finalTestError.n);
  const flatRatio = flat ? F(flat.leader) / F('sgd') : NaN;
  const lowResolved = low.seeds > 1 && low.tied.length === 0;
  const flatResolved = !!flat && flat.seeds > 1 && flat.tied.length === 0;
  // What the leader is not resolved from, to go inside its parentheses.
  const tiedText = (
    l: { tied: NoiseMethod[]; seeds: number },
    others: number,
    v: (m: NoiseMethod) => string,
  ) =>
    l.seeds < 2
      ? 'one seed: not resolved from the others'
      : l.tied.length === others && others > 1
        ? 'not resolved from any of the others: each paired 95% interval over seeds includes 0'
        : l.tied.length
          ? `not resolved from ${l.tied.map((m) => `${methodLabel(m)}, ${v(m)}`).join('; ')}: the paired 95% interval over seeds includes 0`
          : 'beyond the seed-to-seed variation: every paired 95% interval over seeds excludes 0';
  return (
    <p data-testid="noise-shaping-verdict">
      <strong>What these runs show.</strong>{' '}
      {never.length
        ? `${never.map(methodLabel).join(', ')} did not reach the exploration phase (training error ≤ 0.5%) in every run. `
        : 'All four reached the exploration phase (training error ≤ 0.5%). '}
      Final test errors span {pct(spread)}
      {sdMax > 0 ? `, against a seed-to-seed spread (sd) of up to ${pct(sdMax)}` : ''}: lowest{' '}
      {`${methodLabel(low.leader)} at ${pct(err(low.leader).mean)} (${tiedText(low, present.length - 1, (m) => pct(err(m).mean))}).`}{' '}
      {flat
        ? `The flattest solutions by the median F along their sharpest directions: ${methodLabel(flat.leader)} (${F(flat.leader).toFixed(3)}${flat.leader === 'sgd' ? '' : `, ${flatRatio.toFixed(2)}× SGD's ${F('sgd').toFixed(3)}`}; ${tiedText(flat, verdict.explored.length - 1, (m) => F(m).toFixed(3))}). `
        : ''}
      {!lowResolved
        ? 'No method reached a minimum that generalises measurably better than the others at this budget.'
        : flat && flat.leader === low.leader
          ? `${methodLabel(low.leader)} has the lowest test error and ${flatResolved ? 'the flattest minimum' : 'the highest mean flatness (not resolved from the others)'}.`
          : `The lowest test error (${methodLabel(low.leader)}) is not at the highest mean flatness (${methodLabel(flat?.leader ?? 'sgd')}).`}
    </p>
  );
}

function Controls() {
  const config = useConfig((s) => s.config);
  const status = useNoiseShaping((s) => s.status);
  const progress = useNoiseShaping((s) => s.progress);
  const message = useNoiseShaping((s) => s.message);
  const busy = noiseShapingBusy({ ...useNoiseShaping.getState(), status });
  const cfg = pageNoiseShapingConfig(config);
  return (
    <div className="universality-controls">
      <div className="buttons">
        {busy ? (
          <button
            type="button"
            data-testid="noise-shaping-cancel"
            onClick={() => workers.cancelNoiseShaping()}
            disabled={status === 'cancelling'}
          >
            Cancel
          </button>
        ) : (
          <button
            type="button"
            className="primary"
            data-testid="noise-shaping-start"
            onClick={() => workers.startNoiseShaping(cfg, [config.seed])}
          >
            Run the four methods (seed {config.seed})
          </button>
        )}
      </div>
      <div className="progress" aria-live="polite">
        <progress
          max={1}
          value={progress?.fraction ?? (status === 'done' ? 1 : 0)}
          aria-label="noise-shaping progress"
        />
        <span className="progress-text" data-testid="noise-shaping-progress">
          {busy && progress
            ? `${Math.round(100 * progress.fraction)}% — ${progress.message}`
            : status === 'done'
              ? 'Done: the figure shows your run.'
              : status === 'cancelled' || status === 'error'
                ? (message ?? status)
                : ''}
        </span>
      </div>
    </div>
  );
}

/** With or without replacement: what changed, from the bundled pair. */
function SamplingSubsection() {
  const runs = useSamplingRuns();
  const e = runs.find((r) => r.key === 'bundle-epoch');
  const r = runs.find((x) => x.key === 'bundle-replacement');
  const rank = e?.modes[0]?.rank;
  const c1 = (x: typeof e) => x?.modes.find((m) => m.rank === rank)?.C[1] ?? NaN;
  const overlap = (a: number[], b: number[]) => a[0] <= b[1] && b[0] <= a[1];
  const f = (x: number) => x.toFixed(2);
  return (
    <>
      <h3>With or without replacement</h3>
      <p>
        The page draws minibatches as the paper does: a fresh permutation each epoch, dealt out in
        blocks of B, so every example is used once per epoch. That makes the minibatch noise
        anticorrelated within an epoch (an example used now cannot be used again until the next
        epoch), and Kühn &amp; Rosenow (2023) argue that part of the inverse relation comes from it.
        Drawing each minibatch i.i.d. <em>with</em> replacement removes that anticorrelation: set
        &ldquo;Minibatch sampling&rdquo; in the run panel (URL key <code>sampling</code>) and run
        again; your run joins the figure below.
      </p>
      <Figure id="sampling-comparison" />
      {e && r ? (
        <p data-testid="sampling-verdict">
          <strong>What changed</strong> (paper settings, B = {SAMPLING_BUNDLE_CONFIG.batchSize}, α ={' '}
          {SAMPLING_BUNDLE_CONFIG.lr}, one seed each): ψ = {f(e.psi.exponent)} without and{' '}
          {f(r.psi.exponent)} with replacement (intervals{' '}
          {overlap(e.psi.ci95, r.psi.ci95) ? 'overlapping' : 'not overlapping'}); β₁ ={' '}
          {f(e.beta1.exponent)} vs {f(r.beta1.exponent)}, β₂ = {f(e.beta2.exponent)} vs{' '}
          {f(r.beta2.exponent)}. At lag 1, mode {rank}&rsquo;s velocity correlation is {f(c1(e))}{' '}
          without and {f(c1(r))} with replacement.{' '}
          {exponentSign(r.psi) === 'positive'
            ? 'The relation stays inverse without the epoch anticorrelation (ψ’s interval above zero)'
            : exponentSign(r.psi) === 'negative'
              ? 'Without the epoch anticorrelation the relation is no longer inverse'
              : 'With replacement ψ’s interval includes zero: this run does not resolve whether the relation stays inverse'}
          {exponentSign(r.psi) === 'positive' && exponentSign(e.psi) === 'positive'
            ? `; the change in ψ is ${f(r.psi.exponent - e.psi.exponent)}${overlap(e.psi.ci95, r.psi.ci95) ? ', not resolved from zero by these two runs (their intervals overlap)' : ''}.`
            : '.'}
        </p>
      ) : null}
    </>
  );
}

export function NoiseShapingSection() {
  const config = useConfig((s) => s.config);
  const runs = useNoiseShaping((s) => s.runs);
  const shown = useNoiseShaping((s) => s.config);
  const source = useNoiseShaping((s) => s.source);
  const bundleError = useNoiseShaping((s) => s.bundleError);
  const cfg = shown ?? pageNoiseShapingConfig(config);
  const sgd = runs.find((r) => r.method === 'sgd');
  const iso = runs.find((r) => r.method === 'gd-isotropic');
  const beta1s = runs.flatMap((r) => (r.beta1 !== undefined ? [r.beta1] : []));
  return (
    <section id="noise-shaping">
      <h2>5b. Which noise finds flat minima?</h2>
      <p>
        The paper&rsquo;s last claim is causal: SGD finds flat, generalising minima because its
        noise is shaped by the landscape. Its SI §S9 tests this by adding noise to plain gradient
        descent. Here four methods train the same network from the same initialisation on the first{' '}
        {cfg.trainCount.toLocaleString('en')} training digits, each with the same budget of{' '}
        {cfg.epochs} epochs of example gradients. That is the honest count: a full-batch step
        evaluates all N = {cfg.trainCount.toLocaleString('en')} examples, so SGD (B ={' '}
        {cfg.batchSize}, α = {cfg.lr}) takes{' '}
        {(cfg.epochs * Math.floor(cfg.trainCount / cfg.batchSize)).toLocaleString('en')} steps while
        each gradient-descent method takes {cfg.epochs}, all at the same α.
      </p>
      <ul>
        <li>
          <strong>SGD</strong>, the reference, minibatches drawn{' '}
          {cfg.sampling === 'epoch' ? 'without' : 'with'} replacement.
        </li>
        <li>
          <strong>GD</strong>: full-batch gradient descent, no noise.
        </li>
        <li>
          <strong>GD + isotropic noise</strong> on W2 (Langevin). The matching rule: P̄ is
          SGD&rsquo;s mean noise power per step over W2, α²·E‖g<sup>μ</sup> − g‖² (computed exactly
          from the per-example gradients at {cfg.powerSamples} points of the SGD run, then
          averaged). One GD step costs the gradients of N/B SGD steps, so it gets their noise: total
          power (N/B)·P̄ per step, the same noise per gradient evaluation and the same injected
          variance over the run, a temperature T = (N/B)·P̄/(2αd) with d = h² weights
          {sgd && iso ? ` (here P̄ = ${fmt(sgd.noisePower)}, T = ${fmt(iso.temperature)})` : ''}.
        </li>
        <li>
          <strong>GD + flatness-detecting noise</strong>: the same total power, but along the top{' '}
          {cfg.modes} PCA modes (ranks 2–{cfg.modes + 1}) of the last {cfg.windowEpochs} GD steps,
          with strength D<sub>i</sub> ∝ F<sub>i</sub>
          <sup>−β₁</sup>, the F<sub>i</sub> measured every {cfg.refreshEvery} steps and β₁ measured
          from the SGD run&rsquo;s own D–F relation
          {beta1s.length ? ` (β₁ = ${beta1s.map((b) => b.toFixed(2)).join(', ')})` : ''}. Why PCA
          modes rather than the diagonal of the minibatch-gradient covariance: the diagonal would
          need per-example gradients every step, copying SGD&rsquo;s noise rather than shaping it by
          flatness; along the PCA modes the noise depends on the landscape only through F
          <sub>i</sub> and β₁. Until the first refresh it is isotropic.
        </li>
      </ul>
      <p>
        The flatness of a solution is the median F<sub>i</sub> along its {cfg.modes} sharpest
        directions (the top eigenvectors of the W2 Hessian, by Lanczos) — not along each run&rsquo;s
        own PCA modes, which its noise picks: under isotropic noise they are random directions, flat
        in 2,500 dimensions, and would make that solution look flat whatever it is. The table also
        gives the largest Hessian eigenvalue λ₁.{' '}
        {source === 'precomputed'
          ? `Shown: ${new Set(runs.map((r) => r.seed)).size} seeds precomputed with the command line (npm run reproduce -- --experiment noise-shaping --seeds 0,1,2). Your run uses one seed and the run panel's h, B, α, sampling and seed; it takes well under a minute of computing on a laptop.`
          : 'Shown: your runs.'}
      </p>
      {bundleError ? (
        <p className="notice" role="status">
          {bundleError}
        </p>
      ) : null}
      <Controls />
      <Figure id="noise-shaping" />
      <Verdict runs={runs} />
      <SamplingSubsection />
    </section>
  );
}
