/**
 * The top of the Hessian spectrum of W2 (issue 16): eigenvalues λⱼ by Lanczos (left, log scale)
 * and, in the same rows, the overlap |⟨vⱼ, pᵢ⟩|² of each eigenvector with PCA modes i = 1…20
 * (right, a heat map). A column is a PCA mode: hovering it highlights that mode everywhere.
 */
import { useMemo } from 'react';
import { scaleBand, scaleLog } from 'd3';
import { useRun } from '../state/runStore';
import {
  RUN_COLOR,
  WAITING_PCA,
  fmt,
  fmtFixed,
  logExtent,
  plotBox,
  sequentialInterpolator,
  useActiveRank,
  useRankEvents,
  useSize,
} from './chart';
import { Axis, ChartSvg, ColorBar, EmptyState, FigureShell } from './ChartParts';

export function HessianSpectrumView() {
  const cur = useRun((s) => s.results.sgd?.curvature);
  const active = useActiveRank();
  const [frameRef, size] = useSize<HTMLDivElement>(0.72);
  const box = plotBox(size, { top: 40, right: 16, bottom: 46, left: 62 });
  const events = useRankEvents();

  const top = useMemo(() => cur?.top ?? [], [cur]);
  const cols = useMemo(() => cur?.overlapRanks ?? [], [cur]);
  const has = top.length > 0;
  const split = box.x0 + 0.32 * (box.x1 - box.x0);
  const left = { ...box, x1: split - 10 };
  const right = { ...box, x0: split + 28 };
  const rows = useMemo(
    () =>
      scaleBand<number>()
        .domain(top.map((t) => t.rank))
        .range([box.y0, box.y1])
        .padding(0.08),
    [top, box.y0, box.y1],
  );
  const xCols = useMemo(
    () => scaleBand<number>().domain(cols).range([right.x0, right.x1]).padding(0.04),
    [cols, right.x0, right.x1],
  );
  const xEig = useMemo(() => {
    const e = logExtent(
      top.map((t) => t.eigenvalue).filter((v) => v > 0),
      1.5,
    ) ?? [1e-3, 10];
    return scaleLog().domain(e).range([left.x0, left.x1]);
  }, [top, left.x0, left.x1]);
  // Band scales as axes: the shared Axis wants numeric scales, so ticks are drawn here.
  const eigAt = (rank: number) => top.find((t) => t.rank === rank);

  const best = useMemo(() => {
    // For each of the top 3 eigenvectors, the PCA mode it overlaps most.
    return top.slice(0, 3).map((t, j) => {
      const row = cur?.overlap[j] ?? [];
      let bi = 0;
      for (let i = 1; i < row.length; i++) if (row[i] > row[bi]) bi = i;
      const captured = row.reduce((a, b) => a + b, 0);
      return { rank: t.rank, mode: cols[bi], overlap: row[bi] ?? NaN, captured };
    });
  }, [top, cur, cols]);

  const readout =
    active !== null && has && cols.includes(active)
      ? `PCA mode ${active}: overlap with v₁…v₅ = ${top
          .slice(0, 5)
          .map((_, j) => fmtFixed(cur?.overlap[j][cols.indexOf(active)] ?? NaN, 3))
          .join(', ')}`
      : has
        ? 'Hover a column (a PCA mode) to read its overlaps and highlight it in every figure.'
        : '';

  const caption = cur ? (
    <>
      The top {top.length} eigenvalues of the Hessian of the training loss in W2, by{' '}
      {cur.lanczosIterations} Lanczos steps with full reorthogonalisation:{' '}
      <strong data-testid="lambda-max" data-value={top[0]?.eigenvalue}>
        λ₁ = {fmt(top[0]?.eigenvalue ?? NaN)}
      </strong>
      , λ<sub>{top.length}</sub> = {fmt(top[top.length - 1]?.eigenvalue ?? NaN)}; the trace by
      Hutchinson ({cur.trace.probes} Rademacher probes) is tr H = {fmt(cur.trace.value)} ±{' '}
      {fmt(cur.trace.stderr)} (standard error), so the top {top.length} hold{' '}
      {fmtFixed((100 * top.reduce((a, t) => a + t.eigenvalue, 0)) / cur.trace.value, 0)}% of it.
      Right: |⟨vⱼ, pᵢ⟩|² with PCA modes 1–{cols[cols.length - 1]}.{' '}
      {best.map((b, i) => (
        <span key={b.rank}>
          {i ? '; ' : ''}v<sub>{b.rank}</sub> overlaps mode {b.mode} most ({fmtFixed(b.overlap)}),
          and modes 1–{cols[cols.length - 1]} together hold {fmtFixed(b.captured)} of it
        </span>
      ))}
      .
    </>
  ) : (
    <>
      The top Hessian eigenvalues of W2 and their overlap with the PCA modes appear after the SGD
      window&rsquo;s flatness.
    </>
  );

  return (
    <FigureShell
      id="hessian-spectrum"
      title="The top of the Hessian spectrum and the PCA modes"
      csv={
        cur
          ? () => ({
              header: [
                'hessian_rank_j',
                'eigenvalue',
                'ritz_residual',
                ...cols.map((r) => `overlap_pca_${r}`),
              ],
              rows: top.map((t, j) => [t.rank, t.eigenvalue, t.residual, ...cur.overlap[j]]),
            })
          : undefined
      }
      caption={caption}
      readout={readout}
      frameRef={frameRef}
      legend={
        <span className="fm-legend-item">
          <svg width="12" height="12" aria-hidden="true">
            <rect width="12" height="8" y="2" fill={RUN_COLOR.sgd} />
          </svg>{' '}
          eigenvalue λⱼ; heat map: |⟨vⱼ, pᵢ⟩|²
        </span>
      }
    >
      <ChartSvg
        size={size}
        box={box}
        label={
          has
            ? `Top ${top.length} Hessian eigenvalues from ${fmt(top[0].eigenvalue)} down, and their overlap with PCA modes 1 to ${cols[cols.length - 1]}.`
            : 'Hessian spectrum: waiting for the analysis.'
        }
      >
        {() =>
          !has ? (
            <EmptyState box={box} text={WAITING_PCA} />
          ) : (
            <>
              <Axis
                scale={xEig}
                side="bottom"
                box={left}
                label="eigenvalue λⱼ (log)"
                grid={false}
              />
              <g className="fm-axis" aria-hidden="true">
                {top.map((t) =>
                  t.rank === 1 || t.rank % 5 === 0 ? (
                    <text
                      key={t.rank}
                      x={left.x0 - 6}
                      y={(rows(t.rank) ?? 0) + rows.bandwidth() / 2}
                      dy="0.32em"
                      textAnchor="end"
                      fontSize={10}
                      fill="currentColor"
                    >
                      {t.rank}
                    </text>
                  ) : null,
                )}
                <text
                  transform={`translate(${left.x0 - 40},${(box.y0 + box.y1) / 2}) rotate(-90)`}
                  textAnchor="middle"
                  fontSize={11}
                  fill="currentColor"
                >
                  Hessian eigenvector j
                </text>
                {cols.map((r) =>
                  r === 1 || r % 5 === 0 ? (
                    <text
                      key={r}
                      x={(xCols(r) ?? 0) + xCols.bandwidth() / 2}
                      y={box.y1 + 14}
                      textAnchor="middle"
                      fontSize={10}
                      fill="currentColor"
                    >
                      {r}
                    </text>
                  ) : null,
                )}
                <text
                  x={(right.x0 + right.x1) / 2}
                  y={box.y1 + 34}
                  textAnchor="middle"
                  fontSize={11}
                  fill="currentColor"
                >
                  PCA mode i
                </text>
              </g>
              {top.map((t) => (
                <rect
                  key={t.rank}
                  x={left.x0}
                  y={rows(t.rank)}
                  width={Math.max(0, xEig(Math.max(t.eigenvalue, xEig.domain()[0])) - left.x0)}
                  height={rows.bandwidth()}
                  style={{ fill: RUN_COLOR.sgd }}
                >
                  <title>{`λ${t.rank} = ${fmt(t.eigenvalue)}`}</title>
                </rect>
              ))}
              <g {...events}>
                {top.map((t, j) =>
                  cols.map((r, i) => {
                    const v = cur?.overlap[j][i] ?? 0;
                    return (
                      <rect
                        key={`${t.rank}-${r}`}
                        data-rank={r}
                        x={xCols(r)}
                        y={rows(t.rank)}
                        width={xCols.bandwidth()}
                        height={rows.bandwidth()}
                        style={{
                          fill: sequentialInterpolator(Math.sqrt(Math.min(1, v))),
                          stroke: r === active ? 'var(--fm-fg)' : 'none',
                        }}
                      >
                        <title>{`v${t.rank}·p${r}: overlap ${fmtFixed(v, 3)} (λ = ${fmt(eigAt(t.rank)?.eigenvalue ?? NaN)})`}</title>
                      </rect>
                    );
                  }),
                )}
              </g>
              <ColorBar
                x={right.x0}
                y={box.y0 - 22}
                width={Math.min(140, right.x1 - right.x0)}
                domain={[0, 1]}
                interpolate={(t) => sequentialInterpolator(t)}
                label="overlap |⟨vⱼ, pᵢ⟩|² (colour ∝ its square root)"
                ends={['0', '1']}
              />
            </>
          )
        }
      </ChartSvg>
    </FigureShell>
  );
}
