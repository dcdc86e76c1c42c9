/**
 * The nearest of a figure's screen points to the pointer. A plain scan: a figure holds at most a
 * few thousand points (MAX_MINIBATCH_POINTS), a few microseconds per pointer move, and it spares
 * every figure's chart code d3-delaunay (~19 kB) for a lookup it does once per move.
 */

/** Index of the point nearest (px, py) (the first of equals), or -1 when there are none. */
export function nearestIndex(
  points: readonly { readonly x: number; readonly y: number }[],
  px: number,
  py: number,
): number {
  let best = -1;
  let bestD2 = Infinity;
  for (let i = 0; i < points.length; i++) {
    const dx = points[i].x - px;
    const dy = points[i].y - py;
    const d2 = dx * dx + dy * dy;
    if (d2 < bestD2) {
      bestD2 = d2;
      best = i;
    }
  }
  return best;
}
