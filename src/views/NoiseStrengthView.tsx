/**
 * Fig. 3B: why σ² falls with flatness. Left, the SGD noise strength D_i = var(v_i) against the
 * flatness F_i; right, the correlation time τ_i (Eq. 13; or the integral of C_i up to its first
 * zero) against F_i; both log–log, per run, with each run's power-law fit. β₁ + β₂ = ψ holds by
 * the definition of τ, so the legend does not offer it as a test; it gives the independent one:
 * τ from the velocity autocorrelation summed over the window against σ²/(D·T_w).
 */
import { memo, useId, useMemo, useRef, useState } from 'react';
import { scaleLog, symbol, symbolDiamond } from 'd3';
import type { ModeTheory, PowerFit, TheoryResult } from '../engine/experiments/analysis';
import { useRun } from '../state/runStore';
import {
  HINT_POINTS,
  HINT_ZOOM,
  RUN_COLOR,
  RUN_INK,
  RUN_LABEL,
  fitUsable,
  fitY,
  fmt,
  fmtDash,
  fmtFixed,
  fmtInterval,
  fmtSigned,
  inBox,
  isPos,
  logExtent,
  plotBox,
  pointClasser,
  slopeInterval,
  useActiveRank,
  useNearestRankHover,
  useRankEvents,
  useSize,
  type Margin,
  type RunId,
  type ScreenPoint,
} from './chart';
import { useZoom } from './zoom';
import { Axis, ChartSvg, FigureShell, Halo, PlotBackground, Swatch } from './ChartParts';
import { TheoryEmpty, ciText, exponentSign } from './theoryParts';

type Quantity = 'D' | 'tau' | 'tauIntegral';

const PANEL_MARGIN: Margin = { top: 14, right: 14, bottom: 46, left: 62 };
const DIAMOND = symbol(symbolDiamond, 44)() ?? '';
const THEORY_WAIT_SHORT = 'waiting for the analysis…';

interface Series {
  run: RunId;
  theory: TheoryResult;
  modes: ModeTheory[];
}

interface Pt {
  run: RunId;
  rank: number;
  x: number;
  y: number;
}

const Y_LABEL: Record<Quantity, string> = {
  D: 'noise strength Dᵢ = var(vᵢ) (log scale)',
  tau: 'correlation time τᵢ, steps (log scale)',
  tauIntegral: 'τᵢ,int = ∫C ds to first zero, steps (log scale)',
};
/** The same where the plot is too short for the whole label (a short embed). */
const Y_SHORT: Record<Quantity, string> = {
  D: 'Dᵢ = var(vᵢ) (log)',
  tau: 'τᵢ, steps (log)',
  tauIntegral: 'τᵢ,int, steps (log)',
};
const SYMBOL: Record<Quantity, string> = { D: 'β₁', tau: 'β₂', tauIntegral: 'β₂,int' };

function value(m: ModeTheory, q: Quantity): number {
  return q === 'D' ? m.D : q === 'tau' ? m.tau : m.tauIntegral;
}

/** The x range of a fit: the flatness extent of the modes inside its rank range. */
function fitSpan(modes: readonly ModeTheory[], fit: PowerFit): [number, number] | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (const m of modes) {
    if (m.rank < fit.ranks[0] || m.rank > fit.ranks[1] || !isPos(m.flatness)) continue;
    lo = Math.min(lo, m.flatness);
    hi = Math.max(hi, m.flatness);
  }
  return lo < hi ? [lo, hi] : null;
}

/** "β₁ = 2.36 [2.24, 2.47], R² 0.99" for SGD (block-bootstrap interval); Langevin's signed slope. */
function fitText(run: RunId, fit: PowerFit, q: Quantity): string {
  if (!fitUsable(fit)) return `${RUN_LABEL[run]}: no fit`;
  return run === 'sgd'
    ? `${RUN_LABEL[run]}: ${SYMBOL[q]} = ${fmtFixed(fit.exponent)} ${fmtInterval(fit.ci95)}, R² ${fmtFixed(fit.r2)}`
    : `${RUN_LABEL[run]}: slope ${fmtSigned(fit.slope)} ${fmtInterval(slopeInterval(fit))}, R² ${fmtFixed(fit.r2)}`;
}

const Points = memo(function Points({
  pts,
  active,
  primary,
}: {
  pts: Pt[];
  active: number | null;
  primary: boolean;
}) {
  const base = pointClasser(pts, active);
  // One `highlighted` element per figure: the second panel's point of the mode is `linked`.
  const cls = primary ? base : (p: Pt) => base(p).replace('highlighted', 'linked');
  return (
    <>
      {pts.map((p) =>
        p.run === 'sgd' ? (
          <circle
            key={`${p.run}-${p.rank}`}
            className={cls(p)}
            data-rank={p.rank}
            data-run={p.run}
            cx={p.x}
            cy={p.y}
            r={3.8}
            style={{ fill: RUN_COLOR[p.run] }}
          />
        ) : (
          <path
            key={`${p.run}-${p.rank}`}
            className={cls(p)}
            data-rank={p.rank}
            data-run={p.run}
            d={DIAMOND}
            transform={`translate(${p.x},${p.y})`}
            style={{ fill: RUN_COLOR[p.run] }}
          />
        ),
      )}
    </>
  );
});

function Panel({
  series,
  quantity,
  active,
  primary,
  waiting,
}: {
  series: Series[];
  quantity: Quantity;
  active: number | null;
  primary: boolean;
  waiting: boolean;
}) {
  // Reserved below the plot in an embed: its fit lines, the Langevin one wrapping to two.
  const [ref, size] = useSize<HTMLDivElement>(0.82, 320, 62);
  const svgRef = useRef<SVGSVGElement>(null);
  const box = plotBox(size, PANEL_MARGIN);
  const has = !waiting && series.some((s) => s.modes.length > 0);
  const [zt] = useZoom(svgRef, box, has);

  const base = useMemo(() => {
    const all = series.flatMap((s) => s.modes);
    const xe = logExtent(
      all.map((m) => m.flatness),
      1.4,
    ) ?? [0.1, 10];
    const ye = logExtent(
      all.map((m) => value(m, quantity)),
      2,
    ) ?? [1e-6, 1];
    return {
      x: scaleLog().domain(xe).range([box.x0, box.x1]),
      y: scaleLog().domain(ye).range([box.y1, box.y0]),
    };
  }, [series, quantity, box.x0, box.x1, box.y0, box.y1]);
  const x = useMemo(() => zt.rescaleX(base.x), [zt, base]);
  const y = useMemo(() => zt.rescaleY(base.y), [zt, base]);

  const pts = useMemo<Pt[]>(() => {
    const out: Pt[] = [];
    // Langevin first, so SGD (the subject) is drawn on top.
    for (const s of [...series].reverse()) {
      for (const m of s.modes) {
        const v = value(m, quantity);
        if (!isPos(v)) continue;
        const px = x(m.flatness);
        const py = y(v);
        if (inBox(box, px, py, 6)) out.push({ run: s.run, rank: m.rank, x: px, y: py });
      }
    }
    return out;
  }, [series, quantity, x, y, box]);
  const screen = useMemo<ScreenPoint<number>[]>(
    () => pts.map((p) => ({ x: p.x, y: p.y, datum: p.rank })),
    [pts],
  );
  const bg = useNearestRankHover(svgRef, screen);
  const events = useRankEvents();
  const activePts = active === null ? [] : pts.filter((p) => p.rank === active);

  const fits = series.map((s) => ({ run: s.run, modes: s.modes, fit: s.theory.fits[quantity] }));
  const name = quantity === 'D' ? 'Noise strength' : 'Correlation time';
  const ariaLabel = has
    ? `${name} against flatness, log–log. ${fits.map((f) => fitText(f.run, f.fit, quantity)).join('; ')}.`
    : `${name} against flatness: waiting for the analysis.`;

  return (
    <div className="fm-panel" ref={ref}>
      <ChartSvg size={size} box={box} label={ariaLabel} svgRef={svgRef}>
        {(clip) =>
          !has ? (
            <TheoryEmpty box={box} />
          ) : (
            <>
              <PlotBackground box={box} {...bg} />
              <Axis scale={x} side="bottom" box={box} label="flatness Fᵢ (log scale)" />
              <Axis
                scale={y}
                side="left"
                box={box}
                label={Y_LABEL[quantity]}
                shortLabel={Y_SHORT[quantity]}
              />
              <g clipPath={clip}>
                {fits.map(({ run, modes, fit }) => {
                  if (!fitUsable(fit)) return null;
                  const span = fitSpan(modes, fit);
                  if (!span) return null;
                  return (
                    <line
                      key={run}
                      className="fm-fit"
                      x1={x(span[0])}
                      x2={x(span[1])}
                      y1={y(fitY(fit, span[0]))}
                      y2={y(fitY(fit, span[1]))}
                      style={{ stroke: RUN_COLOR[run] }}
                    />
                  );
                })}
                <g className="fm-points" {...events}>
                  <Points pts={pts} active={active} primary={primary} />
                </g>
                {activePts.map((p) => (
                  <Halo key={`${p.run}-halo`} x={p.x} y={p.y} fill={RUN_COLOR[p.run]} />
                ))}
              </g>
            </>
          )
        }
      </ChartSvg>
      {/* The fits, one line per run (two lines reserved, so the panels stay aligned). */}
      <div className="fm-panel-fits">
        {has
          ? fits.map(({ run, fit }) => (
              <div key={run} style={{ color: RUN_INK[run] }}>
                {fitText(run, fit, quantity)}
              </div>
            ))
          : null}
      </div>
    </div>
  );
}

export function NoiseStrengthView() {
  const results = useRun((s) => s.results);
  const active = useActiveRank();
  const [integral, setIntegral] = useState(false);
  const checkId = useId();
  const tauQ: Quantity = integral ? 'tauIntegral' : 'tau';

  const series = useMemo(() => {
    const out: Series[] = [];
    for (const run of ['sgd', 'langevin'] as const) {
      const theory = results[run]?.theory;
      if (!theory) continue;
      out.push({
        run,
        theory,
        modes: theory.modes.filter((m) => isPos(m.flatness)).sort((a, b) => a.rank - b.rank),
      });
    }
    return out;
  }, [results]);
  const sgd = series.find((s) => s.run === 'sgd');
  const lang = series.find((s) => s.run === 'langevin');
  const waiting = series.length === 0;

  const psi = results.sgd?.fits.psi;
  const fD = sgd?.theory.fits.D;
  const fT = sgd?.theory.fits.tau;
  const fI = sgd?.theory.fits.tauIntegral;
  const pred = sgd?.theory.fits.psiPredicted;
  const ok = !!(sgd && fD && fT && fitUsable(fD) && fitUsable(fT));

  const readout =
    active !== null && !waiting
      ? `Mode ${active}: ${series
          .map((s) => {
            const m = s.modes.find((q) => q.rank === active);
            return m
              ? `${RUN_LABEL[s.run]} F = ${fmt(m.flatness)}, D = ${fmt(m.D)}, τ = ${fmt(m.tau)} steps (from the velocity autocorrelation ${fmt(m.tauAcf ?? NaN)}), τᵢₙₜ = ${fmt(m.tauIntegral)} steps`
              : `${RUN_LABEL[s.run]}: not measured`;
          })
          .join('; ')}`
      : `${HINT_POINTS} ${HINT_ZOOM}`;

  const langD = lang?.theory.fits.D;
  // SGD's side of the contrast, by β₁'s interval.
  const sgdFall =
    fD && fitUsable(fD)
      ? exponentSign(fD) === 'positive'
        ? `under SGD it falls with F (β₁ = ${fmtFixed(fD.exponent)}, interval above zero)`
        : `under SGD its trend with F is not resolved in this window (β₁'s interval ${exponentSign(fD) === 'negative' ? 'is below' : 'includes'} zero)`
      : 'under SGD the paper finds it falls with F';
  const langText =
    lang && langD && fitUsable(langD) ? (
      <>
        Under Langevin dynamics D{' '}
        {exponentSign(langD) === 'undecided' ? 'shows no trend with F' : 'is not flat in F'} (slope{' '}
        {fmtSigned(langD.slope)}, 95% CI {fmtDash(slopeInterval(langD), 2)}): its noise is isotropic
        by construction, the same in every direction; {sgdFall}.
      </>
    ) : (
      <>
        Under Langevin dynamics D would be flat — isotropic noise, the same in every direction (tick
        &ldquo;Langevin contrast&rdquo; to see it); {sgdFall}.
      </>
    );
  const share = ok && pred && fD ? fD.exponent / pred.value : NaN;
  const zeros = sgd ? sgd.modes.map((m) => m.zeroLag).filter((z): z is number => z !== null) : [];
  const medianZero = zeros.length
    ? [...zeros].sort((a, b) => a - b)[Math.floor(zeros.length / 2)]
    : NaN;
  const agree = sgd?.theory.fits.tauAgreement ?? null;
  const agreeText = agree ? (
    <>
      {' '}
      The independent check: τ from the velocity autocorrelation itself, summed over every lag of
      the window with the weight each lag has in the window&rsquo;s variance, against σ²/(D·T
      <sub>w</sub>): median ratio {fmtFixed(agree.medianRatio)} (quartiles{' '}
      {fmtDash(agree.quartiles, 2)}) over {agree.n} modes, log–log slope{' '}
      {fmtFixed(agree.fit.exponent)} ({ciText(agree.fit, 2)}).{' '}
      {agree.medianRatio > 0.8 &&
      agree.medianRatio < 1.25 &&
      agree.fit.ci95[0] <= 1 &&
      1 <= agree.fit.ci95[1]
        ? 'The velocity correlations account for the spread (median ratio within 0.8–1.25, slope interval holding 1).'
        : 'They disagree (median ratio outside 0.8–1.25 or slope interval excluding 1): over this window τ from the velocity correlations is not σ²/(D·Tw).'}
    </>
  ) : null;
  const caption =
    ok && sgd && fD && fT && pred ? (
      <>
        Per-step velocity of each mode, vᵢ = θᵢ(t+1) − θᵢ(t): its variance Dᵢ (first panel) and the
        correlation time τᵢ = σᵢ²/(Dᵢ·T<sub>w</sub>) (second panel, Eq. 13).{' '}
        {trendText(fD, 'β₁', 'SGD noise is weaker along flatter directions', 'D ∝ F', 'D')};{' '}
        {trendText(
          fT,
          'β₂',
          'and SGD noise decorrelates faster along flatter directions',
          'τ ∝ F',
          'τ',
        )}
        . Because τ is defined from σ², D and the window, β₁ + β₂ = {fmtFixed(pred.value)} equals ψ
        = {psi ? fmtFixed(psi.exponent) : '–'} by construction: not a test, but the split —{' '}
        {Number.isFinite(share) ? `${Math.round(share * 100)}%` : 'most'} of ψ is the weaker noise.
        {agreeText} {langText}
        {integral && fI && fitUsable(fI) ? (
          <>
            {' '}
            Shown in the second panel: τ<sub>int</sub>, the integral of Cᵢ up to its first zero (
            {Number.isFinite(medianZero)
              ? `median lag ${medianZero} step${medianZero === 1 ? '' : 's'}`
              : 'no zero within the lags kept'}
            ), exponent {fmtFixed(fI.exponent)} (R² {fmtFixed(fI.r2)}): the short-lag part of C
            barely depends on F; the fall of τ comes from the anticorrelations at longer lags.
          </>
        ) : null}
      </>
    ) : (
      <>
        Per-step velocity of each mode, vᵢ = θᵢ(t+1) − θᵢ(t): its variance Dᵢ (first panel) and the
        correlation time τᵢ = σᵢ²/(Dᵢ·T<sub>w</sub>) (second panel, Eq. 13) against the flatness.
        The exponents β₁ of D ∝ F<sup>−β₁</sup> and β₂ of τ ∝ F<sup>−β₂</sup>, and τ measured
        independently from the velocity autocorrelation, appear a few seconds after the σ²–F figure.
      </>
    );

  return (
    <FigureShell
      id="noise-strength"
      title="Is the noise weaker and shorter-lived along flat directions?"
      csv={
        waiting
          ? undefined
          : () => ({
              header: [
                'run',
                'rank',
                'flatness_F_dtheta',
                'variance_sigma2',
                'D_velocity_variance',
                'tau_steps',
                'tau_integral_steps',
                'tau_acf_steps',
                'first_zero_lag_steps',
                'T0_active_temperature',
              ],
              rows: series.flatMap((s) =>
                s.modes.map((m) => [
                  s.run,
                  m.rank,
                  m.flatness,
                  m.variance,
                  m.D,
                  m.tau,
                  m.tauIntegral,
                  m.tauAcf ?? NaN,
                  m.zeroLag,
                  m.T0,
                ]),
              ),
            })
      }
      caption={caption}
      readout={readout}
      controls={
        <label className="fm-check" htmlFor={checkId}>
          <input
            id={checkId}
            type="checkbox"
            checked={integral}
            onChange={(e) => setIntegral(e.target.checked)}
          />{' '}
          <span>
            second panel: τ<sub>int</sub> (∫C up to its first zero) instead of τ (Eq. 13)
          </span>
        </label>
      }
      legend={
        waiting ? (
          <span className="fm-legend-item fm-muted">β₁, β₂: {THEORY_WAIT_SHORT}</span>
        ) : (
          <>
            {series.map((s) => (
              <span key={s.run} className="fm-legend-item">
                <Swatch color={RUN_COLOR[s.run]} kind={s.run === 'sgd' ? 'point' : 'diamond'} />{' '}
                {RUN_LABEL[s.run]} modes
              </span>
            ))}
            <span className="fm-legend-item">
              <Swatch color="var(--fm-fg)" kind="dash" /> power-law fits
            </span>
            {agree ? (
              <span className="fm-legend-item fm-check-sum">
                τ check: τ<sub>acf</sub>/τ median{' '}
                <strong data-testid="tau-agreement" data-value={agree.medianRatio}>
                  {fmtFixed(agree.medianRatio)}
                </strong>
                , slope {fmtFixed(agree.fit.exponent)} {fmtInterval(agree.fit.ci95)}
              </span>
            ) : null}
            {pred ? (
              <span className="fm-legend-item">
                β₁ + β₂ ={' '}
                <span data-testid="psi-predicted" data-value={pred.value}>
                  {fmtFixed(pred.value)}
                </span>{' '}
                = ψ ={' '}
                <span data-testid="psi-measured" data-value={psi?.exponent ?? NaN}>
                  {psi ? fmtFixed(psi.exponent) : '–'}
                </span>{' '}
                (an identity)
              </span>
            ) : null}
          </>
        )
      }
    >
      <div className="fm-panels">
        <Panel series={series} quantity="D" active={active} primary waiting={waiting} />
        <Panel series={series} quantity={tauQ} active={active} primary={false} waiting={waiting} />
      </div>
    </FigureShell>
  );
}

/**
 * One exponent's sentence: the trend where its interval excludes zero, "no definite trend"
 * where it does not, so a caption never claims what its own interval does not support.
 */
function trendText(fit: PowerFit, name: string, claim: string, law: string, what: string) {
  const sign = exponentSign(fit);
  const values = (
    <>
      {law}
      <sup>−{name}</sup> with {name} = {fmtFixed(fit.exponent)} ({ciText(fit, 2)}, R²{' '}
      {fmtFixed(fit.r2)})
    </>
  );
  if (sign === 'positive')
    return (
      <>
        {claim}, {values}
      </>
    );
  if (sign === 'negative')
    return (
      <>
        {what} rises with flatness here, {values}
      </>
    );
  return (
    <>
      {what} shows no definite trend with flatness in this window, {values}, an interval that
      includes zero
    </>
  );
}
