/**
 * Section 7b (Fig. 6): the effective dimensions against the parameter count, one point per
 * hidden width — D_s, the sharp directions (interpolated F_i below c·‖ŵ2‖/√h²), and D_L, the
 * PCA modes from mode 2 holding 90% and 95% of the variance (effectiveDimension.ts).
 */
import { useMemo } from 'react';
import { line, scaleLinear, scaleLog } from 'd3';
import type { RunSummary } from '../engine/experiments/sweeps';
import { useUniversality } from '../state/universalityStore';
import {
  CATEGORY_COLORS,
  fmt,
  fmtInt,
  fmtInterval,
  linExtent,
  logExtent,
  plotBox,
  useSize,
} from './chart';
import { Axis, ChartSvg, EmptyState, FigureShell, FigureTable, Swatch } from './ChartParts';

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
          ? `Parameters ×${fmt(sorted[sorted.length - 1].params / sorted[0].params)} from h ${sorted[0].hidden} to h ${sorted[sorted.length - 1].hidden}: D_s ${sorted[0].dims.Ds} → ${sorted[sorted.length - 1].dims.Ds}, D_L90 ${sorted[0].dims.DL90} → ${sorted[sorted.length - 1].dims.DL90}.`
          : 'Run the width sweep to fill this figure.'
      }
      table={
        <FigureTable
          caption="Per width: the analysed block, the effective dimensions and ψ"
          header={['h', 'weights', 'W2 weights', 'snapshots', 'D_s', 'F_c', 'D_L90', 'D_L95', 'ψ']}
          rows={sorted.map((r) => ({
            key: String(r.hidden),
            cells: [
              r.hidden,
              fmtInt(r.params),
              fmtInt(r.dim),
              r.snapshots,
              r.dims.Ds,
              r.dims.threshold.toPrecision(3),
              r.dims.DL90,
              r.dims.DL95,
              `${r.psi.exponent.toFixed(2)} ${fmtInterval(r.psi.ci95)}`,
            ],
          }))}
        />
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
