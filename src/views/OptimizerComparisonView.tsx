/**
 * Section 7a: the σ²–F relation of SGD, SGD with momentum and Adam, overlaid. Each run is one
 * quick warm-up and window (the optimizer comparison of the universality section); its measured
 * modes are points, its ψ fit a line, and the legend gives ψ with its 95% interval.
 */
import { useMemo } from 'react';
import type { RunSummary } from '../engine/experiments/sweeps';
import { useUniversality } from '../state/universalityStore';
import { fmt, fmtFixed } from './chart';
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
  return (
    <VarianceFlatnessOverlay
      id="optimizer-comparison"
      title="Variance against flatness for three optimizers"
      caption={
        <>
          Each optimizer trains the same network from the same initialisation for a quick warm-up
          and window; points are its measured PCA modes (σ²<sub>i</sub>, F<sub>i</sub>), the line
          its fit σ² ∝ F<sup>−ψ</sup>. A positive ψ for all three is the inverse relation holding
          beyond plain SGD.
        </>
      }
      runs={overlay}
      empty="No optimizer runs yet"
      readout={
        runs.length > 0
          ? runs
              .map(
                (r) =>
                  `${label(r)}: ψ ${fmtFixed(r.psi.exponent)}, γ ${fmtFixed(r.gamma.exponent)}, test error ${fmt(r.finalTestError * 100)}%`,
              )
              .join(' · ')
          : 'Run the comparison to fill this figure.'
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
