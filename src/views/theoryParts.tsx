/**
 * Shared pieces of the "why SGD does it" figures (Figs. 3 and 5): the theory result of a run,
 * the two-line empty state shown until it arrives, per-mode colours, a linked mode legend,
 * stacked plot boxes and a little interpolation.
 */
import type { PowerFit, TheoryResult } from '../engine/experiments/analysis';
import { useRun } from '../state/runStore';
import { useSelection } from '../state/selectionStore';
import { CATEGORY_COLORS, fmtDash, type Box, type Margin, type RunId, type Size } from './chart';
import { Swatch } from './ChartParts';
import { EXPONENT_DIGITS } from './format';

export const WAITING_THEORY = 'Waiting for the analysis…';
export const THEORY_LATER = 'Appears a few seconds after the σ²–F figure';
export const HINT_CURVES = 'Hover a curve to read its values; click it to pin the mode everywhere.';

/** The theory result of a run (undefined until it arrives). */
export function useTheory(run: RunId): TheoryResult | undefined {
  return useRun((s) => s.results[run]?.theory);
}

/**
 * The plot frame with a centred two-line message, at the figure's full size: "Waiting for the
 * analysis…" and when it will come (or how far the theory step is, while it runs).
 */
export function TheoryEmpty({ box, text, note }: { box: Box; text?: string; note?: string }) {
  const progress = useRun((s) =>
    s.analysisProgress && s.analysisProgress.phase === 'theory'
      ? s.analysisProgress.fraction
      : null,
  );
  const second =
    note ??
    (progress !== null
      ? `Computing the velocity and temperature statistics… ${Math.round(progress * 100)}%`
      : THEORY_LATER);
  const cx = (box.x0 + box.x1) / 2;
  const cy = (box.y0 + box.y1) / 2;
  return (
    <g className="fm-empty">
      <rect x={box.x0} y={box.y0} width={box.x1 - box.x0} height={box.y1 - box.y0} />
      <text x={cx} y={cy - 9} textAnchor="middle" dominantBaseline="middle">
        {text ?? WAITING_THEORY}
      </text>
      <text
        className="fm-empty-note"
        x={cx}
        y={cy + 11}
        textAnchor="middle"
        dominantBaseline="middle"
      >
        {second}
      </text>
    </g>
  );
}

/** A colour per mode of a small fixed set (e.g. ranks 2, 10, 50), by position in the sorted set. */
export function modeColor(ranks: readonly number[], rank: number): string {
  const sorted = [...ranks].sort((a, b) => a - b);
  const i = Math.max(0, sorted.indexOf(rank));
  return CATEGORY_COLORS[i % CATEGORY_COLORS.length];
}

/** Legend buttons, one per mode: hover highlights it everywhere, click pins it. */
export function ModeLegend({
  items,
  active,
  kind = 'line',
}: {
  items: readonly { rank: number; color: string; text: string }[];
  active: number | null;
  kind?: 'line' | 'point';
}) {
  const setHover = useSelection((s) => s.setHover);
  const toggle = useSelection((s) => s.toggle);
  return (
    <>
      {items.map((it) => (
        <button
          key={it.rank}
          type="button"
          className={`fm-legend-item fm-legend-button${it.rank === active ? ' highlighted' : ''}`}
          onPointerEnter={() => setHover(it.rank)}
          onPointerLeave={() => setHover(null)}
          onClick={() => toggle(it.rank)}
          title="Click to pin this mode in every figure"
        >
          <Swatch color={it.color} kind={kind} /> {it.text}
        </button>
      ))}
    </>
  );
}

/** Two plot boxes stacked in one SVG, sharing x (the top one a fraction `split` of the height). */
export function stackedBoxes(
  size: Size,
  m: Margin,
  gap: number,
  split = 0.5,
): { top: Box; bottom: Box; all: Box } {
  const h = Math.max(20, size.height - m.top - m.bottom - gap);
  const x0 = m.left;
  const x1 = Math.max(m.left + 10, size.width - m.right);
  const top: Box = { x0, x1, y0: m.top, y1: m.top + Math.round(h * split) };
  const bottom: Box = {
    x0,
    x1,
    y0: top.y1 + gap,
    y1: Math.max(top.y1 + gap + 10, size.height - m.bottom),
  };
  return { top, bottom, all: { x0, x1, y0: top.y0, y1: bottom.y1 } };
}

/** y at x by linear interpolation of a sampled curve with increasing xs (NaN outside). */
export function interpAt(xs: readonly number[], ys: readonly number[], x: number): number {
  const n = Math.min(xs.length, ys.length);
  if (n === 0 || !Number.isFinite(x)) return NaN;
  if (x < xs[0] || x > xs[n - 1]) return NaN;
  for (let i = 1; i < n; i++) {
    if (x <= xs[i]) {
      const a = xs[i - 1];
      const b = xs[i];
      const t = b === a ? 0 : (x - a) / (b - a);
      return ys[i - 1] * (1 - t) + ys[i] * t;
    }
  }
  return ys[n - 1];
}

/** Index of the sample nearest to x. */
export function nearestIndex(xs: readonly number[], x: number): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (Math.abs(xs[i] - x) < Math.abs(xs[best] - x)) best = i;
  return best;
}

const SUB_DIGITS = '₀₁₂₃₄₅₆₇₈₉';
/** Subscript digits: 10 → ₁₀. */
export function sub(n: number | string): string {
  return String(n).replace(/\d/g, (c) => SUB_DIGITS[Number(c)]);
}

/** "2, 10 and 50". */
export function listText(items: readonly (string | number)[]): string {
  const s = items.map(String);
  if (s.length <= 1) return s.join('');
  return `${s.slice(0, -1).join(', ')} and ${s[s.length - 1]}`;
}

/**
 * Which side of zero a fitted exponent's 95% interval lies on: a caption states a trend only
 * where its interval excludes zero, and says "no definite trend" where it does not.
 */
export function exponentSign(fit: {
  ci95: readonly number[];
}): 'positive' | 'negative' | 'undecided' {
  const [lo, hi] = fit.ci95;
  if (lo > 0) return 'positive';
  if (hi < 0) return 'negative';
  return 'undecided';
}

/**
 * A figure's verdict on ψ over several runs, by each run's 95% interval rather than its point
 * estimate: "ψ's 95% interval is above zero in all 3: <holds>", or which runs it is not for.
 */
export function psiSignReadout(
  runs: readonly { label: string; psi: { ci95: readonly number[] } }[],
  holds: string,
): string {
  const by = { positive: [] as string[], undecided: [] as string[], negative: [] as string[] };
  for (const r of runs) by[exponentSign(r.psi)].push(r.label);
  if (by.positive.length === runs.length) {
    const scope = runs.length === 1 ? '' : ` in all ${runs.length}`;
    return `ψ's 95% interval is above zero${scope}: ${holds}.`;
  }
  // Labels such as "4-layer MLP h 50, W2" hold commas: list them by " · " then.
  const names = (l: string[]) => (l.some((x) => x.includes(',')) ? l.join(' · ') : listText(l));
  const parts: string[] = [];
  if (by.positive.length)
    parts.push(
      by.positive.length > 2
        ? `is above zero in ${by.positive.length} of ${runs.length} runs`
        : `is above zero for ${names(by.positive)}`,
    );
  if (by.undecided.length)
    parts.push(`includes zero for ${names(by.undecided)} (its sign not resolved)`);
  if (by.negative.length) parts.push(`is below zero for ${names(by.negative)} (not inverse)`);
  return `ψ's 95% interval ${parts.join('; ')}.`;
}

/**
 * How a fit's 95% interval was made, for captions: "95% CI 2.6–4.2, block bootstrap over ranks;
 * t interval 3.1–3.6". Fits over neighbouring ranks have correlated residuals, so the Student-t
 * interval (shown for comparison) is too narrow; results saved before the bootstrap say "t".
 */
export function ciText(fit: PowerFit, digits = EXPONENT_DIGITS, negate = false): string {
  const flip = (c: readonly [number, number]): [number, number] =>
    negate ? [-c[1], -c[0]] : [c[0], c[1]];
  if (fit.method !== 'block-bootstrap')
    return `95% CI ${fmtDash(flip(fit.ci95), digits)}, Student t`;
  const ols = fit.ciOls ? `; Student-t ${fmtDash(flip(fit.ciOls), digits)}` : '';
  return `95% CI ${fmtDash(flip(fit.ci95), digits)}, block bootstrap over ranks${ols}`;
}
