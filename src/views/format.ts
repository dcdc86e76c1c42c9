/**
 * The page's one place for writing numbers: values in captions, legends and read-outs, and the
 * tick values and labels of every axis. One function per quantity keeps its precision the same
 * wherever it appears (ψ reads 3.33 in the legend, the caption and the run panel alike).
 */
import { format, precisionFixed, scaleLinear, type NumberValue } from 'd3';

const SUPERSCRIPT: Record<string, string> = {
  '-': '⁻',
  '+': '⁺',
  '0': '⁰',
  '1': '¹',
  '2': '²',
  '3': '³',
  '4': '⁴',
  '5': '⁵',
  '6': '⁶',
  '7': '⁷',
  '8': '⁸',
  '9': '⁹',
};
export function sup(s: string | number): string {
  return String(s)
    .split('')
    .map((c) => SUPERSCRIPT[c] ?? c)
    .join('');
}

const g3 = format(',.3~r');
const e3 = format('.2~e');
const intFmt = format(',');

/** Three significant digits; powers-of-ten notation (1.23×10⁻⁵) for very small or large values. */
export function fmt(x: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? '–' : x > 0 ? '∞' : '−∞';
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1e-3 && a < 1e5) return g3(x).replace('-', '−');
  const [mant, exp] = e3(x).split('e');
  const m = mant.replace('-', '−');
  return `${m === '1' ? '' : `${m}×`}10${sup(Number(exp))}`;
}

/** Fixed decimals (default 2), with a real minus sign; "–" for non-finite. */
export function fmtFixed(x: number, digits = 2): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? '–' : x > 0 ? '∞' : '−∞';
  return x.toFixed(digits).replace('-', '−');
}

/** Explicit sign: "+1.80" / "−3.90". */
export function fmtSigned(x: number, digits = 2): string {
  if (!Number.isFinite(x)) return fmtFixed(x, digits);
  return `${x >= 0 ? '+' : ''}${fmtFixed(x, digits)}`;
}

export function fmtInt(x: number): string {
  return Number.isFinite(x) ? intFmt(Math.round(x)) : '–';
}

export function fmtPercent(fraction: number, digits = 1): string {
  return Number.isFinite(fraction) ? `${(fraction * 100).toFixed(digits)}%` : '–';
}

/** "[lo, hi]" with fixed decimals. */
export function fmtInterval(ci: readonly [number, number], digits = 2): string {
  return `[${fmtFixed(ci[0], digits)}, ${fmtFixed(ci[1], digits)}]`;
}

/** "lo–hi" for captions. */
export function fmtDash(ci: readonly [number, number], digits = 1): string {
  // "−0.22–7.35" reads as a subtraction: a range with a negative end says "to".
  const sep = ci[0] < 0 || ci[1] < 0 ? ' to ' : '–';
  return `${fmtFixed(ci[0], digits)}${sep}${fmtFixed(ci[1], digits)}`;
}

/**
 * Exponents and slopes of fits (ψ, γ, β, the Langevin slope): two decimals everywhere, so a
 * legend and the caption beside it never disagree in the last digit.
 */
export const EXPONENT_DIGITS = 2;
export function fmtExponent(x: number): string {
  return fmtFixed(x, EXPONENT_DIGITS);
}
export function fmtExponentInterval(ci: readonly [number, number]): string {
  return fmtDash(ci, EXPONENT_DIGITS);
}

// ───────────────────────────── axis ticks ─────────────────────────────

/** Span, in decades, beyond which a log axis marks powers of ten only. */
export const POWERS_ONLY_DECADES = 3;

/** Plain numbers for these powers of ten (1 … 10,000 and 0.01, 0.1); 10ⁿ beyond. */
function plainPower(e: number): boolean {
  return e >= -2 && e <= 4;
}

export interface Ticks {
  values: number[];
  label: (v: NumberValue) => string;
}

/**
 * Tick values and labels of a log axis over `domain` with room for about `count` labels.
 * Beyond POWERS_ONLY_DECADES only powers of ten are marked (every k-th decade when they do not
 * fit); over one to three decades 1-2-5 steps; within a decade, evenly spaced values sharing one
 * precision. Every tick gets a label, so none pile up, and one axis uses one notation: all
 * labels plain, or all in powers of ten.
 */
export function logTicks(domain: readonly [number, number], count: number): Ticks {
  const lo = Math.min(domain[0], domain[1]);
  const hi = Math.max(domain[0], domain[1]);
  const n = Math.max(2, Math.floor(count));
  if (!(lo > 0) || !Number.isFinite(hi) || !(hi > lo)) {
    return { values: lo > 0 && Number.isFinite(lo) ? [lo] : [], label: (v) => fmt(Number(v)) };
  }
  const eLo = Math.log10(lo);
  const eHi = Math.log10(hi);
  const decades = eHi - eLo;
  // A hair of slack so that a domain ending exactly on a power of ten keeps that tick.
  const inside = (v: number) => v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9);
  if (decades >= POWERS_ONLY_DECADES || decades > n) {
    const first = Math.ceil(eLo - 1e-9);
    const last = Math.floor(eHi + 1e-9);
    const step = Math.max(1, Math.ceil((last - first + 1) / n));
    const exps: number[] = [];
    // Anchor on multiples of the step so that 10⁰ stays a tick when it is in range.
    for (let e = Math.ceil(first / step) * step; e <= last; e += step) exps.push(e);
    const plain = exps.every(plainPower);
    return {
      values: exps.map((e) => 10 ** e),
      label: (v) => powerLabel(Number(v), plain),
    };
  }
  if (decades >= 1) {
    for (const mantissas of [[1, 2, 5], [1, 3], [1]]) {
      const values: number[] = [];
      for (let e = Math.floor(eLo); e <= Math.ceil(eHi); e++) {
        for (const m of mantissas) {
          const v = m * 10 ** e;
          if (inside(v)) values.push(Number(v.toPrecision(3)));
        }
      }
      if (values.length <= n || mantissas.length === 1) {
        // 1-2-5 steps need no trailing zeros: each label is as exact as its value.
        const plain = values.every((v) => v >= 1e-2 && v < 1e5);
        return { values, label: plain ? (v) => g3(Number(v)) : sharedLabel(values) };
      }
    }
  }
  // Within about a decade: evenly spaced values, as on a linear axis.
  const even = (k: number) =>
    scaleLinear()
      .domain([lo, hi])
      .ticks(k)
      .filter((v) => v > 0 && inside(v));
  // d3 treats the count as a hint; ask for fewer until the values fit the room.
  let k = Math.min(n, 6);
  let values = even(k);
  while (values.length > Math.min(n, 6) && k > 1) values = even(--k);
  if (values.length < 2) {
    const mid = 10 ** ((eLo + eHi) / 2);
    return { values: [Number(mid.toPrecision(2))], label: sharedLabel([mid]) };
  }
  return { values, label: sharedLabel(values) };
}

function powerLabel(v: number, plain: boolean): string {
  const e = Math.round(Math.log10(v));
  if (plain) return e >= 0 ? intFmt(10 ** e) : String(Number((10 ** e).toPrecision(1)));
  return `10${sup(e)}`;
}

/**
 * Labels for a set of ticks in one notation: plain decimals with the precision the spacing
 * needs when every value is between 0.01 and 100,000, else m×10ⁿ with one exponent per value
 * and the same number of mantissa decimals on every label.
 */
export function sharedLabel(values: readonly number[]): (v: NumberValue) => string {
  const finite = values.filter((v) => Number.isFinite(v) && v !== 0);
  if (!finite.length) return (v) => fmt(Number(v));
  const abs = finite.map(Math.abs);
  const min = Math.min(...abs);
  const max = Math.max(...abs);
  if (min >= 1e-2 && max < 1e5) {
    const sorted = [...finite].sort((a, b) => a - b);
    let step = Infinity;
    for (let i = 1; i < sorted.length; i++) step = Math.min(step, sorted[i] - sorted[i - 1]);
    const digits = Number.isFinite(step) && step > 0 ? precisionFixed(step) : precisionFixed(min);
    const f = format(`,.${Math.min(digits, 6)}f`);
    return (v) => f(Number(v)).replace('-', '−');
  }
  // Mantissa decimals: enough to tell each value apart at its own exponent.
  let digits = 0;
  for (const v of finite) {
    const e = Math.floor(Math.log10(Math.abs(v)) + 1e-9);
    const m = v / 10 ** e;
    while (digits < 3 && Math.abs(Number(m.toFixed(digits)) - m) > 1e-6 * Math.abs(m)) digits++;
  }
  return (x) => {
    const v = Number(x);
    if (v === 0 || !Number.isFinite(v)) return fmt(v);
    const e = Math.floor(Math.log10(Math.abs(v)) + 1e-9);
    const m = (v / 10 ** e).toFixed(digits).replace('-', '−');
    return `${Number(m.replace('−', '-')) === 1 ? '' : `${m}×`}10${sup(e)}`;
  };
}
