/**
 * Section 6 of the article: catastrophic forgetting, LDC versus EWC (Fig. 4 of the paper). Its
 * own controls (ForgettingPanel), the figures and the closing note with the sweep's numbers.
 * No number in the text is typed in: "What the runs show" is written by describeSweep from the
 * bundled reference sweep (forgettingReference.json, written by `npm run reproduce --
 * --experiment forgetting --page-summary …`), and the closing note from the reader's own sweep.
 */
import { useEffect, type ReactNode } from 'react';
import { syncForgettingFormToUrl, useForgetting } from '../state/forgettingStore';
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

export function ForgettingSection() {
  useEffect(() => syncForgettingFormToUrl(), []);
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
