/**
 * Fig. 4A/C: task-1 and task-2 test errors ε₁ (solid) and ε₂ (dashed) during task-2 training,
 * without a constraint, with LDC and with EWC at the chosen λ (click a point of the trade-off
 * figure to choose; by default each method's setting chosen on validation data), mean over seeds
 * with the range shaded.
 * Scored over the 10-way output or over each task's own classes (toggle).
 */
import { useMemo, useRef, useState, type PointerEvent as ReactPointerEvent } from 'react';
import { area, bisector, line, scaleLinear } from 'd3';
import type { Method } from '../engine/forgetting';
import { useForgetting } from '../state/forgettingStore';
import { fmtInt, fmtPercent, plotBox, svgPointer, useSize } from './chart';
import { Axis, ChartSvg, EmptyState, FigureShell, Swatch } from './ChartParts';
import {
  METHODS,
  METHOD_COLOR,
  SCORING_LABEL,
  settingCurve,
  settingLabel,
  METHOD_LABEL,
  type CurveStat,
  type Setting,
} from '../state/forgettingData';
import { ScoringToggle, seedsText, useForgettingStats } from './forgettingParts';

const byStep = bisector<CurveStat, number>((d) => d.step).center;

export function ForgettingCurvesView() {
  const live = useForgetting((s) => s.live);
  const status = useForgetting((s) => s.status);
  const bundled = useForgetting((s) => s.bundled !== null);
  const { runs, scoring, chosen } = useForgettingStats();
  const [frameRef, size] = useSize<HTMLDivElement>(0.62);
  const svgRef = useRef<SVGSVGElement>(null);
  const box = plotBox(size);
  const [hoverStep, setHoverStep] = useState<number | null>(null);

  // The run in progress counts too when it has no finished setting yet (the first seed).
  const shown = useMemo(() => {
    const out: { method: Method; setting: Setting; curve: CurveStat[] }[] = [];
    for (const m of METHODS) {
      const setting: Setting | null =
        chosen[m] ?? (live && live.key.method === m ? live.key : null);
      if (!setting) continue;
      const curve = settingCurve(runs, live, setting, scoring);
      if (curve.length) out.push({ method: m, setting, curve });
    }
    return out;
  }, [chosen, runs, live, scoring]);
  const has = shown.length > 0;
  const maxStep = Math.max(1, ...shown.flatMap((c) => c.curve.map((p) => p.step)));

  const x = useMemo(
    () => scaleLinear().domain([0, maxStep]).range([box.x0, box.x1]),
    [maxStep, box.x0, box.x1],
  );
  const y = useMemo(() => scaleLinear().domain([0, 100]).range([box.y1, box.y0]), [box.y0, box.y1]);

  const paths = useMemo(
    () =>
      shown.map(({ method, curve }) => {
        const mk = (k: 'eps1' | 'eps2') => ({
          line:
            line<CurveStat>()
              .x((p) => x(p.step))
              .y((p) => y(100 * p[k].mean))(curve) ?? '',
          band:
            area<CurveStat>()
              .x((p) => x(p.step))
              .y0((p) => y(100 * p[k].min))
              .y1((p) => y(100 * p[k].max))(curve) ?? '',
        });
        return { method, e1: mk('eps1'), e2: mk('eps2') };
      }),
    [shown, x, y],
  );

  const onMove = (e: ReactPointerEvent<SVGRectElement>) => {
    const p = svgPointer(e, svgRef.current);
    setHoverStep(p ? x.invert(p[0]) : null);
  };
  const hovered =
    hoverStep === null
      ? []
      : shown.map((c) => ({ method: c.method, p: c.curve[byStep(c.curve, hoverStep)] }));

  const label = (m: Method, s: Setting | null) => (s ? settingLabel(s) : METHOD_LABEL[m]);
  const readout = hovered.length
    ? `Step ${fmtInt(hovered[0].p.step)}: ${hovered
        .map(
          ({ method, p }) =>
            `${label(method, shown.find((c) => c.method === method)?.setting ?? null)}: ε₁ ${fmtPercent(p.eps1.mean)}, ε₂ ${fmtPercent(p.eps2.mean)}${p.eps1.n > 1 ? ` (${p.eps1.n} seeds)` : ''}`,
        )
        .join(' · ')}`
    : 'Hover the plot to read the errors at a step; click a point in the trade-off figure to choose λ.';

  const end = (m: Method) => {
    const c = shown.find((s) => s.method === m);
    return c ? c.curve[c.curve.length - 1] : undefined;
  };
  const nSeeds = Math.max(0, ...shown.map((c) => c.curve[c.curve.length - 1]?.eps1.n ?? 0));
  const endText = (k: 'eps1' | 'eps2') =>
    METHODS.filter((m) => end(m))
      .map(
        (m) =>
          `${fmtPercent(end(m)?.[k].mean ?? NaN)} (${label(m, shown.find((c) => c.method === m)?.setting ?? null)})`,
      )
      .join(', ');
  // Chosen settings whose runs carry no curve: the bundled sweep keeps curves for a few only.
  const unbundled = METHODS.flatMap((m) => {
    const c = chosen[m];
    return c && !shown.some((x) => x.method === m) ? [c] : [];
  });
  const caption = has ? (
    <>
      Test error on task 1 (ε₁, solid) and task 2 (ε₂, dashed) while W2 learns task 2, scored over
      the {SCORING_LABEL[scoring]}; mean over {seedsText(nSeeds)}, shaded: the range. After{' '}
      {fmtInt(maxStep)} steps ε₁ = {endText('eps1')}; ε₂ = {endText('eps2')}.
      {status === 'running'
        ? ' The sweep is still running: the curves fill in as each seed’s runs finish.'
        : ''}
      {bundled && unbundled.length
        ? ` The bundled sweep has no curves for ${unbundled.map((s) => settingLabel(s)).join(' and ')}: run the sweep to see them.`
        : ''}
    </>
  ) : (
    <>
      Test error on task 1 (ε₁) and task 2 (ε₂) while W2 learns task 2, with no constraint, LDC and
      EWC; the curves appear once the sweep reaches task 2.
    </>
  );
  const ariaLabel = has
    ? `Errors during task 2, ${SCORING_LABEL[scoring]}. ε₁ at the end: ${endText('eps1')}. ε₂ at the end: ${endText('eps2')}.`
    : 'Errors during task 2: waiting for the sweep.';

  return (
    <FigureShell
      id="forgetting-curves"
      title="Forgetting during task 2"
      controls={<ScoringToggle />}
      csv={
        has
          ? () => ({
              header: [
                'method',
                'lambda',
                'nc',
                'scoring',
                'step',
                'seeds',
                'eps1_mean',
                'eps1_min',
                'eps1_max',
                'eps2_mean',
                'eps2_min',
                'eps2_max',
              ],
              rows: shown.flatMap(({ method, setting, curve }) =>
                curve.map((p) => [
                  method,
                  setting.lambda,
                  setting.nc,
                  scoring,
                  p.step,
                  p.eps1.n,
                  p.eps1.mean,
                  p.eps1.min,
                  p.eps1.max,
                  p.eps2.mean,
                  p.eps2.min,
                  p.eps2.max,
                ]),
              ),
            })
          : undefined
      }
      caption={caption}
      readout={readout}
      frameRef={frameRef}
      legend={
        <>
          {shown.map(({ method, setting }) => (
            <span key={method} className="fm-legend-item" data-method={method}>
              <Swatch color={METHOD_COLOR[method]} kind="line" /> {label(method, setting)}
            </span>
          ))}
          <span className="fm-legend-item">
            <Swatch color="var(--fm-fg)" kind="line" /> ε₁ (task 1)
          </span>
          <span className="fm-legend-item">
            <svg className="fm-swatch" width={22} height={12} aria-hidden="true">
              <line
                className="fm-forget-dash"
                x1={1}
                x2={21}
                y1={6}
                y2={6}
                style={{ stroke: 'var(--fm-fg)', strokeWidth: 2 }}
              />
            </svg>{' '}
            ε₂ (task 2)
          </span>
        </>
      }
    >
      <ChartSvg size={size} box={box} label={ariaLabel} svgRef={svgRef}>
        {(clip) =>
          !has ? (
            <EmptyState box={box} text="Start the sweep to see the errors during task 2." />
          ) : (
            <>
              <Axis scale={x} side="bottom" box={box} label="task-2 SGD step" />
              <Axis scale={y} side="left" box={box} label="test error (%)" />
              <g clipPath={clip} pointerEvents="none">
                {paths.map(({ method, e1, e2 }) => (
                  <g key={method} data-method={method}>
                    <path
                      className="fm-forget-band"
                      d={e1.band}
                      style={{ fill: METHOD_COLOR[method] }}
                    />
                    <path
                      className="fm-forget-band"
                      d={e2.band}
                      style={{ fill: METHOD_COLOR[method] }}
                    />
                    <path
                      className="fm-curve"
                      d={e1.line}
                      style={{ stroke: METHOD_COLOR[method] }}
                    />
                    <path
                      className="fm-curve fm-forget-dash"
                      d={e2.line}
                      style={{ stroke: METHOD_COLOR[method] }}
                    />
                  </g>
                ))}
                {hovered.length ? (
                  <g className="fm-guide">
                    <line
                      x1={x(hovered[0].p.step)}
                      x2={x(hovered[0].p.step)}
                      y1={box.y0}
                      y2={box.y1}
                    />
                    {hovered.flatMap(({ method, p }) => [
                      <circle
                        key={`${method}-1`}
                        cx={x(p.step)}
                        cy={y(100 * p.eps1.mean)}
                        r={4}
                        style={{ fill: METHOD_COLOR[method] }}
                      />,
                      <circle
                        key={`${method}-2`}
                        cx={x(p.step)}
                        cy={y(100 * p.eps2.mean)}
                        r={4}
                        style={{ fill: METHOD_COLOR[method] }}
                      />,
                    ])}
                  </g>
                ) : null}
              </g>
              <rect
                className="fm-overlay"
                x={box.x0}
                y={box.y0}
                width={box.x1 - box.x0}
                height={box.y1 - box.y0}
                onPointerMove={onMove}
                onPointerLeave={() => setHoverStep(null)}
              />
            </>
          )
        }
      </ChartSvg>
    </FigureShell>
  );
}
