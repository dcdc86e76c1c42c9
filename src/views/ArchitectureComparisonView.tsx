/**
 * Section 7c: the σ²–F relation of deeper networks — a 4-hidden-layer MLP (any of its
 * hidden-to-hidden matrices) and a small CNN (its dense hidden matrix) — overlaid with the
 * runs' ψ in the legend. Blocks above the snapshot cap are analysed on a seeded subset.
 */
import { useMemo } from 'react';
import { useUniversality } from '../state/universalityStore';
import { fmt, fmtFixed, fmtInt, fmtInterval } from './chart';
import { FigureTable } from './ChartParts';
import { psiSignReadout } from './theoryParts';
import { hasExponent, missingFitsNote } from './fitNotes';
import { VarianceFlatnessOverlay, type OverlayRun } from './VarianceFlatnessOverlay';

export function ArchitectureComparisonView() {
  const runs = useUniversality((s) => s.architectures.archRuns);
  const overlay = useMemo<OverlayRun[]>(
    () =>
      runs.map((r, i) => ({
        key: `${i}-${r.label}`,
        label: r.label,
        modes: r.result.modes,
        psi: r.result.fits.psi,
      })),
    [runs],
  );
  // Runs too short for a fit have no ψ: named with the reason, not counted for or against.
  const fitted = runs.filter((r) => hasExponent(r.result.fits.psi));
  const notes = (['psi', 'gamma'] as const)
    .map((k) =>
      missingFitsNote(
        k,
        runs.map((r) => ({ label: r.label, fit: r.result.fits[k] })),
      ),
    )
    .filter((t) => t !== '');
  return (
    <VarianceFlatnessOverlay
      id="architecture-comparison"
      title="Variance against flatness in deeper networks"
      caption={
        <>
          Each run trains the chosen network with the run panel&rsquo;s B, α and seed, then
          snapshots one weight block after every step of the window; points are that block&rsquo;s
          PCA modes (σ²<sub>i</sub>, F<sub>i</sub>), F measured on the full training loss with only
          the block moved. A ψ whose 95% interval lies above zero in every block is the inverse
          relation holding beyond the two-layer network.
        </>
      }
      runs={overlay}
      empty="No architecture runs yet"
      readout={
        runs.length > 0
          ? [
              fitted.length === 0
                ? ''
                : psiSignReadout(
                    fitted.map((r) => ({ label: r.label, psi: r.result.fits.psi })),
                    fitted.length < runs.length
                      ? 'the inverse relation holds in every block with a fit'
                      : `the inverse relation holds in ${runs.length === 1 ? 'this block' : 'every block'}`,
                  ),
              ...notes,
            ]
              .filter((t) => t !== '')
              .join(' ')
          : 'Add a run to fill this figure.'
      }
      table={
        <FigureTable
          caption="Per run: the analysed block, its fitted exponents (95% intervals) and the run's cost"
          header={[
            'network',
            'block',
            'weights analysed',
            'snapshots',
            'ψ',
            'R²',
            'γ',
            'D_L90',
            'test error',
            'time',
          ]}
          rows={runs.map(({ label, result: r }, i) => ({
            key: `${i}-${label}`,
            cells: [
              label,
              `${r.block.name} ${r.block.shape.join('×')}`,
              r.block.sampled
                ? `${fmtInt(r.block.dim)} of ${fmtInt(r.block.fullDim)}`
                : fmtInt(r.block.dim),
              r.snapshots,
              `${fmtFixed(r.fits.psi.exponent)} ${fmtInterval(r.fits.psi.ci95)}`,
              fmtFixed(r.fits.psi.r2),
              fmtFixed(r.fits.gamma.exponent),
              r.dims.DL90,
              `${fmt((r.epochs[r.epochs.length - 1]?.testError ?? NaN) * 100)}%`,
              `${fmt(r.timings.total)} s`,
            ],
          }))}
        />
      }
      csv={() => ({
        header: ['run', 'block', 'rank', 'flatness_F', 'variance_sigma2', 'psi'],
        rows: runs.flatMap(({ label, result: r }) =>
          r.modes.map((m) => [
            label,
            r.block.name,
            m.rank,
            m.flatness,
            m.variance,
            r.fits.psi.exponent,
          ]),
        ),
      })}
    />
  );
}
