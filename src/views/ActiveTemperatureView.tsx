/**
 * Fig. 5A: the active temperature T_i(δθ) = (α/2)·var_μ[∂L^μ/∂δθ] (top, log scale, ± standard
 * error) above the loss ln L_i(δθ) (bottom) along a few PCA modes of the SGD solution, on a
 * shared δθ axis: the temperature has the shape of the loss.
 */
import { useId, useMemo, useRef, useState, type PointerEvent as ReactPointerEvent } from 'react';
import { area, line, scaleLinear, scaleLog } from 'd3';
import type { ModeTemperature } from '../engine/experiments/analysis';
import { useSelection } from '../state/selectionStore';
import {
  fmt,
  fmtFixed,
  fmtInt,
  isPos,
  linExtent,
  logExtent,
  safeId,
  svgPointer,
  useActiveRank,
  useRankEvents,
  useSize,
  type Margin,
} from './chart';
import { Axis, FigureShell, PlotBackground } from './ChartParts';
import { aboveBeyondError } from './claimsText';
import {
  HINT_CURVES,
  ModeLegend,
  TheoryEmpty,
  interpAt,
  listText,
  modeColor,
  stackedBoxes,
  sub,
  useTheory,
} from './theoryParts';
import './profiles.css';

const M: Margin = { top: 14, right: 16, bottom: 46, left: 62 };
const GAP = 12;

interface Curve {
  rank: number;
  color: string;
  t: ModeTemperature;
  /** Scale applied to δθ (1, or 1/F when normalised). */
  k: number;
  /** T where the loss is lowest (± its standard error), and the largest T of the scan. */
  Tmin: number;
  TminSe: number;
  Tmax: number;
}

function argmin(v: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i] < v[best]) best = i;
  return best;
}

export function ActiveTemperatureView() {
  const theory = useTheory('sgd');
  const active = useActiveRank();
  const setHover = useSelection((s) => s.setHover);
  const toggle = useSelection((s) => s.toggle);
  const [normalise, setNormalise] = useState(false);
  const [pointerDelta, setPointerDelta] = useState<number | null>(null);
  const [frameRef, size] = useSize<HTMLDivElement>(0.82);
  const svgRef = useRef<SVGSVGElement>(null);
  const clipId = safeId(useId(), 'clip');
  const checkId = useId();
  const { top, bottom, all } = stackedBoxes(size, M, GAP, 0.55);

  const curves = useMemo<Curve[]>(() => {
    const temps = (theory?.temperature ?? []).filter((t) => t.deltas.length >= 2);
    const ranks = temps.map((t) => t.rank);
    return temps
      .map((t) => {
        const i0 = argmin(t.loss);
        const F = t.flatness;
        return {
          rank: t.rank,
          color: modeColor(ranks, t.rank),
          t,
          k: normalise && isPos(F) ? 1 / F : 1,
          Tmin: t.T[i0],
          TminSe: t.stderr[i0],
          Tmax: Math.max(...t.T.filter(Number.isFinite)),
        };
      })
      .sort((a, b) => a.rank - b.rank);
  }, [theory, normalise]);
  const has = curves.length > 0;

  const { x, yT, yL } = useMemo(() => {
    const xs: number[] = [];
    const Ts: number[] = [];
    const lnL: number[] = [];
    for (const c of curves) {
      c.t.deltas.forEach((d, i) => {
        xs.push(d * c.k);
        Ts.push(c.t.T[i], c.t.T[i] + (c.t.stderr[i] ?? 0));
        if (isPos(c.t.loss[i])) lnL.push(Math.log(c.t.loss[i]));
      });
    }
    return {
      x: scaleLinear()
        .domain(linExtent(xs, 0.02) ?? [-1, 1])
        .range([all.x0, all.x1]),
      yT: scaleLog()
        .domain(logExtent(Ts, 1.3) ?? [1e-6, 1e-3])
        .range([top.y1, top.y0]),
      yL: scaleLinear()
        .domain(linExtent(lnL, 0.08) ?? [-3, 0])
        .range([bottom.y1, bottom.y0]),
    };
  }, [curves, all.x0, all.x1, top.y0, top.y1, bottom.y0, bottom.y1]);

  const drawn = useMemo(
    () =>
      curves.map((c) => {
        const { deltas, T, stderr, loss } = c.t;
        const idx = deltas.map((_, i) => i);
        const Tline =
          line<number>()
            .defined((i) => isPos(T[i]))
            .x((i) => x(deltas[i] * c.k))
            .y((i) => yT(T[i]))(idx) ?? '';
        const floor = yT.domain()[0];
        const band =
          area<number>()
            .defined((i) => isPos(T[i]) && Number.isFinite(stderr[i]))
            .x((i) => x(deltas[i] * c.k))
            .y0((i) => yT(Math.max(floor, T[i] - stderr[i])))
            .y1((i) => yT(T[i] + stderr[i]))(idx) ?? '';
        const Lline =
          line<number>()
            .defined((i) => isPos(loss[i]))
            .x((i) => x(deltas[i] * c.k))
            .y((i) => yL(Math.log(loss[i])))(idx) ?? '';
        return { ...c, Tline, band, Lline };
      }),
    [curves, x, yT, yL],
  );
  const events = useRankEvents();
  const activeIn = active !== null && curves.some((c) => c.rank === active);
  const ordered = activeIn
    ? [...drawn.filter((c) => c.rank !== active), ...drawn.filter((c) => c.rank === active)]
    : drawn;
  const cls = (rank: number) => (rank === active ? ' highlighted' : activeIn ? ' fm-dim' : '');

  const onMove = (e: ReactPointerEvent<SVGElement>) => {
    const pt = svgPointer(e, svgRef.current);
    if (!pt) return;
    const [px, py] = pt;
    const dx = x.invert(px);
    setPointerDelta(dx);
    const inTop = py <= top.y1 + GAP / 2;
    let best: { rank: number; dist: number } | null = null;
    for (const c of curves) {
      const d = dx / c.k;
      const v = inTop
        ? yT(interpAt(c.t.deltas, c.t.T, d))
        : yL(Math.log(interpAt(c.t.deltas, c.t.loss, d)));
      if (!Number.isFinite(v)) continue;
      const dist = Math.abs(v - py);
      if (dist < 14 && (!best || dist < best.dist)) best = { rank: c.rank, dist };
    }
    const r = best ? best.rank : null;
    if (useSelection.getState().hoverRank !== r) setHover(r);
  };
  const onLeave = () => {
    setPointerDelta(null);
    if (useSelection.getState().hoverRank !== null) setHover(null);
  };

  const xName = normalise ? 'δθ/Fᵢ' : 'δθ';
  const activeCurve = activeIn ? curves.find((c) => c.rank === active) : undefined;
  let readout: string;
  if (pointerDelta !== null && has) {
    readout = `${xName} = ${fmt(pointerDelta)}: ${curves
      .map((c) => {
        const d = pointerDelta / c.k;
        return `mode ${c.rank} T = ${fmt(interpAt(c.t.deltas, c.t.T, d))} ± ${fmt(interpAt(c.t.deltas, c.t.stderr, d))}, ln L = ${fmtFixed(Math.log(interpAt(c.t.deltas, c.t.loss, d)), 3)}`;
      })
      .join('; ')} (T ± standard error)`;
  } else if (activeCurve) {
    readout = `Mode ${activeCurve.rank} (F = ${fmt(activeCurve.t.flatness)}): T = ${fmt(activeCurve.Tmin)} where the loss is lowest, up to ${fmt(activeCurve.Tmax)} at the edge of the scan (${fmt(activeCurve.Tmax / activeCurve.Tmin)}×)`;
  } else {
    readout = HINT_CURVES;
  }

  const ranks = curves.map((c) => c.rank);
  const rises = curves.map((c) => c.Tmax / c.Tmin).filter(Number.isFinite);
  const sharpest = curves.length
    ? curves.reduce((a, c) => (c.t.flatness < a.t.flatness ? c : a))
    : undefined;
  const hottest = curves.length ? curves.reduce((a, c) => (c.Tmin > a.Tmin ? c : a)) : undefined;
  // "Hottest" only where it is hotter than each other mode beyond their standard errors.
  const hotter = (a: Curve, b: Curve) =>
    aboveBeyondError({ value: a.Tmin, se: a.TminSe }, { value: b.Tmin, se: b.TminSe });
  const hottestResolved = !!hottest && curves.every((c) => c === hottest || hotter(hottest, c));
  const K = theory?.K ?? curves[0]?.t.K;
  const caption = has ? (
    <>
      The active temperature Tᵢ(δθ) = (α/2)·var<sub>μ</sub>[∂L<sup>μ</sup>/∂δθ] (top, shaded ±
      standard error) above the loss ln L (bottom) along modes {listText(ranks)} of the SGD
      solution, from K = {K} minibatches of B = {theory?.batchSize} (α = {fmt(theory?.lr ?? NaN)}).
      T is high where the loss is high: it rises {fmtInt(Math.min(...rises))}–
      {fmtInt(Math.max(...rises))}
      -fold from the bottom of the loss to the edge of the scan. At the bottom,{' '}
      {curves.map((c) => `T${sub(c.rank)} = ${fmt(c.Tmin)}`).join(', ')}
      {sharpest && hottest && curves.length > 1
        ? sharpest === hottest && hottestResolved
          ? `: the sharpest of these modes (mode ${sharpest.rank}, F = ${fmt(sharpest.t.flatness)}) is the hottest, the flatter ones are cooler (by more than 1.96 standard errors).`
          : sharpest === hottest
            ? `: the sharpest of these modes (mode ${sharpest.rank}, F = ${fmt(sharpest.t.flatness)}) has the highest T, though not beyond 1.96 standard errors of every other — see the next figure for all modes.`
            : `: here the sharpest of these modes (mode ${sharpest.rank}, F = ${fmt(sharpest.t.flatness)}) is not the hottest (mode ${hottest.rank}) — see the next figure for all modes.`
        : '.'}
    </>
  ) : (
    <>
      The active temperature Tᵢ(δθ) = (α/2)·var<sub>μ</sub>[∂L<sup>μ</sup>/∂δθ], the variance of the
      minibatch slopes along a mode, beside the loss along the same mode; it appears a few seconds
      after the σ²–F figure.
    </>
  );
  const ariaLabel = has
    ? `Active temperature and loss along modes ${listText(ranks)}. ${curves
        .map((c) => `Mode ${c.rank}: T from ${fmt(c.Tmin)} to ${fmt(c.Tmax)}`)
        .join('; ')}.`
    : 'Active temperature: waiting for the analysis.';
  const emptyNote = theory && !has ? 'The temperature is measured for the SGD run only' : undefined;

  return (
    <FigureShell
      id="active-temperature"
      title="Active temperature follows the loss"
      csv={
        has
          ? () => ({
              header: [
                'rank',
                'delta_theta',
                'T_active_temperature',
                'T_stderr',
                'loss',
                'flatness_F_dtheta',
              ],
              rows: curves.flatMap((c) =>
                c.t.deltas.map((d, i) => [
                  c.rank,
                  d,
                  c.t.T[i],
                  c.t.stderr[i],
                  c.t.loss[i],
                  c.t.flatness,
                ]),
              ),
            })
          : undefined
      }
      caption={caption}
      readout={readout}
      frameRef={frameRef}
      controls={
        <label className="fm-check" htmlFor={checkId}>
          <input
            id={checkId}
            type="checkbox"
            checked={normalise}
            onChange={(e) => setNormalise(e.target.checked)}
          />{' '}
          scale δθ by each mode&rsquo;s flatness Fᵢ
        </label>
      }
      legend={
        has ? (
          <ModeLegend
            active={active}
            items={curves.map((c) => ({
              rank: c.rank,
              color: c.color,
              text: `mode ${c.rank}, F = ${fmt(c.t.flatness)}`,
            }))}
          />
        ) : (
          <span className="fm-legend-item fm-muted">T(δθ): waiting for the analysis…</span>
        )
      }
    >
      <svg
        ref={svgRef}
        className="fm-svg"
        width={size.width}
        height={size.height}
        viewBox={`0 0 ${size.width} ${size.height}`}
        role="img"
        aria-label={ariaLabel}
      >
        <defs>
          <clipPath id={clipId}>
            <rect x={all.x0} y={all.y0} width={all.x1 - all.x0} height={all.y1 - all.y0} />
          </clipPath>
          {/* Each panel's curves stay in their own panel (a T below the axis floor must not
              run into the loss panel below it). */}
          <clipPath id={`${clipId}-top`}>
            <rect x={top.x0} y={top.y0} width={top.x1 - top.x0} height={top.y1 - top.y0} />
          </clipPath>
          <clipPath id={`${clipId}-bottom`}>
            <rect
              x={bottom.x0}
              y={bottom.y0}
              width={bottom.x1 - bottom.x0}
              height={bottom.y1 - bottom.y0}
            />
          </clipPath>
        </defs>
        {!has ? (
          <TheoryEmpty box={all} note={emptyNote} />
        ) : (
          <>
            <PlotBackground
              box={all}
              onPointerMove={onMove}
              onPointerLeave={onLeave}
              onClick={() => {
                const h = useSelection.getState().hoverRank;
                if (h !== null) toggle(h);
              }}
            />
            <Axis scale={x} side="bottom" box={top} label="" format={() => ''} />
            <Axis
              scale={yT}
              side="left"
              box={top}
              label="temperature Tᵢ (log scale)"
              spacing={36}
            />
            <Axis
              scale={x}
              side="bottom"
              box={bottom}
              label={
                normalise
                  ? 'displacement δθ / Fᵢ (flatness units)'
                  : 'displacement δθ along pᵢ (weight units)'
              }
            />
            <Axis scale={yL} side="left" box={bottom} label="ln L" spacing={32} />
            <g clipPath={`url(#${clipId})`}>
              <line
                className="fm-ref"
                x1={x(0)}
                x2={x(0)}
                y1={all.y0}
                y2={all.y1}
                pointerEvents="none"
              />
              <g pointerEvents="none" clipPath={`url(#${clipId}-top)`}>
                {ordered.map((c) => (
                  <path
                    key={`band-${c.rank}`}
                    className={`fm-band${cls(c.rank).replace('highlighted', 'fm-band-active')}`}
                    d={c.band}
                    style={{ fill: c.color }}
                  />
                ))}
              </g>
              {pointerDelta !== null ? (
                <g className="fm-guide" pointerEvents="none">
                  <line x1={x(pointerDelta)} x2={x(pointerDelta)} y1={all.y0} y2={all.y1} />
                </g>
              ) : null}
              <g className="fm-curves" {...events} onPointerMove={onMove}>
                <g clipPath={`url(#${clipId}-top)`}>
                  {ordered.map((c) => (
                    <path
                      key={`T-${c.rank}`}
                      className={`fm-profile${cls(c.rank)}`}
                      data-rank={c.rank}
                      data-run="sgd"
                      d={c.Tline}
                      style={{ stroke: c.color }}
                    />
                  ))}
                </g>
                {/* The loss curves are the same modes: `linked`, not a second `highlighted`. */}
                <g clipPath={`url(#${clipId}-bottom)`}>
                  {ordered.map((c) => (
                    <path
                      key={`L-${c.rank}`}
                      className={`fm-profile${cls(c.rank).replace('highlighted', 'linked')}`}
                      data-rank={c.rank}
                      data-run="sgd"
                      data-quantity="loss"
                      d={c.Lline}
                      style={{ stroke: c.color }}
                    />
                  ))}
                </g>
              </g>
              <text
                className="fm-annot"
                x={(top.x0 + top.x1) / 2}
                y={top.y0 + 14}
                textAnchor="middle"
                pointerEvents="none"
              >
                active temperature T(δθ)
              </text>
              <text
                className="fm-annot"
                x={(bottom.x0 + bottom.x1) / 2}
                y={bottom.y0 + 14}
                textAnchor="middle"
                pointerEvents="none"
              >
                loss ln L(δθ) on the K minibatches
              </text>
            </g>
          </>
        )}
      </svg>
    </FigureShell>
  );
}
