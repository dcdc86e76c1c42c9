/**
 * Section 7b (Fig. 6): the effective dimensions against the parameter count, one point per
 * hidden width — D_s, the sharp directions (interpolated F_i below c·‖ŵ2‖/√h²), and D_L, the
 * PCA modes from mode 2 holding 90% and 95% of the variance (effectiveDimension.ts).
 */
import { useMemo } from 'react';
import { line, scaleLinear, scaleLog } from 'd3';
import type { RunSummary } from '../engine/experiments/sweeps';
import { sharpAt, useUniversality } from '../state/universalityStore';
import { SHARP_SCALE_LABEL, SharpThresholdControl } from './SharpThresholdControl';
import {
  CATEGORY_COLORS,
  fmt,
  fmtFixed,
  fmtInt,
  fmtInterval,
  linExtent,
  logExtent,
  plotBox,
  useSize,
} from './chart';
import { Axis, ChartSvg, EmptyState, FigureShell, FigureTable, Swatch } from './ChartParts';
import { hasExponent } from './fitNotes';

const SERIES: { key: 'Ds' | 'DL90' | 'DL95'; label: string }[] = [
  { key: 'Ds', label: 'D_s: sharp directions' },
  { key: 'DL90', label: 'D_L: modes holding 90% of σ²' },
  { key: 'DL95', label: 'D_L: modes holding 95% of σ²' },
];

export function EffectiveDimensionView() {
  const runs = useUniversality((s) => s.widths.runs);
  const sharp = useUniversality((s) => s.sharp);
  const [frameRef, size] = useSize<HTMLDivElement>(0.5);
  const box = plotBox(size);
  const sorted = useMemo(() => [...runs].sort((a, b) => a.params - b.params), [runs]);
  const has = sorted.length > 0;
  const ds = useMemo(() => new Map(sorted.map((r) => [r, sharpAt(r, sharp)])), [sorted, sharp]);
  const value = (r: RunSummary, k: (typeof SERIES)[number]['key']) =>
    k === 'Ds' ? (ds.get(r)?.Ds ?? NaN) : r.dims[k];
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
  const dsOf = (r: RunSummary) => ds.get(r)?.Ds ?? NaN;
  const ariaLabel = has
    ? `Effective dimensions against parameter count: ${sorted.map((r) => `h ${r.hidden}: D_s ${dsOf(r)}, D_L90 ${r.dims.DL90}`).join('; ')}.`
    : 'Effective dimensions against parameter count: no widths run yet.';
  return (
    <FigureShell
      id="effective-dimension"
      title="Effective dimensions against network size"
      caption={
        <>
          One run per hidden width h, the same warm-up and window for each; the analysed block W2
          has h² weights. D_s counts PCA directions whose flatness (interpolated over rank between
          the measured modes) lies below the threshold F<sub>c</sub> (
          {SHARP_SCALE_LABEL[sharp.scale]}, c = {sharp.c}); D_L counts modes from mode 2 holding 90%
          or 95% of the variance beyond the drift mode. Flat lines as the network grows are the
          paper&rsquo;s claim. The paper sets F<sub>c</sub> &ldquo;by the norm of the
          solution&rdquo; without its constant: the RMS weight falls as h grows, so where the sharp
          end of the flatness spectrum stays put (check it in the figure below) a threshold of c RMS
          weights counts fewer directions as h grows and a fixed F<sub>c</sub> about as many; the
          table gives D_s at each width under the scaling chosen.
        </>
      }
      controls={<SharpThresholdControl />}
      readout={
        has
          ? `Parameters ×${fmt(sorted[sorted.length - 1].params / sorted[0].params)} from h ${sorted[0].hidden} to h ${sorted[sorted.length - 1].hidden}; at h = ${sorted.map((r) => r.hidden).join(', ')}: D_s ${sorted.map(dsOf).join(', ')}, D_L90 ${sorted.map((r) => r.dims.DL90).join(', ')}.`
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
              fmtInt(r.snapshots),
              dsOf(r),
              (ds.get(r)?.threshold ?? NaN).toPrecision(3),
              r.dims.DL90,
              r.dims.DL95,
              hasExponent(r.psi)
                ? `${fmtFixed(r.psi.exponent)} ${fmtInterval(r.psi.ci95)}`
                : 'no fit',
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
                'sharp_threshold_F_c',
                'threshold_scale',
                'threshold_c',
                'psi',
                'gamma',
              ],
              rows: sorted.map((r) => [
                r.hidden,
                r.params,
                r.dim,
                r.snapshots,
                dsOf(r),
                r.dims.DL90,
                r.dims.DL95,
                ds.get(r)?.threshold ?? NaN,
                sharp.scale,
                sharp.c,
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
                  // A count the run could not give (D_s with no finite flatness) is left out of
                  // the line and the points, not drawn at a made-up height.
                  const pts = sorted
                    .map((r) => [x(r.params), y(value(r, s.key)), r.hidden] as const)
                    .filter(([px, py]) => Number.isFinite(px) && Number.isFinite(py));
                  return (
                    <g key={s.key} data-series={s.key}>
                      <path
                        className="fm-curve"
                        d={line()(pts.map(([px, py]) => [px, py])) ?? ''}
                        style={{ stroke: CATEGORY_COLORS[i] }}
                      />
                      {pts.map(([px, py, h]) => (
                        <circle
                          key={h}
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
