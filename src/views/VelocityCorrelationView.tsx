/**
 * The normalised velocity autocorrelation C_i(s) = ⟨v_i(t)v_i(t+s)⟩/D_i against the lag s (in
 * SGD steps) for the few modes that carry it (2, 10, 50): the zero line and each curve's first
 * zero. The negative values are the anticorrelations that make τ_i small (SCIENCE.md, Fig. 3).
 */
import { useId, useMemo, useRef, useState, type PointerEvent as ReactPointerEvent } from 'react';
import { area, line, scaleLinear } from 'd3';
import type { ModeTheory, TheoryResult } from '../engine/experiments/analysis';
import { useRun } from '../state/runStore';
import { useSelection } from '../state/selectionStore';
import {
  RUN_LABEL,
  fmt,
  fmtFixed,
  fmtInt,
  linExtent,
  plotBox,
  svgPointer,
  useActiveRank,
  useRankEvents,
  useSize,
  type RunId,
} from './chart';
import { Axis, ChartSvg, FigureShell, PlotBackground } from './ChartParts';
import { lagsWithinBand } from './claimsText';
import {
  HINT_CURVES,
  ModeLegend,
  TheoryEmpty,
  listText,
  modeColor,
  sub,
  useTheory,
} from './theoryParts';
import './profiles.css';

interface Curve {
  rank: number;
  mode: ModeTheory;
  color: string;
  /** First zero crossing of C, in steps (linear interpolation), or NaN. */
  zero: number;
}

/** Where C first reaches zero (lags in snapshots; linear interpolation), or NaN. */
function firstZero(C: readonly number[]): number {
  for (let s = 1; s < C.length; s++) {
    if (C[s] <= 0) {
      const a = C[s - 1];
      const b = C[s];
      return a === b ? s : s - 1 + a / (a - b);
    }
  }
  return NaN;
}

const LAG_CHOICES = [10, 20, 80] as const;
/** Two-sided 95% quantile of the normal distribution. */
const Z95 = 1.96;

/** Half-width of the 95% range of C(s) for n uncorrelated velocities (NaN when undefined). */
function noiseAt(n: number, s: number): number {
  return n - s > 0 ? Z95 / Math.sqrt(n - s) : NaN;
}

export function VelocityCorrelationView() {
  const sgdTheory = useTheory('sgd');
  const langTheory = useTheory('langevin');
  const hasLangevin = useRun((s) => !!s.results.langevin);
  const sgdSnapshots = useRun((s) => s.results.sgd?.snapshots ?? 0);
  const langSnapshots = useRun((s) => s.results.langevin?.snapshots ?? 0);
  const active = useActiveRank();
  const setHover = useSelection((s) => s.setHover);
  const toggle = useSelection((s) => s.toggle);
  const [runChoice, setRunChoice] = useState<RunId>('sgd');
  const [lagChoice, setLagChoice] = useState<number | 'all'>(20);
  const [pointerLag, setPointerLag] = useState<number | null>(null);
  const [frameRef, size] = useSize<HTMLDivElement>(0.6);
  const svgRef = useRef<SVGSVGElement>(null);
  const box = plotBox(size);
  const idRun = useId();
  const idLag = useId();

  const available: { run: RunId; theory: TheoryResult }[] = [];
  if (sgdTheory) available.push({ run: 'sgd', theory: sgdTheory });
  if (langTheory) available.push({ run: 'langevin', theory: langTheory });
  const chosen = available.find((a) => a.run === runChoice) ?? available[0];
  const theory = chosen?.theory;
  const dt = theory && theory.stepEvery > 0 ? theory.stepEvery : 1;

  const curves = useMemo<Curve[]>(() => {
    if (!theory) return [];
    const withC = theory.modes.filter((m) => m.C.length > 1).sort((a, b) => a.rank - b.rank);
    const ranks = withC.map((m) => m.rank);
    return withC.map((m) => ({
      rank: m.rank,
      mode: m,
      color: modeColor(ranks, m.rank),
      zero: firstZero(m.C) * dt,
    }));
  }, [theory, dt]);
  const has = curves.length > 0;
  const storedLags = curves.reduce((a, c) => Math.max(a, c.mode.C.length - 1), 0);
  const maxLag = lagChoice === 'all' ? storedLags : Math.min(storedLags, lagChoice);
  // Velocities in the window: C(s) of uncorrelated velocities scatters by ±1.96/√(n − s).
  const nVel = !chosen ? 0 : (chosen.run === 'sgd' ? sgdSnapshots : langSnapshots) - 1;

  const { x, y } = useMemo(() => {
    const vals: number[] = [1];
    for (const c of curves)
      for (let s = 0; s <= maxLag && s < c.mode.C.length; s++) vals.push(c.mode.C[s]);
    const [lo] = linExtent(vals, 0) ?? [-0.2, 1];
    const span = 1 - Math.min(0, lo);
    return {
      x: scaleLinear()
        .domain([0, Math.max(1, maxLag * dt)])
        .range([box.x0, box.x1]),
      y: scaleLinear()
        .domain([Math.min(0, lo) - 0.06 * span, 1 + 0.06 * span])
        .range([box.y1, box.y0]),
    };
  }, [curves, maxLag, dt, box.x0, box.x1, box.y0, box.y1]);

  const paths = useMemo(
    () =>
      curves.map((c) => ({
        ...c,
        d:
          line<number>()
            .defined((v) => Number.isFinite(v))
            .x((_, s) => x(s * dt))
            .y((v) => y(v))(c.mode.C.slice(0, maxLag + 1)) ?? '',
      })),
    [curves, x, y, maxLag, dt],
  );
  const band = useMemo(() => {
    const lags = Array.from({ length: maxLag + 1 }, (_, k) => k).filter((k) =>
      Number.isFinite(noiseAt(nVel, k)),
    );
    return (
      area<number>()
        .x((k) => x(k * dt))
        .y0((k) => y(-noiseAt(nVel, k)))
        .y1((k) => y(noiseAt(nVel, k)))(lags) ?? ''
    );
  }, [maxLag, nVel, x, y, dt]);
  const events = useRankEvents();
  const activeIn = active !== null && curves.some((c) => c.rank === active);
  // The active curve last, so it is drawn on top.
  const ordered = activeIn
    ? [...paths.filter((p) => p.rank !== active), ...paths.filter((p) => p.rank === active)]
    : paths;

  const lagIndex = (px: number) => Math.round(x.invert(px) / dt);
  const onMove = (e: ReactPointerEvent<SVGElement>) => {
    const pt = svgPointer(e, svgRef.current);
    if (!pt) return;
    const s = Math.max(0, Math.min(maxLag, lagIndex(pt[0])));
    setPointerLag(s);
    let best: { rank: number; dist: number } | null = null;
    for (const c of curves) {
      const v = c.mode.C[s];
      if (!Number.isFinite(v)) continue;
      const dist = Math.abs(y(v) - pt[1]);
      if (dist < 14 && (!best || dist < best.dist)) best = { rank: c.rank, dist };
    }
    const r = best ? best.rank : null;
    if (useSelection.getState().hoverRank !== r) setHover(r);
  };
  const onLeave = () => {
    setPointerLag(null);
    if (useSelection.getState().hoverRank !== null) setHover(null);
  };

  const activeCurve = activeIn ? curves.find((c) => c.rank === active) : undefined;
  let readout: string;
  if (pointerLag !== null && has) {
    readout = `lag s = ${fmtInt(pointerLag * dt)} step${pointerLag * dt === 1 ? '' : 's'}: ${curves
      .map((c) => `C${sub(c.rank)} = ${fmtFixed(c.mode.C[pointerLag] ?? NaN, 3)}`)
      .join(', ')}`;
  } else if (activeCurve) {
    const m = activeCurve.mode;
    readout = `Mode ${m.rank}: C(${dt}) = ${fmtFixed(m.C[1] ?? NaN, 3)}, first zero at s = ${fmt(activeCurve.zero)} steps; τᵢₙₜ = ${fmt(m.tauIntegral)}, τ = ${fmt(m.tau)} steps, D = ${fmt(m.D)}, F = ${fmt(m.flatness)}`;
  } else {
    readout = HINT_CURVES;
  }

  const ranks = curves.map((c) => c.rank);
  const runLabel = chosen ? RUN_LABEL[chosen.run] : 'SGD';
  const noise1 = noiseAt(nVel, 1);
  const sigAt1 = curves.filter((c) => (c.mode.C[1] ?? NaN) < -noise1);
  const example = curves[curves.length - 1]?.mode;
  const within = lagsWithinBand(
    curves.map((c) => c.mode.C),
    (k) => noiseAt(nVel, k),
  );
  const confined = curves.filter((c) => c.mode.tau < c.mode.tauIntegral / 3);
  const caption = has ? (
    <>
      Normalised velocity autocorrelation Cᵢ(s) = ⟨vᵢ(t)vᵢ(t+s)⟩/Dᵢ of modes {listText(ranks)} (
      {runLabel}), against the lag s in steps. It drops from 1 to zero within{' '}
      {fmt(Math.max(...curves.map((c) => (Number.isFinite(c.zero) ? c.zero : 0))))} step(s) (first
      zeros, ticks: {curves.map((c) => `s = ${fmt(c.zero)}`).join(', ')})
      {nVel > 1 && curves.every((c) => Math.abs(c.mode.C[1] ?? NaN) <= noise1)
        ? ': each step is nearly independent of the last'
        : ''}
      .{' '}
      {nVel > 1 ? (
        <>
          Shaded: the 95% range of C for uncorrelated velocities over n = {fmtInt(nVel)} steps (±
          {fmtFixed(noise1, 2)} at s = 1).{' '}
        </>
      ) : null}
      C({fmtInt(dt)}) = {curves.map((c) => fmtFixed(c.mode.C[1] ?? NaN, 2)).join(', ')}
      {sigAt1.length
        ? `; mode${sigAt1.length > 1 ? 's' : ''} ${listText(sigAt1.map((c) => c.rank))} below that range: a step one way tends to be followed by a step back`
        : ''}
      .{' '}
      {within.total
        ? `${within.inside} of ${within.total} single lags from s = ${fmtInt(2 * dt)} on lie within the shaded range${within.inside > within.total / 2 ? '' : ', fewer than half'}. `
        : ''}
      {confined.length === 0
        ? 'Here τᵢ (Eq. 13) is not below the free-walk value τᵢ,int/3 in any of these modes'
        : `${confined.length === curves.length ? 'In every one of these modes' : `In ${confined.length} of these ${curves.length} modes`} τᵢ (Eq. 13) is below the free-walk value τᵢ,int/3: the negative correlations add up over many lags and the weights are confined`}
      {example
        ? ` — for mode ${example.rank}, τ = ${fmt(example.tau)} against ${fmt(example.tauIntegral / 3)} steps`
        : ''}
      .
    </>
  ) : (
    <>
      Normalised velocity autocorrelation Cᵢ(s) = ⟨vᵢ(t)vᵢ(t+s)⟩/Dᵢ of a few modes against the lag s
      (steps): it drops to zero within a step or so; its negative values at longer lags confine the
      weights and keep τᵢ small.
    </>
  );
  const ariaLabel = has
    ? `Velocity autocorrelation of modes ${listText(ranks)} against lag, up to ${fmtInt(maxLag * dt)} steps; first zeros at ${curves.map((c) => fmt(c.zero)).join(', ')} steps.`
    : 'Velocity autocorrelation: waiting for the analysis.';
  const emptyNote = theory && !has ? 'This analysis kept no correlation functions' : undefined;

  return (
    <FigureShell
      id="velocity-correlation"
      title="Velocity correlations: are the steps anticorrelated?"
      csv={
        has && chosen
          ? () => ({
              header: ['run', 'rank', 'lag_steps', 'C_normalised', 'noise_95_halfwidth'],
              rows: curves.flatMap((c) =>
                c.mode.C.map((v, s) => [chosen.run, c.rank, s * dt, v, noiseAt(nVel, s)]),
              ),
            })
          : undefined
      }
      caption={caption}
      readout={readout}
      frameRef={frameRef}
      controls={
        <>
          <label htmlFor={idLag}>lags shown</label>
          <select
            id={idLag}
            value={lagChoice === 'all' || lagChoice >= storedLags ? 'all' : lagChoice}
            disabled={!has}
            onChange={(e) =>
              setLagChoice(e.target.value === 'all' ? 'all' : Number(e.target.value))
            }
          >
            {LAG_CHOICES.filter((l) => !has || l < storedLags).map((l) => (
              <option key={l} value={l}>
                first {l}
              </option>
            ))}
            <option value="all">all{has ? ` (${storedLags})` : ''}</option>
          </select>
          {available.length > 1 || hasLangevin ? (
            <>
              <label htmlFor={idRun}>run</label>
              <select
                id={idRun}
                value={chosen?.run ?? 'sgd'}
                disabled={available.length < 2}
                onChange={(e) => setRunChoice(e.target.value === 'langevin' ? 'langevin' : 'sgd')}
              >
                {(['sgd', 'langevin'] as const).map((r) => (
                  <option key={r} value={r} disabled={!available.some((a) => a.run === r)}>
                    {RUN_LABEL[r]}
                  </option>
                ))}
              </select>
            </>
          ) : null}
        </>
      }
      legend={
        has ? (
          <ModeLegend
            active={active}
            items={curves.map((c) => ({
              rank: c.rank,
              color: c.color,
              text: `mode ${c.rank}, F = ${fmt(c.mode.flatness)}`,
            }))}
          />
        ) : (
          <span className="fm-legend-item fm-muted">C(s): waiting for the analysis…</span>
        )
      }
    >
      <ChartSvg size={size} box={box} label={ariaLabel} svgRef={svgRef}>
        {(clip) =>
          !has ? (
            <TheoryEmpty box={box} note={emptyNote} />
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
              <Axis scale={x} side="bottom" box={box} label="lag s (SGD steps)" />
              <Axis scale={y} side="left" box={box} label="velocity correlation Cᵢ(s)" />
              <g clipPath={clip}>
                <path className="fm-noise-band" d={band} pointerEvents="none" />
                <line
                  className="fm-ref"
                  x1={box.x0}
                  x2={box.x1}
                  y1={y(0)}
                  y2={y(0)}
                  pointerEvents="none"
                />
                {pointerLag !== null ? (
                  <g className="fm-guide" pointerEvents="none">
                    <line x1={x(pointerLag * dt)} x2={x(pointerLag * dt)} y1={box.y0} y2={box.y1} />
                  </g>
                ) : null}
                <g className="fm-curves" {...events} onPointerMove={onMove}>
                  {ordered.map((c) => (
                    <path
                      key={c.rank}
                      className={`fm-profile fm-thin${c.rank === active ? ' highlighted' : activeIn ? ' fm-dim' : ''}`}
                      data-rank={c.rank}
                      data-run={chosen?.run}
                      d={c.d}
                      style={{ stroke: c.color }}
                    />
                  ))}
                </g>
                {ordered.map((c) =>
                  Number.isFinite(c.zero) && c.zero <= maxLag * dt ? (
                    <g key={`z-${c.rank}`} className="fm-zero-mark" pointerEvents="none">
                      <line
                        x1={x(c.zero)}
                        x2={x(c.zero)}
                        y1={y(0) - 7}
                        y2={y(0) + 7}
                        style={{ stroke: c.color }}
                      />
                      <circle cx={x(c.zero)} cy={y(0)} r={3} style={{ fill: c.color }} />
                    </g>
                  ) : null,
                )}
                {activeCurve && Number.isFinite(activeCurve.zero) ? (
                  <text
                    className="fm-annot"
                    x={x(activeCurve.zero) + 8}
                    y={y(0) + 18}
                    pointerEvents="none"
                  >
                    first zero, s = {fmt(activeCurve.zero)}
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
