/**
 * Fig. 2D, the key figure: variance σ_i² against flatness F_i (log–log) for each measured
 * mode. SGD points coloured by rank, Langevin points as diamonds; each run's power-law fit over
 * its fitted ranks; a dotted slope-+2 line for the Einstein relation σ² ∝ F².
 */
import { memo, useMemo, useRef } from 'react';
import { scaleLog, symbol, symbolDiamond } from 'd3';
import type { AnalysisResult, ModeFlatness, PowerFit } from '../engine/experiments/analysis';
import {
  HINT_POINTS,
  HINT_ZOOM,
  RUN_COLOR,
  RUN_LABEL,
  WAITING_PCA,
  fitUsable,
  fitY,
  fmt,
  fmtFixed,
  fmtInterval,
  fmtSigned,
  inBox,
  isPos,
  logExtent,
  plotBox,
  pointClasser,
  rankColorScale,
  sequentialInterpolator,
  slopeInterval,
  useActiveRank,
  useNearestRankHover,
  useRankEvents,
  useRankKeys,
  useSize,
  type Box,
  type RunId,
  type ScreenPoint,
  useResultsKeptDuringRun,
} from './chart';
import { useZoom } from './zoom';
import {
  Axis,
  ChartSvg,
  EmptyState,
  FigureShell,
  GradientSwatch,
  Halo,
  PlotBackground,
  Swatch,
} from './ChartParts';
import { ciText, exponentSign } from './theoryParts';

interface Pt {
  run: RunId;
  rank: number;
  x: number;
  y: number;
  color: string;
}

const DIAMOND = symbol(symbolDiamond, 48)() ?? '';

const Points = memo(function Points({ pts, active }: { pts: Pt[]; active: number | null }) {
  const cls = pointClasser(pts, active);
  return (
    <>
      {pts.map((p) => {
        const c = cls(p);
        return p.run === 'sgd' ? (
          <circle
            key={`${p.run}-${p.rank}`}
            className={c}
            data-rank={p.rank}
            data-run={p.run}
            cx={p.x}
            cy={p.y}
            r={4}
            style={{ fill: p.color }}
          />
        ) : (
          <path
            key={`${p.run}-${p.rank}`}
            className={c}
            data-rank={p.rank}
            data-run={p.run}
            d={DIAMOND}
            transform={`translate(${p.x},${p.y})`}
            style={{ fill: p.color }}
          />
        );
      })}
    </>
  );
});

function usableModes(r: AnalysisResult): ModeFlatness[] {
  return r.modes.filter((m) => isPos(m.flatness) && isPos(m.variance));
}

/** The x range of a fit: flatness extent of the modes inside its rank range. */
function fitSpan(modes: ModeFlatness[], fit: PowerFit): [number, number] | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (const m of modes) {
    if (m.rank < fit.ranks[0] || m.rank > fit.ranks[1]) continue;
    lo = Math.min(lo, m.flatness);
    hi = Math.max(hi, m.flatness);
  }
  return lo < hi ? [lo, hi] : null;
}

/** Legend text of one run's fit: ψ for SGD, the signed slope otherwise. */
function FitLegend({ run, result }: { run: RunId; result: AnalysisResult }) {
  const f = result.fits.psi;
  const ok = fitUsable(f);
  const range = ok ? ` (modes ${f.ranks[0]}–${f.ranks[1]}, n = ${f.n})` : '';
  return (
    <span className="fm-legend-item">
      <Swatch color={RUN_COLOR[run]} kind={run === 'sgd' ? 'line' : 'diamond'} />
      {!ok ? (
        `${RUN_LABEL[run]}: no fit`
      ) : run === 'sgd' ? (
        <>
          {RUN_LABEL[run]} fit: ψ ={' '}
          <strong data-testid="psi-value" data-value={f.exponent}>
            {fmtFixed(f.exponent)}
          </strong>{' '}
          {fmtInterval(f.ci95)}, R² {fmtFixed(f.r2)}
          {range}
        </>
      ) : (
        <>
          {RUN_LABEL[run]}: slope <strong data-testid="langevin-slope">{fmtSigned(f.slope)}</strong>{' '}
          {fmtInterval(slopeInterval(f))}, R² {fmtFixed(f.r2)}
          {range}
        </>
      )}
    </span>
  );
}

/** Where a line through (cx, cy) in screen space with a screen slope leaves the box: label spot. */
function einsteinLine(
  box: Box,
  x: (v: number) => number,
  y: (v: number) => number,
  centre: [number, number],
): {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  lx: number;
  ly: number;
  angle: number;
} | null {
  const [fc, vc] = centre;
  const X = (F: number) => x(F);
  const Y = (F: number) => y(vc * (F / fc) ** 2);
  // Two points a decade apart fix the screen line; extend it over the box width.
  const ax = X(fc);
  const ay = Y(fc);
  const bx = X(fc * 10);
  const by = Y(fc * 10);
  if (![ax, ay, bx, by].every(Number.isFinite) || ax === bx) return null;
  const m = (by - ay) / (bx - ax);
  const yAt = (px: number) => ay + m * (px - ax);
  const xAt = (py: number) => ax + (py - ay) / m;
  // Visible segment: clip x to [x0, x1] and y to [y0, y1].
  let xs = box.x0;
  let xe = box.x1;
  const xa = xAt(box.y1);
  const xb = xAt(box.y0);
  xs = Math.max(xs, Math.min(xa, xb));
  xe = Math.min(xe, Math.max(xa, xb));
  if (!(xs < xe)) return null;
  const lx = xs + 0.78 * (xe - xs);
  return {
    x1: box.x0 - 1000,
    y1: yAt(box.x0 - 1000),
    x2: box.x1 + 1000,
    y2: yAt(box.x1 + 1000),
    lx,
    ly: yAt(lx),
    angle: (Math.atan(m) * 180) / Math.PI,
  };
}

export function VarianceFlatnessView() {
  const { results, stale } = useResultsKeptDuringRun();
  const active = useActiveRank();
  const [frameRef, size] = useSize<HTMLDivElement>(0.7);
  const svgRef = useRef<SVGSVGElement>(null);
  const box = plotBox(size);

  const series = useMemo(() => {
    const out: { run: RunId; result: AnalysisResult; modes: ModeFlatness[] }[] = [];
    for (const run of ['sgd', 'langevin'] as const) {
      const r = results[run];
      if (r) out.push({ run, result: r, modes: usableModes(r) });
    }
    return out;
  }, [results]);
  const has = series.some((s) => s.modes.length > 0);
  const [zt] = useZoom(svgRef, box, has);

  const sgdModes = useMemo(() => series.find((s) => s.run === 'sgd')?.modes ?? [], [series]);
  const color = useMemo(() => {
    const ranks = sgdModes.map((m) => m.rank);
    return rankColorScale(
      ranks.length ? Math.min(...ranks) : 2,
      ranks.length ? Math.max(...ranks) : 1000,
    );
  }, [sgdModes]);

  const base = useMemo(() => {
    const all = series.flatMap((s) => s.modes);
    const xe = logExtent(
      all.map((m) => m.flatness),
      1.5,
    ) ?? [1e-2, 10];
    const ye = logExtent(
      all.map((m) => m.variance),
      2,
    ) ?? [1e-8, 1e-3];
    return {
      x: scaleLog().domain(xe).range([box.x0, box.x1]),
      y: scaleLog().domain(ye).range([box.y1, box.y0]),
    };
  }, [series, box.x0, box.x1, box.y0, box.y1]);
  const x = useMemo(() => zt.rescaleX(base.x), [zt, base]);
  const y = useMemo(() => zt.rescaleY(base.y), [zt, base]);

  const pts = useMemo<Pt[]>(() => {
    const out: Pt[] = [];
    // Langevin first so that SGD (the subject) is drawn on top.
    for (const s of [...series].reverse()) {
      for (const m of s.modes) {
        const px = x(m.flatness);
        const py = y(m.variance);
        if (!inBox(box, px, py, 6)) continue;
        out.push({
          run: s.run,
          rank: m.rank,
          x: px,
          y: py,
          color: s.run === 'sgd' ? color(m.rank) : RUN_COLOR.langevin,
        });
      }
    }
    return out;
  }, [series, x, y, box, color]);
  const screen = useMemo<ScreenPoint<number>[]>(
    () => pts.map((p) => ({ x: p.x, y: p.y, datum: p.rank })),
    [pts],
  );
  const bg = useNearestRankHover(svgRef, screen);
  const events = useRankEvents();
  const keys = useRankKeys(
    useMemo(() => pts.map((p) => p.rank), [pts]),
    'Variance against flatness',
  );

  // Einstein reference anchored at the Langevin data centre (else SGD): geometric means.
  const einstein = useMemo(() => {
    const ref =
      series.find((s) => s.run === 'langevin' && s.modes.length) ??
      series.find((s) => s.modes.length);
    if (!ref) return null;
    const gm = (v: number[]) => 10 ** (v.reduce((a, b) => a + Math.log10(b), 0) / v.length);
    return einsteinLine(box, x, y, [
      gm(ref.modes.map((m) => m.flatness)),
      gm(ref.modes.map((m) => m.variance)),
    ]);
  }, [series, box, x, y]);

  const sgd = results.sgd;
  const lang = results.langevin;
  // The PCA-mode equilibrium check (older results keep it under `einstein`).
  const langPca =
    lang?.einsteinPca ??
    (lang?.einstein && lang.einstein.directions !== 'hessian-eigenvectors' ? lang.einstein : null);
  const psi = sgd?.fits.psi;
  const psiOk = !!psi && fitUsable(psi);
  const ariaLabel = has
    ? `Variance against flatness, log–log. ${psiOk && psi ? `SGD: ψ = ${fmtFixed(psi.exponent)} (${ciText(psi, 2)}), R² ${fmtFixed(psi.r2)}.` : ''}${lang && fitUsable(lang.fits.psi) ? ` Langevin: slope ${fmtSigned(lang.fits.psi.slope)}.` : ''}`
    : 'Variance against flatness: waiting for the PCA window.';

  const activePts = active === null ? [] : pts.filter((p) => p.rank === active);
  const readout =
    active !== null && has
      ? `Mode ${active}: ${series
          .map((s) => {
            const m = s.result.modes.find((q) => q.rank === active);
            return m
              ? `${RUN_LABEL[s.run]} σ² = ${fmt(m.variance)}, F = ${fmt(m.flatness)}`
              : `${RUN_LABEL[s.run]} σ² = ${fmt(s.result.variance[active - 1] ?? NaN)} (flatness not measured)`;
          })
          .join('; ')}`
      : `${HINT_POINTS} ${HINT_ZOOM}`;

  const caption =
    psiOk && psi ? (
      <>
        Each point is one PCA mode: how far SGD moves along it (σᵢ²) against how flat the loss is
        along it (Fᵢ).{' '}
        {exponentSign(psi) === 'positive' ? (
          <>
            SGD moves least along the flattest directions, σ² ∝ F<sup>−ψ</sup> with ψ ={' '}
            {fmtFixed(psi.exponent)} ({ciText(psi)}, R² {fmtFixed(psi.r2)}) — the opposite of the
            Einstein relation σ² ∝ F² (dotted) that dynamics in equilibrium would obey.
          </>
        ) : exponentSign(psi) === 'negative' ? (
          <>
            Here SGD moves more along the flatter directions, σ² ∝ F<sup>−ψ</sup> with ψ ={' '}
            {fmtFixed(psi.exponent)} ({ciText(psi)}, R² {fmtFixed(psi.r2)}): the direction of the
            Einstein relation σ² ∝ F² (dotted), not the paper&rsquo;s inverse relation.
          </>
        ) : (
          <>
            The fit σ² ∝ F<sup>−ψ</sup> gives ψ = {fmtFixed(psi.exponent)} ({ciText(psi)}, R²{' '}
            {fmtFixed(psi.r2)}), an interval that includes zero: this window alone does not settle
            which way the variance goes with flatness. A longer window gives each mode more
            snapshots (the Paper preset: 60 warm-up epochs, a 10-epoch window). Dotted: the Einstein
            relation σ² ∝ F² of dynamics in equilibrium.
          </>
        )}
        {psi.tls && Number.isFinite(psi.tls.exponent) ? (
          <>
            {' '}
            F is measured with error too: by total least squares ψ = {fmtFixed(psi.tls.exponent)}.
          </>
        ) : null}
        {langPca ? (
          <>
            {' '}
            {langPca.equilibratedCount === langPca.modes.length
              ? `All ${langPca.modes.length} measured Langevin PCA modes pass the equilibrium test within its window; the Einstein check below compares each with T/k.`
              : `${langPca.equilibratedCount === 0 ? 'None' : `Only ${langPca.equilibratedCount}`} of the ${langPca.modes.length} measured Langevin PCA modes pass the equilibrium test within its window, so its slope is no test of the Einstein +2 (the Einstein check below tests directions one by one).`}
          </>
        ) : null}
      </>
    ) : (
      <>
        Each point is one PCA mode: how far SGD moves along it (σᵢ²) against how flat the loss is
        along it (Fᵢ). The exponent ψ of σ² ∝ F<sup>−ψ</sup> appears once the window is analysed;
        dotted: the Einstein relation σ² ∝ F².
      </>
    );

  const [rankLo, rankHi] = color.domain() as [number, number];
  return (
    <FigureShell
      id="variance-flatness"
      title="The inverse variance–flatness relation"
      className={stale ? 'fm-stale' : undefined}
      csv={
        has
          ? () => ({
              header: [
                'run',
                'rank',
                'flatness_F_dtheta',
                'variance_sigma2',
                'in_psi_fit',
                'psi_fit_variance',
              ],
              rows: series.flatMap((s) => {
                const f = s.result.fits.psi;
                const ok = fitUsable(f);
                return s.modes.map((m) => {
                  const inFit = ok && m.rank >= f.ranks[0] && m.rank <= f.ranks[1];
                  return [
                    s.run,
                    m.rank,
                    m.flatness,
                    m.variance,
                    inFit ? 1 : 0,
                    inFit ? fitY(f, m.flatness) : null,
                  ];
                });
              }),
            })
          : undefined
      }
      caption={
        stale ? (
          <>
            <strong>The previous run</strong>, kept (greyed) until this run&rsquo;s window is
            analysed. {caption}
          </>
        ) : (
          caption
        )
      }
      readout={readout}
      frameRef={frameRef}
      legend={
        has ? (
          <>
            {series.map((s) => (
              <FitLegend key={s.run} run={s.run} result={s.result} />
            ))}
            {sgdModes.length ? (
              <span className="fm-legend-item">
                <GradientSwatch interpolate={sequentialInterpolator} /> SGD modes by rank, {rankLo}{' '}
                → {rankHi}
              </span>
            ) : null}
            <span className="fm-legend-item">
              <Swatch color="var(--fm-fg)" kind="dash" /> Einstein relation σ² ∝ F² (slope +2)
            </span>
          </>
        ) : (
          <span className="fm-legend-item fm-muted">ψ: waiting for the PCA window…</span>
        )
      }
    >
      <ChartSvg size={size} box={box} label={ariaLabel} svgRef={svgRef}>
        {(clip) =>
          !has ? (
            <EmptyState box={box} text={WAITING_PCA} />
          ) : (
            <>
              <PlotBackground box={box} {...bg} />
              <Axis scale={x} side="bottom" box={box} label="flatness Fᵢ (δθ units, log scale)" />
              <Axis scale={y} side="left" box={box} label="variance σᵢ² (log scale)" />
              <g clipPath={clip}>
                {einstein ? (
                  <g className="fm-einstein" pointerEvents="none">
                    <line x1={einstein.x1} y1={einstein.y1} x2={einstein.x2} y2={einstein.y2} />
                    <text
                      className="fm-annot"
                      transform={`translate(${einstein.lx},${einstein.ly}) rotate(${einstein.angle})`}
                      dy={-6}
                      textAnchor="end"
                    >
                      Einstein relation σ² ∝ F²
                    </text>
                  </g>
                ) : null}
                {series.map((s) => {
                  const f = s.result.fits.psi;
                  if (!fitUsable(f)) return null;
                  const span = fitSpan(s.modes, f);
                  if (!span) return null;
                  return (
                    <line
                      key={s.run}
                      className="fm-fit"
                      x1={x(span[0])}
                      x2={x(span[1])}
                      y1={y(fitY(f, span[0]))}
                      y2={y(fitY(f, span[1]))}
                      style={{ stroke: RUN_COLOR[s.run] }}
                    />
                  );
                })}
                <g className="fm-points" {...events} {...keys}>
                  <Points pts={pts} active={active} />
                </g>
                {activePts.map((p) => (
                  <Halo
                    key={`${p.run}-halo`}
                    x={p.x}
                    y={p.y}
                    r={9}
                    fill={p.run === 'sgd' ? p.color : undefined}
                  />
                ))}
              </g>
            </>
          )
        }
      </ChartSvg>
    </FigureShell>
  );
}
