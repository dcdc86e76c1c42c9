/**
 * Section 7c: the σ²–F relation of deeper networks — a 4-hidden-layer MLP (any of its
 * hidden-to-hidden matrices) and a small CNN (its dense hidden matrix) — overlaid with the
 * runs' ψ in the legend. Blocks above the snapshot cap are analysed on a seeded subset.
 */
import { useMemo } from 'react';
import { useUniversality } from '../state/universalityStore';
import { fmt, fmtFixed, fmtInt } from './chart';
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
  return (
    <VarianceFlatnessOverlay
      id="architecture-comparison"
      title="Variance against flatness in deeper networks"
      caption={
        <>
          Each run trains the chosen network with the run panel&rsquo;s B, α and seed, then
          snapshots one weight block after every step of the window; points are that block&rsquo;s
          PCA modes (σ²<sub>i</sub>, F<sub>i</sub>), F measured on the full training loss with only
          the block moved. A positive ψ in every block is the inverse relation holding beyond the
          two-layer network.
        </>
      }
      runs={overlay}
      empty="No architecture runs yet"
      readout={
        runs.length > 0
          ? runs
              .map(({ label, result: r }) => {
                const block = r.block.sampled
                  ? `${fmtInt(r.block.dim)} of ${fmtInt(r.block.fullDim)} weights sampled`
                  : `${fmtInt(r.block.dim)} weights`;
                const test = r.epochs[r.epochs.length - 1]?.testError ?? NaN;
                return `${label}: block ${r.block.name} ${r.block.shape.join('×')} (${block}), ${r.snapshots} snapshots, ψ ${fmtFixed(r.fits.psi.exponent)} (R² ${fmtFixed(r.fits.psi.r2)}), γ ${fmtFixed(r.fits.gamma.exponent)}, D_L90 ${r.dims.DL90}, test error ${fmt(test * 100)}%, ${fmt(r.timings.total)} s`;
              })
              .join(' · ')
          : 'Add a run to fill this figure.'
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
