/**
 * Fig. 3A: the minibatch loss ensemble along one PCA mode of the SGD solution. A few individual
 * minibatch losses L^μ(δθ) (thin) under the overall loss (thick, the mean over K minibatches),
 * log y; the minima of all K minibatch profiles as a rug along the bottom, their mean ± std
 * shaded: random "springs" whose average is the smooth overall profile.
 */
import { useId, useMemo, useRef, useState, type PointerEvent as ReactPointerEvent } from 'react';
import { line, scaleLinear, scaleLog } from 'd3';
import { useSelection } from '../state/selectionStore';
import {
  fmt,
  isPos,
  linExtent,
  logExtent,
  plotBox,
  svgPointer,
  useActiveRank,
  useRankEvents,
  useSize,
} from './chart';
import { Axis, ChartSvg, FigureShell, PlotBackground, Swatch } from './ChartParts';
import { TheoryEmpty, interpAt, modeColor, sub, useTheory } from './theoryParts';
import './profiles.css';
import './curves.css';

export function MinibatchEnsembleView() {
  const theory = useTheory('sgd');
  const active = useActiveRank();
  const setHover = useSelection((s) => s.setHover);
  const [chosen, setChosen] = useState<number | null>(null);
  const [pointerDelta, setPointerDelta] = useState<number | null>(null);
  const [frameRef, size] = useSize<HTMLDivElement>(0.62);
  const svgRef = useRef<SVGSVGElement>(null);
  const box = plotBox(size);
  const selectId = useId();

  const temps = useMemo(
    () =>
      (theory?.temperature ?? [])
        .filter((t) => t.deltas.length >= 2)
        .sort((a, b) => a.rank - b.rank),
    [theory],
  );
  const ranks = useMemo(() => temps.map((q) => q.rank), [temps]);
  const rank =
    chosen !== null && ranks.includes(chosen)
      ? chosen
      : active !== null && ranks.includes(active)
        ? active
        : ranks[0];
  const t = useMemo(() => temps.find((q) => q.rank === rank), [temps, rank]);
  const has = !!t;
  const color = t ? modeColor(ranks, t.rank) : 'var(--fm-sgd)';

  const { x, y } = useMemo(() => {
    const ys: number[] = [...(t?.loss ?? [])];
    for (const row of t?.minibatchLosses ?? []) ys.push(...row);
    return {
      x: scaleLinear()
        .domain(linExtent(t?.deltas ?? [], 0.02) ?? [-1, 1])
        .range([box.x0, box.x1]),
      y: scaleLog()
        .domain(logExtent(ys, 1.25) ?? [0.01, 1])
        .range([box.y1, box.y0]),
    };
  }, [t, box.x0, box.x1, box.y0, box.y1]);

  const paths = useMemo(() => {
    if (!t) return { overall: '', springs: [] as string[] };
    const idx = t.deltas.map((_, i) => i);
    const mk = (v: readonly number[]) =>
      line<number>()
        .defined((i) => isPos(v[i]))
        .x((i) => x(t.deltas[i]))
        .y((i) => y(v[i]))(idx) ?? '';
    return { overall: mk(t.loss), springs: t.minibatchLosses.map(mk) };
  }, [t, x, y]);
  const events = useRankEvents();

  const onMove = (e: ReactPointerEvent<SVGElement>) => {
    const pt = svgPointer(e, svgRef.current);
    setPointerDelta(pt ? x.invert(pt[0]) : null);
  };
  const onLeave = () => {
    setPointerDelta(null);
    if (useSelection.getState().hoverRank !== null) setHover(null);
  };

  const m = t?.minima;
  const spreadOverF = t && m && isPos(t.flatness) ? m.std / t.flatness : NaN;
  let readout: string;
  if (t && pointerDelta !== null) {
    const rows = t.minibatchLosses
      .map((row) => interpAt(t.deltas, row, pointerDelta))
      .filter(Number.isFinite);
    readout = `δθ = ${fmt(pointerDelta)}: overall L = ${fmt(interpAt(t.deltas, t.loss, pointerDelta))}; the ${rows.length} minibatches shown range ${fmt(Math.min(...rows))}–${fmt(Math.max(...rows))}`;
  } else if (t && m) {
    readout = `Mode ${t.rank} (F = ${fmt(t.flatness)}): minibatch minima at ${fmt(m.mean)} ± ${fmt(m.std)} (mean ± std of ${m.values.length}); hover to read the losses at a displacement.`;
  } else {
    readout = 'Hover the plot to read the losses at a displacement.';
  }

  const shown = t?.minibatchLosses.length ?? 0;
  const caption =
    t && m ? (
      <>
        The loss of {shown} single minibatches of B = {theory?.batchSize} (thin) along mode {t.rank}{' '}
        of the SGD solution, under the overall loss averaged over all K = {t.K} (thick), against the
        displacement δθ. Each minibatch loss is a random &ldquo;spring&rdquo;, a bowl with its own
        centre and stiffness; their average is the smooth overall profile. The centres scatter: the
        minima of the {m.values.length} minibatch profiles (ticks; shaded: mean ± std) lie at{' '}
        {fmt(m.mean)} ± {fmt(m.std)}
        {Number.isFinite(spreadOverF) ? `, a spread of ${fmt(spreadOverF)} × F${sub(t.rank)}` : ''}
        {m.atEdge > 0 ? ` (${m.atEdge} at the edge of the scan)` : ''}. Pulled towards a different
        centre at every step, SGD keeps moving.
      </>
    ) : (
      <>
        Single minibatch losses along a PCA mode (thin) under the overall loss (thick): random
        &ldquo;springs&rdquo; whose average is the smooth overall profile, and the spread of their
        minima.
      </>
    );
  const ariaLabel =
    t && m
      ? `Minibatch losses along mode ${t.rank}: ${shown} single minibatches and the overall loss; minima at ${fmt(m.mean)} ± ${fmt(m.std)} (mean ± std).`
      : 'Minibatch loss ensemble: waiting for the analysis.';
  const emptyNote = theory && !has ? 'The ensemble is measured for the SGD run only' : undefined;
  const bandX0 = m ? x(m.mean - m.std) : NaN;
  const bandX1 = m ? x(m.mean + m.std) : NaN;

  return (
    <FigureShell
      id="minibatch-ensemble"
      title="The minibatch ensemble: random springs"
      csv={
        t
          ? () => ({
              header: [
                'rank',
                'delta_theta',
                'overall_loss',
                ...t.minibatchLosses.map((_, k) => `minibatch_${k + 1}_loss`),
              ],
              rows: t.deltas.map((d, i) => [
                t.rank,
                d,
                t.loss[i],
                ...t.minibatchLosses.map((row) => row[i]),
              ]),
            })
          : undefined
      }
      caption={caption}
      readout={readout}
      frameRef={frameRef}
      controls={
        <>
          <label htmlFor={selectId}>mode</label>
          <select
            id={selectId}
            value={rank ?? ''}
            disabled={!has}
            onChange={(e) => setChosen(Number(e.target.value))}
          >
            {ranks.length ? (
              ranks.map((r) => (
                <option key={r} value={r}>
                  {r}
                </option>
              ))
            ) : (
              <option value="">–</option>
            )}
          </select>
        </>
      }
      legend={
        t ? (
          <>
            <span className="fm-legend-item">
              <Swatch color={color} kind="line" /> overall loss (K = {t.K})
            </span>
            <span className="fm-legend-item fm-faint-swatch">
              <Swatch color={color} kind="line" /> {shown} single minibatches
            </span>
            <span className="fm-legend-item">
              <span className="fm-window-swatch" aria-hidden="true" /> minibatch minima, mean ± std
            </span>
          </>
        ) : (
          <span className="fm-legend-item fm-muted">
            L<sup>μ</sup>(δθ): waiting for the analysis…
          </span>
        )
      }
    >
      <ChartSvg size={size} box={box} label={ariaLabel} svgRef={svgRef}>
        {(clip) =>
          !t || !m ? (
            <TheoryEmpty box={box} note={emptyNote} />
          ) : (
            <>
              <PlotBackground box={box} onPointerMove={onMove} onPointerLeave={onLeave} />
              <Axis
                scale={x}
                side="bottom"
                box={box}
                label={`displacement δθ along p${sub(t.rank)} (weight units)`}
              />
              <Axis scale={y} side="left" box={box} label="loss L (log scale)" />
              <g clipPath={clip}>
                <g pointerEvents="none">
                  {Number.isFinite(bandX0) && Number.isFinite(bandX1) ? (
                    <g className="fm-window">
                      <rect
                        x={Math.min(bandX0, bandX1)}
                        y={box.y0}
                        width={Math.abs(bandX1 - bandX0)}
                        height={box.y1 - box.y0}
                      />
                    </g>
                  ) : null}
                  <line
                    className="fm-marker"
                    x1={x(m.mean)}
                    x2={x(m.mean)}
                    y1={box.y0}
                    y2={box.y1}
                  />
                  <g className="fm-rug">
                    {m.values.map((v, i) =>
                      Number.isFinite(v) ? (
                        <line key={i} x1={x(v)} x2={x(v)} y1={box.y1 - 10} y2={box.y1} />
                      ) : null,
                    )}
                  </g>
                  {paths.springs.map((d, i) => (
                    <path key={i} className="fm-spring" d={d} style={{ stroke: color }} />
                  ))}
                </g>
                {pointerDelta !== null ? (
                  <g className="fm-guide" pointerEvents="none">
                    <line x1={x(pointerDelta)} x2={x(pointerDelta)} y1={box.y0} y2={box.y1} />
                  </g>
                ) : null}
                <g {...events} onPointerMove={onMove}>
                  <path
                    className={`fm-profile fm-thick${t.rank === active ? ' highlighted' : ''}`}
                    data-rank={t.rank}
                    data-run="sgd"
                    d={paths.overall}
                    style={{ stroke: color }}
                  />
                </g>
                <text className="fm-annot" x={box.x0 + 6} y={box.y1 - 14} pointerEvents="none">
                  minima of {m.values.length} minibatches
                </text>
              </g>
            </>
          )
        }
      </ChartSvg>
    </FigureShell>
  );
}
