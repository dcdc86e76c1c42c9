/**
 * Exports of a figure: a standalone SVG (the page's computed styles and colours written into
 * the elements, so it looks the same outside the page), a PNG rendered from that SVG at 2×,
 * and the figure's data as CSV. ChartParts loads it on the first export.
 */
import { downloadBlob } from './download';

/** A figure's data: column names (with units) and one row per point. */
export interface CsvTable {
  header: string[];
  rows: (string | number | null | undefined)[][];
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** Properties that inherit in SVG: written only where they differ from the parent's. */
const INHERITED = [
  'fill',
  'fill-opacity',
  'fill-rule',
  'stroke',
  'stroke-width',
  'stroke-opacity',
  'stroke-dasharray',
  'stroke-linecap',
  'stroke-linejoin',
  'font-family',
  'font-size',
  'font-weight',
  'font-style',
  'text-anchor',
  'dominant-baseline',
  'visibility',
  'paint-order',
  'shape-rendering',
] as const;

/** Properties that do not inherit: written where they differ from their initial value. */
const OWN: Record<string, string> = {
  opacity: '1',
  display: 'inline',
  'clip-path': 'none',
  'stop-color': 'rgb(0, 0, 0)',
  'stop-opacity': '1',
};

/** Writes the computed style of `src` (and its subtree) into `dst`, a deep clone of it. */
function inlineStyles(src: Element, dst: Element): void {
  const srcAll = [src, ...Array.from(src.querySelectorAll('*'))];
  const dstAll = [dst, ...Array.from(dst.querySelectorAll('*'))];
  const computed = new Map<Element, CSSStyleDeclaration>();
  const style = (el: Element) => {
    let cs = computed.get(el);
    if (!cs) {
      cs = getComputedStyle(el);
      computed.set(el, cs);
    }
    return cs;
  };
  srcAll.forEach((el, i) => {
    const out = dstAll[i];
    if (!out) return;
    const cs = style(el);
    const parent = el === src ? null : el.parentElement;
    const ps = parent ? style(parent) : null;
    const decl: string[] = [];
    for (const p of INHERITED) {
      const v = cs.getPropertyValue(p);
      if (v && (!ps || ps.getPropertyValue(p) !== v)) decl.push(`${p}:${v}`);
    }
    for (const [p, initial] of Object.entries(OWN)) {
      const v = cs.getPropertyValue(p);
      if (v && v !== initial) decl.push(`${p}:${v}`);
    }
    if (decl.length) out.setAttribute('style', decl.join(';'));
    else out.removeAttribute('style');
    out.removeAttribute('class');
  });
}

interface LegendItem {
  swatch: Element | null;
  /** A CSS box swatch (e.g. the PCA-window patch): fill and border colours. */
  box: { fill: string; stroke: string } | null;
  text: string;
}

/** The legend's entries: each item's swatch (an <svg> or a CSS patch) and its text. */
function legendItems(figure: HTMLElement): LegendItem[] {
  const legend = figure.querySelector<HTMLElement>('.fm-legend');
  if (!legend) return [];
  const items = Array.from(legend.children) as HTMLElement[];
  return items
    .map((el) => {
      const svg = el.querySelector('svg.fm-swatch');
      const patch = el.querySelector<HTMLElement>('.fm-window-swatch');
      let box: LegendItem['box'] = null;
      if (patch) {
        const cs = getComputedStyle(patch);
        box = { fill: cs.backgroundColor, stroke: cs.borderTopColor };
      }
      let swatch: Element | null = null;
      if (svg) {
        swatch = svg.cloneNode(true) as Element;
        inlineStyles(svg, swatch);
        const op = getComputedStyle(svg).opacity;
        if (op && op !== '1') swatch.setAttribute('opacity', op);
      }
      return { swatch, box, text: (el.textContent ?? '').replace(/\s+/g, ' ').trim() };
    })
    .filter((it) => it.text || it.swatch);
}

/** Lays legend items out in rows of at most `width` pixels; returns the rows' height. */
function layoutLegend(
  items: LegendItem[],
  width: number,
  font: string,
): { place: { item: LegendItem; x: number; row: number; w: number }[]; rows: number } {
  const ctx = document.createElement('canvas').getContext('2d');
  if (ctx) ctx.font = `11px ${font}`;
  const measure = (t: string) => (ctx ? ctx.measureText(t).width : t.length * 6.2);
  const place: { item: LegendItem; x: number; row: number; w: number }[] = [];
  let x = 0;
  let row = 0;
  for (const item of items) {
    const sw = item.swatch
      ? Number(item.swatch.getAttribute('width') ?? 18) + 4
      : item.box
        ? 18
        : 0;
    const w = sw + measure(item.text);
    if (x > 0 && x + w > width) {
      row += 1;
      x = 0;
    }
    place.push({ item, x, row, w: sw });
    x += w + 16;
  }
  return { place, rows: items.length ? row + 1 : 0 };
}

/**
 * A standalone SVG document of a figure: its plot(s) as laid out on the page, the title above
 * and the legend text below, on the page's background colour.
 */
export function figureSvg(
  figure: HTMLElement,
  title: string,
): { text: string; width: number; height: number } {
  const frame = figure.querySelector<HTMLElement>('.fm-frame') ?? figure;
  const svgs = Array.from(frame.querySelectorAll<SVGSVGElement>('svg.fm-svg'));
  const canvases = Array.from(frame.querySelectorAll<HTMLCanvasElement>('canvas'));
  if (!svgs.length && !canvases.length) throw new Error('this figure has no plot to export');
  const rects = [...svgs, ...canvases].map((s) => s.getBoundingClientRect());
  // Text lines that belong to the plots (a panel's fitted exponents), kept where they are.
  const lines = Array.from(frame.querySelectorAll<HTMLElement>('.fm-panel-fits > *')).filter(
    (el) => (el.textContent ?? '').trim() !== '',
  );
  const lineRects = lines.map((el) => el.getBoundingClientRect());
  const all = [...rects, ...lineRects];
  const left = Math.min(...all.map((r) => r.left));
  const top = Math.min(...all.map((r) => r.top));
  const plotW = Math.ceil(Math.max(...all.map((r) => r.right)) - left);
  const plotH = Math.ceil(Math.max(...all.map((r) => r.bottom)) - top);
  const rootStyle = getComputedStyle(document.documentElement);
  const figStyle = getComputedStyle(figure);
  const fg = figStyle.color || rootStyle.color;
  const bg =
    rootStyle.backgroundColor && rootStyle.backgroundColor !== 'rgba(0, 0, 0, 0)'
      ? rootStyle.backgroundColor
      : '#ffffff';
  const font = figStyle.fontFamily || 'sans-serif';
  const pad = 12;
  const headH = 28;
  const width = Math.max(plotW + 2 * pad, 240);
  const extraTexts: SVGTextElement[] = [];
  lines.forEach((el, i) => {
    const r = lineRects[i];
    const cs = getComputedStyle(el);
    const t = document.createElementNS(SVG_NS, 'text');
    t.setAttribute('x', String(Math.round(pad + r.left - left)));
    t.setAttribute('y', String(Math.round(headH + r.bottom - top - 4)));
    t.setAttribute('font-size', cs.fontSize);
    t.setAttribute('font-weight', cs.fontWeight);
    t.setAttribute('fill', cs.color);
    t.textContent = (el.textContent ?? '').replace(/\s+/g, ' ').trim();
    extraTexts.push(t);
  });
  const legend = layoutLegend(legendItems(figure), width - 2 * pad, font);
  const footH = legend.rows ? legend.rows * 18 + 8 : 0;
  const height = headH + plotH + footH + pad;

  const out = document.createElementNS(SVG_NS, 'svg');
  out.setAttribute('xmlns', SVG_NS);
  out.setAttribute('width', String(width));
  out.setAttribute('height', String(height));
  out.setAttribute('viewBox', `0 0 ${width} ${height}`);
  out.setAttribute('font-family', font);
  const titleEl = document.createElementNS(SVG_NS, 'title');
  titleEl.textContent = title;
  out.appendChild(titleEl);
  const backdrop = document.createElementNS(SVG_NS, 'rect');
  backdrop.setAttribute('width', '100%');
  backdrop.setAttribute('height', '100%');
  backdrop.setAttribute('fill', bg);
  out.appendChild(backdrop);
  const heading = document.createElementNS(SVG_NS, 'text');
  heading.setAttribute('x', String(pad));
  heading.setAttribute('y', '19');
  heading.setAttribute('font-size', '14');
  heading.setAttribute('font-weight', '600');
  heading.setAttribute('fill', fg);
  heading.textContent = title;
  out.appendChild(heading);

  svgs.forEach((svg, i) => {
    const r = rects[i];
    const clone = svg.cloneNode(true) as SVGSVGElement;
    inlineStyles(svg, clone);
    clone.setAttribute('x', String(Math.round(pad + r.left - left)));
    clone.setAttribute('y', String(Math.round(headH + r.top - top)));
    clone.setAttribute('width', String(Math.round(r.width)));
    clone.setAttribute('height', String(Math.round(r.height)));
    clone.setAttribute('overflow', 'visible');
    clone.removeAttribute('role');
    const label = svg.getAttribute('aria-label');
    if (label) {
      const desc = document.createElementNS(SVG_NS, 'desc');
      desc.textContent = label;
      clone.insertBefore(desc, clone.firstChild);
    }
    out.appendChild(clone);
  });

  // Pictures drawn on a canvas go in as images.
  canvases.forEach((c, k) => {
    const r = rects[svgs.length + k];
    const img = document.createElementNS(SVG_NS, 'image');
    img.setAttribute('x', String(Math.round(pad + r.left - left)));
    img.setAttribute('y', String(Math.round(headH + r.top - top)));
    img.setAttribute('width', String(Math.round(r.width)));
    img.setAttribute('height', String(Math.round(r.height)));
    img.setAttribute('href', c.toDataURL('image/png'));
    const label = c.getAttribute('aria-label');
    if (label) {
      const t = document.createElementNS(SVG_NS, 'title');
      t.textContent = label;
      img.appendChild(t);
    }
    out.appendChild(img);
  });
  for (const t of extraTexts) out.appendChild(t);
  for (const { item, x, row, w } of legend.place) {
    const baseY = headH + plotH + 20 + 18 * row;
    const x0 = pad + x;
    if (item.swatch) {
      const sw = item.swatch;
      sw.setAttribute('x', String(x0));
      sw.setAttribute('y', String(baseY - 10));
      sw.removeAttribute('aria-hidden');
      out.appendChild(sw);
    } else if (item.box) {
      const r = document.createElementNS(SVG_NS, 'rect');
      r.setAttribute('x', String(x0));
      r.setAttribute('y', String(baseY - 9));
      r.setAttribute('width', '14');
      r.setAttribute('height', '10');
      r.setAttribute('fill', item.box.fill);
      r.setAttribute('stroke', item.box.stroke);
      out.appendChild(r);
    }
    const t = document.createElementNS(SVG_NS, 'text');
    t.setAttribute('x', String(x0 + w));
    t.setAttribute('y', String(baseY));
    t.setAttribute('font-size', '11');
    t.setAttribute('fill', fg);
    t.textContent = item.text;
    out.appendChild(t);
  }

  const text = `<?xml version="1.0" encoding="UTF-8"?>\n${new XMLSerializer().serializeToString(out)}\n`;
  return { text, width, height };
}

/** The PNG of an SVG document at `scale`× (drawn through an <img> onto a canvas). */
export async function svgToPng(
  svg: { text: string; width: number; height: number },
  scale = 2,
): Promise<Blob> {
  const img = new Image();
  img.decoding = 'sync';
  img.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg.text)}`;
  await img.decode();
  const canvas = document.createElement('canvas');
  canvas.width = Math.round(svg.width * scale);
  canvas.height = Math.round(svg.height * scale);
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('no 2D canvas in this browser');
  ctx.scale(scale, scale);
  ctx.drawImage(img, 0, 0, svg.width, svg.height);
  return new Promise((resolve, reject) =>
    canvas.toBlob(
      (b) => (b ? resolve(b) : reject(new Error('the PNG could not be encoded'))),
      'image/png',
    ),
  );
}

function csvField(v: string | number | null | undefined): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/** RFC 4180 CSV: the header row, then the rows (non-finite numbers left empty). */
export function toCsv(t: CsvTable): string {
  return [t.header, ...t.rows].map((row) => row.map(csvField).join(',')).join('\r\n') + '\r\n';
}

export type ExportKind = 'svg' | 'png' | 'csv';

/** Exports the figure `figure` (its `data-figure` id names the file). */
export async function exportFigure(
  kind: ExportKind,
  figure: HTMLElement,
  id: string,
  title: string,
  csv?: () => CsvTable,
): Promise<void> {
  const base = `flat-minima-${id}`;
  if (kind === 'csv') {
    if (!csv) throw new Error('this figure has no data table');
    downloadBlob(new Blob([toCsv(csv())], { type: 'text/csv;charset=utf-8' }), `${base}.csv`);
    return;
  }
  const svg = figureSvg(figure, title);
  if (kind === 'svg') {
    downloadBlob(new Blob([svg.text], { type: 'image/svg+xml;charset=utf-8' }), `${base}.svg`);
    return;
  }
  downloadBlob(await svgToPng(svg, 2), `${base}.png`);
}
