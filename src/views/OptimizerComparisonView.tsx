/**
 * Section 7a: the σ²–F relation of SGD, SGD with momentum and Adam, overlaid. Each run is one
 * warm-up and window (the optimizer comparison of the universality section); its measured
 * modes are points, its ψ fit a line, and the legend gives ψ with its 95% interval.
 */
import { useMemo } from 'react';
import type { RunSummary } from '../engine/experiments/sweeps';
import { useUniversality } from '../state/universalityStore';
import { fmt, fmtFixed, fmtInterval } from './chart';
import { FigureTable } from './ChartParts';
import { psiSignReadout } from './theoryParts';
import { hasExponent, missingFitsNote } from './fitNotes';
import { VarianceFlatnessOverlay, type OverlayRun } from './VarianceFlatnessOverlay';

export const OPTIMIZER_LABEL: Record<string, string> = {
  sgd: 'SGD',
  momentum: 'Momentum',
  adam: 'Adam',
};

function label(r: RunSummary): string {
  const name = OPTIMIZER_LABEL[r.optimizer] ?? r.optimizer;
  return r.optimizer === 'momentum' ? `${name} (μ = ${r.momentum})` : name;
}

export function OptimizerComparisonView() {
  const runs = useUniversality((s) => s.optimizers.runs);
  const overlay = useMemo<OverlayRun[]>(
    () =>
      runs.map((r) => ({
        key: r.optimizer,
        label: `${label(r)}, α = ${r.lr}`,
        modes: r.modes,
        psi: r.psi,
      })),
    [runs],
  );
  // Runs too short for a fit have no ψ: named with the reason, not counted for or against.
  const fitted = runs.filter((r) => hasExponent(r.psi));
  const notes = (['psi', 'gamma'] as const)
    .map((k) =>
      missingFitsNote(
        k,
        runs.map((r) => ({ label: label(r), fit: r[k] })),
      ),
    )
    .filter((t) => t !== '');
  return (
    <VarianceFlatnessOverlay
      id="optimizer-comparison"
      title="Variance against flatness for three optimizers"
      caption={
        <>
          Each optimizer trains the same network from the same initialisation for the same warm-up
          and window; points are its measured PCA modes (σ²<sub>i</sub>, F<sub>i</sub>), the line
          its fit σ² ∝ F<sup>−ψ</sup>. A ψ whose 95% interval lies above zero for all three is the
          inverse relation holding beyond plain SGD; an interval that includes zero leaves that
          optimizer undecided at this window.
        </>
      }
      runs={overlay}
      empty="No optimizer runs yet"
      readout={
        runs.length > 0
          ? [
              fitted.length === 0
                ? ''
                : psiSignReadout(
                    fitted.map((r) => ({ label: label(r), psi: r.psi })),
                    fitted.length === runs.length
                      ? 'the inverse relation holds for each optimizer'
                      : 'the inverse relation holds for each optimizer with a fit',
                  ),
              ...notes,
            ]
              .filter((t) => t !== '')
              .join(' ')
          : 'Run the comparison to fill this figure.'
      }
      table={
        <FigureTable
          caption="Fitted exponents (95% intervals), learning dimension and test error per optimizer"
          header={['optimizer', 'α', 'ψ', 'R²', 'γ', 'D_L90', 'test error', 'time']}
          rows={runs.map((r) => ({
            key: r.optimizer,
            cells: [
              label(r),
              r.lr,
              `${fmtFixed(r.psi.exponent)} ${fmtInterval(r.psi.ci95)}`,
              fmtFixed(r.psi.r2),
              `${fmtFixed(r.gamma.exponent)} ${fmtInterval(r.gamma.ci95)}`,
              r.dims.DL90,
              `${fmt(r.finalTestError * 100)}%`,
              `${fmt(r.timings.total)} s`,
            ],
          }))}
        />
      }
      csv={() => ({
        header: ['optimizer', 'lr', 'rank', 'flatness_F', 'variance_sigma2', 'psi'],
        rows: runs.flatMap((r) =>
          r.modes.map((m) => [r.optimizer, r.lr, m.rank, m.flatness, m.variance, r.psi.exponent]),
        ),
      })}
    />
  );
}
