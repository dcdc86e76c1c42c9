/**
 * Fig. 4B/D: where task-2 training moved W2, mode by mode. For one seed, the displacement
 * (w_end − w1*)·p_i along each task-1 PCA mode p_i at the end of task 2, for no constraint,
 * LDC and EWC at the shown settings, against ±F_i (the flatness of task 1's loss along that
 * mode, shaded). LDC's penalty is λ·Σ_{i≤N_c} (Δθ_i/F_i)², so it keeps Δθ_i small against F_i
 * along the constrained modes; EWC weighs single weights, not modes.
 *
 * The y axis is symmetric-log (linear near zero, logarithmic beyond), so small and large
 * displacements of either sign show together.
 */
import { useId, useMemo, useRef, useState, type PointerEvent as ReactPointerEvent } from 'react';
import { area, scaleLog, scaleSymlog, type NumberValue } from 'd3';
import type { Method, RunResult } from '../engine/forgetting';
import { useForgetting } from '../state/forgettingStore';
import { fmt, plotBox, svgPointer, useSize } from './chart';
import { Axis, ChartSvg, EmptyState, FigureShell, Swatch } from './ChartParts';
import {
  METHODS,
  METHOD_COLOR,
  METHOD_LABEL,
  sameSetting,
  settingLabel,
  settingShort,
  type Setting,
} from '../state/forgettingData';
import { useForgettingStats } from './forgettingParts';
import './curves.css';

const SHAPE: Record<Method, (x: number, y: number) => string> = {
  none: (x, y) => `M${x - 3.5},${y - 3.5}h7v7h-7Z`,
  ldc: (x, y) => `M${x + 4},${y}A4,4 0 1 1 ${x - 4},${y}A4,4 0 1 1 ${x + 4},${y}Z`,
  ewc: (x, y) => `M${x},${y - 4.5}L${x + 4.5},${y + 3.5}L${x - 4.5},${y + 3.5}Z`,
};

/** Tick values of a symlog axis: 0 and ±1, 2, 5 × 10^k above the linear region. */
function symlogTicks(max: number, constant: number): number[] {
  const out = [0];
  const lo = Math.floor(Math.log10(Math.max(constant, 1e-12)));
  const hi = Math.ceil(Math.log10(Math.max(max, constant * 10)));
  const decades = hi - lo;
  for (let e = lo; e <= hi; e++)
    for (const m of decades > 3 ? [1] : [1, 3]) {
      const v = m * 10 ** e;
      if (v >= constant && v <= max) out.push(v, -v);
    }
  return out.sort((a, b) => a - b);
}

export function ModeDisplacementView() {
  const task1 = useForgetting((s) => s.task1);
  const seedChoice = useForgetting((s) => s.displacementSeed);
  const setSeed = useForgetting((s) => s.setDisplacementSeed);
  const { runs, chosen } = useForgettingStats();
  const [frameRef, size] = useSize<HTMLDivElement>(0.62);
  const svgRef = useRef<SVGSVGElement>(null);
  const box = plotBox(size, { top: 14, right: 16, bottom: 46, left: 66 });
  const [hoverRank, setHoverRank] = useState<number | null>(null);
  const seedId = useId();

  const seeds = useMemo(
    () => task1.map((r) => r.seed).filter((s) => runs.some((r) => r.seed === s)),
    [task1, runs],
  );
  const seed = seedChoice !== null && seeds.includes(seedChoice) ? seedChoice : (seeds[0] ?? null);
  const report = task1.find((r) => r.seed === seed) ?? null;

  const shown = useMemo(() => {
    const out: { method: Method; setting: Setting; run: RunResult }[] = [];
    if (seed === null) return out;
    for (const m of METHODS) {
      const s = chosen[m];
      // The chosen setting's run on this seed, else (while the sweep is under way) the best
      // finished one of this method on this seed.
      const run =
        (s && runs.find((r) => r.seed === seed && sameSetting(r, s))) ??
        runs.find((r) => r.seed === seed && r.method === m);
      if (run) out.push({ method: m, setting: run, run });
    }
    return out;
  }, [runs, chosen, seed]);

  const modes = useMemo(() => {
    const n = Math.max(0, ...shown.map((s) => s.run.displacement.length));
    return report ? report.modes.slice(0, n) : [];
  }, [report, shown]);
  const has = shown.length > 0 && modes.length > 0;

  const { x, y, constant } = useMemo(() => {
    const vals: number[] = [];
    for (const s of shown)
      for (const d of s.run.displacement) if (Number.isFinite(d)) vals.push(Math.abs(d));
    for (const m of modes) if (Number.isFinite(m.flatness)) vals.push(m.flatness);
    const max = Math.max(1e-6, ...vals);
    const positive = vals.filter((v) => v > 0).sort((a, b) => a - b);
    // The linear region: about the smallest tenth of the values, at least max/10⁴.
    const c = Math.max(max / 1e4, positive[Math.floor(positive.length * 0.1)] ?? max / 100);
    const lim = max * 1.3;
    const yScale = scaleSymlog().constant(c).domain([-lim, lim]).range([box.y1, box.y0]);
    const t = symlogTicks(lim, c);
    return {
      x: scaleLog()
        .domain([0.8, Math.max(2, modes.length) * 1.15])
        .range([box.x0, box.x1]),
      // d3's axis asks the scale for its ticks: these are the decades, not linear ticks.
      y: Object.assign(yScale, { ticks: () => t }),
      constant: c,
    };
  }, [shown, modes, box.x0, box.x1, box.y0, box.y1]);

  const bound = useMemo(() => {
    const pts = modes.filter((m) => Number.isFinite(m.flatness) && m.flatness > 0);
    return {
      d:
        area<(typeof pts)[number]>()
          .x((m) => x(m.rank))
          .y0((m) => y(-m.flatness))
          .y1((m) => y(m.flatness))(pts) ?? '',
      n: pts.length,
    };
  }, [modes, x, y]);

  const outside = (r: RunResult) =>
    r.displacement.filter((d, i) => {
      const F = modes[i]?.flatness;
      return F !== undefined && Number.isFinite(F) && Math.abs(d) > F;
    }).length;
  const ldcNc = shown.find((s) => s.method === 'ldc')?.run.nc ?? null;

  const onMove = (e: ReactPointerEvent<SVGRectElement>) => {
    const p = svgPointer(e, svgRef.current);
    if (!p || !modes.length) return setHoverRank(null);
    const r = Math.round(x.invert(p[0]));
    setHoverRank(r >= 1 && r <= modes.length ? r : null);
  };
  const hm = hoverRank !== null ? modes[hoverRank - 1] : undefined;
  const readout = hm
    ? `Mode ${hm.rank}${hm.rank === 1 ? ' (drift)' : ''}: F = ${fmt(hm.flatness)}${hm.source === 'fit' ? ' (from the σ²–F line)' : ''}, σ² = ${fmt(hm.variance)}; displacement ${shown
        .map((s) => `${METHOD_LABEL[s.method]} ${fmt(s.run.displacement[hm.rank - 1] ?? NaN)}`)
        .join(', ')}`
    : 'Hover the plot to read the displacement along a mode and its flatness.';
  const fitted = modes.filter((m) => m.source === 'fit').length;
  const caption = has ? (
    <>
      Displacement of W2 along each task-1 PCA mode p<sub>i</sub> at the end of task 2, (w − w1*)·p
      <sub>i</sub>, seed {seed}; shaded: ±F<sub>i</sub>, the flatness of task 1&rsquo;s loss along
      the mode (symmetric log scale). Modes moved by more than F<sub>i</sub>, of {modes.length}:{' '}
      {shown.map((s) => `${settingShort(s.setting)}: ${outside(s.run)}`).join(', ')}.
      {ldcNc !== null && ldcNc <= modes.length ? ` LDC constrains ranks 1–${ldcNc}.` : ''}
      {fitted
        ? ` F of ${fitted} mode${fitted === 1 ? '' : 's'} (e.g. the drift mode, whose profile has no minimum) is read off the σ²–F line.`
        : ''}
    </>
  ) : (
    <>
      Displacement of W2 along each task-1 PCA mode at the end of task 2, against ±F<sub>i</sub>,
      the flatness of task 1&rsquo;s loss along that mode; appears after the first task-2 runs.
    </>
  );
  const ariaLabel = has
    ? `Displacement along the task-1 modes, seed ${seed}. Modes moved by more than F: ${shown.map((s) => `${METHOD_LABEL[s.method]} ${outside(s.run)}`).join(', ')} of ${modes.length}.`
    : 'Displacement along the task-1 modes: waiting for the sweep.';
  const fmtTick = (d: NumberValue) => {
    const v = Number(d);
    return v === 0 ? '0' : fmt(v);
  };

  return (
    <FigureShell
      id="forgetting-displacement"
      title="Displacement along the task-1 modes"
      controls={
        seeds.length > 1 ? (
          <label htmlFor={seedId}>
            Seed{' '}
            <select
              id={seedId}
              value={seed ?? ''}
              onChange={(e) => setSeed(Number(e.target.value))}
            >
              {seeds.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          </label>
        ) : null
      }
      csv={
        has
          ? () => ({
              header: [
                'seed',
                'rank',
                'variance_sigma2',
                'flatness_F',
                'flatness_source',
                'method',
                'lambda',
                'nc',
                'displacement',
              ],
              rows: shown.flatMap((s) =>
                modes.map((m, i) => [
                  seed,
                  m.rank,
                  m.variance,
                  m.flatness,
                  m.source,
                  s.method,
                  s.run.lambda,
                  s.run.nc,
                  s.run.displacement[i] ?? null,
                ]),
              ),
            })
          : undefined
      }
      caption={caption}
      readout={readout}
      frameRef={frameRef}
      legend={
        <>
          {shown.map((s) => (
            <span key={s.method} className="fm-legend-item" data-method={s.method}>
              <svg className="fm-swatch" width={12} height={12} aria-hidden="true">
                <path d={SHAPE[s.method](6, 6)} style={{ fill: METHOD_COLOR[s.method] }} />
              </svg>{' '}
              {settingLabel(s.setting)}
            </span>
          ))}
          <span className="fm-legend-item">
            <Swatch color="var(--fm-muted-fg)" kind="line" /> ±F<sub>i</sub>
          </span>
        </>
      }
    >
      <ChartSvg size={size} box={box} label={ariaLabel} svgRef={svgRef}>
        {(clip) =>
          !has ? (
            <EmptyState box={box} text="Waiting for the first task-2 runs…" />
          ) : (
            <>
              <Axis scale={x} side="bottom" box={box} label="task-1 mode rank i (log scale)" />
              <Axis
                scale={y}
                side="left"
                box={box}
                spacing={28}
                format={fmtTick}
                label="(w − w1*)·pᵢ (symmetric log scale)"
              />
              <g clipPath={clip} pointerEvents="none">
                {bound.n > 1 ? <path className="fm-forget-bound" d={bound.d} /> : null}
                <line className="fm-ref" x1={box.x0} x2={box.x1} y1={y(0)} y2={y(0)} />
                {ldcNc !== null && ldcNc < modes.length ? (
                  <g>
                    <line
                      className="fm-marker"
                      x1={x(ldcNc + 0.5)}
                      x2={x(ldcNc + 0.5)}
                      y1={box.y0}
                      y2={box.y1}
                    />
                    <text
                      className="fm-annot"
                      x={x(ldcNc + 0.5) - 4}
                      y={box.y0 + 12}
                      textAnchor="end"
                    >
                      LDC constrains i ≤ {ldcNc}
                    </text>
                  </g>
                ) : null}
                {shown.map((s) => (
                  <g key={s.method} data-method={s.method} style={{ fill: METHOD_COLOR[s.method] }}>
                    {s.run.displacement
                      .slice(0, modes.length)
                      .map((d, i) =>
                        Number.isFinite(d) ? (
                          <path
                            key={i}
                            className={`fm-forget-pt${hoverRank === i + 1 ? ' selected' : ''}`}
                            d={SHAPE[s.method](x(i + 1), y(d))}
                          />
                        ) : null,
                      )}
                  </g>
                ))}
                {hm ? (
                  <g className="fm-guide">
                    <line x1={x(hm.rank)} x2={x(hm.rank)} y1={box.y0} y2={box.y1} />
                  </g>
                ) : null}
              </g>
              <text className="fm-annot" x={box.x0 + 4} y={box.y1 - 6} pointerEvents="none">
                linear within ±{fmt(constant)}
              </text>
              <rect
                className="fm-overlay"
                x={box.x0}
                y={box.y0}
                width={box.x1 - box.x0}
                height={box.y1 - box.y0}
                onPointerMove={onMove}
                onPointerLeave={() => setHoverRank(null)}
              />
            </>
          )
        }
      </ChartSvg>
    </FigureShell>
  );
}
