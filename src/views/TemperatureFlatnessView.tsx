/**
 * Fig. 5B: the active temperature at each mode's loss minimum, T_i ± standard error, against
 * the flatness F_i (log–log), for the SGD run; points coloured and linked by rank.
 */
import { memo, useMemo, useRef, type ReactNode } from 'react';
import { scaleLog } from 'd3';
import type { ModeTheory } from '../engine/experiments/analysis';
import {
  HINT_POINTS,
  HINT_ZOOM,
  fitUsable,
  fmt,
  inBox,
  isPos,
  logExtent,
  plotBox,
  pointClasser,
  rankColorScale,
  sequentialInterpolator,
  useActiveRank,
  useNearestRankHover,
  useRankEvents,
  useSize,
  type ScreenPoint,
} from './chart';
import { useZoom } from './zoom';
import {
  Axis,
  ChartSvg,
  FigureShell,
  GradientSwatch,
  Halo,
  PlotBackground,
  Swatch,
} from './ChartParts';
import { TheoryEmpty, ciText, exponentSign, useTheory } from './theoryParts';
import { fmtFixed } from './format';
import './curves.css';

interface Pt {
  run: 'sgd';
  rank: number;
  x: number;
  y: number;
  /** Screen y of T ± standard error. */
  yLo: number;
  yHi: number;
  color: string;
}

const Points = memo(function Points({ pts, active }: { pts: Pt[]; active: number | null }) {
  const cls = pointClasser(pts, active);
  return (
    <>
      {pts.map((p) => (
        <circle
          key={p.rank}
          className={cls(p)}
          data-rank={p.rank}
          data-run={p.run}
          cx={p.x}
          cy={p.y}
          r={4}
          style={{ fill: p.color }}
        />
      ))}
    </>
  );
});

export function TemperatureFlatnessView() {
  const theory = useTheory('sgd');
  const active = useActiveRank();
  const [frameRef, size] = useSize<HTMLDivElement>(0.82);
  const svgRef = useRef<SVGSVGElement>(null);
  const box = plotBox(size);

  const modes = useMemo<ModeTheory[]>(
    () =>
      (theory?.modes ?? [])
        .filter((m) => isPos(m.flatness) && isPos(m.T0))
        .sort((a, b) => a.rank - b.rank),
    [theory],
  );
  const has = modes.length > 0;
  const [zt] = useZoom(svgRef, box, has);

  const color = useMemo(() => {
    const ranks = modes.map((m) => m.rank);
    return rankColorScale(
      ranks.length ? Math.min(...ranks) : 2,
      ranks.length ? Math.max(...ranks) : 1000,
    );
  }, [modes]);

  const base = useMemo(() => {
    const xe = logExtent(
      modes.map((m) => m.flatness),
      1.4,
    ) ?? [0.1, 10];
    const ye = logExtent(
      modes.flatMap((m) => [m.T0, m.T0 + (Number.isFinite(m.T0stderr) ? m.T0stderr : 0)]),
      1.8,
    ) ?? [1e-7, 1e-3];
    return {
      x: scaleLog().domain(xe).range([box.x0, box.x1]),
      y: scaleLog().domain(ye).range([box.y1, box.y0]),
    };
  }, [modes, box.x0, box.x1, box.y0, box.y1]);
  const x = useMemo(() => zt.rescaleX(base.x), [zt, base]);
  const y = useMemo(() => zt.rescaleY(base.y), [zt, base]);

  const pts = useMemo<Pt[]>(() => {
    const out: Pt[] = [];
    for (const m of modes) {
      const px = x(m.flatness);
      const py = y(m.T0);
      if (!inBox(box, px, py, 6)) continue;
      const se = Number.isFinite(m.T0stderr) ? m.T0stderr : 0;
      const lo = m.T0 - se;
      out.push({
        run: 'sgd',
        rank: m.rank,
        x: px,
        y: py,
        yLo: lo > 0 ? y(lo) : box.y1,
        yHi: y(m.T0 + se),
        color: color(m.rank),
      });
    }
    return out;
  }, [modes, x, y, box, color]);
  const screen = useMemo<ScreenPoint<number>[]>(
    () => pts.map((p) => ({ x: p.x, y: p.y, datum: p.rank })),
    [pts],
  );
  const bg = useNearestRankHover(svgRef, screen);
  const events = useRankEvents();
  const activePt = active === null ? undefined : pts.find((p) => p.rank === active);

  const activeMode = active === null ? undefined : modes.find((m) => m.rank === active);
  const readout =
    activeMode && has
      ? `Mode ${activeMode.rank}: T = ${fmt(activeMode.T0)} ± ${fmt(activeMode.T0stderr)} (standard error) at the loss minimum, F = ${fmt(activeMode.flatness)}, σ² = ${fmt(activeMode.variance)}`
      : active !== null && has
        ? `Mode ${active}: temperature not measured for this mode.`
        : `${HINT_POINTS} ${HINT_ZOOM}`;

  let caption: ReactNode;
  const fitT = theory?.fits.T0;
  if (has && theory) {
    let hot = modes[0];
    let cold = modes[0];
    let sharp = modes[0];
    let flat = modes[0];
    for (const m of modes) {
      if (m.T0 > hot.T0) hot = m;
      if (m.T0 < cold.T0) cold = m;
      if (m.flatness < sharp.flatness) sharp = m;
      if (m.flatness > flat.flatness) flat = m;
    }
    const relErr = modes.map((m) => m.T0stderr / m.T0).filter(Number.isFinite);
    const medErr = relErr.length
      ? [...relErr].sort((a, b) => a - b)[Math.floor(relErr.length / 2)]
      : NaN;
    caption = (
      <>
        The active temperature at the bottom of the loss along each of {modes.length} modes, Tᵢ ±
        standard error ({theory.K} minibatches of B = {theory.batchSize}, median error{' '}
        {Number.isFinite(medErr) ? `${fmt(medErr * 100)}%` : '–'}), against its flatness. It spans{' '}
        {fmt(hot.T0 / cold.T0)}-fold, from {fmt(hot.T0)} (mode {hot.rank}, F = {fmt(hot.flatness)})
        down to {fmt(cold.T0)} (mode {cold.rank}, F = {fmt(cold.flatness)})
        {hot === sharp && cold === flat ? (
          ', the sharpest and the flattest of these modes.'
        ) : (
          <>
            ; the sharpest mode (F = {fmt(sharp.flatness)}) runs at T = {fmt(sharp.T0)}, the
            flattest (F = {fmt(flat.flatness)}) at T = {fmt(flat.T0)}.
          </>
        )}{' '}
        {fitT && fitUsable(fitT) ? (
          <>
            Over modes {fitT.ranks[0]}–{fitT.ranks[1]} (n = {fitT.n}), T ∝ F<sup>−β</sup> with β ={' '}
            {fmtFixed(fitT.exponent)} ({ciText(fitT, 2)}, R² {fmtFixed(fitT.r2)})
            {exponentSign(fitT) === 'positive'
              ? ': flatter directions are cooler.'
              : exponentSign(fitT) === 'negative'
                ? ': here flatter directions are hotter.'
                : ', an interval that includes zero: no definite trend over these modes.'}
          </>
        ) : null}
      </>
    );
  } else {
    caption = (
      <>
        The active temperature at the bottom of the loss along each measured mode, Tᵢ ± standard
        error, against its flatness Fᵢ (SGD only; Langevin noise is isotropic by construction).
      </>
    );
  }
  const ariaLabel = has
    ? `Active temperature at the minimum against flatness, log–log, ${modes.length} modes.`
    : 'Active temperature against flatness: waiting for the analysis.';

  const [rankLo, rankHi] = color.domain() as [number, number];
  return (
    <FigureShell
      id="temperature-flatness"
      title="Is it cooler along flatter directions?"
      csv={
        has
          ? () => ({
              header: [
                'run',
                'rank',
                'flatness_F_dtheta',
                'T0_active_temperature_at_min',
                'T0_stderr',
                'variance_sigma2',
              ],
              rows: modes.map((m) => ['sgd', m.rank, m.flatness, m.T0, m.T0stderr, m.variance]),
            })
          : undefined
      }
      caption={caption}
      readout={readout}
      frameRef={frameRef}
      legend={
        has ? (
          <>
            <span className="fm-legend-item">
              <GradientSwatch interpolate={sequentialInterpolator} /> SGD modes by rank, {rankLo} →{' '}
              {rankHi}
            </span>
            <span className="fm-legend-item">
              <Swatch color="var(--fm-fg)" kind="line" /> ± standard error
            </span>
          </>
        ) : (
          <span className="fm-legend-item fm-muted">
            T at the minimum: waiting for the analysis…
          </span>
        )
      }
    >
      <ChartSvg size={size} box={box} label={ariaLabel} svgRef={svgRef}>
        {(clip) =>
          !has ? (
            <TheoryEmpty box={box} />
          ) : (
            <>
              <PlotBackground box={box} {...bg} />
              <Axis scale={x} side="bottom" box={box} label="flatness Fᵢ (log scale)" />
              <Axis
                scale={y}
                side="left"
                box={box}
                label="temperature Tᵢ at the minimum (log scale)"
              />
              <g clipPath={clip}>
                <g className="fm-errbars" pointerEvents="none">
                  {pts.map((p) => (
                    <line
                      key={p.rank}
                      x1={p.x}
                      x2={p.x}
                      y1={p.yLo}
                      y2={p.yHi}
                      style={{ stroke: p.color }}
                    />
                  ))}
                </g>
                <g className="fm-points" {...events}>
                  <Points pts={pts} active={active} />
                </g>
                {activePt ? (
                  <Halo x={activePt.x} y={activePt.y} r={9} fill={activePt.color} />
                ) : null}
              </g>
            </>
          )
        }
      </ChartSvg>
    </FigureShell>
  );
}
