/**
 * With or without replacement (issue 17): the velocity autocorrelation C(s) of the same modes
 * for runs that draw minibatches per epoch (without replacement) or i.i.d. (with replacement),
 * overlaid; the table gives ψ, β₁ and β₂ of each run with their 95% intervals.
 */
import { useMemo } from 'react';
import { line, scaleLinear } from 'd3';
import { useSamplingRuns, type SamplingFit } from '../state/samplingComparison';
import { CATEGORY_COLORS, fmtFixed, fmtInterval, linExtent, plotBox, useSize } from './chart';
import { Axis, ChartSvg, EmptyState, FigureShell, FigureTable, Swatch } from './ChartParts';

/** Lags drawn: the anticorrelation lives in the first few dozen steps. */
const MAX_LAG = 40;
const DASH: Record<string, string | undefined> = {
  'bundle-epoch': undefined,
  'bundle-replacement': '5 3',
  own: '1.5 2.5',
};

const exp = (f: SamplingFit) =>
  `${fmtFixed(f.exponent)} ${fmtInterval(f.ci95 as [number, number])}`;

export function SamplingComparisonView() {
  const runs = useSamplingRuns();
  const [frameRef, size] = useSize<HTMLDivElement>(0.5);
  const box = plotBox(size);
  const ranks = useMemo(
    () => [...new Set(runs.flatMap((r) => r.modes.map((m) => m.rank)))].sort((a, b) => a - b),
    [runs],
  );
  const color = (rank: number) => CATEGORY_COLORS[ranks.indexOf(rank) % CATEGORY_COLORS.length];
  const values = runs.flatMap((r) => r.modes.flatMap((m) => m.C.slice(1, MAX_LAG + 1)));
  const yd = linExtent([...values, 0, 0.2]) ?? [-0.5, 0.2];
  const x = scaleLinear().domain([0, MAX_LAG]).range([box.x0, box.x1]);
  const y = scaleLinear().domain(yd).range([box.y1, box.y0]);
  // C(s) is NaN for a mode whose D is 0: a gap there, not a path d3 cannot draw.
  const path = line<number>()
    .defined((c) => Number.isFinite(c))
    .x((_, s) => x(s + 1))
    .y((c) => y(c));
  const epoch = runs.find((r) => r.key === 'bundle-epoch');
  const repl = runs.find((r) => r.key === 'bundle-replacement');
  const c1 = (r: typeof epoch) => r?.modes.find((m) => m.rank === ranks[0])?.C[1];
  return (
    <FigureShell
      id="sampling-comparison"
      title="Velocity correlation with and without replacement"
      caption={
        <>
          C<sub>i</sub>(s) = ⟨v<sub>i</sub>(t)v<sub>i</sub>(t+s)⟩/D<sub>i</sub> for modes{' '}
          {ranks.join(', ')} (colour) against the lag s in SGD steps (from s = 1): solid,
          minibatches dealt from a fresh permutation each epoch; dashed, drawn i.i.d. with
          replacement
          {runs.some((r) => r.key === 'own')
            ? '; dotted, your run with the run panel’s current sampling setting'
            : ''}
          . The table gives the exponents of σ² ∝ F<sup>−ψ</sup>, D ∝ F<sup>−β₁</sup> and τ ∝ F
          <sup>−β₂</sup> of each run.
        </>
      }
      readout={
        epoch && repl
          ? `Mode ${ranks[0]}: C(1) = ${fmtFixed(c1(epoch) ?? NaN)} without, ${fmtFixed(c1(repl) ?? NaN)} with replacement; ψ = ${fmtFixed(epoch.psi.exponent)} vs ${fmtFixed(repl.psi.exponent)}.`
          : 'No comparison to show.'
      }
      frameRef={frameRef}
      legend={
        <>
          {ranks.map((r) => (
            <span key={r} className="fm-legend-item">
              <Swatch color={color(r)} kind="line" /> mode {r}
            </span>
          ))}
          <span className="fm-legend-item">
            <Swatch color="currentColor" kind="dash" /> with replacement
          </span>
        </>
      }
      table={
        <FigureTable
          caption="Fitted exponents (95% intervals) per sampling"
          header={['run', 'ψ', 'β₁ (D)', 'β₂ (τ)']}
          rows={runs.map((r) => ({
            key: r.key,
            cells: [r.label, exp(r.psi), exp(r.beta1), exp(r.beta2)],
          }))}
        />
      }
      csv={() => ({
        header: ['run', 'rank', 'lag_steps', 'C'],
        rows: runs.flatMap((r) => r.modes.flatMap((m) => m.C.map((c, s) => [r.key, m.rank, s, c]))),
      })}
    >
      <ChartSvg
        size={size}
        box={box}
        label={`Velocity autocorrelation against lag, per sampling. ${runs
          .map((r) => `${r.label}: ψ = ${fmtFixed(r.psi.exponent)}`)
          .join('; ')}.`}
      >
        {(clip) =>
          runs.length ? (
            <>
              <Axis scale={x} side="bottom" box={box} label="lag s (SGD steps)" />
              <Axis scale={y} side="left" box={box} label="C(s)" />
              <line
                x1={box.x0}
                x2={box.x1}
                y1={y(0)}
                y2={y(0)}
                style={{ stroke: 'currentColor', strokeOpacity: 0.4 }}
              />
              <g clipPath={clip}>
                {runs.flatMap((r) =>
                  r.modes.map((m) => (
                    <path
                      key={`${r.key}-${m.rank}`}
                      d={path(m.C.slice(1, MAX_LAG + 1)) ?? ''}
                      fill="none"
                      style={{
                        stroke: color(m.rank),
                        strokeWidth: 1.8,
                        strokeDasharray: DASH[r.key],
                      }}
                    />
                  )),
                )}
              </g>
            </>
          ) : (
            <EmptyState box={box} text="No runs yet" />
          )
        }
      </ChartSvg>
    </FigureShell>
  );
}
