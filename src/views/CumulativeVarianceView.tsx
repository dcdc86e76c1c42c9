/**
 * Fig. 1B: cumulative share of the variance of modes ≥ 2 (the drift mode excluded) against
 * rank (log x), with the 90% line and the rank where it is reached.
 */
import { memo, useMemo, useRef } from 'react';
import { line, scaleLinear, scaleLog } from 'd3';
import { useRun } from '../state/runStore';
import {
  HINT_POINTS,
  RUN_COLOR,
  WAITING_PCA,
  fmt,
  fmtInt,
  fmtPercent,
  plotBox,
  useActiveRank,
  useNearestRankHover,
  useRankEvents,
  useSize,
  type ScreenPoint,
} from './chart';
import { Axis, ChartSvg, EmptyState, FigureShell, Halo, PlotBackground } from './ChartParts';
import './curves.css';

interface Pt {
  rank: number;
  frac: number;
  x: number;
  y: number;
}

/** Cumulative fraction of Σ_{k≥2} σ_k² held by modes 2..rank, for rank = 2..n. */
function cumulative(variance: readonly number[]): { rank: number; frac: number }[] {
  const clean = (v: number) => (Number.isFinite(v) && v > 0 ? v : 0);
  let total = 0;
  for (let i = 1; i < variance.length; i++) total += clean(variance[i]);
  if (!(total > 0)) return [];
  const out: { rank: number; frac: number }[] = [];
  let acc = 0;
  for (let i = 1; i < variance.length; i++) {
    acc += clean(variance[i]);
    out.push({ rank: i + 1, frac: acc / total });
  }
  return out;
}

const Points = memo(function Points({ pts, active }: { pts: Pt[]; active: number | null }) {
  return (
    <>
      {pts.map((p) => {
        const hi = p.rank === active;
        return (
          <circle
            key={p.rank}
            className={hi ? 'fm-pt highlighted' : 'fm-pt'}
            data-rank={p.rank}
            data-run="sgd"
            cx={p.x}
            cy={p.y}
            r={2}
            style={{ fill: RUN_COLOR.sgd }}
          />
        );
      })}
    </>
  );
});

export function CumulativeVarianceView() {
  const result = useRun((s) => s.results.sgd);
  const active = useActiveRank();
  const [frameRef, size] = useSize<HTMLDivElement>(0.68);
  const svgRef = useRef<SVGSVGElement>(null);
  const box = plotBox(size);

  const data = useMemo(() => (result ? cumulative(result.variance) : []), [result]);
  const has = data.length > 0;
  const n = result?.variance.length ?? 0;
  const x = useMemo(
    () =>
      scaleLog()
        .domain([2, Math.max(3, n)])
        .range([box.x0, box.x1]),
    [n, box.x0, box.x1],
  );
  const y = useMemo(() => scaleLinear().domain([0, 1]).range([box.y1, box.y0]), [box.y0, box.y1]);
  const pts = useMemo<Pt[]>(
    () => data.map((d) => ({ ...d, x: x(d.rank), y: y(d.frac) })),
    [data, x, y],
  );
  const path = useMemo(
    () =>
      line<Pt>()
        .x((p) => p.x)
        .y((p) => p.y)(pts) ?? '',
    [pts],
  );
  const screen = useMemo<ScreenPoint<number>[]>(
    () => pts.map((p) => ({ x: p.x, y: p.y, datum: p.rank })),
    [pts],
  );
  const bg = useNearestRankHover(svgRef, screen);
  const events = useRankEvents();

  const rank90 = result?.rank90 ?? NaN;
  const f35 = result?.varianceFraction35 ?? NaN;
  const ariaLabel = has
    ? `Cumulative variance beyond mode 1: modes 2–35 hold ${fmtPercent(f35, 0)}; 90% reached at rank ${rank90}.`
    : 'Cumulative variance: waiting for the PCA window.';
  const activePt = active === null ? undefined : pts.find((p) => p.rank === active);
  const readout =
    activePt !== undefined && result
      ? `Mode ${activePt.rank}: σ² = ${fmt(result.variance[activePt.rank - 1])}; modes 2–${activePt.rank} hold ${fmtPercent(activePt.frac)} of the variance beyond mode 1`
      : active === 1 && has
        ? 'Mode 1 (drift) is excluded from this sum.'
        : HINT_POINTS;
  const caption = result ? (
    <>
      Share of the trajectory&rsquo;s variance, excluding the drift mode 1, held by modes 2 to i.
      Modes 2–35 hold {fmtPercent(f35, 0)}; 90% is reached at rank{' '}
      {Number.isFinite(rank90) ? rank90 : '–'} ({fmtInt(rank90 - 1)} of {fmtInt(n)} modes).
    </>
  ) : (
    <>
      Share of the trajectory&rsquo;s variance, excluding the drift mode 1, held by modes 2 to i;
      the share of modes 2–35 appears once the window is analysed.
    </>
  );

  const r90x = Number.isFinite(rank90) ? x(rank90) : NaN;
  return (
    <FigureShell
      id="cumulative"
      title="Cumulative variance"
      csv={
        has && result
          ? () => ({
              header: ['rank', 'variance_sigma2', 'cumulative_share_beyond_mode1_fraction'],
              rows: data.map((d) => [d.rank, result.variance[d.rank - 1], d.frac]),
            })
          : undefined
      }
      caption={caption}
      readout={readout}
      frameRef={frameRef}
    >
      <ChartSvg size={size} box={box} label={ariaLabel} svgRef={svgRef}>
        {(clip) =>
          !has ? (
            <EmptyState box={box} text={WAITING_PCA} />
          ) : (
            <>
              <PlotBackground box={box} {...bg} />
              <Axis scale={x} side="bottom" box={box} label="rank i (log scale)" />
              <Axis
                scale={y}
                side="left"
                box={box}
                label="cumulative share of σ²"
                format={(d) => `${Math.round(Number(d) * 100)}%`}
              />
              <g clipPath={clip}>
                <line className="fm-ref" x1={box.x0} x2={box.x1} y1={y(0.9)} y2={y(0.9)} />
                <text className="fm-annot" x={box.x1 - 4} y={y(0.9) + 14} textAnchor="end">
                  90%
                </text>
                {Number.isFinite(r90x) ? (
                  <>
                    <line className="fm-marker" x1={r90x} x2={r90x} y1={y(0.9)} y2={box.y1} />
                    <text className="fm-annot" x={r90x + 5} y={y(0.45)}>
                      rank {rank90}
                    </text>
                  </>
                ) : null}
                <path
                  className="fm-curve"
                  d={path}
                  style={{ stroke: RUN_COLOR.sgd }}
                  pointerEvents="none"
                />
                <g className="fm-points" {...events}>
                  <Points pts={pts} active={active} />
                </g>
                {activePt ? <Halo x={activePt.x} y={activePt.y} fill={RUN_COLOR.sgd} /> : null}
              </g>
            </>
          )
        }
      </ChartSvg>
    </FigureShell>
  );
}
