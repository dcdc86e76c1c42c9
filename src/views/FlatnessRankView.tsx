/**
 * Fig. 2B inset: flatness F_i of each measured mode against its rank i (log–log), per run.
 */
import { memo, useMemo, useRef } from 'react';
import { line, scaleLog, symbol, symbolDiamond } from 'd3';
import { useRun } from '../state/runStore';
import {
  HINT_POINTS,
  HINT_ZOOM,
  RUN_COLOR,
  RUN_LABEL,
  WAITING_PCA,
  fitUsable,
  fmt,
  inBox,
  isPos,
  logExtent,
  plotBox,
  pointClasser,
  presentRuns,
  useActiveRank,
  useNearestRankHover,
  useRankEvents,
  useSize,
  type RunId,
  type ScreenPoint,
} from './chart';
import { useZoom } from './zoom';
import { sharpModesLead } from './claimsText';
import {
  Axis,
  ChartSvg,
  EmptyState,
  FigureShell,
  Halo,
  PlotBackground,
  Swatch,
} from './ChartParts';
import './curves.css';

interface Pt {
  run: RunId;
  rank: number;
  x: number;
  y: number;
}

const DIAMOND = symbol(symbolDiamond, 40)() ?? '';

const Points = memo(function Points({ pts, active }: { pts: Pt[]; active: number | null }) {
  const cls = pointClasser(pts, active);
  return (
    <>
      {pts.map((p) => {
        const c = cls(p);
        const style = { fill: RUN_COLOR[p.run] };
        return p.run === 'sgd' ? (
          <circle
            key={`${p.run}-${p.rank}`}
            className={c}
            data-rank={p.rank}
            data-run={p.run}
            cx={p.x}
            cy={p.y}
            r={3.5}
            style={style}
          />
        ) : (
          <path
            key={`${p.run}-${p.rank}`}
            className={c}
            data-rank={p.rank}
            data-run={p.run}
            d={DIAMOND}
            transform={`translate(${p.x},${p.y})`}
            style={style}
          />
        );
      })}
    </>
  );
});

export function FlatnessRankView() {
  const results = useRun((s) => s.results);
  const active = useActiveRank();
  const [frameRef, size] = useSize<HTMLDivElement>(0.68);
  const svgRef = useRef<SVGSVGElement>(null);
  const box = plotBox(size);

  const series = useMemo(
    () =>
      presentRuns(results).map(({ run, result }) => ({
        run,
        result,
        modes: result.modes.filter((m) => isPos(m.flatness)).sort((a, b) => a.rank - b.rank),
      })),
    [results],
  );
  const has = series.some((s) => s.modes.length > 0);
  const [zt] = useZoom(svgRef, box, has);

  const base = useMemo(() => {
    const all = series.flatMap((s) => s.modes);
    const xe = logExtent(
      all.map((m) => m.rank),
      1.4,
    ) ?? [1, 1000];
    const ye = logExtent(
      all.map((m) => m.flatness),
      1.5,
    ) ?? [1e-2, 10];
    return {
      x: scaleLog().domain(xe).range([box.x0, box.x1]),
      y: scaleLog().domain(ye).range([box.y1, box.y0]),
    };
  }, [series, box.x0, box.x1, box.y0, box.y1]);
  const x = useMemo(() => zt.rescaleX(base.x), [zt, base]);
  const y = useMemo(() => zt.rescaleY(base.y), [zt, base]);

  const pts = useMemo<Pt[]>(() => {
    const out: Pt[] = [];
    for (const s of [...series].reverse()) {
      for (const m of s.modes) {
        const px = x(m.rank);
        const py = y(m.flatness);
        if (inBox(box, px, py, 6)) out.push({ run: s.run, rank: m.rank, x: px, y: py });
      }
    }
    return out;
  }, [series, x, y, box]);
  const paths = useMemo(
    () =>
      series.map((s) => ({
        run: s.run,
        d:
          line<{ rank: number; flatness: number }>()
            .x((m) => x(m.rank))
            .y((m) => y(m.flatness))(s.modes) ?? '',
      })),
    [series, x, y],
  );
  const screen = useMemo<ScreenPoint<number>[]>(
    () => pts.map((p) => ({ x: p.x, y: p.y, datum: p.rank })),
    [pts],
  );
  const bg = useNearestRankHover(svgRef, screen);
  const events = useRankEvents();

  const summary = (run: RunId) => {
    const s = series.find((q) => q.run === run);
    if (!s || s.modes.length < 2) return null;
    const first = s.modes[0];
    const last = s.modes[s.modes.length - 1];
    let lo = s.modes[0];
    let hi = s.modes[0];
    for (const m of s.modes) {
      if (m.flatness < lo.flatness) lo = m;
      if (m.flatness > hi.flatness) hi = m;
    }
    return { first, last, lo, hi, n: s.modes.length };
  };
  const sg = summary('sgd');
  const sgFit = series.find((q) => q.run === 'sgd')?.result.fits.psi;
  const sgPsi = fitUsable(sgFit) ? sgFit : null;
  const ariaLabel = has
    ? `Flatness against rank, log–log.${sg ? ` SGD: F from ${fmt(sg.first.flatness)} at mode ${sg.first.rank} to ${fmt(sg.last.flatness)} at mode ${sg.last.rank}.` : ''}`
    : 'Flatness against rank: waiting for the PCA window.';
  const activePts = active === null ? [] : pts.filter((p) => p.rank === active);
  const readout =
    active !== null && has
      ? `Mode ${active}: ${series
          .map((s) => {
            const m = s.modes.find((q) => q.rank === active);
            return `${RUN_LABEL[s.run]} F = ${m ? fmt(m.flatness) : 'not measured'}`;
          })
          .join(', ')}`
      : `${HINT_POINTS} ${HINT_ZOOM}`;
  const caption = sg ? (
    <>
      Flatness Fᵢ — the width of the region along mode i where the loss stays below the threshold —
      for the {sg.n} measured modes. {sharpModesLead(sgPsi)}: F = {fmt(sg.first.flatness)} at mode{' '}
      {sg.first.rank}, {fmt(sg.last.flatness)} at mode {sg.last.rank} (range {fmt(sg.lo.flatness)}–
      {fmt(sg.hi.flatness)}).
    </>
  ) : (
    <>
      Flatness Fᵢ — the width of the region along mode i where the loss stays below the threshold —
      against the rank i; the measured range appears once the window is analysed.
    </>
  );

  return (
    <FigureShell
      id="flatness"
      csv={
        has
          ? () => ({
              header: [
                'run',
                'rank',
                'flatness_F_dtheta',
                'theta_left_dtheta',
                'theta_right_dtheta',
                'L0_loss_min',
                'variance_sigma2',
              ],
              rows: series.flatMap((s) =>
                s.modes.map((m) => [s.run, m.rank, m.flatness, m.left, m.right, m.L0, m.variance]),
              ),
            })
          : undefined
      }
      title="Flatness by mode"
      caption={caption}
      readout={readout}
      frameRef={frameRef}
      legend={(series.length ? series.map((s) => s.run) : (['sgd'] as RunId[])).map((run) => (
        <span key={run} className="fm-legend-item">
          <Swatch color={RUN_COLOR[run]} kind={run === 'sgd' ? 'point' : 'diamond'} />{' '}
          {RUN_LABEL[run]}
        </span>
      ))}
    >
      <ChartSvg size={size} box={box} label={ariaLabel} svgRef={svgRef}>
        {(clip) =>
          !has ? (
            <EmptyState box={box} text={WAITING_PCA} />
          ) : (
            <>
              <PlotBackground box={box} {...bg} />
              <Axis scale={x} side="bottom" box={box} label="rank i (log scale)" />
              <Axis scale={y} side="left" box={box} label="flatness Fᵢ (log scale)" />
              <g clipPath={clip}>
                {paths.map((p) => (
                  <path
                    key={p.run}
                    className="fm-curve fm-faint"
                    d={p.d}
                    style={{ stroke: RUN_COLOR[p.run] }}
                    pointerEvents="none"
                  />
                ))}
                <g className="fm-points" {...events}>
                  <Points pts={pts} active={active} />
                </g>
                {activePts.map((p) => (
                  <Halo
                    key={`${p.run}-halo`}
                    x={p.x}
                    y={p.y}
                    fill={p.run === 'sgd' ? RUN_COLOR.sgd : undefined}
                  />
                ))}
              </g>
            </>
          )
        }
      </ChartSvg>
    </FigureShell>
  );
}
