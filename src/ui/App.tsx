/**
 * The page: a short explanation of each step of the paper's argument, each with its live
 * figure, and the run panel that produces the data.
 */
import { useEffect } from 'react';
import { syncConfigToUrl, useConfig } from '../state/configStore';
import { showBundle, useRun } from '../state/runStore';
import { validateBundle } from '../state/runBundle';
import {
  ActiveTemperatureView,
  CumulativeVarianceView,
  FlatnessRankView,
  LossProfileView,
  MinibatchEnsembleView,
  NoiseStrengthView,
  SpectrumView,
  TemperatureFlatnessView,
  TemperatureTrajectoryView,
  TrainingCurvesView,
  TrajectoryView,
  VarianceFlatnessView,
  VelocityCorrelationView,
} from '../views';
import { DataPanel } from './DataPanel';
import { RunPanel } from './RunPanel';
import { workers } from './workers';

function Notices() {
  const notices = useConfig((s) => s.notices);
  const dismiss = useConfig((s) => s.dismissNotices);
  if (!notices.length) return null;
  return (
    <div className="notice" role="status" data-testid="url-notices">
      <p>Some settings in the link were not valid and use their defaults:</p>
      <ul>
        {notices.map((n) => (
          <li key={n}>{n}</li>
        ))}
      </ul>
      <button type="button" onClick={dismiss}>
        OK
      </button>
    </div>
  );
}

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
  const f = (x: number) => x.toFixed(2);
  return (
    <p className="result-summary" data-testid="result-summary">
      SGD: ψ = <strong>{f(sgd.fits.psi.exponent)}</strong> (95% CI {f(sgd.fits.psi.ci95[0])}–
      {f(sgd.fits.psi.ci95[1])}, R² {f(sgd.fits.psi.r2)}), γ = {f(sgd.fits.gamma.exponent)}; modes
      2–35 hold {(sgd.varianceFraction35 * 100).toFixed(0)}% of the variance beyond mode 1.
      {lang ? (
        <>
          {' '}
          Langevin: σ²–F slope{' '}
          <strong>
            {lang.fits.psi.slope >= 0 ? '+' : ''}
            {f(lang.fits.psi.slope)}
          </strong>{' '}
          (R² {f(lang.fits.psi.r2)}).
        </>
      ) : null}
    </p>
  );
}

export function App() {
  const autorun = useConfig((s) => s.autorun);
  useEffect(() => {
    workers.start();
    // Until the first run of this visit, the figures show a bundled precomputed run.
    if (!useConfig.getState().autorun) {
      void import('../data/precomputed-run.json').then((m) => {
        const s = useRun.getState();
        if (s.epochs.length || s.progress) return;
        const b = validateBundle(m.default);
        showBundle(
          b,
          'precomputed',
          `Showing a precomputed run of the "${b.preset}" preset (seed ${b.config.seed}, made with ${b.createdWith}).`,
        );
      });
    }
    const unsync = syncConfigToUrl();
    return () => {
      unsync();
      workers.terminate();
    };
  }, []);
  // `?autorun=1` starts the run as soon as the data is in.
  const ready = useRun((s) => s.dataset !== null && s.runState === 'idle');
  useEffect(() => {
    if (autorun && ready && useRun.getState().epochs.length === 0 && !useRun.getState().progress) {
      workers.run(useConfig.getState().config);
    }
  }, [autorun, ready]);
  const requestProfile = (run: 'sgd' | 'langevin', rank: number) =>
    workers.requestProfile(run, rank);

  return (
    <div className="page">
      <header className="masthead">
        <h1>Flat Minima Lab</h1>
        <p className="lede">
          Stochastic gradient descent does not wander a neural network&rsquo;s loss landscape like a
          particle in a heat bath. Along flat directions it moves <em>less</em>, not more. Train a
          network here, in your browser, and watch the inverse variance–flatness relation of{' '}
          <a href="https://doi.org/10.1073/pnas.2015617118">Feng &amp; Tu (PNAS 2021)</a> appear.
        </p>
      </header>
      <div className="notes">
        <Notices />
        <SourceBanner />
      </div>
      <aside className="panel">
        <RunPanel />
        <DataPanel />
      </aside>
      <main className="article">
        <section>
          <h2>1. SGD is a noisy walk</h2>
          <p>
            A 784-50-50-10 network (ReLU, no biases) learns the digits by plain SGD: each step uses
            a random minibatch of B images, so each step&rsquo;s gradient is a noisy version of the
            full one. The loss falls fast, then the training error reaches about zero and the loss
            keeps creeping down: the <strong>exploration phase</strong>, where all the analysis
            below happens.
          </p>
          <TrainingCurvesView />
          <p className="try">
            Try: raise α (all settings) while the run goes on and watch the minibatch loss jump.
          </p>
        </section>
        <section>
          <h2>2. PCA of the trajectory: one drift, many random walks</h2>
          <p>
            After every step we record the 2,500 weights of the middle layer W2. Over the 10-epoch
            window, principal component analysis splits the motion into modes p<sub>i</sub> with
            variances σ<sub>i</sub>². Mode 1 is a slow drift along the weights themselves; the other
            modes diffuse, and a few dozen of the 2,500 hold most of the variance.
          </p>
          <div className="figure-row">
            <SpectrumView />
            <CumulativeVarianceView />
          </div>
          <TrajectoryView />
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
            <LossProfileView onRequestProfile={requestProfile} />
            <FlatnessRankView />
          </div>
        </section>
        <section>
          <h2>4. The inverse relation — and why it is not physics as usual</h2>
          <p>
            In a system at thermal equilibrium, a particle spreads further where its potential is
            flatter: the Einstein relation gives σ² ∝ T·F². SGD does the opposite:{' '}
            <strong>
              σ<sub>i</sub>² ∝ F<sub>i</sub>
              <sup>−ψ</sup>
            </strong>
            , the flatter the direction, the less the weights move there. Tick &ldquo;Langevin
            contrast&rdquo; (or choose the SGD-vs-Langevin preset) to run equilibrium dynamics from
            the same solution and see the slope flip.
          </p>
          <VarianceFlatnessView />
          <ResultSummary />
          <p>
            The Langevin run (gradient descent on the whole training set plus isotropic noise of
            temperature T, started from the SGD solution) spreads <em>more</em> along flatter modes:
            the sign the Einstein relation predicts. Its slope comes out steeper than +2 because the
            flattest directions relax so slowly that their variance is still growing when the window
            ends. Its sign stayed positive at every temperature we tried (T = 10⁻⁸ to 10⁻⁶).
            SGD&rsquo;s noise is not a temperature: it comes from the minibatches themselves, as the
            next section shows.
          </p>
          <p className="try">Try: the large-batch preset lowers SGD&rsquo;s noise — does ψ move?</p>
        </section>
        <section>
          <h2>5. Why SGD does it: weaker, shorter-lived noise along flat directions</h2>
          <p>
            Each SGD step moves the weights by a velocity v<sub>i</sub> along mode i. Two things set
            how far the weights spread: how strong that noise is, D<sub>i</sub> = var(v<sub>i</sub>
            ), and how long it keeps pushing the same way, the correlation time τ<sub>i</sub>. Along
            flatter modes the SGD noise is weaker <em>and</em> decorrelates faster, so σ<sub>i</sub>
            ² ∝ D<sub>i</sub>·τ<sub>i</sub> falls with flatness. Langevin noise, by contrast, is
            equally strong in every direction.
          </p>
          <NoiseStrengthView />
          <p>
            The velocity correlation shows why τ is so short: after a step or so the correlation
            turns negative. A step one way tends to be followed by a step back, so the weights stay
            put instead of diffusing away.
          </p>
          <VelocityCorrelationView />
          <p>
            Where does the noise come from? Each minibatch has its own loss, a random
            &ldquo;spring&rdquo; with its own centre and stiffness. The overall loss is their smooth
            average, but every step is pulled by one spring only, towards a centre that changes from
            step to step.
          </p>
          <MinibatchEnsembleView />
          <p>
            How hard the springs disagree about the slope measures how actively SGD searches: the
            active temperature T = (α/2)·var<sub>μ</sub>(slope). Unlike a heat bath&rsquo;s fixed
            temperature, it is high where the loss is high and in sharp directions, and low at the
            bottom of wide, flat valleys.
          </p>
          <div className="figure-row">
            <ActiveTemperatureView />
            <TemperatureFlatnessView />
          </div>
          <p>
            The temperature also changes in time: along the training trajectory it falls together
            with the loss. SGD anneals itself, with a cooling schedule set by the landscape rather
            than by hand, and settles where it is both low and flat.
          </p>
          <TemperatureTrajectoryView />
          <p className="try">
            Try: the small-batch preset makes each spring noisier — does the temperature rise, and
            does β₁ + β₂ still match ψ?
          </p>
        </section>
      </main>
      <footer className="footer">
        <p>
          Reproduces Y. Feng and Y. Tu, &ldquo;The inverse variance–flatness relation in stochastic
          gradient descent is critical for finding flat minima&rdquo;, PNAS 118(9) e2015617118
          (2021). Training runs in a Web Worker with TensorFlow.js; the analysis in a second worker.
          Nothing leaves your browser.
        </p>
      </footer>
    </div>
  );
}
