/**
 * Section 7a: the σ²–F relation of SGD, SGD with momentum and Adam, overlaid. Each run is one
 * quick warm-up and window (the optimizer comparison of the universality section); its measured
 * modes are points, its ψ fit a line, and the legend gives ψ with its 95% interval.
 */
import { useMemo } from 'react';
import { scaleLog } from 'd3';
import type { RunSummary } from '../engine/experiments/sweeps';
import { useUniversality } from '../state/universalityStore';
import {
  CATEGORY_COLORS,
  fitUsable,
  fitY,
  fmt,
  fmtFixed,
  fmtInterval,
  isPos,
  logExtent,
  plotBox,
  sup,
  useSize,
} from './chart';
import { Axis, ChartSvg, EmptyState, FigureShell, Swatch } from './ChartParts';

/** Labels at powers of ten only: the runs' variances span many decades. */
function decades(d: { valueOf(): number }): string {
  const e = Math.log10(Number(d));
  return Math.abs(e - Math.round(e)) < 1e-9 ? `10${sup(Math.round(e))}` : '';
}

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
    ? `Variance against flatness for ${runs.map((r) => `${label(r)}: ψ = ${fmtFixed(r.psi.exponent)}`).join('; ')}.`
    : 'Variance against flatness per optimizer: no runs yet.';
  const legend = has ? (
    <>
      {runs.map((r, i) => (
        <span className="fm-legend-item" key={r.optimizer} data-optimizer={r.optimizer}>
          <Swatch color={CATEGORY_COLORS[i % CATEGORY_COLORS.length]} />
          {label(r)}, α = {r.lr}: ψ = {fmtFixed(r.psi.exponent)} {fmtInterval(r.psi.ci95)}
        </span>
      ))}
    </>
  ) : null;
  return (
    <FigureShell
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
      readout={
        has
          ? runs
              .map(
                (r) =>
                  `${label(r)}: ψ ${fmtFixed(r.psi.exponent)}, γ ${fmtFixed(r.gamma.exponent)}, test error ${fmt(r.finalTestError * 100)}%`,
              )
              .join(' · ')
          : 'Run the comparison to fill this figure.'
      }
      legend={legend}
      frameRef={frameRef}
      csv={
        has
          ? () => ({
              header: ['optimizer', 'lr', 'rank', 'flatness_F', 'variance_sigma2', 'psi'],
              rows: runs.flatMap((r) =>
                r.modes.map((m) => [
                  r.optimizer,
                  r.lr,
                  m.rank,
                  m.flatness,
                  m.variance,
                  r.psi.exponent,
                ]),
              ),
            })
          : undefined
      }
    >
      <ChartSvg size={size} box={box} label={ariaLabel}>
        {(clip) =>
          !has ? (
            <EmptyState box={box} text="No optimizer runs yet" />
          ) : (
            <>
              <Axis scale={x} side="bottom" box={box} label="flatness F (log scale)" />
              <Axis
                scale={y}
                side="left"
                box={box}
                label="variance σ² (log scale)"
                format={decades}
              />
              <g clipPath={clip}>
                {runs.map((r, i) => {
                  const color = CATEGORY_COLORS[i % CATEGORY_COLORS.length];
                  const fit = r.psi;
                  return (
                    <g key={r.optimizer} data-optimizer={r.optimizer}>
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
