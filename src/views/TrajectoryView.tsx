/**
 * Figs. 1C/2C: the weight trajectory projected on pairs of PCA modes, coloured by time:
 * θ₁ vs θ₂ (drift against the largest diffusive mode) and θᵢ vs θⱼ for two chosen modes.
 */
import { useId, useMemo, useRef, useState, type PointerEvent as ReactPointerEvent } from 'react';
import { line, scaleLinear, scaleSequential } from 'd3';
import type { AnalysisResult } from '../engine/experiments/analysis';
import { useRun } from '../state/runStore';
import { useSelection } from '../state/selectionStore';
import {
  RUN_LABEL,
  WAITING_PCA,
  fmt,
  fmtInt,
  linExtent,
  plotBox,
  presentRuns,
  sequentialInterpolator,
  svgPointer,
  useActiveRank,
  useNearest,
  useSize,
  type Margin,
  type RunId,
  type ScreenPoint,
} from './chart';
import {
  Axis,
  ChartSvg,
  ColorBar,
  EmptyState,
  FigureShell,
  Halo,
  PlotBackground,
} from './ChartParts';

const PANEL_MARGIN: Margin = { top: 34, right: 14, bottom: 46, left: 62 };

interface Traj {
  steps: number[];
  theta: number[][];
}

function Panel(props: {
  traj: Traj | null;
  i: number;
  j: number;
  active: number | null;
  title: string;
}) {
  const { traj, i, j, active } = props;
  const [ref, size] = useSize<HTMLDivElement>(0.9, 320, 24);
  const svgRef = useRef<SVGSVGElement>(null);
  const box = plotBox(size, PANEL_MARGIN);
  const setHover = useSelection((s) => s.setHover);
  const toggle = useSelection((s) => s.toggle);
  const [hoverIdx, setHoverIdx] = useState<number | null>(null);
  const xs = traj?.theta[i - 1];
  const ys = traj?.theta[j - 1];
  const has = !!traj && !!xs && !!ys && traj.steps.length > 0;

  const scales = useMemo(() => {
    const steps = traj?.steps ?? [0, 1];
    const t0 = steps[0] ?? 0;
    const t1 = steps[steps.length - 1] ?? 1;
    return {
      x: scaleLinear()
        .domain(linExtent(xs ?? [], 0.06) ?? [-1, 1])
        .range([box.x0, box.x1]),
      y: scaleLinear()
        .domain(linExtent(ys ?? [], 0.06) ?? [-1, 1])
        .range([box.y1, box.y0]),
      c: scaleSequential(sequentialInterpolator).domain([t0, t1 > t0 ? t1 : t0 + 1]),
    };
  }, [traj, xs, ys, box.x0, box.x1, box.y0, box.y1]);

  const pts = useMemo<ScreenPoint<number>[]>(() => {
    if (!has || !traj || !xs || !ys) return [];
    const n = Math.min(traj.steps.length, xs.length, ys.length);
    const out: ScreenPoint<number>[] = [];
    for (let k = 0; k < n; k++) {
      if (!Number.isFinite(xs[k]) || !Number.isFinite(ys[k])) continue;
      out.push({ x: scales.x(xs[k]), y: scales.y(ys[k]), datum: k });
    }
    return out;
  }, [has, traj, xs, ys, scales]);
  const path = useMemo(
    () =>
      line<ScreenPoint<number>>()
        .x((p) => p.x)
        .y((p) => p.y)(pts) ?? '',
    [pts],
  );
  const dots = useMemo(
    () =>
      traj
        ? pts.map((p) => (
            <circle
              key={p.datum}
              cx={p.x}
              cy={p.y}
              r={1.8}
              style={{ fill: scales.c(traj.steps[p.datum]) }}
            />
          ))
        : null,
    [pts, traj, scales],
  );
  const find = useNearest(pts, 20);
  const onMove = (e: ReactPointerEvent<SVGRectElement>) => {
    const p = svgPointer(e, svgRef.current);
    const hit = p ? find(p[0], p[1]) : null;
    setHoverIdx(hit ? hit.datum : null);
  };

  const axisActive = active !== null && (active === i || active === j);
  const hp = hoverIdx === null ? undefined : pts.find((p) => p.datum === hoverIdx);
  const label = has
    ? `${props.title}: trajectory in the plane of modes ${i} and ${j}, ${fmtInt(pts.length)} snapshots coloured by time.`
    : `${props.title}: waiting for the PCA window.`;
  const axisLabel = (r: number) => `θ${sub(r)} (projection on mode ${r})`;
  const steps = traj?.steps ?? [];
  return (
    <div
      className={`fm-panel${axisActive ? ' highlighted' : ''}`}
      data-ranks={`${i},${j}`}
      ref={ref}
    >
      <ChartSvg size={size} box={box} label={label} svgRef={svgRef}>
        {(clip) =>
          !has ? (
            <EmptyState box={box} text={WAITING_PCA} />
          ) : (
            <>
              <PlotBackground
                box={box}
                onPointerMove={onMove}
                onPointerLeave={() => setHoverIdx(null)}
              />
              <Axis
                scale={scales.x}
                side="bottom"
                box={box}
                label={axisLabel(i)}
                highlighted={active === i}
              />
              <Axis
                scale={scales.y}
                side="left"
                box={box}
                label={axisLabel(j)}
                highlighted={active === j}
              />
              <g clipPath={clip} pointerEvents="none">
                <path className="fm-traj-line" d={path} />
                {dots}
                {hp ? <Halo x={hp.x} y={hp.y} r={6} /> : null}
              </g>
              <ColorBar
                x={box.x0 + 4}
                y={12}
                width={Math.min(110, (box.x1 - box.x0) * 0.4)}
                domain={scales.c.domain() as [number, number]}
                interpolate={sequentialInterpolator}
                label="time"
                ends={['early', 'late']}
              />
              {/* Mode labels double as hover/click targets for the linked selection. */}
              <g className="fm-mode-tags">
                {[i, j].map((r, k) => (
                  <text
                    key={`${k}-${r}`}
                    className={`fm-mode-tag${active === r ? ' highlighted' : ''}`}
                    x={box.x1 - (k === 0 ? 60 : 4)}
                    y={22}
                    textAnchor="end"
                    onPointerEnter={() => setHover(r)}
                    onPointerLeave={() => setHover(null)}
                    onClick={() => toggle(r)}
                  >
                    mode {r}
                  </text>
                ))}
              </g>
            </>
          )
        }
      </ChartSvg>
      <div className="fm-panel-readout">
        {hp && xs && ys
          ? `step ${fmtInt(steps[hp.datum])}: θ${sub(i)} = ${fmt(xs[hp.datum])}, θ${sub(j)} = ${fmt(ys[hp.datum])}`
          : '\u00a0'}
      </div>
    </div>
  );
}

const SUB_DIGITS = '₀₁₂₃₄₅₆₇₈₉';
function sub(n: number): string {
  return String(n).replace(/\d/g, (c) => SUB_DIGITS[Number(c)]);
}

export function TrajectoryView() {
  const results = useRun((s) => s.results);
  const active = useActiveRank();
  const runs = useMemo(() => presentRuns(results), [results]);
  const [runChoice, setRunChoice] = useState<RunId>('sgd');
  const chosen: { run: RunId; result: AnalysisResult } | undefined =
    runs.find((r) => r.run === runChoice) ?? runs[0];
  const traj = chosen?.result.trajectory ?? null;
  const rows = traj?.theta.length ?? 0;
  const [iSel, setI] = useState(2);
  const [jSel, setJ] = useState<number | null>(null);
  const maxRow = Math.max(rows, 2);
  const i = Math.min(iSel, maxRow);
  const j = Math.min(jSel ?? Math.min(10, maxRow), maxRow);
  const idI = useId();
  const idJ = useId();
  const idRun = useId();
  const options = Array.from({ length: Math.max(rows, 10) }, (_, k) => k + 1);

  const drift =
    traj && traj.theta.length >= 2 ? spread(traj.theta[0]) / spread(traj.theta[1]) : NaN;
  const caption = traj ? (
    <>
      The {RUN_LABEL[chosen?.run ?? 'sgd']} trajectory of W2 over the window, projected on pairs of
      PCA modes and coloured from early to late. Along mode 1 the weights drift steadily (its range
      is {fmt(drift)}× that of mode 2); the other modes wander back and forth like random walks.
    </>
  ) : (
    <>
      The trajectory of W2 over the window, projected on pairs of PCA modes and coloured from early
      to late: a steady drift along mode 1, random walks along the others.
    </>
  );
  return (
    <FigureShell
      id="trajectory"
      title="The trajectory in mode space"
      csv={
        traj && chosen
          ? () => ({
              header: ['run', 'step', ...traj.theta.map((_, k) => `theta_${k + 1}`)],
              rows: traj.steps.map((step, t) => [
                chosen.run,
                step,
                ...traj.theta.map((row) => row[t]),
              ]),
            })
          : undefined
      }
      caption={caption}
      readout={
        active !== null && (active === i || active === j || active <= 2)
          ? `Mode ${active} is highlighted in this view.`
          : 'Hover the points of a panel to read the step and coordinates; pick the modes of the right panel above.'
      }
      controls={
        <>
          <label htmlFor={idI}>horizontal mode i</label>
          <select
            id={idI}
            value={i}
            disabled={!traj}
            onChange={(e) => setI(Number(e.target.value))}
          >
            {options.map((r) => (
              <option key={r} value={r} disabled={r > rows}>
                {r}
              </option>
            ))}
          </select>
          <label htmlFor={idJ}>vertical mode j</label>
          <select
            id={idJ}
            value={j}
            disabled={!traj}
            onChange={(e) => setJ(Number(e.target.value))}
          >
            {options.map((r) => (
              <option key={r} value={r} disabled={r > rows}>
                {r}
              </option>
            ))}
          </select>
          {runs.length > 1 ? (
            <>
              <label htmlFor={idRun}>run</label>
              <select
                id={idRun}
                value={chosen?.run}
                onChange={(e) => setRunChoice(e.target.value === 'langevin' ? 'langevin' : 'sgd')}
              >
                {runs.map((r) => (
                  <option key={r.run} value={r.run}>
                    {RUN_LABEL[r.run]}
                  </option>
                ))}
              </select>
            </>
          ) : null}
        </>
      }
    >
      <div className="fm-panels">
        <Panel traj={traj} i={1} j={2} active={active} title="Drift mode 1 against mode 2" />
        <Panel traj={traj} i={i} j={j} active={active} title={`Mode ${i} against mode ${j}`} />
      </div>
    </FigureShell>
  );
}

function spread(v: readonly number[]): number {
  let lo = Infinity;
  let hi = -Infinity;
  for (const x of v) {
    if (!Number.isFinite(x)) continue;
    lo = Math.min(lo, x);
    hi = Math.max(hi, x);
  }
  return hi - lo;
}
