/**
 * Zoom and pan for the figures that offer it (seven of them): d3-zoom, with the d3-transition
 * and d3-drag it pulls in (~25 kB), is its own module so the figures without zoom, and an embed
 * of one of them, do not load it.
 */
import { useCallback, useEffect, useRef, useState, type RefObject } from 'react';
import { select, zoom, zoomIdentity, type ZoomTransform } from 'd3';
import type { Box } from './chart';

/**
 * d3-zoom on an <svg>: Ctrl/⌘/Shift + wheel or pinch zooms, drag pans, double-click resets.
 * A plain wheel scrolls the page. Returns the current transform (identity when off) and a
 * reset function. The transform resets when the plot size changes.
 */
export function useZoom(
  svgRef: RefObject<SVGSVGElement | null>,
  box: Box,
  enabled: boolean,
): [ZoomTransform, () => void] {
  const [transform, setTransform] = useState<ZoomTransform>(zoomIdentity);
  const resetRef = useRef<() => void>(() => undefined);
  const { x0, x1, y0, y1 } = box;
  useEffect(() => {
    const svg = svgRef.current;
    if (!svg || !enabled) return;
    const sel = select(svg);
    const extent: [[number, number], [number, number]] = [
      [x0, y0],
      [x1, y1],
    ];
    const z = zoom<SVGSVGElement, unknown>()
      .scaleExtent([1, 64])
      .extent(extent)
      .translateExtent(extent)
      .filter((event: Event) => {
        if (event.type === 'wheel') {
          const w = event as WheelEvent;
          return w.ctrlKey || w.metaKey || w.shiftKey;
        }
        if (event instanceof MouseEvent) return !event.ctrlKey && !event.button;
        return true;
      })
      // d3's default speeds Ctrl+wheel up 10× (trackpad pinch); keep that for small pinch
      // deltas only, so a mouse wheel notch with Ctrl zooms by a comfortable step.
      .wheelDelta((event: WheelEvent) => {
        const unit = event.deltaMode === 1 ? 0.05 : event.deltaMode ? 1 : 0.002;
        const pinch = event.ctrlKey && Math.abs(event.deltaY) < 50 ? 10 : 1;
        return -event.deltaY * unit * pinch;
      })
      .on('zoom', (event: { transform: ZoomTransform }) => setTransform(event.transform));
    sel.call(z).on('dblclick.zoom', null);
    z.transform(sel, zoomIdentity);
    const reset = () => z.transform(sel, zoomIdentity);
    resetRef.current = reset;
    sel.on('dblclick.fmreset', reset);
    return () => {
      sel.on('.zoom', null).on('dblclick.fmreset', null);
      resetRef.current = () => undefined;
    };
  }, [svgRef, enabled, x0, x1, y0, y1]);
  const reset = useCallback(() => resetRef.current(), []);
  return [enabled ? transform : zoomIdentity, reset];
}
