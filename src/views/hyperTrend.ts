/**
 * Whether ψ moves with SGD's noise α/B across the (B, α) grid, read off the runs shown: along
 * each row (one B) does ψ rise with α, down each column (one α) does it fall with B? Counted by
 * point estimates, so the figure's prose says what the grid shows rather than what a past run
 * showed.
 */
export interface GridRun {
  batchSize: number;
  lr: number;
  psi: { exponent: number };
}

export interface NoiseTrend {
  /** Rows (one B, at least two α) where ψ rises with every step up in α. */
  rowsRising: number;
  rows: number;
  /** Columns (one α, at least two B) where ψ falls with every step up in B. */
  columnsFalling: number;
  columns: number;
}

function monotone(
  runs: readonly GridRun[],
  key: (r: GridRun) => number,
  along: (r: GridRun) => number,
  sign: 1 | -1,
): { hits: number; lines: number } {
  const lines = new Map<number, GridRun[]>();
  for (const r of runs) {
    if (!Number.isFinite(r.psi.exponent)) continue;
    lines.set(key(r), [...(lines.get(key(r)) ?? []), r]);
  }
  let hits = 0;
  let counted = 0;
  for (const line of lines.values()) {
    if (line.length < 2) continue;
    counted++;
    const psi = [...line].sort((a, b) => along(a) - along(b)).map((r) => r.psi.exponent);
    if (psi.every((p, i) => i === 0 || sign * (p - psi[i - 1]) > 0)) hits++;
  }
  return { hits, lines: counted };
}

export function noiseTrend(runs: readonly GridRun[]): NoiseTrend {
  const rows = monotone(
    runs,
    (r) => r.batchSize,
    (r) => r.lr,
    1,
  );
  const cols = monotone(
    runs,
    (r) => r.lr,
    (r) => r.batchSize,
    -1,
  );
  return {
    rowsRising: rows.hits,
    rows: rows.lines,
    columnsFalling: cols.hits,
    columns: cols.lines,
  };
}

/** "ψ rises with α at fixed B in 3 of 3 rows and falls with B at fixed α in 2 of 3 columns". */
export function noiseTrendText(t: NoiseTrend): string {
  const parts: string[] = [];
  if (t.rows > 0) parts.push(`rises with α at fixed B in ${t.rowsRising} of ${t.rows} rows`);
  if (t.columns > 0)
    parts.push(`falls with B at fixed α in ${t.columnsFalling} of ${t.columns} columns`);
  return parts.length ? `ψ ${parts.join(' and ')} (point estimates)` : '';
}
