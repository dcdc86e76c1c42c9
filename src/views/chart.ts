/**
 * Small shared helpers for the figure views: container size, margins, formatters, log-axis
 * tick labels, nearest-point hover and the linked-mode selection (zoom/pan: zoom.ts). Views import
 * these so each figure file only says what it draws.
 *
 * Coordinates: every scale's range is in SVG pixel coordinates of the whole <svg> (margins
 * included), so a d3-zoom transform can rescale the scales directly.
 */
import {
  createContext,
  useCallback,
  useContext,
  useLayoutEffect,
  useMemo,
  useRef,
  useState,
  type KeyboardEvent as ReactKeyboardEvent,
  type MouseEvent as ReactMouseEvent,
  type PointerEvent as ReactPointerEvent,
  type RefObject,
} from 'react';
import { pointer, scaleSequentialLog, type ScaleSequential } from 'd3';
import type { AnalysisResult, PowerFit } from '../engine/experiments/analysis';
import { activeRank, useSelection } from '../state/selectionStore';
import { nearestIndex } from './nearest';
// The figure palette and styles every view draws with (--fm-cat-*, axes): a view loaded on its
// own (an embed) needs them as much as one loaded with the others.
import './views.css';
import { interpolateViridis } from './viridis';
import { useRun } from '../state/runStore';

export type RunId = 'sgd' | 'langevin';
export const RUNS: readonly RunId[] = ['sgd', 'langevin'];
export const RUN_LABEL: Record<RunId, string> = { sgd: 'SGD', langevin: 'Langevin' };
export const RUN_COLOR: Record<RunId, string> = {
  sgd: 'var(--fm-sgd)',
  langevin: 'var(--fm-langevin)',
};
/** Text in a run's colour: darker where the plot colour is too light for small text (WCAG AA). */
export const RUN_INK: Record<RunId, string> = {
  sgd: 'var(--fm-sgd)',
  langevin: 'var(--fm-langevin-ink)',
};
/** Categorical colours (Okabe–Ito, then two more) for a handful of curves, as CSS variables. */
export const CATEGORY_COLORS = [
  'var(--fm-cat-1)',
  'var(--fm-cat-2)',
  'var(--fm-cat-3)',
  'var(--fm-cat-4)',
  'var(--fm-cat-5)',
  'var(--fm-cat-6)',
];

export const WAITING_PCA = 'Waiting for the PCA window…';
export const HINT_POINTS = 'Hover a point to read its values; click to pin a mode.';
export const HINT_ZOOM = 'Ctrl/⌘ + scroll to zoom, drag to pan, double-click to reset.';

// ───────────────────────────── size ─────────────────────────────

export interface Margin {
  top: number;
  right: number;
  bottom: number;
  left: number;
}
export const MARGIN: Margin = { top: 14, right: 16, bottom: 46, left: 62 };

export interface Size {
  width: number;
  height: number;
}

/** The plot area in SVG coordinates. */
export interface Box {
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}
export function plotBox(size: Size, m: Margin = MARGIN): Box {
  return {
    x0: m.left,
    x1: Math.max(m.left + 10, size.width - m.right),
    y0: m.top,
    y1: Math.max(m.top + 10, size.height - m.bottom),
  };
}

/**
 * The height, in pixels, a figure's plot area may take (embed mode: the figure fills its
 * iframe); null on the page, where figures take their width and a fixed aspect ratio.
 */
export const FitHeightContext = createContext<number | null>(null);

/**
 * Width of the element behind the returned ref (ResizeObserver), height from a fixed aspect
 * ratio (height = width · aspect). Measures once before paint so there is no jump. Inside a
 * FitHeightContext the width is also capped so that the height fits (less `reserve` pixels of
 * other content in the same frame, e.g. a panel's read-out line).
 */
export function useSize<T extends HTMLElement>(
  aspect: number,
  fallbackWidth = 480,
  reserve = 0,
): [RefObject<T | null>, Size] {
  const ref = useRef<T | null>(null);
  const fit = useContext(FitHeightContext);
  const [measured, setWidth] = useState(fallbackWidth);
  const minWidth = fit === null ? 200 : 120;
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const measure = (w: number) => {
      const rounded = Math.max(minWidth, Math.floor(w));
      setWidth((prev) => (prev === rounded ? prev : rounded));
    };
    measure(el.getBoundingClientRect().width || fallbackWidth);
    if (typeof ResizeObserver === 'undefined') return;
    const ro = new ResizeObserver((entries) => {
      for (const e of entries) if (e.contentRect.width > 0) measure(e.contentRect.width);
    });
    ro.observe(el);
    return () => ro.disconnect();
  }, [fallbackWidth, minWidth]);
  const width =
    fit === null
      ? measured
      : Math.max(minWidth, Math.min(measured, Math.floor((fit - reserve) / aspect)));
  // On a phone a plot keeps at least MIN_PLOT_HEIGHT, however narrow (not inside an embed's
  // fixed frame, which sets its own height).
  const height = Math.round(width * aspect);
  return [ref, { width, height: fit === null ? Math.max(MIN_PLOT_HEIGHT, height) : height }];
}

/** The least height of a figure on the page (a 375 px phone gives ~200 px by aspect alone). */
export const MIN_PLOT_HEIGHT = 280;

/** A stable, CSS-safe id for clip paths and gradients. */
export function safeId(reactId: string, suffix: string): string {
  return `fm${reactId.replace(/[^a-zA-Z0-9_-]/g, '')}-${suffix}`;
}

// ───────────────────────────── formatting ─────────────────────────────

export {
  fmt,
  fmtDash,
  fmtExponent,
  fmtFixed,
  fmtInt,
  fmtInterval,
  fmtPercent,
  fmtSigned,
  sup,
} from './format';

/** The CI of the raw slope, from the CI of the exponent (exponent = −slope). */
export function slopeInterval(fit: PowerFit): [number, number] {
  return [-fit.ci95[1], -fit.ci95[0]];
}

// ───────────────────────────── data helpers ─────────────────────────────

export function isPos(x: number): boolean {
  return Number.isFinite(x) && x > 0;
}

/** [min, max] of positive finite values, padded by a factor on each side (log axes). */
export function logExtent(values: Iterable<number>, pad = 1.4): [number, number] | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!isPos(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (!(lo <= hi)) return null;
  if (lo === hi) return [lo / 10, hi * 10];
  return [lo / pad, hi * pad];
}

/** [min, max] of finite values, padded by a fraction of the span (linear axes). */
export function linExtent(values: Iterable<number>, pad = 0.05): [number, number] | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (!(lo <= hi)) return null;
  const span = hi - lo || Math.abs(hi) || 1;
  return [lo - pad * span, hi + pad * span];
}

/** y on a fitted log–log line: log10 y = intercept + slope · log10 x. */
export function fitY(fit: PowerFit, x: number): number {
  return 10 ** (fit.intercept + fit.slope * Math.log10(x));
}

export function fitUsable(fit: PowerFit | undefined): fit is PowerFit {
  return !!fit && Number.isFinite(fit.slope) && Number.isFinite(fit.intercept) && fit.n >= 2;
}

/** The results present, in a fixed order. */
export function presentRuns(
  results: Partial<Record<RunId, AnalysisResult>>,
): { run: RunId; result: AnalysisResult }[] {
  const out: { run: RunId; result: AnalysisResult }[] = [];
  for (const run of RUNS) {
    const r = results[run];
    if (r) out.push({ run, result: r });
  }
  return out;
}

// ───────────────────────────── the run shown ─────────────────────────────

/** The last results a figure drew, kept across a new run's start (module-wide: page and embed). */
let keptResults: Partial<Record<RunId, AnalysisResult>> = useRun.getState().results;
useRun.subscribe((s) => {
  if (s.results.sgd) keptResults = s.results;
});

/**
 * The run's results; while a new run is training or analysing and has none yet, the previous
 * run's instead, flagged `stale` (the figure greys them), so a figure does not go blank for
 * the whole run after Start.
 */
export function useResultsKeptDuringRun(): {
  results: Partial<Record<RunId, AnalysisResult>>;
  stale: boolean;
} {
  const results = useRun((s) => s.results);
  const inFlight = useRun((s) => s.runState === 'training' || s.runState === 'analyzing');
  const stale = inFlight && !results.sgd && Boolean(keptResults.sgd);
  return { results: stale ? keptResults : results, stale };
}

// ───────────────────────────── colour ─────────────────────────────

/** Whether the page is drawn dark (the theme menu, else the system's preference). */
function darkTheme(): boolean {
  if (typeof document === 'undefined') return false;
  const set = document.documentElement.dataset.theme;
  if (set) return set === 'dark';
  return typeof matchMedia === 'function' && matchMedia('(prefers-color-scheme: dark)').matches;
}

/**
 * Viridis without its lightest end; on a dark background without its dark purples too (from
 * 0.35, whose blue keeps about 3:1 contrast with the page's #14171d), so every point reads.
 */
export function sequentialInterpolator(t: number): string {
  return darkTheme() ? interpolateViridis(0.35 + 0.6 * t) : interpolateViridis(0.12 + 0.8 * t);
}

/** Colour by mode rank, log-spaced. */
export function rankColorScale(lo: number, hi: number): ScaleSequential<string> {
  const a = Math.max(1, lo);
  const b = Math.max(a * 1.0001, hi);
  return scaleSequentialLog(sequentialInterpolator).domain([a, b]);
}

// ───────────────────────────── selection ─────────────────────────────

/** The mode every view emphasises (hovered, else last pinned). */
export function useActiveRank(): number | null {
  return useSelection(activeRank);
}

function rankOf(target: EventTarget | null): number | null {
  if (!(target instanceof Element)) return null;
  const el = target.closest('[data-rank]');
  const v = el?.getAttribute('data-rank');
  if (v == null) return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

/**
 * Event delegation for a group of elements carrying data-rank: hovering one sets the shared
 * hover rank, leaving clears it, clicking pins/unpins it.
 */
export function useRankEvents(): {
  onPointerOver: (e: ReactPointerEvent<SVGGElement>) => void;
  onPointerOut: (e: ReactPointerEvent<SVGGElement>) => void;
  onClick: (e: ReactMouseEvent<SVGGElement>) => void;
} {
  const setHover = useSelection((s) => s.setHover);
  const toggle = useSelection((s) => s.toggle);
  return useMemo(
    () => ({
      onPointerOver: (e) => {
        const r = rankOf(e.target);
        if (r !== null) setHover(r);
      },
      onPointerOut: (e) => {
        if (rankOf(e.relatedTarget) === null) setHover(null);
      },
      onClick: (e) => {
        const r = rankOf(e.target);
        if (r !== null) toggle(r);
      },
    }),
    [setHover, toggle],
  );
}

/**
 * Keyboard access to a figure's points: the point group is one Tab stop; arrow keys move the
 * selected mode to the next or previous rank drawn (the shared hover rank, so every view
 * follows, as with the pointer), Home/End to the first/last, Enter or Space pins or unpins it.
 */
export function useRankKeys(
  ranks: readonly number[],
  label: string,
): {
  tabIndex: number;
  role: 'group';
  'aria-label': string;
  onKeyDown: (e: ReactKeyboardEvent<SVGGElement>) => void;
  onBlur: () => void;
} {
  const setHover = useSelection((s) => s.setHover);
  const toggle = useSelection((s) => s.toggle);
  const sorted = useMemo(() => [...new Set(ranks)].sort((a, b) => a - b), [ranks]);
  return useMemo(
    () => ({
      tabIndex: 0,
      role: 'group' as const,
      'aria-label': `${label}: arrow keys move between modes, Enter pins a mode`,
      onKeyDown: (e) => {
        if (!sorted.length) return;
        const cur = activeRank(useSelection.getState());
        const i = cur === null ? -1 : sorted.indexOf(cur);
        let next: number | null = null;
        if (e.key === 'ArrowRight' || e.key === 'ArrowUp')
          next = sorted[i < 0 ? 0 : Math.min(sorted.length - 1, i + 1)];
        else if (e.key === 'ArrowLeft' || e.key === 'ArrowDown')
          next = sorted[i < 0 ? 0 : Math.max(0, i - 1)];
        else if (e.key === 'Home') next = sorted[0];
        else if (e.key === 'End') next = sorted[sorted.length - 1];
        else if ((e.key === 'Enter' || e.key === ' ') && cur !== null) {
          e.preventDefault();
          toggle(cur);
          return;
        }
        if (next === null) return;
        e.preventDefault();
        setHover(next);
      },
      onBlur: () => setHover(null),
    }),
    [sorted, label, setHover, toggle],
  );
}

/**
 * Class of a data point: exactly one element per figure carries `highlighted` (the SGD point of
 * the active rank when present, else the other run's); the other run's point of that rank is
 * `linked` (styled the same).
 */
export function pointClasser(
  pts: readonly { run: RunId; rank: number }[],
  active: number | null,
): (p: { run: RunId; rank: number }) => string {
  if (active === null) return () => 'fm-pt';
  const primary: RunId = pts.some((p) => p.rank === active && p.run === 'sgd') ? 'sgd' : 'langevin';
  return (p) =>
    p.rank !== active ? 'fm-pt' : p.run === primary ? 'fm-pt highlighted' : 'fm-pt linked';
}

// ───────────────────────────── nearest point ─────────────────────────────

export interface ScreenPoint<T> {
  x: number;
  y: number;
  datum: T;
}

/** Nearest screen point to the pointer, within `radius` pixels. */
export function useNearest<T>(
  points: readonly ScreenPoint<T>[],
  radius = 14,
): (px: number, py: number) => ScreenPoint<T> | null {
  return useCallback(
    (px, py) => {
      const p = points[nearestIndex(points, px, py)];
      if (!p) return null;
      return Math.hypot(p.x - px, p.y - py) <= radius ? p : null;
    },
    [points, radius],
  );
}

/** Pointer position in the coordinates of `svg`. */
export function svgPointer(
  e: { nativeEvent: Event },
  svg: SVGSVGElement | null,
): [number, number] | null {
  if (!svg) return null;
  const ev = e.nativeEvent;
  if (!(ev instanceof MouseEvent)) return null;
  return pointer(ev, svg);
}

/**
 * Handlers for a background rect under the data points: the nearest point within reach
 * becomes the hovered mode, a click pins it. Points drawn above receive their own events.
 */
export function useNearestRankHover(
  svgRef: RefObject<SVGSVGElement | null>,
  points: readonly ScreenPoint<number>[],
): {
  onPointerMove: (e: ReactPointerEvent<SVGElement>) => void;
  onPointerLeave: () => void;
  onClick: (e: ReactMouseEvent<SVGElement>) => void;
} {
  const find = useNearest(points);
  const setHover = useSelection((s) => s.setHover);
  const toggle = useSelection((s) => s.toggle);
  const last = useRef<number | null>(null);
  return useMemo(
    () => ({
      onPointerMove: (e) => {
        const p = svgPointer(e, svgRef.current);
        const hit = p ? find(p[0], p[1]) : null;
        const r = hit ? hit.datum : null;
        if (r !== last.current) {
          last.current = r;
          setHover(r);
        }
      },
      onPointerLeave: () => {
        if (last.current !== null) {
          last.current = null;
          setHover(null);
        }
      },
      onClick: (e) => {
        const p = svgPointer(e, svgRef.current);
        const hit = p ? find(p[0], p[1]) : null;
        if (hit) toggle(hit.datum);
      },
    }),
    [find, setHover, toggle, svgRef],
  );
}

/** Whether a screen point lies in the plot box (with a little slack). */
export function inBox(b: Box, x: number, y: number, slack = 0.5): boolean {
  return x >= b.x0 - slack && x <= b.x1 + slack && y >= b.y0 - slack && y <= b.y1 + slack;
}

/** Number of ticks that fit a pixel length. */
export function tickCount(length: number, spacing: number): number {
  return Math.max(2, Math.floor(length / spacing));
}
