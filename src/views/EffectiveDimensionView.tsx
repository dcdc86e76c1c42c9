/**
 * Section 7b (Fig. 6): the effective dimensions against the parameter count, one point per
 * hidden width — D_s, the sharp directions (interpolated F_i below c·‖ŵ2‖/√h²), and D_L, the
 * PCA modes from mode 2 holding 90% and 95% of the variance (effectiveDimension.ts).
 */
import { useMemo } from 'react';
import { line, scaleLinear, scaleLog } from 'd3';
import type { RunSummary } from '../engine/experiments/sweeps';
import { useUniversality } from '../state/universalityStore';
import { CATEGORY_COLORS, fmtInt, linExtent, logExtent, plotBox, useSize } from './chart';
import { Axis, ChartSvg, EmptyState, FigureShell, Swatch } from './ChartParts';

const SERIES: { key: 'Ds' | 'DL90' | 'DL95'; label: string }[] = [
  { key: 'Ds', label: 'D_s: sharp directions' },
  { key: 'DL90', label: 'D_L: modes holding 90% of σ²' },
  { key: 'DL95', label: 'D_L: modes holding 95% of σ²' },
];

export function EffectiveDimensionView() {
  const runs = useUniversality((s) => s.widths.runs);
  const [frameRef, size] = useSize<HTMLDivElement>(0.5);
  const box = plotBox(size);
  const sorted = useMemo(() => [...runs].sort((a, b) => a.params - b.params), [runs]);
  const has = sorted.length > 0;
  const value = (r: RunSummary, k: (typeof SERIES)[number]['key']) => r.dims[k];
  const xd = logExtent(
    sorted.map((r) => r.params),
    1.15,
  ) ?? [1e3, 1e5];
  const yMax =
    linExtent([0, ...sorted.flatMap((r) => SERIES.map((s) => value(r, s.key)))])?.[1] ?? 1;
  const x = scaleLog().domain(xd).range([box.x0, box.x1]);
  const y = scaleLinear()
    .domain([0, Math.max(1, yMax)])
    .range([box.y1, box.y0]);
  const c = sorted[0]?.dims.c;
  const ariaLabel = has
    ? `Effective dimensions against parameter count: ${sorted.map((r) => `h ${r.hidden}: D_s ${r.dims.Ds}, D_L90 ${r.dims.DL90}`).join('; ')}.`
    : 'Effective dimensions against parameter count: no widths run yet.';
  return (
    <FigureShell
      id="effective-dimension"
      title="Effective dimensions against network size"
      caption={
        <>
          One quick run per hidden width h; the analysed block W2 has h² weights. D_s counts PCA
          directions whose flatness (interpolated over rank between the measured modes) lies below
          c·‖ŵ<sub>2</sub>‖/h{c !== undefined ? `, c = ${c}` : ''}; D_L counts modes from mode 2
          holding 90% or 95% of the variance beyond the drift mode. Flat lines as the network grows
          are the paper&rsquo;s claim.
        </>
      }
      readout={
        has
          ? sorted
              .map(
                (r) =>
                  `h ${r.hidden} (${fmtInt(r.params)} weights): D_s ${r.dims.Ds}, D_L90 ${r.dims.DL90}, D_L95 ${r.dims.DL95}, ψ ${r.psi.exponent.toFixed(2)}`,
              )
              .join(' · ')
          : 'Run the width sweep to fill this figure.'
      }
      legend={
        <>
          {SERIES.map((s, i) => (
            <span className="fm-legend-item" key={s.key}>
              <Swatch color={CATEGORY_COLORS[i]} kind="line" />
              {s.label}
            </span>
          ))}
        </>
      }
      frameRef={frameRef}
      csv={
        has
          ? () => ({
              header: [
                'hidden',
                'params',
                'dim',
                'snapshots',
                'Ds',
                'DL90',
                'DL95',
                'sharp_threshold',
                'psi',
                'gamma',
              ],
              rows: sorted.map((r) => [
                r.hidden,
                r.params,
                r.dim,
                r.snapshots,
                r.dims.Ds,
                r.dims.DL90,
                r.dims.DL95,
                r.dims.threshold,
                r.psi.exponent,
                r.gamma.exponent,
              ]),
            })
          : undefined
      }
    >
      <ChartSvg size={size} box={box} label={ariaLabel}>
        {(clip) =>
          !has ? (
            <EmptyState box={box} text="No widths run yet" />
          ) : (
            <>
              <Axis scale={x} side="bottom" box={box} label="parameters (log scale)" />
              <Axis scale={y} side="left" box={box} label="number of directions" />
              <g clipPath={clip}>
                {SERIES.map((s, i) => {
                  const pts = sorted.map(
                    (r) => [x(r.params), y(value(r, s.key))] as [number, number],
                  );
                  return (
                    <g key={s.key} data-series={s.key}>
                      <path
                        className="fm-curve"
                        d={line()(pts) ?? ''}
                        style={{ stroke: CATEGORY_COLORS[i] }}
                      />
                      {pts.map(([px, py], j) => (
                        <circle
                          key={sorted[j].hidden}
                          className="fm-pt"
                          cx={px}
                          cy={py}
                          r={3.5}
                          style={{ fill: CATEGORY_COLORS[i] }}
                        />
                      ))}
                    </g>
                  );
                })}
              </g>
            </>
          )
        }
      </ChartSvg>
    </FigureShell>
  );
}
