/**
 * Fig. 1A: the PCA spectrum σ_i² vs rank i (log–log) for each run, mode 1 marked "drift",
 * the γ power-law fit over its rank range. Zoom/pan; hover/click link the mode everywhere.
 */
import { memo, useMemo, useRef } from 'react';
import { scaleLog } from 'd3';
import { useRun } from '../state/runStore';
import {
  HINT_POINTS,
  HINT_ZOOM,
  RUN_COLOR,
  RUN_INK,
  RUN_LABEL,
  WAITING_PCA,
  fitUsable,
  fitY,
  fmt,
  fmtFixed,
  fmtInterval,
  inBox,
  isPos,
  logExtent,
  plotBox,
  pointClasser,
  presentRuns,
  useActiveRank,
  useNearestRankHover,
  useRankEvents,
  useRankKeys,
  useSize,
  type RunId,
  type ScreenPoint,
} from './chart';
import { missingFitReason } from './fitNotes';
import { useZoom } from './zoom';
import { Axis, ChartSvg, EmptyState, FigureShell, Halo, PlotBackground } from './ChartParts';
import { ciText } from './theoryParts';

interface Pt {
  run: RunId;
  rank: number;
  v: number;
  x: number;
  y: number;
}

const Points = memo(function Points({ pts, active }: { pts: Pt[]; active: number | null }) {
  const cls = pointClasser(pts, active);
  return (
    <>
      {pts.map((p) => {
        return (
          <circle
            key={`${p.run}-${p.rank}`}
            className={cls(p)}
            data-rank={p.rank}
            data-run={p.run}
            cx={p.x}
            cy={p.y}
            r={p.rank === 1 ? 4 : 2.6}
            style={{ fill: RUN_COLOR[p.run] }}
          />
        );
      })}
    </>
  );
});

export function SpectrumView() {
  const results = useRun((s) => s.results);
  const active = useActiveRank();
  const [frameRef, size] = useSize<HTMLDivElement>(0.68);
  const svgRef = useRef<SVGSVGElement>(null);
  const box = plotBox(size);
  const runs = useMemo(() => presentRuns(results), [results]);
  const has = runs.length > 0;
  const [zt] = useZoom(svgRef, box, has);

  const series = useMemo(
    () =>
      runs.map(({ run, result }) => ({
        run,
        result,
        data: result.variance.map((v, i) => ({ rank: i + 1, v })).filter((d) => isPos(d.v)),
      })),
    [runs],
  );

  const base = useMemo(() => {
    const maxRank = Math.max(
      2,
      ...series.map((s) => (s.data.length ? s.data[s.data.length - 1].rank : 2)),
    );
    const ye = logExtent(
      series.flatMap((s) => s.data.map((d) => d.v)),
      2,
    ) ?? [1e-6, 1];
    return {
      x: scaleLog()
        .domain([0.8, maxRank * 1.3])
        .range([box.x0, box.x1]),
      y: scaleLog().domain(ye).range([box.y1, box.y0]),
    };
  }, [series, box.x0, box.x1, box.y0, box.y1]);
  const x = useMemo(() => zt.rescaleX(base.x), [zt, base]);
  const y = useMemo(() => zt.rescaleY(base.y), [zt, base]);

  const pts = useMemo<Pt[]>(() => {
    const out: Pt[] = [];
    // Langevin first, so SGD (the subject) is drawn on top.
    for (const s of [...series].reverse()) {
      for (const d of s.data) {
        const px = x(d.rank);
        const py = y(d.v);
        if (inBox(box, px, py, 6)) out.push({ run: s.run, rank: d.rank, v: d.v, x: px, y: py });
      }
    }
    return out;
  }, [series, x, y, box]);
  const screen = useMemo<ScreenPoint<number>[]>(
    () => pts.map((p) => ({ x: p.x, y: p.y, datum: p.rank })),
    [pts],
  );
  const bg = useNearestRankHover(svgRef, screen);
  const events = useRankEvents();
  const keys = useRankKeys(
    useMemo(() => pts.map((p) => p.rank), [pts]),
    'PCA spectrum',
  );

  const sgd = results.sgd;
  const gammaText = (run: RunId, r: typeof sgd) =>
    r && fitUsable(r.fits.gamma)
      ? `${RUN_LABEL[run]}: γ = ${fmtFixed(r.fits.gamma.exponent)} ${fmtInterval(r.fits.gamma.ci95)}, R² ${fmtFixed(r.fits.gamma.r2)}`
      : `${RUN_LABEL[run]}: no γ fit${r ? ` (${missingFitReason('gamma', r.fits.gamma) ?? 'its line is not finite'})` : ''}`;
  const ariaLabel = has
    ? `PCA spectrum, log–log. ${runs.map(({ run, result }) => gammaText(run, result)).join('; ')}.`
    : 'PCA spectrum: waiting for the PCA window.';

  const activePts = active === null ? [] : pts.filter((p) => p.rank === active);
  const readout =
    active !== null && has
      ? `Mode ${active}${active === 1 ? ' (drift)' : ''}: ${runs
          .map(
            ({ run, result }) =>
              `σ² = ${fmt(result.variance[active - 1] ?? NaN)} (${RUN_LABEL[run]})`,
          )
          .join(', ')}`
      : `${HINT_POINTS} ${HINT_ZOOM}`;

  const g = sgd?.fits.gamma;
  const caption =
    sgd && g && fitUsable(g) ? (
      <>
        Variance σᵢ² of each PCA mode of the W2 trajectory against its rank i. Mode 1 is the drift
        (σ₁²/σ₂² = {fmt(sgd.variance[0] / sgd.variance[1])}); beyond it the spectrum falls as a
        power law, γ = {fmtFixed(g.exponent)} ({ciText(g)}, R² {fmtFixed(g.r2)}) over ranks{' '}
        {g.ranks[0]}–{g.ranks[1]}: neighbouring ranks wander off the line together, so the interval
        counts blocks of ranks, not single ones.
      </>
    ) : (
      <>
        Variance σᵢ² of each PCA mode of the W2 trajectory against its rank i (log–log); the
        power-law exponent γ appears once the window is analysed.
      </>
    );

  return (
    <FigureShell
      id="spectrum"
      title="PCA spectrum"
      csv={
        has
          ? () => ({
              header: ['run', 'rank', 'variance_sigma2', 'in_gamma_fit', 'gamma_fit_variance'],
              rows: series.flatMap(({ run, result, data }) => {
                const f = result.fits.gamma;
                const ok = fitUsable(f);
                return data.map((d) => {
                  const inFit = ok && d.rank >= f.ranks[0] && d.rank <= f.ranks[1];
                  return [run, d.rank, d.v, inFit ? 1 : 0, inFit ? fitY(f, d.rank) : null];
                });
              }),
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
              <Axis scale={y} side="left" box={box} label="variance σᵢ² (log scale)" />
              <g clipPath={clip}>
                {series.map(({ run, result }) => {
                  const f = result.fits.gamma;
                  if (!fitUsable(f)) return null;
                  return (
                    <line
                      key={run}
                      className="fm-fit"
                      x1={x(f.ranks[0])}
                      x2={x(f.ranks[1])}
                      y1={y(fitY(f, f.ranks[0]))}
                      y2={y(fitY(f, f.ranks[1]))}
                      style={{ stroke: RUN_COLOR[run] }}
                    />
                  );
                })}
                <g className="fm-points" {...events} {...keys}>
                  <Points pts={pts} active={active} />
                </g>
                {pts
                  .filter((p) => p.rank === 1)
                  .slice(0, 1)
                  .map((p) => (
                    <text
                      key="drift"
                      className="fm-annot"
                      x={p.x + 8}
                      y={p.y + 4}
                      pointerEvents="none"
                    >
                      mode 1: drift
                    </text>
                  ))}
                {activePts.map((p) => (
                  <Halo key={`${p.run}-halo`} x={p.x} y={p.y} fill={RUN_COLOR[p.run]} />
                ))}
              </g>
              {/* The spectrum runs from top left to bottom right: the bottom-left corner is free. */}
              <g
                className="fm-legend-svg"
                transform={`translate(${box.x0 + 8},${box.y1 - 10 - 16 * (runs.length - 1)})`}
                pointerEvents="none"
              >
                {runs.map(({ run, result }, i) => (
                  <text key={run} y={i * 16} textAnchor="start" style={{ fill: RUN_INK[run] }}>
                    ● {gammaText(run, result)}
                  </text>
                ))}
              </g>
            </>
          )
        }
      </ChartSvg>
    </FigureShell>
  );
}
