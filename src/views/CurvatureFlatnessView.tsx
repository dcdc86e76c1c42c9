/**
 * Curvature against flatness (issue 16): for each measured PCA mode, the Hessian along it,
 * kᵢ = pᵢᵀHpᵢ (exact, R-operator), against its flatness Fᵢ, log–log, with the quadratic picture
 * kᵢ = 8·ln(factor)·L⁰/Fᵢ² (a ln L profile that is exactly quadratic) as a dashed line.
 */
import { memo, useMemo, useRef } from 'react';
import { scaleLog } from 'd3';
import { useRun } from '../state/runStore';
import {
  HINT_POINTS,
  HINT_ZOOM,
  RUN_COLOR,
  WAITING_PCA,
  fmt,
  fmtDash,
  fmtFixed,
  inBox,
  isPos,
  logExtent,
  plotBox,
  pointClasser,
  useActiveRank,
  useNearestRankHover,
  useRankEvents,
  useSize,
  type ScreenPoint,
} from './chart';
import { useZoom } from './zoom';
import { quadraticPictureVerdict } from './claimsText';
import {
  Axis,
  ChartSvg,
  EmptyState,
  FigureShell,
  Halo,
  PlotBackground,
  Swatch,
} from './ChartParts';

interface Pt {
  run: 'sgd';
  rank: number;
  x: number;
  y: number;
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
          r={3.5}
          style={{ fill: RUN_COLOR.sgd }}
        />
      ))}
    </>
  );
});

function median(x: number[]): number {
  const s = [...x].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 ? s[h] : 0.5 * (s[h - 1] + s[h]);
}

export function CurvatureFlatnessView() {
  const cur = useRun((s) => s.results.sgd?.curvature);
  const threshold = useRun((s) => s.results.sgd?.threshold ?? Math.E);
  const active = useActiveRank();
  const [frameRef, size] = useSize<HTMLDivElement>(0.68);
  const svgRef = useRef<SVGSVGElement>(null);
  const box = plotBox(size);

  const modes = useMemo(
    () => (cur?.modes ?? []).filter((m) => isPos(m.flatness) && isPos(m.curvature)),
    [cur],
  );
  const has = modes.length > 0;
  const [zt] = useZoom(svgRef, box, has);
  // The picture's line with the median L⁰ of the modes shown (L⁰ varies by a few % between them).
  const c = 8 * Math.log(threshold) * median(modes.map((m) => m.L0));

  const base = useMemo(() => {
    const xe = logExtent(
      modes.map((m) => m.flatness),
      1.4,
    ) ?? [1e-2, 10];
    const ye = logExtent(
      modes.map((m) => m.curvature),
      1.6,
    ) ?? [1e-4, 10];
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
      const py = y(m.curvature);
      if (inBox(box, px, py, 6)) out.push({ run: 'sgd', rank: m.rank, x: px, y: py });
    }
    return out;
  }, [modes, x, y, box]);
  const screen = useMemo<ScreenPoint<number>[]>(
    () => pts.map((p) => ({ x: p.x, y: p.y, datum: p.rank })),
    [pts],
  );
  const bg = useNearestRankHover(svgRef, screen);
  const events = useRankEvents();
  const activePt = active === null ? undefined : pts.find((p) => p.rank === active);
  const activeMode = active === null ? undefined : modes.find((m) => m.rank === active);
  const [f0, f1] = x.domain();
  const picture = isPos(c)
    ? { x1: x(f0), y1: y(c / (f0 * f0)), x2: x(f1), y2: y(c / (f1 * f1)) }
    : null;

  const fit = cur?.fit;
  const readout = activeMode
    ? `Mode ${activeMode.rank}: F = ${fmt(activeMode.flatness)}, k = pᵀHp = ${fmt(activeMode.curvature)}, quadratic picture ${fmt(activeMode.predicted)} (ratio ${fmtFixed(activeMode.curvature / activeMode.predicted)})`
    : active !== null && has
      ? `Mode ${active}: no curvature measured.`
      : `${HINT_POINTS} ${HINT_ZOOM}`;
  const caption =
    cur && fit ? (
      <>
        The Hessian of the training loss along each PCA mode, kᵢ = pᵢᵀHpᵢ (exact Hessian–vector
        products of W2), against its flatness Fᵢ. An exactly quadratic ln L profile would give kᵢ =
        8·ln({threshold === 2 ? '2' : 'e'})·L⁰/Fᵢ² (dashed, slope −2). Measured over the {fit.n}{' '}
        modes from rank 2: k ∝ F<sup>s</sup> with{' '}
        <strong data-testid="curvature-exponent" data-value={fit.exponent}>
          s = {fmtFixed(fit.exponent)}
        </strong>{' '}
        (95% CI {fmtDash(fit.ci95)}, block bootstrap over ranks; R² {fmtFixed(fit.r2)}), and the
        median of k over the picture&rsquo;s value is {fmtFixed(cur.medianRatio)}:{' '}
        {quadraticPictureVerdict(fit, cur.medianRatio)}
      </>
    ) : (
      <>
        The Hessian of the training loss along each PCA mode, kᵢ = pᵢᵀHpᵢ, against its flatness Fᵢ,
        with the quadratic picture kᵢ ∝ L⁰/Fᵢ²; it appears after the SGD window&rsquo;s flatness.
      </>
    );

  return (
    <FigureShell
      id="curvature-flatness"
      title="Curvature against flatness"
      csv={
        has
          ? () => ({
              header: ['rank', 'flatness_F_dtheta', 'curvature_k', 'picture_k', 'L0_loss_min'],
              rows: modes.map((m) => [m.rank, m.flatness, m.curvature, m.predicted, m.L0]),
            })
          : undefined
      }
      caption={caption}
      readout={readout}
      frameRef={frameRef}
      legend={
        <>
          <span className="fm-legend-item">
            <Swatch color={RUN_COLOR.sgd} kind="point" /> PCA mode of the SGD window
          </span>
          <span className="fm-legend-item">
            <Swatch color="var(--fm-fg)" kind="dash" /> quadratic picture k = 8·ln(factor)·L⁰/F²
          </span>
        </>
      }
    >
      <ChartSvg
        size={size}
        box={box}
        label={
          has && fit
            ? `Curvature against flatness, log–log: slope ${fmtFixed(fit.exponent)} over ${fit.n} modes.`
            : 'Curvature against flatness: waiting for the analysis.'
        }
        svgRef={svgRef}
      >
        {(clip) =>
          !has ? (
            <EmptyState box={box} text={cur ? 'No mode with a finite flatness' : WAITING_PCA} />
          ) : (
            <>
              <PlotBackground box={box} {...bg} />
              <Axis scale={x} side="bottom" box={box} label="flatness Fᵢ (log scale)" />
              <Axis scale={y} side="left" box={box} label="curvature kᵢ = pᵢᵀHpᵢ (log scale)" />
              <g clipPath={clip}>
                {picture ? (
                  <line
                    className="fm-reference"
                    {...picture}
                    style={{ stroke: 'var(--fm-fg)', strokeDasharray: '4 3' }}
                  />
                ) : null}
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
