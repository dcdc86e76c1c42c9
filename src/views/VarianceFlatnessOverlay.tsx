/**
 * Several runs' σ²–F relations on one log–log plot: each run's measured PCA modes as points and
 * its fit σ² ∝ F^−ψ as a line, ψ with its 95% interval in the legend. The optimizer comparison
 * and the architecture comparison of section 7 are this plot with their own runs.
 */
import { useMemo, type ReactNode } from 'react';
import { scaleLog } from 'd3';
import type { PowerFit } from '../engine/experiments/analysis';
import {
  CATEGORY_COLORS,
  fitUsable,
  fitY,
  fmtFixed,
  fmtInterval,
  isPos,
  logExtent,
  plotBox,
  useSize,
} from './chart';
import { Axis, ChartSvg, EmptyState, FigureShell, Swatch, type CsvTable } from './ChartParts';
import { hasExponent } from './fitNotes';

export interface OverlayRun {
  /** Stable key (also the `data-run` attribute of its legend entry and points). */
  key: string;
  label: string;
  modes: readonly { rank: number; variance: number; flatness: number }[];
  psi: PowerFit;
}

export function VarianceFlatnessOverlay({
  id,
  title,
  caption,
  runs,
  readout,
  empty,
  csv,
  controls,
  table,
}: {
  id: string;
  title: string;
  caption: ReactNode;
  runs: readonly OverlayRun[];
  readout: string;
  /** What the empty plot says. */
  empty: string;
  csv?: () => CsvTable;
  controls?: ReactNode;
  /** The runs' numbers as a FigureTable. */
  table?: ReactNode;
}) {
  const [frameRef, size] = useSize<HTMLDivElement>(0.6);
  const box = plotBox(size);
  const has = runs.length > 0;
  const points = useMemo(
    () =>
      runs.map((r) => r.modes.filter((m) => isPos(m.flatness) && isPos(m.variance) && m.rank >= 2)),
    [runs],
  );
  const xd = logExtent(points.flat().map((m) => m.flatness)) ?? [0.1, 10];
  const yd = logExtent(points.flat().map((m) => m.variance)) ?? [1e-6, 1];
  const x = scaleLog().domain(xd).range([box.x0, box.x1]);
  const y = scaleLog().domain(yd).range([box.y1, box.y0]);
  const ariaLabel = has
    ? `${title}: ${runs.map((r) => `${r.label}: ${hasExponent(r.psi) ? `ψ = ${fmtFixed(r.psi.exponent)}` : 'no ψ'}`).join('; ')}.`
    : `${title}: ${empty.toLowerCase()}.`;
  const legend = has ? (
    <>
      {runs.map((r, i) => (
        <span className="fm-legend-item" key={r.key} data-run={r.key}>
          <Swatch color={CATEGORY_COLORS[i % CATEGORY_COLORS.length]} />
          {r.label}:{' '}
          {hasExponent(r.psi)
            ? `ψ = ${fmtFixed(r.psi.exponent)} ${fmtInterval(r.psi.ci95)}`
            : 'no ψ (below)'}
        </span>
      ))}
    </>
  ) : null;
  return (
    <FigureShell
      id={id}
      title={title}
      caption={caption}
      readout={readout}
      legend={legend}
      frameRef={frameRef}
      csv={has ? csv : undefined}
      controls={controls}
      table={table}
    >
      <ChartSvg size={size} box={box} label={ariaLabel}>
        {(clip) =>
          !has ? (
            <EmptyState box={box} text={empty} />
          ) : (
            <>
              <Axis scale={x} side="bottom" box={box} label="flatness F (log scale)" />
              <Axis scale={y} side="left" box={box} label="variance σ² (log scale)" />
              <g clipPath={clip}>
                {runs.map((r, i) => {
                  const color = CATEGORY_COLORS[i % CATEGORY_COLORS.length];
                  const fit = r.psi;
                  return (
                    <g key={r.key} data-run={r.key}>
                      {fitUsable(fit) ? (
                        <line
                          className="fm-fit"
                          x1={x(xd[0])}
                          x2={x(xd[1])}
                          y1={y(fitY(fit, xd[0]))}
                          y2={y(fitY(fit, xd[1]))}
                          style={{ stroke: color }}
                        />
                      ) : null}
                      {points[i].map((m) => (
                        <circle
                          key={m.rank}
                          className="fm-pt"
                          cx={x(m.flatness)}
                          cy={y(m.variance)}
                          r={2.5}
                          style={{ fill: color }}
                        >
                          <title>
                            {`${r.label}, mode ${m.rank}: F = ${m.flatness.toPrecision(3)}, σ² = ${m.variance.toPrecision(3)}`}
                          </title>
                        </circle>
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
