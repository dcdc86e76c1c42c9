/**
 * Fig. 4F: total test error ε₁ + ε₂ of LDC against the number of constrained task-1 modes N_c
 * (each at the λ chosen on validation data; mean over seeds, bars: the range), with EWC's total
 * at its chosen λ as a reference line (its range shaded) and the unconstrained total for scale. Click a point to show that LDC
 * setting in the other figures.
 */
import { useMemo, useRef, useState } from 'react';
import { line, scaleLinear, scaleLog } from 'd3';
import { useForgetting } from '../state/forgettingStore';
import { plotBox, svgPointer, useNearest, useSize, type ScreenPoint } from './chart';
import {
  Axis,
  ChartSvg,
  EmptyState,
  FigureShell,
  Halo,
  PlotBackground,
  Swatch,
} from './ChartParts';
import {
  METHOD_COLOR,
  SCORING_LABEL,
  bestOf,
  fmtLambda,
  ncCurve,
  ncVerdictText,
  ncVersusEwc,
  sameSetting,
  settingLabel,
  type SettingStats,
} from '../state/forgettingData';
import { seedsText, useForgettingStats } from './forgettingParts';
import './curves.css';

export function ConstraintCountView() {
  const choose = useForgetting((s) => s.choose);
  const { runs, scoring, stats, chosen } = useForgettingStats();
  const [frameRef, size] = useSize<HTMLDivElement>(0.62);
  const svgRef = useRef<SVGSVGElement>(null);
  const box = plotBox(size);
  const [hover, setHover] = useState<SettingStats | null>(null);

  const curve = useMemo(() => ncCurve(stats), [stats]);
  const ewc = bestOf(stats, 'ewc');
  const none = bestOf(stats, 'none');
  const has = curve.length > 0;

  const { x, y } = useMemo(() => {
    const ncs = curve.map((p) => p.nc ?? 1);
    const lo = Math.min(...ncs, 1e9);
    const hi = Math.max(...ncs, 1);
    const top = Math.max(
      0.05,
      ...curve.map((p) => p.total.max),
      ewc ? ewc.total.max : 0,
      none ? none.total.mean : 0,
    );
    return {
      x: scaleLog()
        .domain(lo < hi ? [lo / 1.4, hi * 1.4] : [Math.max(0.5, lo / 3), hi * 3])
        .range([box.x0, box.x1]),
      y: scaleLinear()
        .domain([0, top * 1.06])
        .nice()
        .range([box.y1, box.y0]),
    };
  }, [curve, ewc, none, box.x0, box.x1, box.y0, box.y1]);

  const screen = useMemo<ScreenPoint<SettingStats>[]>(
    () => curve.map((p) => ({ x: x(p.nc ?? 1), y: y(p.total.mean), datum: p })),
    [curve, x, y],
  );
  const find = useNearest(screen, 18);

  const best = bestOf(stats, 'ldc');
  const verdict = useMemo(
    () => ncVerdictText(ncVersusEwc(runs, curve, ewc, scoring), 'paired seed by seed'),
    [runs, curve, ewc, scoring],
  );
  const nSeeds = Math.max(0, ...curve.map((p) => p.total.n));
  const describe = (p: SettingStats) =>
    `N_c = ${p.nc}: λ = ${fmtLambda(p.lambda)} chosen on validation data (validation ε₁ + ε₂ ${p.val.mean.toFixed(3)}), test ε₁ + ε₂ = ${p.total.mean.toFixed(3)} (range ${p.total.min.toFixed(3)}–${p.total.max.toFixed(3)}, ${seedsText(p.total.n)})${ewc ? `; EWC ${ewc.total.mean.toFixed(3)}` : ''}`;
  const readout = hover
    ? describe(hover)
    : 'Hover a point to read its total error; click it to show that setting’s curves.';
  const caption = has ? (
    <>
      Total test error ε₁ + ε₂ ({SCORING_LABEL[scoring]}) of LDC against the number of constrained
      task-1 modes N_c, each at the λ chosen on validation data (mean over {seedsText(nSeeds)};
      bars: the range). Dashed: EWC at its λ chosen on validation data,{' '}
      {ewc
        ? `${ewc.total.mean.toFixed(3)} ± ${ewc.total.sd.toFixed(3)} (mean ± sd; λ = ${fmtLambda(ewc.lambda)})`
        : 'not run yet'}
      ; dotted: no constraint{none ? `, ${none.total.mean.toFixed(3)}` : ''}. LDC&rsquo;s chosen
      setting (over λ and N_c):{' '}
      {best
        ? `${best.total.mean.toFixed(3)} at N_c = ${best.nc} (λ = ${fmtLambda(best.lambda)})`
        : '–'}
      . {verdict}
    </>
  ) : (
    <>
      Total test error ε₁ + ε₂ of LDC against the number of constrained task-1 modes N_c, each at
      the λ chosen on validation data, with EWC&rsquo;s as a reference line; the points appear as
      the sweep runs.
    </>
  );
  const ariaLabel = has
    ? `ε₁ + ε₂ against N_c. ${curve.map((p) => `N_c ${p.nc}: ${p.total.mean.toFixed(3)}`).join(', ')}. EWC ${ewc ? ewc.total.mean.toFixed(3) : 'not run'}.`
    : 'ε₁ + ε₂ against N_c: waiting for the sweep.';

  const path =
    line<SettingStats>()
      .x((p) => x(p.nc ?? 1))
      .y((p) => y(p.total.mean))(curve) ?? '';
  const isChosen = (p: SettingStats) => chosen.ldc !== null && sameSetting(chosen.ldc, p);

  return (
    <FigureShell
      id="forgetting-nc"
      title="How many modes to constrain"
      csv={
        has
          ? () => ({
              header: [
                'series',
                'nc',
                'lambda',
                'scoring',
                'seeds',
                'total_mean',
                'total_min',
                'total_max',
                'total_sd',
              ],
              rows: [
                ...curve.map((p) => [
                  'ldc',
                  p.nc,
                  p.lambda,
                  scoring,
                  p.total.n,
                  p.total.mean,
                  p.total.min,
                  p.total.max,
                  p.total.sd,
                ]),
                ...(ewc
                  ? [
                      [
                        'ewc_best',
                        null,
                        ewc.lambda,
                        scoring,
                        ewc.total.n,
                        ewc.total.mean,
                        ewc.total.min,
                        ewc.total.max,
                        ewc.total.sd,
                      ],
                    ]
                  : []),
                ...(none
                  ? [
                      [
                        'none',
                        null,
                        0,
                        scoring,
                        none.total.n,
                        none.total.mean,
                        none.total.min,
                        none.total.max,
                        none.total.sd,
                      ],
                    ]
                  : []),
              ],
            })
          : undefined
      }
      caption={caption}
      readout={readout}
      frameRef={frameRef}
      legend={
        <>
          <span className="fm-legend-item">
            <Swatch color={METHOD_COLOR.ldc} kind="point" /> LDC, λ chosen on validation data
          </span>
          <span className="fm-legend-item">
            <Swatch color={METHOD_COLOR.ewc} kind="dash" /> EWC, λ chosen on validation data
          </span>
          <span className="fm-legend-item">
            <Swatch color={METHOD_COLOR.none} kind="dash" /> no constraint
          </span>
        </>
      }
    >
      <ChartSvg size={size} box={box} label={ariaLabel} svgRef={svgRef}>
        {(clip) =>
          !has ? (
            <EmptyState box={box} text="Start the sweep: LDC's points appear per N_c." />
          ) : (
            <>
              <PlotBackground
                box={box}
                onPointerMove={(e) => {
                  const p = svgPointer(e, svgRef.current);
                  setHover(p ? (find(p[0], p[1])?.datum ?? null) : null);
                }}
                onPointerLeave={() => setHover(null)}
                onClick={(e) => {
                  const p = svgPointer(e, svgRef.current);
                  const hit = p ? find(p[0], p[1]) : null;
                  if (hit) choose('ldc', hit.datum.lambda, hit.datum.nc);
                }}
              />
              <Axis scale={x} side="bottom" box={box} label="constrained modes N_c (log scale)" />
              <Axis scale={y} side="left" box={box} label="total test error ε₁ + ε₂" />
              <g clipPath={clip}>
                {ewc ? (
                  <g data-method="ewc" pointerEvents="none">
                    {ewc.total.n > 1 ? (
                      <rect
                        className="fm-forget-ref-band"
                        x={box.x0}
                        width={box.x1 - box.x0}
                        y={y(ewc.total.max)}
                        height={Math.max(0, y(ewc.total.min) - y(ewc.total.max))}
                        style={{ fill: METHOD_COLOR.ewc }}
                      />
                    ) : null}
                    <line
                      className="fm-fit"
                      x1={box.x0}
                      x2={box.x1}
                      y1={y(ewc.total.mean)}
                      y2={y(ewc.total.mean)}
                      style={{ stroke: METHOD_COLOR.ewc }}
                    />
                    <text
                      className="fm-annot"
                      x={box.x1 - 4}
                      y={y(ewc.total.mean) - 5}
                      textAnchor="end"
                    >
                      EWC ({settingLabel(ewc).replace('EWC, ', '')})
                    </text>
                  </g>
                ) : null}
                {none ? (
                  <g data-method="none" pointerEvents="none">
                    <line
                      className="fm-ref"
                      x1={box.x0}
                      x2={box.x1}
                      y1={y(none.total.mean)}
                      y2={y(none.total.mean)}
                      style={{
                        stroke: METHOD_COLOR.none,
                        strokeDasharray: '1.5 4',
                        strokeWidth: 2,
                      }}
                    />
                    <text className="fm-annot" x={box.x0 + 4} y={y(none.total.mean) + 14}>
                      no constraint
                    </text>
                  </g>
                ) : null}
                <path
                  className="fm-curve"
                  d={path}
                  style={{ stroke: METHOD_COLOR.ldc }}
                  pointerEvents="none"
                />
                <g className="fm-errbars" pointerEvents="none" style={{ stroke: METHOD_COLOR.ldc }}>
                  {curve
                    .filter((p) => p.total.n > 1)
                    .map((p) => (
                      <line
                        key={p.nc}
                        className="fm-forget-bar"
                        x1={x(p.nc ?? 1)}
                        x2={x(p.nc ?? 1)}
                        y1={y(p.total.min)}
                        y2={y(p.total.max)}
                      />
                    ))}
                </g>
                {curve.map((p) => (
                  <circle
                    key={p.nc}
                    className={`fm-forget-pt${isChosen(p) ? ' selected' : ''}`}
                    data-method="ldc"
                    data-nc={p.nc ?? undefined}
                    data-lambda={p.lambda}
                    cx={x(p.nc ?? 1)}
                    cy={y(p.total.mean)}
                    r={4.5}
                    style={{ fill: METHOD_COLOR.ldc }}
                    onPointerEnter={() => setHover(p)}
                    onPointerLeave={() => setHover(null)}
                    onClick={() => choose('ldc', p.lambda, p.nc)}
                  />
                ))}
                {hover ? (
                  <Halo x={x(hover.nc ?? 1)} y={y(hover.total.mean)} fill={METHOD_COLOR.ldc} />
                ) : null}
              </g>
            </>
          )
        }
      </ChartSvg>
    </FigureShell>
  );
}
