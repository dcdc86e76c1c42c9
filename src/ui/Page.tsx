/**
 * The full page: a short explanation of each step of the paper's argument, each with its live
 * figure, and the run panel that produces the data. Loaded only when the page is not an embed
 * (App.tsx), so an embedded figure does not carry the article.
 */
// First, so the sections' own styles (forgetting-panel.css, universality.css) come after it, as they
// did when these rules were in styles.css.
import './page.css';
import { useEffect, useState } from 'react';
import { THEME_CHOICES, type ThemeChoice } from '../state/configSchema';
import { useConfig } from '../state/configStore';
import { useRun } from '../state/runStore';
import { DataPanel } from './DataPanel';
import { DataNotice, Notices } from './Notices';
import { Figure } from './figures';
import { ForgettingSection } from './ForgettingSection';
import { UniversalitySection } from './UniversalitySection';
import { NoiseShapingSection } from './NoiseShapingSection';
import { RunPanel } from './RunPanel';
import { SectionNav } from './SectionNav';
import { PhoneRunBar } from './PhoneRunBar';
import { LangevinParagraph, WindowPhrase } from './articleParts';
import { fmtExponent, fmtExponentInterval } from '../views/format';
import { openRunFile, useRunFile } from './runActions';
import { prefetchWhenIdle } from './workers';
import { precomputedRun } from './precomputedRun';

/** Says where the figures' data come from when it is not this browser's own run. */
function SourceBanner() {
  const source = useRun((s) => s.source);
  if (source.kind === 'live') return null;
  return (
    <p className="source-banner" role="status" data-testid="source-banner">
      {source.note} Press <strong>Start</strong> to train your own network in this tab — the figures
      then follow your run live.
    </p>
  );
}

function ResultSummary() {
  const sgd = useRun((s) => s.results.sgd);
  const lang = useRun((s) => s.results.langevin);
  if (!sgd) return null;
  const f = fmtExponent;
  return (
    <p className="result-summary" data-testid="result-summary">
      SGD: ψ = <strong>{f(sgd.fits.psi.exponent)}</strong> (95% CI{' '}
      {fmtExponentInterval(sgd.fits.psi.ci95)}, R² {f(sgd.fits.psi.r2)}), γ ={' '}
      {f(sgd.fits.gamma.exponent)}; modes 2–35 hold {(sgd.varianceFraction35 * 100).toFixed(0)}% of
      the variance beyond mode 1.
      {lang ? (
        <>
          {' '}
          Langevin: σ²–F slope{' '}
          <strong>
            {lang.fits.psi.slope >= 0 ? '+' : ''}
            {f(lang.fits.psi.slope)}
          </strong>{' '}
          (95% CI {fmtExponentInterval([-lang.fits.psi.ci95[1], -lang.fits.psi.ci95[0]])}, R²{' '}
          {f(lang.fits.psi.r2)}).
        </>
      ) : null}
    </p>
  );
}
const THEME_LABEL: Record<ThemeChoice, string> = {
  auto: 'Auto (system)',
  light: 'Light',
  dark: 'Dark',
};

function ThemeSelect() {
  const theme = useConfig((s) => s.theme);
  const setTheme = useConfig((s) => s.setTheme);
  return (
    <label className="theme-select">
      Theme{' '}
      <select value={theme} onChange={(e) => setTheme(e.target.value as ThemeChoice)}>
        {THEME_CHOICES.map((t) => (
          <option key={t} value={t}>
            {THEME_LABEL[t]}
          </option>
        ))}
      </select>
    </label>
  );
}

/** Dropping a saved run (.json) anywhere on the page opens it. */
function useRunDrop(): boolean {
  const [over, setOver] = useState(false);
  useEffect(() => {
    const hasFiles = (e: DragEvent) => Array.from(e.dataTransfer?.types ?? []).includes('Files');
    const onOver = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      setOver(true);
    };
    const onLeave = (e: DragEvent) => {
      if (e.relatedTarget === null) setOver(false);
    };
    const onDrop = (e: DragEvent) => {
      setOver(false);
      // The data panel's drop zone handles its own drops (and passes runs on).
      if (e.defaultPrevented || !hasFiles(e)) return;
      e.preventDefault();
      const files = Array.from(e.dataTransfer?.files ?? []);
      const run = files.find((f) => f.name.toLowerCase().endsWith('.json'));
      if (run) void openRunFile(run);
      else if (files.length) {
        useRunFile.setState({
          error: `“${files[0].name}” is not a saved run (.json). Drop MNIST IDX files on the data panel.`,
          status: null,
        });
      }
    };
    window.addEventListener('dragover', onOver);
    window.addEventListener('dragleave', onLeave);
    window.addEventListener('drop', onDrop);
    return () => {
      window.removeEventListener('dragover', onOver);
      window.removeEventListener('dragleave', onLeave);
      window.removeEventListener('drop', onDrop);
    };
  }, []);
  return over;
}
export function Page() {
  const hideData = useConfig((s) => s.hide.includes('data'));
  const dropping = useRunDrop();
  // The full page (never an embed) loads the workers once its first figures are drawn.
  useEffect(() => prefetchWhenIdle(precomputedRun()), []);
  return (
    <div className="page">
      <div className="skip-links">
        <a href="#article">Skip to the article</a>
        <a href="#run-controls">Skip to the run controls</a>
      </div>
      <header className="masthead">
        <div className="masthead-row">
          <h1>Flat Minima Lab</h1>
          <ThemeSelect />
        </div>
        <p className="lede">
          Stochastic gradient descent, as{' '}
          <a href="https://doi.org/10.1073/pnas.2015617118">Feng &amp; Tu (PNAS 2021)</a> found,
          does not wander a neural network&rsquo;s loss landscape like a particle in a heat bath:
          along flat directions it moves <em>less</em>, not more. Train a network here, in your
          browser, and see whether their inverse variance–flatness relation appears in your run.
        </p>
      </header>
      <div className="notes">
        <Notices />
        <DataNotice />
        <SourceBanner />
      </div>
      <aside className="panel" id="run-controls" aria-label="Run and data" tabIndex={-1}>
        <RunPanel />
        {hideData ? null : <DataPanel />}
      </aside>
      <PhoneRunBar />
      {dropping ? (
        <div className="drop-overlay" aria-hidden="true">
          Drop a saved run (.json) to open it
        </div>
      ) : null}
      <main className="article" id="article" tabIndex={-1}>
        <SectionNav />
        <section>
          <h2>1. SGD is a noisy walk</h2>
          <p>
            A 784-50-50-10 network (ReLU, no biases) learns the digits by plain SGD: each step uses
            a random minibatch of B images, so each step&rsquo;s gradient is a noisy version of the
            full one. The loss falls fast, then the training error reaches about zero and the loss
            keeps creeping down: the <strong>exploration phase</strong>, where all the analysis
            below happens.
          </p>
          <Figure id="training" />
          <p className="try">
            Try: raise α (all settings) while the run goes on and watch the minibatch loss jump.
          </p>
        </section>
        <section>
          <h2>2. PCA of the trajectory: one drift and many random walks?</h2>
          <p>
            After every step we record the 2,500 weights of the middle layer W2. <WindowPhrase />,
            principal component analysis splits the motion into modes p<sub>i</sub> with variances σ
            <sub>i</sub>². In the paper mode 1 is a slow drift along the weights themselves, the
            other modes diffuse, and a few dozen of the 2,500 hold most of the variance (the figures
            below show this run's spectrum and count its modes).
          </p>
          <div className="figure-row">
            <Figure id="spectrum" />
            <Figure id="cumulative" />
          </div>
          <Figure id="trajectory" />
        </section>
        <section>
          <h2>3. How flat is the landscape along each mode?</h2>
          <p>
            Move W2 along one mode p<sub>i</sub> and measure the loss on the whole training set. The
            profile has a minimum L⁰ near the solution; its <strong>flatness</strong> F<sub>i</sub>{' '}
            is the width of the region where the loss stays below e·L⁰. Click points in any figure
            to compare modes.
          </p>
          <div className="figure-row">
            <Figure id="profiles" />
            <Figure id="flatness" />
          </div>
        </section>
        <section>
          <h2>3b. Curvature: the Hessian along the same modes</h2>
          <p>
            Flatness is the paper&rsquo;s measure of a direction; the field&rsquo;s usual one is
            curvature, the second derivative of the loss. Here the Hessian of the training loss in
            W2 is applied exactly (no finite differences), so the curvature k<sub>i</sub> along each
            PCA mode can be set beside its flatness, the sharpest directions of the whole landscape
            found by Lanczos iteration and compared with the modes SGD moves along, and the
            sharpness followed along training against the limit 2/α beyond which plain gradient
            descent is unstable.
          </p>
          <div className="figure-row">
            <Figure id="curvature-flatness" />
            <Figure id="hessian-spectrum" />
          </div>
          <Figure id="edge-of-stability" />
        </section>
        <section>
          <h2>4. Variance against flatness: does SGD break the Einstein relation?</h2>
          <p>
            In a system at thermal equilibrium, a particle spreads further where its potential is
            flatter: the Einstein relation gives σ² ∝ T·F². The paper finds that SGD does the
            opposite:{' '}
            <strong>
              σ<sub>i</sub>² ∝ F<sub>i</sub>
              <sup>−ψ</sup>
            </strong>
            , the flatter the direction, the less the weights move there. Tick &ldquo;Langevin
            contrast&rdquo; (or choose the SGD-vs-Langevin preset) to run Langevin dynamics
            (gradient descent plus thermal noise) from the same solution and see whether the slope
            flips.
          </p>
          <Figure id="variance-flatness" />
          <ResultSummary />
          <LangevinParagraph />
          <Figure id="einstein" />
          <p className="try">Try: the large-batch preset lowers SGD&rsquo;s noise — does ψ move?</p>
        </section>
        <section>
          <h2>
            5. The noise along each mode: weaker and shorter-lived where the landscape is flat?
          </h2>
          <p>
            Each SGD step moves the weights by a velocity v<sub>i</sub> along mode i. Two things set
            how far the weights spread: how strong that noise is, D<sub>i</sub> = var(v<sub>i</sub>
            ), and how long it keeps pushing the same way, the correlation time τ<sub>i</sub>. The
            paper finds that along flatter modes the SGD noise is weaker <em>and</em> decorrelates
            faster, so σ<sub>i</sub>² ∝ D<sub>i</sub>·τ<sub>i</sub> falls with flatness; the figure
            below fits both for this run. Langevin noise, by contrast, is equally strong in every
            direction.
          </p>
          <Figure id="noise-strength" />
          <p>
            The velocity correlation can show why τ is so short: where it turns negative after a
            step or so, a step one way tends to be followed by a step back, so the weights stay put
            instead of diffusing away. Its caption says whether this run&rsquo;s does.
          </p>
          <Figure id="velocity-correlation" />
          <p>
            Where does the noise come from? Each minibatch has its own loss, a random
            &ldquo;spring&rdquo; with its own centre and stiffness. The overall loss is their smooth
            average, but every step is pulled by one spring only, towards a centre that changes from
            step to step.
          </p>
          <Figure id="minibatch-ensemble" />
          <p>
            How hard the springs disagree about the slope measures how actively SGD searches: the
            active temperature T = (α/2)·var<sub>μ</sub>(slope). Unlike a heat bath&rsquo;s fixed
            temperature, the paper finds it high where the loss is high and in sharp directions, and
            low at the bottom of wide, flat valleys; the next two figures measure it for this run.
          </p>
          <div className="figure-row">
            <Figure id="active-temperature" />
            <Figure id="temperature-flatness" />
          </div>
          <p>
            The temperature also changes in time: in the paper it falls together with the loss along
            the training trajectory, so SGD anneals itself, with a cooling schedule set by the
            landscape rather than by hand, and settles where it is both low and flat. The figure
            below follows T along this run.
          </p>
          <Figure id="temperature-trajectory" />
          <p className="try">
            Try: the small-batch preset makes each spring noisier — does the temperature rise, and
            does the split of ψ between β₁ and β₂ move?
          </p>
        </section>
        <NoiseShapingSection />
        <ForgettingSection />
        <UniversalitySection />
      </main>
      <footer className="footer">
        <p>
          Reproduces Y. Feng and Y. Tu, &ldquo;The inverse variance–flatness relation in stochastic
          gradient descent is critical for finding flat minima&rdquo;, PNAS 118(9) e2015617118
          (2021). Training runs in a Web Worker — TensorFlow.js on a GPU, a hand-assembled
          WebAssembly SIMD step on a CPU — and the analysis in a second worker. Nothing leaves your
          browser.
        </p>
      </footer>
    </div>
  );
}
