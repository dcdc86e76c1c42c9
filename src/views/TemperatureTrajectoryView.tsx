/**
 * Figs. 5C/5D: the active temperature along the training trajectory. Left, T(δθ) along the
 * final window's mode ranks[0] at a few checkpoint epochs (sequential colour by epoch); right,
 * the direction-averaged T at δθ = 0 and the loss L per checkpoint (both log scale, stacked on
 * a shared epoch axis), with their Pearson correlation.
 */
import {
  useId,
  useMemo,
  useRef,
  useState,
  type PointerEvent as ReactPointerEvent,
  type ReactNode,
} from 'react';
import { line, scaleLinear, scaleLog } from 'd3';
import type { TrajectoryTheory } from '../engine/experiments/analysis';
import { useSelection } from '../state/selectionStore';
import {
  fmt,
  fmtDash,
  fmtFixed,
  fmtInt,
  isPos,
  linExtent,
  logExtent,
  plotBox,
  safeId,
  sequentialInterpolator,
  svgPointer,
  useActiveRank,
  useRankEvents,
  useSize,
  type Margin,
} from './chart';
import { Axis, ChartSvg, FigureShell, PlotBackground, Swatch } from './ChartParts';
import { correlationInterval } from './claimsText';
import {
  TheoryEmpty,
  interpAt,
  listText,
  nearestIndex,
  stackedBoxes,
  sub,
  useTheory,
} from './theoryParts';
import './trajectory.css';

const LEFT_MARGIN: Margin = { top: 24, right: 14, bottom: 46, left: 62 };
const RIGHT_MARGIN: Margin = { top: 24, right: 14, bottom: 46, left: 62 };
const GAP = 12;
const T_COLOR = 'var(--fm-cat-2)';
const L_COLOR = 'var(--fm-sgd)';

type Profile = TrajectoryTheory['profiles'][number];

/** Sequential colour by checkpoint order (evenly spaced, so close epochs stay distinct). */
function epochScale(profiles: readonly Profile[]): (epoch: number) => string {
  const e = [...new Set(profiles.map((p) => p.epoch))].sort((a, b) => a - b);
  const n = e.length;
  return (epoch) => sequentialInterpolator(n > 1 ? Math.max(0, e.indexOf(epoch)) / (n - 1) : 1);
}

function ProfilesPanel({
  traj,
  waitingNote,
  active,
  pointerDelta,
  setPointerDelta,
}: {
  traj: TrajectoryTheory | null;
  waitingNote: string | undefined;
  active: number | null;
  pointerDelta: number | null;
  setPointerDelta: (d: number | null) => void;
}) {
  const [ref, size] = useSize<HTMLDivElement>(0.85, 320);
  const svgRef = useRef<SVGSVGElement>(null);
  const box = plotBox(size, LEFT_MARGIN);
  const profiles = useMemo(
    () =>
      (traj?.profiles ?? []).filter((p) => p.deltas.length >= 2).sort((a, b) => a.epoch - b.epoch),
    [traj],
  );
  const has = profiles.length > 0;
  const rank = traj?.ranks[0] ?? null;
  const color = useMemo(() => epochScale(profiles), [profiles]);
  const events = useRankEvents();

  const { x, y } = useMemo(() => {
    const xs = profiles.flatMap((p) => p.deltas);
    const ys = profiles.flatMap((p) => p.T);
    return {
      x: scaleLinear()
        .domain(linExtent(xs, 0.02) ?? [-1, 1])
        .range([box.x0, box.x1]),
      y: scaleLog()
        .domain(logExtent(ys, 1.3) ?? [1e-6, 1e-3])
        .range([box.y1, box.y0]),
    };
  }, [profiles, box.x0, box.x1, box.y0, box.y1]);
  const paths = useMemo(
    () =>
      profiles.map((p) => ({
        epoch: p.epoch,
        d:
          line<number>()
            .defined((i) => isPos(p.T[i]))
            .x((i) => x(p.deltas[i]))
            .y((i) => y(p.T[i]))(p.deltas.map((_, i) => i)) ?? '',
      })),
    [profiles, x, y],
  );
  const onMove = (e: ReactPointerEvent<SVGElement>) => {
    const pt = svgPointer(e, svgRef.current);
    setPointerDelta(pt ? x.invert(pt[0]) : null);
  };
  const tagActive = rank !== null && active === rank;
  const label = has
    ? `Active temperature along mode ${rank} at epochs ${listText(profiles.map((p) => p.epoch))}.`
    : 'Active temperature profiles along the trajectory: waiting for the analysis.';
  return (
    <div className={`fm-panel${tagActive ? ' highlighted' : ''}`} ref={ref}>
      <ChartSvg size={size} box={box} label={label} svgRef={svgRef}>
        {(clip) =>
          !has ? (
            <TheoryEmpty box={box} note={waitingNote} />
          ) : (
            <>
              <PlotBackground
                box={box}
                onPointerMove={onMove}
                onPointerLeave={() => setPointerDelta(null)}
              />
              <Axis
                scale={x}
                side="bottom"
                box={box}
                label={`displacement δθ along p${sub(rank ?? 0)} (weight units)`}
                shortLabel={`δθ along p${sub(rank ?? 0)} (weight units)`}
              />
              <Axis
                scale={y}
                side="left"
                box={box}
                label="temperature T(δθ) (log scale)"
                shortLabel="T(δθ) (log scale)"
              />
              <g clipPath={clip} pointerEvents="none">
                <line className="fm-ref" x1={x(0)} x2={x(0)} y1={box.y0} y2={box.y1} />
                {paths.map((p) => (
                  <path
                    key={p.epoch}
                    className="fm-curve"
                    d={p.d}
                    style={{ stroke: color(p.epoch) }}
                  />
                ))}
                {pointerDelta !== null ? (
                  <g className="fm-guide">
                    <line x1={x(pointerDelta)} x2={x(pointerDelta)} y1={box.y0} y2={box.y1} />
                  </g>
                ) : null}
              </g>
              {/* The mode the profiles run along: a linked hover/click target. */}
              <g {...events}>
                <text
                  className={`fm-mode-tag${tagActive ? ' highlighted' : ''}`}
                  data-rank={rank ?? undefined}
                  x={box.x1 - 4}
                  y={16}
                  textAnchor="end"
                >
                  along mode {rank}
                </text>
              </g>
            </>
          )
        }
      </ChartSvg>
    </div>
  );
}

function SeriesPanel({
  traj,
  waitingNote,
  hoverIdx,
  setHoverIdx,
}: {
  traj: TrajectoryTheory | null;
  waitingNote: string | undefined;
  hoverIdx: number | null;
  setHoverIdx: (i: number | null) => void;
}) {
  const [ref, size] = useSize<HTMLDivElement>(0.85, 320);
  const svgRef = useRef<SVGSVGElement>(null);
  const clipId = safeId(useId(), 'clip');
  const { top, bottom, all } = stackedBoxes(size, RIGHT_MARGIN, GAP, 0.5);
  const epochs = useMemo(() => traj?.epochs ?? [], [traj]);
  const has = !!traj && epochs.length > 0;

  const { x, yT, yL } = useMemo(() => {
    return {
      x: scaleLinear()
        .domain(linExtent(epochs, 0.04) ?? [0, 1])
        .range([all.x0, all.x1]),
      yT: scaleLog()
        .domain(logExtent(traj?.T ?? [], 1.25) ?? [1e-5, 1e-3])
        .range([top.y1, top.y0]),
      yL: scaleLog()
        .domain(logExtent(traj?.loss ?? [], 1.25) ?? [0.01, 1])
        .range([bottom.y1, bottom.y0]),
    };
  }, [traj, epochs, all.x0, all.x1, top.y0, top.y1, bottom.y0, bottom.y1]);
  const paths = useMemo(() => {
    const idx = epochs.map((_, i) => i);
    const mk = (v: readonly number[], s: (n: number) => number) =>
      line<number>()
        .defined((i) => isPos(v[i]))
        .x((i) => x(epochs[i]))
        .y((i) => s(v[i]))(idx) ?? '';
    return { T: mk(traj?.T ?? [], yT), L: mk(traj?.loss ?? [], yL) };
  }, [traj, epochs, x, yT, yL]);

  const onMove = (e: ReactPointerEvent<SVGElement>) => {
    const pt = svgPointer(e, svgRef.current);
    setHoverIdx(pt && epochs.length ? nearestIndex(epochs, x.invert(pt[0])) : null);
  };
  const label = has
    ? `Active temperature and loss at ${epochs.length} checkpoints; correlation ${fmtFixed(traj.correlation)}.`
    : 'Active temperature and loss along the trajectory: waiting for the analysis.';
  const hx = hoverIdx !== null && has ? x(epochs[hoverIdx]) : NaN;
  return (
    <div className="fm-panel" ref={ref}>
      <svg
        ref={svgRef}
        className="fm-svg"
        width={size.width}
        height={size.height}
        viewBox={`0 0 ${size.width} ${size.height}`}
        role="img"
        aria-label={label}
      >
        <defs>
          <clipPath id={clipId}>
            <rect
              x={all.x0 - 6}
              y={all.y0 - 6}
              width={all.x1 - all.x0 + 12}
              height={all.y1 - all.y0 + 12}
            />
          </clipPath>
        </defs>
        {!has || !traj ? (
          <TheoryEmpty box={all} note={waitingNote} />
        ) : (
          <>
            <Axis scale={x} side="bottom" box={top} label="" format={() => ''} />
            <Axis
              scale={yT}
              side="left"
              box={top}
              label="T (log scale)"
              shortLabel="T (log)"
              spacing={32}
            />
            <Axis scale={x} side="bottom" box={bottom} label="epoch (checkpoint)" />
            <Axis
              scale={yL}
              side="left"
              box={bottom}
              label="loss L (log scale)"
              shortLabel="L (log)"
              spacing={32}
            />
            <g clipPath={`url(#${clipId})`} pointerEvents="none">
              <path className="fm-curve" d={paths.T} style={{ stroke: T_COLOR }} />
              <path className="fm-curve" d={paths.L} style={{ stroke: L_COLOR }} />
              {epochs.map((ep, i) => (
                <g key={ep}>
                  {isPos(traj.T[i]) ? (
                    <circle cx={x(ep)} cy={yT(traj.T[i])} r={3} style={{ fill: T_COLOR }} />
                  ) : null}
                  {isPos(traj.loss[i]) ? (
                    <circle cx={x(ep)} cy={yL(traj.loss[i])} r={3} style={{ fill: L_COLOR }} />
                  ) : null}
                </g>
              ))}
              {Number.isFinite(hx) && hoverIdx !== null ? (
                <g className="fm-guide">
                  <line x1={hx} x2={hx} y1={all.y0} y2={all.y1} />
                  {isPos(traj.T[hoverIdx]) ? (
                    <circle cx={hx} cy={yT(traj.T[hoverIdx])} r={5} style={{ fill: T_COLOR }} />
                  ) : null}
                  {isPos(traj.loss[hoverIdx]) ? (
                    <circle cx={hx} cy={yL(traj.loss[hoverIdx])} r={5} style={{ fill: L_COLOR }} />
                  ) : null}
                </g>
              ) : null}
              <text
                className="fm-annot"
                x={top.x1 - 6}
                y={top.y0 + 14}
                textAnchor="end"
                style={{ fill: T_COLOR }}
              >
                T, mean over modes {listText(traj.ranks)}
              </text>
              <text
                className="fm-annot"
                x={bottom.x1 - 6}
                y={bottom.y0 + 14}
                textAnchor="end"
                style={{ fill: L_COLOR }}
              >
                loss L
              </text>
            </g>
            <rect
              className="fm-overlay"
              x={all.x0}
              y={all.y0}
              width={all.x1 - all.x0}
              height={all.y1 - all.y0}
              onPointerMove={onMove}
              onPointerLeave={() => setHoverIdx(null)}
            />
          </>
        )}
      </svg>
    </div>
  );
}

export function TemperatureTrajectoryView() {
  const theory = useTheory('sgd');
  const active = useActiveRank();
  const setHover = useSelection((s) => s.setHover);
  const toggle = useSelection((s) => s.toggle);
  const [pointerDelta, setPointerDelta] = useState<number | null>(null);
  const [hoverIdx, setHoverIdx] = useState<number | null>(null);
  const traj = theory?.trajectory ?? null;
  const waitingNote =
    theory && !traj ? 'No checkpoints were kept for this run (needs 3 or more epochs)' : undefined;
  const profiles = useMemo(
    () => [...(traj?.profiles ?? [])].sort((a, b) => a.epoch - b.epoch),
    [traj],
  );
  const color = useMemo(() => epochScale(profiles), [profiles]);
  const rank = traj?.ranks[0];

  let readout: string;
  if (traj && hoverIdx !== null && hoverIdx < traj.epochs.length) {
    readout = `Epoch ${traj.epochs[hoverIdx]} (step ${fmtInt(traj.steps[hoverIdx])}): T = ${fmt(traj.T[hoverIdx])}, L = ${fmt(traj.loss[hoverIdx])}`;
  } else if (traj && pointerDelta !== null && profiles.length) {
    readout = `δθ = ${fmt(pointerDelta)} along mode ${rank}: ${profiles
      .map((p) => `epoch ${p.epoch} T = ${fmt(interpAt(p.deltas, p.T, pointerDelta))}`)
      .join(', ')}`;
  } else {
    readout = 'Hover either panel to read the temperature (and loss) of a checkpoint.';
  }

  let caption: ReactNode;
  if (traj && traj.epochs.length) {
    const first = profiles[0];
    const last = profiles[profiles.length - 1];
    const t0a = first ? interpAt(first.deltas, first.T, 0) : NaN;
    const t0b = last ? interpAt(last.deltas, last.T, 0) : NaN;
    const edge = (p: Profile | undefined) =>
      p && p.T.length > 1 ? (p.T[0] + p.T[p.T.length - 1]) / 2 : NaN;
    const ea = edge(first);
    const eb = edge(last);
    const n = traj.epochs.length;
    const Ta = traj.T[0];
    const Tb = traj.T[n - 1];
    const rCi = correlationInterval(traj.correlation, n);
    caption = (
      <>
        First panel: the active temperature along mode {rank} of the final window at epochs{' '}
        {listText(profiles.map((p) => p.epoch))}
        {first && last && first !== last && Number.isFinite(t0a) && Number.isFinite(t0b)
          ? `; near the solution (δθ = 0) it ${t0b < t0a ? 'cools' : 'changes'} from ${fmt(t0a)} at epoch ${first.epoch} to ${fmt(t0b)} at epoch ${last.epoch}${Number.isFinite(ea) && Number.isFinite(eb) ? `, while at the ends of the scan, where the loss is high, it ${eb > ea ? 'rises' : 'falls'} from ${fmt(ea)} to ${fmt(eb)}` : ''}`
          : ''}
        . Second panel: T at each checkpoint (mean over modes {listText(traj.ranks)}) and the loss L
        on the same minibatches: from epoch {traj.epochs[0]} to {traj.epochs[n - 1]} T goes from{' '}
        {fmt(Ta)} to {fmt(Tb)} as L {traj.loss[n - 1] < traj.loss[0] ? 'falls' : 'goes'} from{' '}
        {fmt(traj.loss[0])} to {fmt(traj.loss[n - 1])};{' '}
        <strong data-testid="temperature-loss-correlation" data-value={traj.correlation}>
          corr(T, L) = {fmtFixed(traj.correlation)}
        </strong>{' '}
        {Number.isFinite(rCi[0]) ? `(95% CI ${fmtDash(rCi, 2)}, Fisher z) ` : ''}over {n}{' '}
        checkpoints.{' '}
        {Tb < Ta && rCi[0] > 0
          ? 'SGD cools as it learns — a self-tuned annealing.'
          : Tb < Ta
            ? 'T ends lower than it starts, but over these checkpoints its tie to the loss is not resolved (the interval of the correlation includes 0 or cannot be formed).'
            : 'Here T does not fall from the first checkpoint to the last.'}
      </>
    );
  } else {
    caption = (
      <>
        First panel: the active temperature along a mode at a few epochs of training; second: T and
        the loss L at each checkpoint, with their correlation — SGD cools down as it learns.
      </>
    );
  }

  return (
    <FigureShell
      id="temperature-trajectory"
      title="Does SGD cool as it learns?"
      csv={
        traj
          ? () => ({
              header: [
                'series',
                'epoch',
                'step',
                'rank',
                'delta_theta',
                'T_active_temperature',
                'loss',
              ],
              rows: [
                ...traj.epochs.map((e, i) => [
                  'checkpoint',
                  e,
                  traj.steps[i],
                  traj.ranks.join(' '),
                  0,
                  traj.T[i],
                  traj.loss[i],
                ]),
                ...profiles.flatMap((p) =>
                  p.deltas.map((d, i) => ['profile', p.epoch, null, rank ?? null, d, p.T[i], null]),
                ),
              ],
            })
          : undefined
      }
      caption={caption}
      readout={readout}
      legend={
        profiles.length ? (
          <>
            {profiles.map((p) => (
              <span key={p.epoch} className="fm-legend-item">
                <Swatch color={color(p.epoch)} kind="line" /> epoch {p.epoch}
              </span>
            ))}
            <span className="fm-legend-item">
              <Swatch color={T_COLOR} kind="point" /> T
            </span>
            <span className="fm-legend-item">
              <Swatch color={L_COLOR} kind="point" /> L
            </span>
            {rank !== undefined ? (
              <button
                type="button"
                className={`fm-legend-item fm-legend-button${active === rank ? ' highlighted' : ''}`}
                onPointerEnter={() => setHover(rank)}
                onPointerLeave={() => setHover(null)}
                onClick={() => toggle(rank)}
                title="Click to pin this mode in every figure"
              >
                profiles along mode {rank}
              </button>
            ) : null}
          </>
        ) : (
          <span className="fm-legend-item fm-muted">
            {waitingNote
              ? 'No trajectory for this run'
              : 'T along the trajectory: waiting for the analysis…'}
          </span>
        )
      }
    >
      <div className="fm-panels">
        <ProfilesPanel
          traj={traj}
          waitingNote={waitingNote}
          active={active}
          pointerDelta={pointerDelta}
          setPointerDelta={setPointerDelta}
        />
        <SeriesPanel
          traj={traj}
          waitingNote={waitingNote}
          hoverIdx={hoverIdx}
          setHoverIdx={setHoverIdx}
        />
      </div>
    </FigureShell>
  );
}
