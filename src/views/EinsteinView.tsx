/**
 * The Einstein check of the Langevin contrast (SCIENCE.md, "Equilibrium"): the measured window
 * variance along each tested direction against the equilibrium prediction T/k (with the discrete
 * step's and the finite window's corrections, einstein.ts), log–log, with the line of equality.
 * The directions are the stiffest Hessian eigenvectors vⱼ at the window centre (k = λⱼ), which
 * relax within the window; results saved before that test the PCA modes. Filled points: the
 * directions that have relaxed (relaxation time ≤ a tenth of the window, half-windows agreeing);
 * hollow: the rest, which are not in equilibrium and are not expected on the line.
 *
 * Hessian eigenvectors are not PCA modes, so in that case the points take no part in the linked
 * mode selection (their `data-rank` would name the wrong mode elsewhere); hovering reads them out.
 */
import { memo, useMemo, useRef, useState, type PointerEvent as ReactPointerEvent } from 'react';
import { scaleLog } from 'd3';
import type { EinsteinMode } from '../engine/landscape/einstein';
import { useRun } from '../state/runStore';
import {
  HINT_POINTS,
  HINT_ZOOM,
  RUN_COLOR,
  fmt,
  fmtDash,
  fmtFixed,
  inBox,
  isPos,
  logExtent,
  plotBox,
  pointClasser,
  useActiveRank,
  svgPointer,
  useNearest,
  useNearestRankHover,
  useRankEvents,
  useSize,
  type ScreenPoint,
} from './chart';
import { useZoom } from './zoom';
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
  run: 'langevin';
  rank: number;
  x: number;
  y: number;
  equilibrated: boolean;
  /** A Hessian eigenvector (rank = j), not a PCA mode. */
  hessian: boolean;
}

const Points = memo(function Points({ pts, active }: { pts: Pt[]; active: number | null }) {
  const cls = pointClasser(pts, active);
  return (
    <>
      {pts.map((p) => (
        <circle
          key={p.rank}
          className={cls(p)}
          data-rank={p.hessian ? undefined : p.rank}
          data-direction={p.rank}
          data-run={p.run}
          data-equilibrated={p.equilibrated ? 'true' : 'false'}
          cx={p.x}
          cy={p.y}
          r={4}
          style={
            p.equilibrated
              ? { fill: RUN_COLOR.langevin }
              : { fill: 'none', stroke: RUN_COLOR.langevin, strokeWidth: 1.3 }
          }
        />
      ))}
    </>
  );
});

export function EinsteinView() {
  const einstein = useRun((s) => s.results.langevin?.einstein);
  const hessian = einstein?.directions === 'hessian-eigenvectors';
  const selected = useActiveRank();
  const [hoverDir, setHoverDir] = useState<number | null>(null);
  const active = hessian ? hoverDir : selected;
  const [frameRef, size] = useSize<HTMLDivElement>(0.7);
  const svgRef = useRef<SVGSVGElement>(null);
  const box = plotBox(size);

  const modes = useMemo<EinsteinMode[]>(
    () => (einstein?.modes ?? []).filter((m) => isPos(m.predicted) && isPos(m.measured)),
    [einstein],
  );
  const has = modes.length > 0;
  const [zt] = useZoom(svgRef, box, has);

  const base = useMemo(() => {
    // One extent for both axes, so the line of equality is the diagonal.
    const e = logExtent(
      modes.flatMap((m) => [m.predicted, m.measured]),
      2,
    ) ?? [1e-8, 1e-2];
    return {
      x: scaleLog().domain(e).range([box.x0, box.x1]),
      y: scaleLog().domain(e).range([box.y1, box.y0]),
    };
  }, [modes, box.x0, box.x1, box.y0, box.y1]);
  const x = useMemo(() => zt.rescaleX(base.x), [zt, base]);
  const y = useMemo(() => zt.rescaleY(base.y), [zt, base]);

  const pts = useMemo<Pt[]>(() => {
    const out: Pt[] = [];
    for (const m of modes) {
      const px = x(m.predicted);
      const py = y(m.measured);
      if (inBox(box, px, py, 6))
        out.push({
          run: 'langevin',
          rank: m.rank,
          x: px,
          y: py,
          equilibrated: m.equilibrated,
          hessian,
        });
    }
    return out;
  }, [modes, x, y, box, hessian]);
  const screen = useMemo<ScreenPoint<number>[]>(
    () => pts.map((p) => ({ x: p.x, y: p.y, datum: p.rank })),
    [pts],
  );
  const linkedBg = useNearestRankHover(svgRef, screen);
  const linkedEvents = useRankEvents();
  const find = useNearest(screen);
  const localBg = useMemo(
    () => ({
      onPointerMove: (ev: ReactPointerEvent<SVGElement>) => {
        const p = svgPointer(ev, svgRef.current);
        setHoverDir(p ? (find(p[0], p[1])?.datum ?? null) : null);
      },
      onPointerLeave: () => setHoverDir(null),
      onClick: () => undefined,
    }),
    [find],
  );
  const bg = hessian ? localBg : linkedBg;
  const events = hessian ? {} : linkedEvents;
  const activePt = active === null ? undefined : pts.find((p) => p.rank === active);
  const activeMode = active === null ? undefined : einstein?.modes.find((m) => m.rank === active);

  const what = hessian ? 'Hessian eigenvector v' : 'Mode ';
  const readout = activeMode
    ? `${what}${activeMode.rank}: curvature k = ${fmt(activeMode.curvature)}, relaxation ${Number.isFinite(activeMode.relaxationSteps) ? `${fmt(activeMode.relaxationSteps)} steps` : 'none (k ≤ 0)'}, σ² = ${fmt(activeMode.measured)} measured vs ${fmt(activeMode.predicted)} predicted, half-windows differ ${fmt(activeMode.halfRatio)}×: ${activeMode.equilibrated ? 'equilibrated' : 'not equilibrated'}`
    : active !== null && has
      ? `Mode ${active}: not measured in the Langevin run.`
      : hessian
        ? `Hover a point to read its values. ${HINT_ZOOM}`
        : `${HINT_POINTS} ${HINT_ZOOM}`;

  const e = einstein;
  const slope = e?.slopeEquilibrated;
  // Range of ranks, of measured curvature (k > 0) and of the curvature T/σ² that equilibrium
  // would need, over the measured modes: said when none has relaxed.
  const spread = useMemo(() => {
    const ms = (e?.modes ?? []).filter((m) => m.curvature > 0 && m.measured > 0);
    if (!e || ms.length < 2) return null;
    const range = (xs: number[]): [number, number] => [Math.min(...xs), Math.max(...xs)];
    return {
      ranks: range(ms.map((m) => m.rank)),
      k: range(ms.map((m) => m.curvature)),
      kEq: range(ms.map((m) => e.temperature / m.measured)),
    };
  }, [e]);
  const caption =
    e && hessian ? (
      <>
        Langevin dynamics, w ← w − α<sub>L</sub>∇L + √(2α<sub>L</sub>T)·ξ (ξ a standard normal per
        W2 entry), has the stationary density ∝ exp(−L/T): along a direction of curvature k it
        relaxes in 1/(α<sub>L</sub>k) steps and then holds σ² = T/k. Its PCA modes are the wrong
        directions to test this on, since a quadratic basin&rsquo;s covariance is T·H⁻¹: the largest
        variances lie along the flattest, slowest directions. Here the directions are the{' '}
        {e.modes.length} stiffest Hessian eigenvectors vⱼ at the window mean (exact Hessian,
        Lanczos), k = λⱼ from {fmt(Math.min(...e.modes.map((m) => m.curvature)))} to{' '}
        {fmt(Math.max(...e.modes.map((m) => m.curvature)))}. A direction counts as equilibrated when
        it relaxes within a tenth of the {fmt(e.windowSteps)}-step window and the variances of the
        window&rsquo;s two halves agree within a factor {e.rule.halfTolerance}: here{' '}
        <strong data-testid="einstein-count" data-value={e.equilibratedCount}>
          {e.equilibratedCount} of {e.modes.length}
        </strong>{' '}
        (T = {fmt(e.temperature)}, α<sub>L</sub> = {fmt(e.lr)}).{' '}
        {e.equilibratedCount > 0 ? (
          <>
            On those, measured/predicted has median{' '}
            <strong data-testid="einstein-ratio" data-value={e.medianRatio}>
              {fmtFixed(e.medianRatio)}
            </strong>
            {slope && slope.n >= 3 && Number.isFinite(slope.exponent) ? (
              <>
                {' '}
                and, with each direction&rsquo;s flatness F measured as for the PCA modes, σ² ∝ F
                <sup>s</sup> with s = {fmtFixed(slope.exponent)} (95% CI {fmtDash(slope.ci95)}, n ={' '}
                {slope.n}) against Einstein&rsquo;s +2
              </>
            ) : null}
            . These directions pass the equilibrium test; the hollow ones do not, and their σ² says
            nothing about the Einstein relation.
          </>
        ) : (
          <>
            None passes the test: the window is no equilibrium sample along these directions either.
          </>
        )}
      </>
    ) : e ? (
      <>
        Langevin dynamics, w ← w − α<sub>L</sub>∇L + √(2α<sub>L</sub>T)·ξ, relaxes along mode i in
        1/(α<sub>L</sub>kᵢ) steps, kᵢ the curvature of the training loss along pᵢ at the window mean
        (3-point difference), and then holds σᵢ² = T/kᵢ (corrected for the finite step and window).
        A mode counts as equilibrated when it relaxes within a tenth of the {fmt(e.windowSteps)}
        -step window and the variances of the window&rsquo;s two halves agree within a factor{' '}
        {e.rule.halfTolerance}: here{' '}
        <strong data-testid="einstein-count" data-value={e.equilibratedCount}>
          {e.equilibratedCount} of {e.modes.length}
        </strong>{' '}
        modes (T = {fmt(e.temperature)}, α<sub>L</sub> = {fmt(e.lr)}).{' '}
        {e.equilibratedCount > 0 ? (
          <>
            On those, measured/predicted has median{' '}
            <strong data-testid="einstein-ratio" data-value={e.medianRatio}>
              {fmtFixed(e.medianRatio)}
            </strong>
            {slope && slope.n >= 3 && Number.isFinite(slope.exponent) ? (
              <>
                {' '}
                and σ² ∝ F<sup>s</sup> with s = {fmtFixed(slope.exponent)} (95% CI{' '}
                {fmtDash(slope.ci95)}, n = {slope.n}) against Einstein&rsquo;s +2
              </>
            ) : null}
            . Only these modes pass the equilibrium test; the hollow ones did not relax within the
            window or their two halves disagree, and their σ² says nothing about the Einstein
            relation.
          </>
        ) : (
          <>
            None passes the test: along these modes the Langevin window is no equilibrium sample,
            and its σ²–F slope is no test of the Einstein relation.
            {spread ? (
              <>
                {' '}
                The modes span ranks {spread.ranks[0]}–{spread.ranks[1]} of the window&rsquo;s
                spectrum, yet their curvature stays within k = {fmt(spread.k[0])}–{fmt(spread.k[1])}
                , where equilibrium at their variance would need T/σ² = {fmt(spread.kEq[0])}–
                {fmt(spread.kEq[1])}
                {spread.k[1] * 10 < spread.kEq[1]
                  ? ': the window’s principal directions are not the landscape’s sharp ones.'
                  : '.'}
              </>
            ) : null}
          </>
        )}
      </>
    ) : (
      <>
        Each Langevin mode&rsquo;s variance against the equilibrium prediction T/kᵢ, kᵢ the loss
        curvature along it; filled points are the modes that have relaxed within the window. Tick
        &ldquo;Langevin contrast&rdquo; (or choose the SGD-vs-Langevin preset) to fill it.
      </>
    );

  const ariaLabel = has
    ? `Measured Langevin variance against the equilibrium prediction T over k, log–log; ${e?.equilibratedCount ?? 0} of ${modes.length} ${hessian ? 'Hessian eigenvectors' : 'modes'} equilibrated.`
    : 'Einstein check: no Langevin run yet.';

  return (
    <FigureShell
      id="einstein"
      title="Which Langevin modes pass the equilibrium test"
      csv={
        e
          ? () => ({
              header: [
                hessian ? 'hessian_rank_j' : 'rank',
                'curvature_k',
                'relaxation_steps',
                'equilibrated',
                'predicted_sigma2',
                'measured_sigma2',
                'half_window_ratio',
                'flatness_F_dtheta',
              ],
              rows: e.modes.map((m) => [
                m.rank,
                m.curvature,
                m.relaxationSteps,
                m.equilibrated ? 1 : 0,
                m.predicted,
                m.measured,
                m.halfRatio,
                m.flatness,
              ]),
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
              <Swatch color={RUN_COLOR.langevin} kind="point" /> equilibrated{' '}
              {hessian ? 'Hessian eigenvector' : 'mode'}
            </span>
            <span className="fm-legend-item">
              <svg width="12" height="12" aria-hidden="true">
                <circle cx="6" cy="6" r="4" fill="none" stroke={RUN_COLOR.langevin} />
              </svg>{' '}
              not equilibrated
            </span>
            <span className="fm-legend-item">
              <Swatch color="var(--fm-fg)" kind="dash" /> measured = predicted
            </span>
          </>
        ) : (
          <span className="fm-legend-item fm-muted">Einstein check: needs a Langevin run</span>
        )
      }
    >
      <ChartSvg size={size} box={box} label={ariaLabel} svgRef={svgRef}>
        {(clip) =>
          !has ? (
            <EmptyState box={box} text="Run the Langevin contrast to see this check" />
          ) : (
            <>
              <PlotBackground box={box} {...bg} />
              <Axis
                scale={x}
                side="bottom"
                box={box}
                label={
                  hessian
                    ? 'predicted σⱼ² = T/λⱼ in equilibrium (log scale)'
                    : 'predicted σᵢ² = T/kᵢ in equilibrium (log scale)'
                }
              />
              <Axis
                scale={y}
                side="left"
                box={box}
                label={hessian ? 'measured σⱼ² along vⱼ (log scale)' : 'measured σᵢ² (log scale)'}
              />
              <g clipPath={clip}>
                <line
                  className="fm-reference"
                  x1={x(x.domain()[0])}
                  y1={y(x.domain()[0])}
                  x2={x(x.domain()[1])}
                  y2={y(x.domain()[1])}
                  style={{ stroke: 'var(--fm-fg)', strokeDasharray: '4 3' }}
                />
                <g className="fm-points" {...events}>
                  <Points pts={pts} active={active} />
                </g>
                {activePt ? (
                  <Halo x={activePt.x} y={activePt.y} r={9} fill={RUN_COLOR.langevin} />
                ) : null}
              </g>
            </>
          )
        }
      </ChartSvg>
    </FigureShell>
  );
}
