/**
 * Figs. 1C/2C: the weight trajectory projected on pairs of PCA modes, coloured by time:
 * θ₁ vs θ₂ (drift against the largest diffusive mode) and θᵢ vs θⱼ for two chosen modes.
 */
import {
  useEffect,
  useId,
  useMemo,
  useRef,
  useState,
  type PointerEvent as ReactPointerEvent,
} from 'react';
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
import './trajectory.css';

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
  /** Snapshots replayed so far (the timeline); the whole window when null. */
  upto: number | null;
}) {
  const { traj, i, j, active, upto } = props;
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
    const n = Math.min(traj.steps.length, xs.length, ys.length, upto ?? Infinity);
    const out: ScreenPoint<number>[] = [];
    for (let k = 0; k < n; k++) {
      if (!Number.isFinite(xs[k]) || !Number.isFinite(ys[k])) continue;
      out.push({ x: scales.x(xs[k]), y: scales.y(ys[k]), datum: k });
    }
    return out;
  }, [has, traj, xs, ys, scales, upto]);
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
  const hp =
    hoverIdx === null
      ? upto !== null
        ? pts[pts.length - 1]
        : undefined
      : pts.find((p) => p.datum === hoverIdx);
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
  const timeline = useTimeline(traj?.steps.length ?? 0);

  const drift =
    traj && traj.theta.length >= 2 ? spread(traj.theta[0]) / spread(traj.theta[1]) : NaN;
  const caption = traj ? (
    <>
      The {RUN_LABEL[chosen?.run ?? 'sgd']} trajectory of W2 over the window, projected on pairs of
      PCA modes and coloured from early to late. The range along mode 1 is {fmt(drift)}× that along
      mode 2; in the paper mode 1 is a steady drift and the other modes wander back and forth like
      random walks.
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
        <Panel
          traj={traj}
          i={1}
          j={2}
          active={active}
          title="Drift mode 1 against mode 2"
          upto={timeline.upto}
        />
        <Panel
          traj={traj}
          i={i}
          j={j}
          active={active}
          title={`Mode ${i} against mode ${j}`}
          upto={timeline.upto}
        />
      </div>
      {traj && traj.steps.length > 1 ? (
        <Timeline traj={traj} modes={[1, 2, i, j]} timeline={timeline} />
      ) : null}
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

/** Milliseconds per replay tick; a whole window replays in about 100 ticks. */
const TICK_MS = 60;

interface TimelineState {
  /** Snapshots shown (1…n); null: the whole window, no replay. */
  upto: number | null;
  playing: boolean;
  n: number;
  set: (k: number | null) => void;
  play: () => void;
  pause: () => void;
  step: () => void;
}

/**
 * The replay of the PCA window: the points drawn so far. Nothing is recomputed: the panels draw
 * a prefix of the projections the analysis already sent.
 */
function useTimeline(n: number): TimelineState {
  // Keyed by the window's length: a new trajectory (a new run) starts whole, not mid-replay.
  const [state, setState] = useState<{ n: number; upto: number | null; playing: boolean }>({
    n,
    upto: null,
    playing: false,
  });
  const cur = state.n === n ? state : { n, upto: null, playing: false };
  const per = Math.max(1, Math.ceil(n / 100));
  const playing = cur.playing;
  useEffect(() => {
    if (!playing) return;
    const id = setInterval(() => {
      setState((s) => {
        const upto = Math.min(n, (s.upto ?? 0) + per);
        return { n, upto, playing: upto < n };
      });
    }, TICK_MS);
    return () => clearInterval(id);
  }, [playing, n, per]);
  const clamp = (k: number) => Math.max(1, Math.min(n, k));
  return {
    upto: cur.upto,
    playing,
    n,
    set: (k) => setState({ n, upto: k === null ? null : clamp(k), playing: false }),
    // From the start when the replay is over (or was never begun).
    play: () =>
      setState({ n, upto: cur.upto === null || cur.upto >= n ? 1 : cur.upto, playing: true }),
    pause: () => setState({ ...cur, playing: false }),
    step: () =>
      setState({ n, upto: cur.upto === null || cur.upto >= n ? 1 : cur.upto + 1, playing: false }),
  };
}

/** Variance of the first k values. */
function prefixVariance(v: readonly number[], k: number): number {
  const xs = v.slice(0, k).filter(Number.isFinite);
  if (xs.length < 2) return NaN;
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  return xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1);
}

function Timeline(props: { traj: Traj; modes: number[]; timeline: TimelineState }) {
  const { traj, timeline: t } = props;
  const id = useId();
  const k = t.upto ?? t.n;
  const modes = [...new Set(props.modes)].filter((r) => r >= 1 && r <= traj.theta.length);
  const grown =
    k < 2
      ? 'a variance needs two snapshots'
      : modes
          .map((r) => {
            const part = prefixVariance(traj.theta[r - 1], k);
            const whole = prefixVariance(traj.theta[r - 1], t.n);
            return `σ${sub(r)}² ${fmt(part)} (${Math.round((100 * part) / whole)}%)`;
          })
          .join(', ');
  return (
    <div className="fm-timeline" data-testid="trajectory-timeline">
      <button
        type="button"
        onClick={t.playing ? t.pause : t.play}
        aria-label={t.playing ? 'Pause the replay' : 'Play the window from its start'}
      >
        {t.playing ? 'Pause' : 'Play'}
      </button>
      <button type="button" onClick={t.step} aria-label="Step one snapshot">
        Step
      </button>
      <label htmlFor={id}>snapshot</label>
      <input
        id={id}
        type="range"
        min={1}
        max={t.n}
        value={k}
        onChange={(e) => t.set(Number(e.target.value))}
        aria-valuetext={`step ${fmtInt(traj.steps[k - 1])}, ${k} of ${t.n} snapshots`}
      />
      {t.upto !== null ? (
        <button type="button" onClick={() => t.set(null)}>
          Whole window
        </button>
      ) : null}
      <span className="fm-timeline-readout" role="status">
        Step {fmtInt(traj.steps[k - 1])} ({fmtInt(k)} of {fmtInt(t.n)} drawn snapshots). Variance so
        far along the modes shown, as a share of the whole window&rsquo;s: {grown}.
      </span>
    </div>
  );
}
