/**
 * Shared JSX building blocks of the figures: the <figure> shell with its read-out line and
 * caption, d3 axes drawn into a <g>, the plot background (hit target), the empty state, the
 * highlight halo and a colour bar.
 */
import {
  useContext,
  useEffect,
  useId,
  useRef,
  useState,
  type KeyboardEvent as ReactKeyboardEvent,
  type ReactNode,
  type Ref,
  type RefObject,
  type SVGProps,
} from 'react';
import {
  axisBottom,
  axisLeft,
  scaleLog,
  select,
  type NumberValue,
  type ScaleContinuousNumeric,
  type ScaleLogarithmic,
} from 'd3';
import { useConfig } from '../state/configStore';
import { FitHeightContext, safeId, tickCount, type Box, type Size } from './chart';
import { logTicks } from './format';
import type { CsvTable, ExportKind } from './figureExport';

export type { CsvTable } from './figureExport';

const EXPORTS: { kind: ExportKind; label: string; what: string }[] = [
  { kind: 'svg', label: 'SVG', what: 'as an SVG image' },
  { kind: 'png', label: 'PNG', what: 'as a PNG image' },
  { kind: 'csv', label: 'CSV', what: 'data as CSV' },
];

/**
 * SVG, PNG and CSV buttons of a figure (hidden with `hide=export`): one toolbar, one Tab stop
 * (arrow keys move between the three), disabled while the figure has nothing to export (its
 * view passes `csv` only when it has data).
 */
function ExportButtons({
  id,
  title,
  figureRef,
  csv,
}: {
  id: string;
  title: string;
  figureRef: RefObject<HTMLElement | null>;
  csv?: () => CsvTable;
}) {
  const hidden = useConfig((s) => s.hide.includes('export'));
  const [error, setError] = useState<string | null>(null);
  const [current, setCurrent] = useState(0);
  const buttons = useRef<(HTMLButtonElement | null)[]>([]);
  if (hidden) return null;
  const empty = !csv;
  const run = (kind: ExportKind) => {
    const fig = figureRef.current;
    if (!fig) return;
    setError(null);
    // The export code loads on the first export: a figure that is only looked at does not carry it.
    import('./figureExport')
      .then((m) => m.exportFigure(kind, fig, id, title, csv))
      .catch((e: unknown) =>
        setError(`Export failed: ${e instanceof Error ? e.message : String(e)}`),
      );
  };
  const onKeyDown = (e: ReactKeyboardEvent<HTMLDivElement>) => {
    const step =
      e.key === 'ArrowRight' || e.key === 'ArrowDown'
        ? 1
        : e.key === 'ArrowLeft' || e.key === 'ArrowUp'
          ? -1
          : 0;
    if (!step && e.key !== 'Home' && e.key !== 'End') return;
    e.preventDefault();
    const n = EXPORTS.length;
    const next = e.key === 'Home' ? 0 : e.key === 'End' ? n - 1 : (current + step + n) % n;
    setCurrent(next);
    buttons.current[next]?.focus();
  };
  return (
    <div
      className="fm-export"
      role="toolbar"
      aria-label={`Export “${title}”`}
      onKeyDown={onKeyDown}
    >
      {EXPORTS.map((x, i) => (
        <button
          key={x.kind}
          ref={(el) => {
            buttons.current[i] = el;
          }}
          type="button"
          className="fm-export-button"
          data-export={x.kind}
          disabled={empty}
          tabIndex={i === current ? 0 : -1}
          aria-label={`Download “${title}” ${x.what}`}
          title={empty ? 'Nothing to export yet' : `Download ${x.what}`}
          onFocus={() => setCurrent(i)}
          onClick={() => run(x.kind)}
        >
          {x.label}
        </button>
      ))}
      {error ? (
        <span className="fm-export-error" role="alert">
          {error}
        </span>
      ) : null}
    </div>
  );
}

/**
 * The frame of every figure: controls and export buttons, the plot, legend, read-out line and
 * caption. `csv` gives the figure's data as a table (column names with units) for the CSV
 * export; leave it out while there is nothing to export.
 */
export function FigureShell({
  id,
  title,
  caption,
  readout,
  frameRef,
  controls,
  legend,
  children,
  className,
  csv,
  table,
}: {
  id: string;
  title: string;
  caption: ReactNode;
  readout: ReactNode;
  /** A small table of the figure's numbers under the read-out (multi-run figures). */
  table?: ReactNode;
  frameRef?: Ref<HTMLDivElement>;
  controls?: ReactNode;
  legend?: ReactNode;
  children: ReactNode;
  className?: string;
  csv?: () => CsvTable;
}) {
  const figureRef = useRef<HTMLElement>(null);
  // In an embed the caption is capped (CSS) so the plot keeps most of the frame; the capped
  // caption scrolls, so it must be reachable by keyboard.
  const embedded = useContext(FitHeightContext) !== null;
  return (
    <figure
      ref={figureRef}
      id={`figure-${id}`}
      className={`fm-figure ${className ?? ''}`}
      data-figure={id}
    >
      <div className="fm-toolbar">
        <div className="fm-controls">{controls}</div>
        <ExportButtons id={id} title={title} figureRef={figureRef} csv={csv} />
      </div>
      <div className="fm-frame" ref={frameRef}>
        {children}
      </div>
      {legend ? <div className="fm-legend">{legend}</div> : null}
      <div className="fm-readout">{readout}</div>
      {table ?? null}
      <figcaption tabIndex={embedded ? 0 : undefined}>
        {/* One block around the text: an embed measures it to size the caption's share. */}
        <div className="fm-caption-text">
          <strong className="fm-title">
            {title}
            {/[.?!]$/.test(title) ? '' : '.'}
          </strong>{' '}
          {caption}
        </div>
      </figcaption>
    </figure>
  );
}

type NumScale = ScaleContinuousNumeric<number, number>;

function isLogScale(s: NumScale): s is ScaleLogarithmic<number, number> {
  return 'base' in s && typeof (s as { base?: unknown }).base === 'function';
}

/**
 * Keeps an axis label where it belongs on a small plot (an embed, a phone): a bottom label
 * inside the drawing, a left label alongside its own plot (two plots stacked in one SVG must
 * not share the margin). Centred where it fits, else slid along its axis (dx), and shrunk
 * (down to 8 px) only where it is longer than its whole span.
 */
function fitAxisLabel(t: SVGTextElement | null, bottom: boolean, box: Box): void {
  const svg = t?.ownerSVGElement;
  if (!t || !svg || typeof t.getComputedTextLength !== 'function') return;
  t.style.fontSize = '';
  t.removeAttribute('dx');
  let length = t.getComputedTextLength();
  const [from, to] = bottom
    ? [0, svg.width.baseVal.value]
    : [Math.max(0, box.y0 - 2), Math.min(svg.height.baseVal.value, box.y1 + 2)];
  const room = to - from - 4;
  if (!(room > 0) || length === 0) return;
  if (length > room) {
    const px = Math.max(8, (12 * room) / length);
    t.style.fontSize = `${px.toFixed(1)}px`;
    length *= px / 12;
  }
  const centre = bottom ? (box.x0 + box.x1) / 2 : (box.y0 + box.y1) / 2;
  const lo = from + length / 2 + 2;
  const hi = to - length / 2 - 2;
  const fitted = lo > hi ? (from + to) / 2 : Math.min(hi, Math.max(lo, centre));
  // A rotated (left) label runs upwards: +dx moves it up the screen.
  const dx = bottom ? fitted - centre : centre - fitted;
  if (Math.abs(dx) > 0.5) t.setAttribute('dx', dx.toFixed(1));
}

/**
 * A d3 axis drawn into a <g> after each render (cheap), with grid lines across the plot box
 * and a text label. Log scales get log tick labels (10⁻⁵ …).
 */
export function Axis(props: {
  scale: NumScale;
  side: 'bottom' | 'left';
  box: Box;
  label: string;
  /**
   * The label where the full one would run past the plot's ends (a short plot in an embed):
   * it must still name the quantity, its unit and a log scale.
   */
  shortLabel?: string;
  /** Pixels per tick (defaults: 80 horizontal, 45 vertical). */
  spacing?: number;
  grid?: boolean;
  format?: (d: NumberValue) => string;
  highlighted?: boolean;
}) {
  const ref = useRef<SVGGElement>(null);
  const labelRef = useRef<SVGTextElement>(null);
  const { scale, side, box, spacing, grid = true, format } = props;
  useEffect(() => {
    const g = ref.current;
    if (!g) return;
    const bottom = side === 'bottom';
    const length = bottom ? box.x1 - box.x0 : box.y1 - box.y0;
    const count = tickCount(length, spacing ?? (bottom ? 80 : 45));
    const axis = bottom ? axisBottom<number>(scale) : axisLeft<number>(scale);
    if (isLogScale(scale)) {
      const t = logTicks(scale.domain() as [number, number], count);
      axis.tickValues(t.values);
      axis.tickFormat((d) => (format ?? t.label)(d).replace(/^-/, '−'));
    } else {
      axis.ticks(count);
      const f = format ?? scale.tickFormat(count);
      axis.tickFormat((d) => f(d).replace(/^-/, '−'));
    }
    axis.tickSizeOuter(0);
    if (grid) axis.tickSizeInner(-(bottom ? box.y1 - box.y0 : box.x1 - box.x0));
    axis.tickPadding(grid ? 6 : 3);
    select(g).call(axis);
    thinTickLabels(g, bottom);
  });
  const bottom = side === 'bottom';
  const along = bottom ? box.x1 - box.x0 : box.y1 - box.y0;
  // 12 px labels run ~6.5 px a character; the margin takes a little overhang at each end.
  const label =
    props.shortLabel && props.label.length * 6.5 > along + 24 ? props.shortLabel : props.label;
  // Measuring forces a layout: only when the label, its plot or its weight changed.
  useEffect(
    () => fitAxisLabel(labelRef.current, bottom, box),
    // eslint-disable-next-line react-hooks/exhaustive-deps -- the box by value, not identity
    [label, bottom, box.x0, box.x1, box.y0, box.y1, props.highlighted],
  );
  return (
    <g className={`fm-axis-wrap${props.highlighted ? ' highlighted' : ''}`}>
      <g
        ref={ref}
        className={`fm-axis${grid ? ' fm-gridded' : ''}`}
        transform={bottom ? `translate(0,${box.y1})` : `translate(${box.x0},0)`}
      />
      {bottom ? (
        <text
          ref={labelRef}
          className="fm-axis-label"
          x={(box.x0 + box.x1) / 2}
          y={box.y1 + 38}
          textAnchor="middle"
        >
          {label}
        </text>
      ) : (
        <text
          ref={labelRef}
          className="fm-axis-label"
          transform={`translate(${box.x0 - 48},${(box.y0 + box.y1) / 2}) rotate(-90)`}
          textAnchor="middle"
        >
          {label}
        </text>
      )}
    </g>
  );
}

/**
 * Empties the labels that would overlap a label already kept (narrow phones, long numbers), so
 * an axis never prints two numbers into each other; the tick marks and grid lines stay.
 */
export function thinTickLabels(g: SVGGElement, horizontal: boolean): void {
  const texts = Array.from(g.querySelectorAll<SVGTextElement>('.tick text'));
  if (typeof texts[0]?.getBBox !== 'function') return;
  const gap = horizontal ? 6 : 2;
  let lastEnd = -Infinity;
  const boxes = texts
    .map((t) => ({ t, r: t.getBoundingClientRect() }))
    .filter((b) => b.t.textContent && b.r.width + b.r.height > 0)
    .sort((a, b) => (horizontal ? a.r.left - b.r.left : a.r.top - b.r.top));
  for (const { t, r } of boxes) {
    const start = horizontal ? r.left : r.top;
    const end = horizontal ? r.right : r.bottom;
    if (start < lastEnd + gap) t.textContent = '';
    else lastEnd = end;
  }
}

/** The plot frame with a centred message, at the figure's full size (no layout shift). */
export function EmptyState({ box, text }: { box: Box; text: string }) {
  return (
    <g className="fm-empty">
      <rect x={box.x0} y={box.y0} width={box.x1 - box.x0} height={box.y1 - box.y0} />
      <text
        x={(box.x0 + box.x1) / 2}
        y={(box.y0 + box.y1) / 2}
        textAnchor="middle"
        dominantBaseline="middle"
      >
        {text}
      </text>
    </g>
  );
}

/** An SVG of a given size with a clip path for its plot box; children get the clip id. */
export function ChartSvg({
  size,
  box,
  label,
  svgRef,
  children,
  className,
}: {
  size: Size;
  box: Box;
  label: string;
  svgRef?: Ref<SVGSVGElement>;
  children: (clipUrl: string) => ReactNode;
  className?: string;
}) {
  const id = safeId(useId(), 'clip');
  return (
    <svg
      ref={svgRef}
      className={`fm-svg ${className ?? ''}`}
      width={size.width}
      height={size.height}
      viewBox={`0 0 ${size.width} ${size.height}`}
      role="img"
      aria-label={label}
    >
      <defs>
        <clipPath id={id}>
          <rect
            x={box.x0}
            y={box.y0}
            width={Math.max(0, box.x1 - box.x0)}
            height={Math.max(0, box.y1 - box.y0)}
          />
        </clipPath>
      </defs>
      {children(`url(#${id})`)}
    </svg>
  );
}

/**
 * The emphasis of the highlighted point, drawn on top: an enlarged copy (when `fill` is given)
 * and a ring. It takes no pointer events, so it never blocks the point (or a neighbour) below;
 * the data point itself keeps its size and only gains the `highlighted` class.
 */
export function Halo({ x, y, r = 8, fill }: { x: number; y: number; r?: number; fill?: string }) {
  return (
    <g className="fm-halo-group" pointerEvents="none">
      {fill ? <circle className="fm-halo-fill" cx={x} cy={y} r={r - 3} style={{ fill }} /> : null}
      <circle className="fm-halo" cx={x} cy={y} r={r} />
    </g>
  );
}

/** A small horizontal colour bar with a log axis (e.g. mode rank, time). */
export function ColorBar(props: {
  x: number;
  y: number;
  width: number;
  domain: [number, number];
  interpolate: (t: number) => string;
  label: string;
  log?: boolean;
  /** Text at the two ends instead of ticks (e.g. "early", "late"). */
  ends?: [string, string];
}) {
  const id = safeId(useId(), 'grad');
  const ref = useRef<SVGGElement>(null);
  const { x, y, width, domain, interpolate, log, ends } = props;
  const stops = Array.from({ length: 11 }, (_, i) => i / 10);
  useEffect(() => {
    const g = ref.current;
    if (!g || ends || !log) return;
    const s = scaleLog().domain(domain).range([0, width]);
    const count = Math.max(2, Math.floor(width / 40));
    const t = logTicks(domain, count);
    const axis = axisBottom<number>(s).tickValues(t.values).tickFormat(t.label).tickSize(3);
    select(g).call(axis);
    thinTickLabels(g, true);
  });
  return (
    <g className="fm-colorbar" transform={`translate(${x},${y})`} pointerEvents="none">
      <defs>
        <linearGradient id={id} x1="0" x2="1" y1="0" y2="0">
          {stops.map((t) => (
            <stop key={t} offset={t} stopColor={interpolate(t)} />
          ))}
        </linearGradient>
      </defs>
      <text className="fm-colorbar-label" x={width / 2} y={-4} textAnchor="middle">
        {props.label}
      </text>
      <rect width={width} height={8} fill={`url(#${id})`} />
      {ends ? (
        <>
          <text className="fm-colorbar-end" x={0} y={19} textAnchor="start">
            {ends[0]}
          </text>
          <text className="fm-colorbar-end" x={width} y={19} textAnchor="end">
            {ends[1]}
          </text>
        </>
      ) : (
        <g ref={ref} className="fm-axis fm-colorbar-axis" transform="translate(0,8)" />
      )}
    </g>
  );
}

/** A small inline colour-gradient swatch for HTML legends (e.g. colour by rank). */
export function GradientSwatch({
  interpolate,
  width = 44,
}: {
  interpolate: (t: number) => string;
  width?: number;
}) {
  const id = safeId(useId(), 'gsw');
  return (
    <svg className="fm-swatch" width={width} height={10} aria-hidden="true">
      <defs>
        <linearGradient id={id} x1="0" x2="1" y1="0" y2="0">
          {Array.from({ length: 6 }, (_, i) => (
            <stop key={i} offset={i / 5} stopColor={interpolate(i / 5)} />
          ))}
        </linearGradient>
      </defs>
      <rect width={width} height={10} rx={2} fill={`url(#${id})`} />
    </svg>
  );
}

/**
 * The numbers of a multi-run figure as a compact table (one row per run): the read-out line
 * holds two lines at most, and several runs' exponents with intervals need more.
 */
export function FigureTable({
  caption,
  header,
  rows,
}: {
  caption: string;
  header: readonly ReactNode[];
  rows: readonly { key: string; cells: readonly ReactNode[] }[];
}) {
  if (rows.length === 0) return null;
  return (
    // Focusable so that keyboard users can scroll a table wider than the figure.
    <div className="fm-table-wrap" role="region" aria-label={caption} tabIndex={0}>
      <table className="fm-table">
        <caption>{caption}</caption>
        <thead>
          <tr>
            {header.map((h, i) => (
              <th key={i} scope="col">
                {h}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.key}>
              {r.cells.map((c, i) =>
                i === 0 ? (
                  <th key={i} scope="row">
                    {c}
                  </th>
                ) : (
                  <td key={i}>{c}</td>
                ),
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/**
 * The plot box as a transparent rectangle under the marks: the hit target for a figure's hover,
 * click and zoom handlers (spread onto it).
 */
export function PlotBackground({
  box,
  ...handlers
}: { box: Box } & Omit<SVGProps<SVGRectElement>, 'x' | 'y' | 'width' | 'height' | 'ref'>) {
  return (
    <rect
      className="fm-bg"
      x={box.x0}
      y={box.y0}
      width={box.x1 - box.x0}
      height={box.y1 - box.y0}
      {...handlers}
    />
  );
}

/** A legend entry: a swatch (line, point or dashed line) and text. */
export function Swatch({
  color,
  kind = 'point',
}: {
  color: string;
  kind?: 'point' | 'line' | 'dash' | 'diamond';
}) {
  return (
    <svg className="fm-swatch" width={18} height={12} aria-hidden="true">
      {kind === 'point' ? <circle cx={9} cy={6} r={4} style={{ fill: color }} /> : null}
      {kind === 'diamond' ? <path d="M9,1.5L13.5,6L9,10.5L4.5,6Z" style={{ fill: color }} /> : null}
      {kind === 'line' ? (
        <line x1={1} x2={17} y1={6} y2={6} style={{ stroke: color, strokeWidth: 2.5 }} />
      ) : null}
      {kind === 'dash' ? (
        <line
          x1={1}
          x2={17}
          y1={6}
          y2={6}
          style={{ stroke: color, strokeWidth: 2, strokeDasharray: '2 3' }}
        />
      ) : null}
    </svg>
  );
}
