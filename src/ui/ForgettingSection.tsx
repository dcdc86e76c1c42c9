/**
 * Section 6 of the article: catastrophic forgetting, LDC versus EWC (Fig. 4 of the paper). Its
 * own controls (ForgettingPanel), the figures and the closing note with the sweep's numbers.
 * No number in the text is typed in: "What the runs show" is written by describeSweep from the
 * bundled reference sweep (forgettingReference.json, written by `npm run reproduce --
 * --experiment forgetting --page-summary …`), and the closing note from the reader's own sweep.
 * Until the reader runs a sweep the figures show the bundled one (forgetting-precomputed.json,
 * a chunk of its own), stated as such above them.
 */
import { useEffect, useState, type ReactNode } from 'react';
import {
  showBundledForgetting,
  syncForgettingFormToUrl,
  useForgetting,
} from '../state/forgettingStore';
import bundledUrl from '../data/forgetting-precomputed.json?gzip';
import { fetchGzipJson } from '../state/gzipJson';
import { expandForgettingBundle } from '../state/forgettingBundle';
import { fmtLambda } from '../state/forgettingData';
import {
  ConstraintCountView,
  ForgettingCurvesView,
  ModeDisplacementView,
  TaskDigitsView,
  TradeoffView,
} from '../views';
import { describeSweep, type ForgettingReference } from '../state/forgettingData';
import reference from '../views/forgettingReference.json';
import { FigureBoundary } from './FigureBoundary';
import { ForgettingPanel, ForgettingSummaryNote } from './ForgettingPanel';

function Fig({ id, children }: { id: string; children: ReactNode }) {
  const runs = useForgetting((s) => s.runs);
  return (
    <FigureBoundary id={id} resetKey={runs}>
      {children}
    </FigureBoundary>
  );
}

// JSON writes the engine's NaN as null; the reference sweep has none where the text reads.
const REFERENCE = reference as unknown as ForgettingReference;

let bundled: Promise<unknown> | null = null;

/** Loads the bundled sweep (a gzip asset) once; returns why it could not be shown, if it could not. */
function useBundledForgetting(): string | null {
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    (bundled ??= fetchGzipJson(bundledUrl, 'the bundled forgetting sweep'))
      .then((raw) => {
        if (!live) return;
        try {
          const b = expandForgettingBundle(raw);
          showBundledForgetting(b.runs, b.task1, b.info);
        } catch (e) {
          setError(
            `The bundled sweep could not be shown: ${e instanceof Error ? e.message : String(e)}.`,
          );
        }
      })
      .catch((e: unknown) => {
        if (live)
          setError(
            `The bundled sweep could not be loaded: ${e instanceof Error ? e.message : String(e)}.`,
          );
      });
    return () => {
      live = false;
    };
  }, []);
  return error;
}

/** What the figures show while they show the bundled sweep: its settings, seeds and source. */
function BundledNote({ error }: { error: string | null }) {
  const b = useForgetting((s) => s.bundled);
  if (error)
    return (
      <p className="forgetting-notice" role="status">
        {error}
      </p>
    );
  if (!b) return null;
  const c = b.config;
  const list = (xs: readonly number[]) => xs.map(fmtLambda).join(', ');
  return (
    <p className="forgetting-bundled" data-testid="forgetting-bundled">
      <strong>Bundled sweep, shown until you run one.</strong> The figures below show a sweep run
      headless (<code>{b.command}</code>, {b.backend} backend, {b.seconds.toLocaleString('en')} s,{' '}
      {b.date}) at the page&rsquo;s default settings: {b.data}; digits {c.task1.join(',')} then{' '}
      {c.task2.join(',')}; seeds {c.seeds.join(', ')}; {b.runs.toLocaleString('en')} runs of{' '}
      {c.task2Steps} task-2 steps — no constraint, EWC at {c.ewcLambdas.length} λ (
      {fmtLambda(Math.min(...c.ewcLambdas))} to {fmtLambda(Math.max(...c.ewcLambdas))}), LDC at λ ={' '}
      {list(c.lambdas)} × N_c = {c.ncList.join(', ')} — each method&rsquo;s setting chosen on the{' '}
      {Math.round(100 * c.validationFraction)}% of each task digit&rsquo;s images held out for
      validation. Every run&rsquo;s final errors are bundled; the error curves and mode
      displacements only for the {b.detailed} runs of the settings shown first (each method&rsquo;s
      chosen setting under both scorings, and LDC&rsquo;s chosen λ at every N_c), so another point
      you pick shows its curves once you run the sweep. Start sweep replaces all of it with yours.
    </p>
  );
}

export function ForgettingSection() {
  useEffect(() => syncForgettingFormToUrl(), []);
  const bundleError = useBundledForgetting();
  return (
    <section id="forgetting">
      <h2>6. Learning a second task without forgetting the first: LDC versus EWC</h2>
      <p>
        Train a network on one task, then on another, and it forgets the first: nothing stops the
        second task&rsquo;s gradients from moving the weights the first task relies on. The protocol
        here follows the paper. The whole network first learns all ten digits; then W1 and W3 are
        frozen, W2 is re-initialised and trained alone on <strong>task 1</strong> (digits 0 and 1 by
        default) into its exploration phase, and the PCA of that trajectory gives task 1&rsquo;s
        modes p<sub>i</sub> with their flatness F<sub>i</sub>. Then W2 learns{' '}
        <strong>task 2</strong> (digits 2 and 3) from the task-1 solution w1*, three ways: with no
        constraint, with EWC and with LDC, each over a grid of strengths λ and the same seeds. The
        output keeps all ten classes throughout.
      </p>
      <p>
        Why constrain the sharp modes, scaled by their flatness? Moving W2 along a flat direction of
        task 1&rsquo;s loss costs task 1 little; moving along a sharp one costs a lot. By the
        inverse variance–flatness relation, the modes SGD explored most are the sharpest, so the
        first modes of the PCA are the ones to hold. <strong>LDC</strong> (landscape-dependent
        constraints) adds λ·Σ
        <sub>
          i≤N<sub>c</sub>
        </sub>{' '}
        [(w − w1*)·p<sub>i</sub>]² / F<sub>i</sub>² for the N<sub>c</sub> highest-variance modes:
        each mode may move about as far as its basin is wide. <strong>EWC</strong> (elastic weight
        consolidation) instead holds each weight by its Fisher information for task 1, (λ/2)·Σ
        <sub>j</sub> Fisher<sub>j</sub>·(w<sub>j</sub> − w1*<sub>j</sub>)², one weight at a time.
      </p>
      <ForgettingPanel />
      <BundledNote error={bundleError} />
      <Fig id="forgetting-digits">
        <TaskDigitsView />
      </Fig>
      <Fig id="forgetting-curves">
        <ForgettingCurvesView />
      </Fig>
      <div className="figure-row">
        <Fig id="forgetting-tradeoff">
          <TradeoffView />
        </Fig>
        <Fig id="forgetting-nc">
          <ConstraintCountView />
        </Fig>
      </div>
      <Fig id="forgetting-displacement">
        <ModeDisplacementView />
      </Fig>
      <p data-testid="forgetting-reference">
        <strong>What the runs show.</strong> {describeSweep(REFERENCE).join(' ')}
      </p>
      <ForgettingSummaryNote />
      <p className="try">
        Try: groups of five digits (0,1,2,3,4 then 5,6,7,8,9), or one seed for a quick look — and
        compare the two scorings with the toggle above the error curves.
      </p>
    </section>
  );
}
