/**
 * Article sentences that depend on the run shown: they say what that run did (its window's
 * length, whether it has a Langevin part), never what a default run would have done.
 */
import { useRun, type RunStoreState } from '../state/runStore';
import { langevinSlopeClauses } from '../views/claimsText';

/** Epochs inside the SGD window of the run shown (from its epoch records), or null. */
export function windowEpochs(s: Pick<RunStoreState, 'windows' | 'epochs'>): number | null {
  const w = s.windows.find((x) => x.run === 'sgd');
  if (!w) return null;
  const end = w.endStep ?? Infinity;
  const n = s.epochs.filter((e) => e.step > w.startStep && e.step <= end).length;
  return n > 0 ? n : null;
}

/** "Over the 10-epoch window" / "Over the PCA window" while none is known yet. */
export function WindowPhrase() {
  const n = useRun(windowEpochs);
  const running = useRun((s) => s.windows.some((w) => w.run === 'sgd' && w.endStep === null));
  if (n === null) return <>Over the PCA window</>;
  return (
    <span data-testid="window-epochs" data-value={n}>
      Over the {running ? `window (${n} epoch${n === 1 ? '' : 's'} so far)` : `${n}-epoch window`}
    </span>
  );
}

/** Section 4's account of the Langevin run, shown only when the run shown has one. */
export function LangevinParagraph() {
  const fit = useRun((s) => s.results.langevin?.fits.psi);
  if (fit === undefined) return null;
  const { sign, steep } = langevinSlopeClauses(fit);
  return (
    <p data-testid="langevin-paragraph">
      The Langevin run (gradient descent on the whole training set plus isotropic noise of
      temperature T, started from the SGD solution) {sign}. But a Langevin window need not be in
      equilibrium as a whole: along the flattest directions it relaxes so slowly that their variance
      may still be growing when the window ends, which steepens the slope
      {steep ? ` ${steep}` : ''}. The figure below checks each mode: only a mode that has relaxed
      well within the window can test the Einstein relation σ² = T/k, and its caption counts how
      many have. SGD&rsquo;s noise is not a temperature: it comes from the minibatches themselves,
      as the next section shows.
    </p>
  );
}
