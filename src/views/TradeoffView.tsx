/**
 * Fig. 4E: the ε₁–ε₂ trade-off. Each point is one setting, mean test errors over seeds with the
 * range as error bars: LDC over its λ grid at one N_c (by default the N_c of the setting chosen
 * on validation data, or the one clicked), EWC over its λ grid, and the unconstrained run. A larger λ moves a method up its curve towards
 * low ε₁ and high ε₂; the closer a curve comes to the origin, the better. Click a point to show
 * that setting's curves and displacements in the other figures.
 */
import { useId, useMemo, useRef, useState } from 'react';
import { line, scaleLinear } from 'd3';
import type { Method } from '../engine/forgetting';
import { useForgetting } from '../state/forgettingStore';
import {
  fmtPercent,
  linExtent,
  plotBox,
  useNearest,
  svgPointer,
  useSize,
  type ScreenPoint,
} from './chart';
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
  METHOD_LABEL,
  SCORING_LABEL,
  bestOf,
  budgets,
  fmtLambda,
  pairedDifference,
  pairedText,
  pairedVerdict,
  sameSetting,
  settingLabel,
  type SettingStats,
} from '../state/forgettingData';
import { ScoringToggle, seedsText, useForgettingStats } from './forgettingParts';
import './curves.css';

export function TradeoffView() {
  const choose = useForgetting((s) => s.choose);
  const { runs, scoring, stats, chosen } = useForgettingStats();
  const [frameRef, size] = useSize<HTMLDivElement>(0.72);
  const svgRef = useRef<SVGSVGElement>(null);
  const box = plotBox(size);
  const [hover, setHover] = useState<SettingStats | null>(null);
  const ncSelectId = useId();

  const ncs = useMemo(
    () =>
      [...new Set(stats.filter((s) => s.method === 'ldc').map((s) => s.nc ?? 0))].sort(
        (a, b) => a - b,
      ),
    [stats],
  );
  // The LDC curve is drawn at the N_c of the shown LDC setting (chosen, else the best).
  const nc = chosen.ldc?.nc ?? ncs[ncs.length - 1] ?? null;
  const series = useMemo(() => {
    const by = (m: Method, f: (s: SettingStats) => boolean = () => true) =>
      stats
        .filter((s) => s.method === m && f(s) && s.total.n > 0)
        .sort((a, b) => a.lambda - b.lambda);
    return {
      none: by('none'),
      ldc: by('ldc', (s) => s.nc === nc),
      ewc: by('ewc'),
    } satisfies Record<Method, SettingStats[]>;
  }, [stats, nc]);
  const all = useMemo(() => [...series.none, ...series.ldc, ...series.ewc], [series]);
  const has = series.ldc.length > 0 || series.ewc.length > 0;

  const { x, y } = useMemo(() => {
    const xs = all.flatMap((s) => [s.eps2.min, s.eps2.max]);
    const ys = all.flatMap((s) => [s.eps1.min, s.eps1.max]);
    const xe = linExtent([0, ...xs.map((v) => v * 100)], 0.04) ?? [0, 100];
    const ye = linExtent([0, ...ys.map((v) => v * 100)], 0.04) ?? [0, 100];
    return {
      x: scaleLinear()
        .domain([0, Math.min(100, xe[1])])
        .nice()
        .range([box.x0, box.x1]),
      y: scaleLinear()
        .domain([0, Math.min(100, ye[1])])
        .nice()
        .range([box.y1, box.y0]),
    };
  }, [all, box.x0, box.x1, box.y0, box.y1]);

  const screen = useMemo<ScreenPoint<SettingStats>[]>(
    () => all.map((s) => ({ x: x(100 * s.eps2.mean), y: y(100 * s.eps1.mean), datum: s })),
    [all, x, y],
  );
  const find = useNearest(screen, 16);

  const bestLdc = bestOf(stats, 'ldc');
  const bestEwc = bestOf(stats, 'ewc');
  const none = series.none[0];
  const nSeeds = Math.max(0, ...all.map((s) => s.total.n));

  const describe = (s: SettingStats) =>
    `${settingLabel(s)}: ε₁ ${fmtPercent(s.eps1.mean)} (${fmtPercent(s.eps1.min)}–${fmtPercent(s.eps1.max)}), ε₂ ${fmtPercent(s.eps2.mean)} (${fmtPercent(s.eps2.min)}–${fmtPercent(s.eps2.max)}), ε₁ + ε₂ = ${s.total.mean.toFixed(3)} ± ${s.total.sd.toFixed(3)} (mean ± sd over ${seedsText(s.total.n)})`;
  const readout = hover
    ? describe(hover)
    : 'Hover a point to read its errors (mean and range over seeds); click it to show its curves.';

  const totalText = (s: SettingStats | null) =>
    s ? `${s.total.mean.toFixed(3)} ± ${s.total.sd.toFixed(3)} (${settingLabel(s)})` : '–';
  const budget = budgets(stats);
  const paired = pairedDifference(runs, bestLdc, bestEwc, scoring);
  const verdict = paired
    ? ` LDC − EWC per seed at these settings: ${pairedText(paired)}; ${pairedVerdict(paired)}.`
    : '';
  const caption = has ? (
    <>
      Task-1 test error ε₁ against task-2 test error ε₂ at the end of task 2, scored over the{' '}
      {SCORING_LABEL[scoring]}, one point per λ (mean over {seedsText(nSeeds)}; bars: the range).
      Each method&rsquo;s setting chosen on the held-out validation data (among LDC {budget.ldc},
      EWC {budget.ewc} settings), its test ε₁ + ε₂ (mean ± sd over seeds): LDC {totalText(bestLdc)},
      EWC {totalText(bestEwc)}
      {none ? `, no constraint ${none.total.mean.toFixed(3)}` : ''}.{verdict} The LDC curve is drawn
      at N_c = {nc ?? '–'}.
    </>
  ) : (
    <>
      Task-1 error ε₁ against task-2 error ε₂ at the end of task 2, one point per λ for LDC and EWC
      (mean and range over seeds); the points appear as the sweep finishes its runs.
    </>
  );
  const ariaLabel = has
    ? `Trade-off between ε₁ and ε₂. Test ε₁ + ε₂ at the settings chosen on validation data: LDC ${totalText(bestLdc)}, EWC ${totalText(bestEwc)}.`
    : 'Trade-off between ε₁ and ε₂: waiting for the sweep.';

  const selected = (s: SettingStats) => {
    const c = chosen[s.method];
    return c !== null && sameSetting(c, s);
  };
  const pathOf = (list: SettingStats[]) =>
    line<SettingStats>()
      .x((s) => x(100 * s.eps2.mean))
      .y((s) => y(100 * s.eps1.mean))(list) ?? '';

  return (
    <FigureShell
      id="forgetting-tradeoff"
      title="The ε₁–ε₂ trade-off over λ"
      controls={
        <>
          <ScoringToggle />
          {ncs.length > 1 ? (
            <label htmlFor={ncSelectId}>
              LDC at N_c{' '}
              <select
                id={ncSelectId}
                value={nc ?? ''}
                onChange={(e) => {
                  const v = Number(e.target.value);
                  const b = bestOf(
                    stats.filter((s) => s.method === 'ldc' && s.nc === v),
                    'ldc',
                  );
                  if (b) choose('ldc', b.lambda, v);
                }}
              >
                {ncs.map((n) => (
                  <option key={n} value={n}>
                    {n}
                  </option>
                ))}
              </select>
            </label>
          ) : null}
        </>
      }
      csv={
        has
          ? () => ({
              header: [
                'method',
                'lambda',
                'nc',
                'scoring',
                'seeds',
                'eps1_mean',
                'eps1_min',
                'eps1_max',
                'eps2_mean',
                'eps2_min',
                'eps2_max',
                'total_mean',
                'total_sd',
                'val_total_mean',
              ],
              rows: stats.map((s) => [
                s.method,
                s.lambda,
                s.nc,
                scoring,
                s.total.n,
                s.eps1.mean,
                s.eps1.min,
                s.eps1.max,
                s.eps2.mean,
                s.eps2.min,
                s.eps2.max,
                s.total.mean,
                s.total.sd,
                s.val.mean,
              ]),
            })
          : undefined
      }
      caption={caption}
      readout={readout}
      frameRef={frameRef}
      legend={
        <>
          {(['ldc', 'ewc', 'none'] as Method[]).map((m) => (
            <span key={m} className="fm-legend-item" data-method={m}>
              <Swatch color={METHOD_COLOR[m]} kind={m === 'none' ? 'diamond' : 'point'} />{' '}
              {METHOD_LABEL[m]}
              {m === 'ldc' && nc !== null ? ` (N_c = ${nc})` : ''}
            </span>
          ))}
          <span className="fm-legend-item fm-muted">λ grows towards low ε₁</span>
        </>
      }
    >
      <ChartSvg size={size} box={box} label={ariaLabel} svgRef={svgRef}>
        {(clip) =>
          !has ? (
            <EmptyState box={box} text="Start the sweep: one point per λ appears as runs finish." />
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
                  if (hit) choose(hit.datum.method, hit.datum.lambda, hit.datum.nc);
                }}
              />
              <Axis scale={x} side="bottom" box={box} label="task-2 test error ε₂ (%)" />
              <Axis scale={y} side="left" box={box} label="task-1 test error ε₁ (%)" />
              <g clipPath={clip}>
                {(['ldc', 'ewc'] as const).map((m) => (
                  <path
                    key={m}
                    className="fm-curve"
                    d={pathOf(series[m])}
                    style={{ stroke: METHOD_COLOR[m], opacity: 0.55 }}
                    pointerEvents="none"
                  />
                ))}
                <g className="fm-errbars" pointerEvents="none">
                  {all
                    .filter((s) => s.total.n > 1)
                    .map((s) => {
                      const cx = x(100 * s.eps2.mean);
                      const cy = y(100 * s.eps1.mean);
                      return (
                        <g
                          key={`${s.method}|${s.lambda}|${s.nc}`}
                          style={{ stroke: METHOD_COLOR[s.method] }}
                        >
                          <line
                            className="fm-forget-bar"
                            x1={x(100 * s.eps2.min)}
                            x2={x(100 * s.eps2.max)}
                            y1={cy}
                            y2={cy}
                          />
                          <line
                            className="fm-forget-bar"
                            x1={cx}
                            x2={cx}
                            y1={y(100 * s.eps1.min)}
                            y2={y(100 * s.eps1.max)}
                          />
                        </g>
                      );
                    })}
                </g>
                <g>
                  {all.map((s) => {
                    const cx = x(100 * s.eps2.mean);
                    const cy = y(100 * s.eps1.mean);
                    const cls = `fm-forget-pt${selected(s) ? ' selected' : ''}`;
                    const common = {
                      className: cls,
                      'data-method': s.method,
                      'data-lambda': s.lambda,
                      'data-nc': s.nc ?? undefined,
                      style: { fill: METHOD_COLOR[s.method] },
                      onPointerEnter: () => setHover(s),
                      onPointerLeave: () => setHover(null),
                      onClick: () => choose(s.method, s.lambda, s.nc),
                    };
                    return s.method === 'none' ? (
                      <path
                        key="none"
                        {...common}
                        d={`M${cx},${cy - 6}L${cx + 6},${cy}L${cx},${cy + 6}L${cx - 6},${cy}Z`}
                      />
                    ) : (
                      <circle
                        key={`${s.method}|${s.lambda}|${s.nc}`}
                        {...common}
                        cx={cx}
                        cy={cy}
                        r={4.5}
                      />
                    );
                  })}
                </g>
                {(['ldc', 'ewc'] as const).map((m) => {
                  const list = series[m];
                  const last = list[list.length - 1];
                  return last ? (
                    <text
                      key={m}
                      className="fm-annot"
                      x={x(100 * last.eps2.mean) + 7}
                      y={y(100 * last.eps1.mean) - 6}
                      pointerEvents="none"
                      style={{ fill: METHOD_COLOR[m] }}
                    >
                      {METHOD_LABEL[m]} λ = {fmtLambda(last.lambda)}
                    </text>
                  ) : null;
                })}
                {hover ? (
                  <Halo
                    x={x(100 * hover.eps2.mean)}
                    y={y(100 * hover.eps1.mean)}
                    fill={METHOD_COLOR[hover.method]}
                  />
                ) : null}
              </g>
            </>
          )
        }
      </ChartSvg>
    </FigureShell>
  );
}
