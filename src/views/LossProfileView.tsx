/**
 * Figs. 2A/2B: the training loss along PCA modes, ln L vs the displacement δθ from w*, for the
 * pinned modes of the SGD window: the threshold ln(factor·L⁰), the bracket [θˡ, θᵘ] whose width
 * is the flatness F, and the quadratic fit of ln L (dashed; an "inverse Gaussian" profile).
 */
import {
  useEffect,
  useMemo,
  useRef,
  useState,
  type PointerEvent as ReactPointerEvent,
} from 'react';
import { line, range, scaleLinear } from 'd3';
import type { AnalysisResult, ModeProfile } from '../engine/experiments/analysis';
import { profileKey, useRun } from '../state/runStore';
import { useSelection } from '../state/selectionStore';
import {
  CATEGORY_COLORS,
  WAITING_PCA,
  fmt,
  fmtFixed,
  linExtent,
  plotBox,
  svgPointer,
  useActiveRank,
  useRankEvents,
  useSize,
  type RunId,
} from './chart';
import { Axis, ChartSvg, EmptyState, FigureShell, PlotBackground, Swatch } from './ChartParts';
import './profiles.css';

const RUN: RunId = 'sgd';

interface Curve {
  rank: number;
  color: string;
  profile: ModeProfile;
  /** Scale applied to δθ (1, or 1/F when normalised). */
  k: number;
}

function findProfile(
  rank: number,
  profiles: Record<string, ModeProfile>,
  result: AnalysisResult | undefined,
): ModeProfile | undefined {
  return (
    profiles[profileKey(RUN, rank)] ??
    result?.profiles.find((p) => p.run === RUN && p.rank === rank)
  );
}

/** A profile's `threshold` is the factor itself (analysis.ts); saved runs round e to 2.718. */
function factorLabel(p: ModeProfile): string {
  const f = p.threshold;
  return Math.abs(f - Math.E) < 1e-3 ? 'e·L⁰' : `${fmt(f)}·L⁰`;
}

/** The loss factor·L⁰ at which the bracket [θˡ, θᵘ] is measured. */
function thresholdLoss(p: ModeProfile): number {
  return p.threshold * p.L0;
}

/** ln L at δ by linear interpolation of the sampled profile (NaN outside). */
function lnLossAt(p: ModeProfile, delta: number): number {
  const d = p.deltas;
  for (let i = 1; i < d.length; i++) {
    const a = d[i - 1];
    const b = d[i];
    if ((delta >= a && delta <= b) || (delta <= a && delta >= b)) {
      const t = b === a ? 0 : (delta - a) / (b - a);
      return Math.log(p.losses[i - 1] * (1 - t) + p.losses[i] * t);
    }
  }
  return NaN;
}

export function LossProfileView({
  onRequestProfile,
}: {
  onRequestProfile?: (run: RunId, rank: number) => void;
}) {
  const result = useRun((s) => s.results.sgd);
  const profiles = useRun((s) => s.profiles);
  const pinned = useSelection((s) => s.pinned);
  const setHover = useSelection((s) => s.setHover);
  const toggle = useSelection((s) => s.toggle);
  const active = useActiveRank();
  const [normalise, setNormalise] = useState(false);
  const [pointerDelta, setPointerDelta] = useState<number | null>(null);
  const [frameRef, size] = useSize<HTMLDivElement>(0.68);
  const svgRef = useRef<SVGSVGElement>(null);
  const box = plotBox(size);

  // Ask for the profiles of pinned modes that have none yet (once per analysis result).
  const requested = useRef<{ result: AnalysisResult | undefined; ranks: Set<number> }>({
    result: undefined,
    ranks: new Set(),
  });
  useEffect(() => {
    if (!result || !onRequestProfile) return;
    if (requested.current.result !== result) requested.current = { result, ranks: new Set() };
    for (const rank of pinned) {
      if (rank < 1 || rank > result.variance.length) continue;
      if (findProfile(rank, profiles, result) || requested.current.ranks.has(rank)) continue;
      requested.current.ranks.add(rank);
      onRequestProfile(RUN, rank);
    }
  }, [pinned, profiles, result, onRequestProfile]);

  const curves = useMemo<Curve[]>(() => {
    const out: Curve[] = [];
    pinned.forEach((rank, i) => {
      const profile = findProfile(rank, profiles, result);
      if (!profile || profile.deltas.length < 2) return;
      const F = profile.flatness;
      out.push({
        rank,
        color: CATEGORY_COLORS[i % CATEGORY_COLORS.length],
        profile,
        k: normalise && Number.isFinite(F) && F > 0 ? 1 / F : 1,
      });
    });
    // Flattest first, so the sharper (narrower) curves are drawn on top.
    return out.sort((a, b) => (b.profile.flatness || 0) - (a.profile.flatness || 0));
  }, [pinned, profiles, result, normalise]);
  const has = curves.length > 0;

  const { x, y } = useMemo(() => {
    const xs: number[] = [];
    const spans: number[] = [];
    let lnLo = Infinity;
    let lnThr = -Infinity;
    let lnHi = -Infinity;
    for (const c of curves) {
      const p = c.profile;
      for (const d of p.deltas) xs.push(d * c.k);
      for (const l of p.losses) {
        const v = Math.log(l);
        if (!Number.isFinite(v)) continue;
        lnLo = Math.min(lnLo, v);
        lnHi = Math.max(lnHi, v);
      }
      const thr = thresholdLoss(p);
      if (Number.isFinite(thr) && thr > 0) lnThr = Math.max(lnThr, Math.log(thr));
      if (Number.isFinite(p.left) && Number.isFinite(p.right) && Number.isFinite(p.flatness)) {
        spans.push((p.left - 0.6 * p.flatness) * c.k, (p.right + 0.6 * p.flatness) * c.k);
      }
    }
    const dataX = linExtent(xs, 0) ?? [-1, 1];
    const focusX = linExtent(spans, 0);
    const xd: [number, number] = focusX
      ? [Math.max(dataX[0], focusX[0]), Math.min(dataX[1], focusX[1])]
      : dataX;
    if (!(xd[0] < xd[1])) xd.splice(0, 2, ...dataX);
    let yHi = lnHi;
    if (Number.isFinite(lnThr) && Number.isFinite(lnLo))
      yHi = Math.min(lnHi, lnThr + 1.5 * (lnThr - lnLo));
    const yd = linExtent([lnLo, yHi], 0.08) ?? [-1, 1];
    return {
      x: scaleLinear().domain(xd).range([box.x0, box.x1]),
      y: scaleLinear().domain(yd).range([box.y1, box.y0]),
    };
  }, [curves, box.x0, box.x1, box.y0, box.y1]);

  const drawn = useMemo(
    () =>
      curves.map((c) => {
        const p = c.profile;
        const pts = p.deltas.map(
          (d, i) => [x(d * c.k), y(Math.log(p.losses[i]))] as [number, number],
        );
        const curve =
          line().defined((q) => Number.isFinite(q[0]) && Number.isFinite(q[1]))(pts) ?? '';
        const F = p.flatness;
        const lo = Number.isFinite(p.left) ? p.left : x.invert(box.x0) / c.k;
        const hi = Number.isFinite(p.right) ? p.right : x.invert(box.x1) / c.k;
        const span = Number.isFinite(F) ? F : hi - lo;
        const fitPts = range(81).map((i) => {
          const d = lo - 0.5 * span + ((hi - lo + span) * i) / 80;
          return [x(d * c.k), y(p.fit.a + p.fit.b * d + p.fit.c * d * d)] as [number, number];
        });
        const fit =
          line().defined((q) => Number.isFinite(q[0]) && Number.isFinite(q[1]))(fitPts) ?? '';
        const thrY = y(Math.log(thresholdLoss(p)));
        return {
          ...c,
          curve,
          fit,
          thrY,
          bx0: Number.isFinite(p.left) ? x(p.left * c.k) : NaN,
          bx1: Number.isFinite(p.right) ? x(p.right * c.k) : NaN,
        };
      }),
    [curves, x, y, box.x0, box.x1],
  );
  const events = useRankEvents();

  const onMove = (e: ReactPointerEvent<SVGElement>) => {
    const pt = svgPointer(e, svgRef.current);
    if (!pt) return;
    const [px, py] = pt;
    setPointerDelta(x.invert(px));
    // The curve passing closest (vertically) to the pointer becomes the hovered mode.
    let best: { rank: number; dist: number } | null = null;
    for (const c of curves) {
      const v = lnLossAt(c.profile, x.invert(px) / c.k);
      if (!Number.isFinite(v)) continue;
      const dist = Math.abs(y(v) - py);
      if (dist < 14 && (!best || dist < best.dist)) best = { rank: c.rank, dist };
    }
    const r = best ? best.rank : null;
    if (useSelection.getState().hoverRank !== r) setHover(r);
  };
  const onLeave = () => {
    setPointerDelta(null);
    if (useSelection.getState().hoverRank !== null) setHover(null);
  };

  const byRank = new Map(curves.map((c) => [c.rank, c]));
  const activeCurve = active === null ? undefined : byRank.get(active);
  let readout: string;
  if (pointerDelta !== null && has) {
    readout = `${normalise ? 'δθ/Fᵢ' : 'δθ'} = ${fmt(pointerDelta)}: ${curves
      .map((c) => `mode ${c.rank} ln L = ${fmtFixed(lnLossAt(c.profile, pointerDelta / c.k), 3)}`)
      .join(', ')}`;
  } else if (activeCurve) {
    const p = activeCurve.profile;
    readout = `Mode ${p.rank}: F = ${fmt(p.flatness)} (θˡ = ${fmt(p.left)}, θᵘ = ${fmt(p.right)}), L⁰ = ${fmt(p.L0)}; ln L ≈ ${fmtFixed(p.fit.a, 3)} ${p.fit.b >= 0 ? '+' : '−'} ${fmt(Math.abs(p.fit.b))}·δθ + ${fmt(p.fit.c)}·δθ² (R² ${fmtFixed(p.fit.r2, 3)})`;
  } else {
    readout =
      'Hover a curve to read its values; click a mode in any figure to add or remove its profile.';
  }

  const ordered = [...curves].sort((a, b) => a.rank - b.rank);
  const ariaLabel = has
    ? `Loss profiles along modes ${ordered.map((c) => c.rank).join(', ')}: flatness ${ordered
        .map((c) => `F${c.rank} = ${fmt(c.profile.flatness)}`)
        .join(', ')}.`
    : 'Loss profiles: waiting for data.';
  const minR2 = Math.min(...ordered.map((c) => c.profile.fit.r2));
  // Say "lower-variance modes are flatter" only when these profiles show it: in rank order
  // (falling variance) the flatness rises at every step.
  const byVariance = ordered.map((c) => c.profile.flatness);
  const flatterDown =
    byVariance.length >= 2 &&
    byVariance.every(Number.isFinite) &&
    byVariance.every((f, i) => i === 0 || f > byVariance[i - 1]);
  const bars = drawn.filter((c) => Number.isFinite(c.bx0) && Number.isFinite(c.bx1)).length;
  const flatList = ordered.map((c) => `F${toSub(c.rank)} = ${fmt(c.profile.flatness)}`).join(', ');
  const caption = has ? (
    <>
      Training loss ln L along mode{ordered.length > 1 ? 's' : ''}{' '}
      {ordered.map((c) => c.rank).join(', ')} of the SGD window, against the displacement δθ from
      w*.{' '}
      {flatterDown
        ? `Lower-variance modes are flatter here: ${flatList}`
        : ordered.length >= 2
          ? `Flatness does not rise steadily with the mode's rank among these: ${flatList}`
          : `Flatness ${flatList}`}
      ;{' '}
      {bars === ordered.length
        ? `the bars mark where L = ${factorLabel(ordered[0].profile)}`
        : bars > 0
          ? `the bars mark where L = ${factorLabel(ordered[0].profile)} (${bars} of ${ordered.length} profiles reach it on both sides)`
          : `none of these profiles reaches L = ${factorLabel(ordered[0].profile)} on both sides in the range shown`}
      ; dashed: quadratic fit of ln L (R² ≥ {fmtFixed(minR2, 3)}).
    </>
  ) : (
    <>
      Training loss ln L along the pinned PCA modes against the displacement δθ: the flatness Fᵢ is
      the width of the region where L stays below e·L⁰; the values appear once the profiles are
      computed.
    </>
  );
  const emptyText = !result
    ? WAITING_PCA
    : pinned.length === 0
      ? 'Click a mode in any figure to see its loss profile'
      : 'Computing loss profiles…';

  return (
    <FigureShell
      id="profiles"
      title="Loss along PCA modes"
      csv={
        has
          ? () => ({
              header: [
                'run',
                'rank',
                'delta_theta',
                'loss',
                'ln_loss',
                'L0_loss_min',
                'threshold_loss',
                'flatness_F_dtheta',
                'theta_left_dtheta',
                'theta_right_dtheta',
              ],
              rows: ordered.flatMap(({ profile: p }) =>
                p.deltas.map((d, i) => [
                  p.run,
                  p.rank,
                  d,
                  p.losses[i],
                  Math.log(p.losses[i]),
                  p.L0,
                  thresholdLoss(p),
                  p.flatness,
                  p.left,
                  p.right,
                ]),
              ),
            })
          : undefined
      }
      caption={caption}
      readout={readout}
      frameRef={frameRef}
      controls={
        <label className="fm-check">
          <input
            type="checkbox"
            checked={normalise}
            onChange={(e) => setNormalise(e.target.checked)}
          />{' '}
          scale δθ by each mode&rsquo;s flatness Fᵢ
        </label>
      }
      legend={
        pinned.length ? (
          pinned.map((rank, i) => {
            const c = byRank.get(rank);
            return (
              <button
                key={rank}
                type="button"
                className={`fm-legend-item fm-legend-button${rank === active ? ' highlighted' : ''}`}
                onPointerEnter={() => setHover(rank)}
                onPointerLeave={() => setHover(null)}
                onClick={() => toggle(rank)}
                title="Click to remove this mode"
              >
                <Swatch color={CATEGORY_COLORS[i % CATEGORY_COLORS.length]} kind="line" /> mode{' '}
                {rank}
                {c ? `, F = ${fmt(c.profile.flatness)}` : result ? ' (computing…)' : ''}
              </button>
            );
          })
        ) : (
          <span className="fm-legend-item fm-muted">No mode pinned</span>
        )
      }
    >
      <ChartSvg size={size} box={box} label={ariaLabel} svgRef={svgRef}>
        {(clip) =>
          !has ? (
            <EmptyState box={box} text={emptyText} />
          ) : (
            <>
              <PlotBackground
                box={box}
                onPointerMove={onMove}
                onPointerLeave={onLeave}
                onClick={() => {
                  const h = useSelection.getState().hoverRank;
                  if (h !== null) toggle(h);
                }}
              />
              <Axis
                scale={x}
                side="bottom"
                box={box}
                label={
                  normalise
                    ? 'displacement δθ / Fᵢ (flatness units)'
                    : 'displacement δθ along pᵢ (weight units)'
                }
              />
              <Axis scale={y} side="left" box={box} label="ln L (training loss)" />
              <g clipPath={clip}>
                {drawn.map((c) => (
                  <g key={`ann-${c.rank}`} style={{ stroke: c.color }} pointerEvents="none">
                    <line
                      className="fm-threshold"
                      x1={box.x0}
                      x2={box.x1}
                      y1={c.thrY}
                      y2={c.thrY}
                    />
                    <path className="fm-qfit" d={c.fit} />
                  </g>
                ))}
                <g className="fm-curves" {...events} onPointerMove={onMove}>
                  {drawn.map((c) => (
                    <path
                      key={c.rank}
                      className={c.rank === active ? 'fm-profile highlighted' : 'fm-profile'}
                      data-rank={c.rank}
                      data-run={RUN}
                      d={c.curve}
                      style={{ stroke: c.color }}
                    />
                  ))}
                </g>
                {drawn.map((c) =>
                  Number.isFinite(c.bx0) && Number.isFinite(c.bx1) ? (
                    <g
                      key={`br-${c.rank}`}
                      className={`fm-bracket${c.rank === active ? ' highlighted' : ''}`}
                      style={{ stroke: c.color }}
                      pointerEvents="none"
                    >
                      <line x1={c.bx0} x2={c.bx1} y1={c.thrY} y2={c.thrY} />
                      <line x1={c.bx0} x2={c.bx0} y1={c.thrY - 6} y2={c.thrY + 6} />
                      <line x1={c.bx1} x2={c.bx1} y1={c.thrY - 6} y2={c.thrY + 6} />
                    </g>
                  ) : null,
                )}
                {drawn.length ? (
                  <text className="fm-annot" x={box.x1 - 4} y={drawn[0].thrY - 6} textAnchor="end">
                    ln({factorLabel(drawn[0].profile)})
                  </text>
                ) : null}
              </g>
            </>
          )
        }
      </ChartSvg>
    </FigureShell>
  );
}

const SUB: Record<string, string> = {
  '0': '₀',
  '1': '₁',
  '2': '₂',
  '3': '₃',
  '4': '₄',
  '5': '₅',
  '6': '₆',
  '7': '₇',
  '8': '₈',
  '9': '₉',
};
function toSub(n: number): string {
  return String(n)
    .split('')
    .map((c) => SUB[c] ?? c)
    .join('');
}
