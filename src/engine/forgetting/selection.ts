/**
 * How a forgetting sweep is summarised (SCIENCE.md, Fig. 4): means over seeds per setting, each
 * method's setting chosen on the held-out validation data, its test error reported, and a paired
 * comparison of LDC and EWC over seeds. Pure (no tensors): the page's figures use it too.
 *
 * Why validation: choosing each method's (λ, N_c) by its mean test error and then reporting that
 * test error favours whichever method has more settings to choose from, and reports the luckiest
 * draw of the test set as the result. Here the choice sees only the validation errors, and the
 * test error at the chosen setting is what is reported.
 */
import { studentTQuantile } from '../landscape/fits';
import type { Method } from './penalties';
import type { RunResult } from './experiment';

export interface SweepPoint {
  method: Method;
  lambda: number;
  nc: number | null;
  /** Seeds averaged so far. */
  n: number;
  eps1: number;
  eps2: number;
  eps1Own: number;
  eps2Own: number;
  /** ε₁ + ε₂ (10-way) and its standard deviation over seeds; the same for own-class errors. */
  total: number;
  totalSd: number;
  totalOwn: number;
  totalOwnSd: number;
  eps1Sd: number;
  eps2Sd: number;
  /** ε₁ + ε₂ on the held-out validation data (10-way, and own-class), mean over seeds. */
  valTotal: number;
  valTotalSd: number;
  valTotalOwn: number;
}

export interface BestPoint {
  lambda: number;
  nc: number | null;
  /** Test errors at the chosen setting, means over seeds. */
  eps1: number;
  eps2: number;
  total: number;
  totalSd: number;
  n: number;
  /** The validation ε₁ + ε₂ the setting was chosen by. */
  valTotal: number;
}

/** Mean of per-seed differences with its 95% Student-t interval. */
export interface PairedDifference {
  mean: number;
  sd: number;
  /** mean ± t(0.975, n − 1)·sd/√n; NaN bounds with fewer than 2 seeds. */
  ci95: [number, number];
  n: number;
}

export interface ForgettingSummary {
  /** How each method's setting is chosen: by mean validation ε₁ + ε₂ over seeds. */
  selection: 'validation';
  /** Settings each method chose among. */
  budget: Record<Method, number>;
  /** Per method: the setting with the lowest mean validation ε₁+ε₂ (10-way), its test errors. */
  best: Record<Method, BestPoint | null>;
  /** The same with both chosen and reported over each task's own classes. */
  bestOwn: Record<Method, BestPoint | null>;
  /** LDC at each N_c, its λ chosen on validation data; test errors. */
  ncCurve: {
    nc: number;
    lambda: number;
    total: number;
    totalSd: number;
    eps1: number;
    eps2: number;
    valTotal: number;
  }[];
  /** EWC's test ε₁+ε₂ at its chosen setting (the reference line of Fig. 4F). */
  ewcReference: number;
  /** N_c of LDC's chosen setting. */
  bestNc: number | null;
  /**
   * LDC − EWC test ε₁+ε₂ per seed, each at its chosen setting (10-way and own-class); null when
   * either method has no runs.
   */
  paired: { ldcMinusEwc: PairedDifference | null };
  pairedOwn: { ldcMinusEwc: PairedDifference | null };
}

export function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Sample standard deviation (n − 1); 0 for a single value. */
export function sd(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
}

/** Mean and 95% t interval of a sample of differences (one per seed). */
export function meanInterval(d: readonly number[]): PairedDifference {
  const n = d.length;
  const m = n ? mean(d) : NaN;
  const s = sd(d);
  if (n < 2) return { mean: m, sd: s, ci95: [NaN, NaN], n };
  const half = (studentTQuantile(0.975, n - 1) * s) / Math.sqrt(n);
  return { mean: m, sd: s, ci95: [m - half, m + half], n };
}

export function sweepKey(k: { method: Method; lambda: number; nc: number | null }): string {
  return `${k.method}|${k.lambda}|${k.nc ?? ''}`;
}

/** Means over the runs (seeds) of one setting. */
export function aggregate(runs: readonly RunResult[]): SweepPoint {
  const r0 = runs[0];
  const e1 = runs.map((r) => r.eps1);
  const e2 = runs.map((r) => r.eps2);
  const tot = runs.map((r) => r.eps1 + r.eps2);
  const totOwn = runs.map((r) => r.eps1Own + r.eps2Own);
  const val = runs.map((r) => r.valEps1 + r.valEps2);
  return {
    method: r0.method,
    lambda: r0.lambda,
    nc: r0.nc,
    n: runs.length,
    eps1: mean(e1),
    eps2: mean(e2),
    eps1Own: mean(runs.map((r) => r.eps1Own)),
    eps2Own: mean(runs.map((r) => r.eps2Own)),
    total: mean(tot),
    totalSd: sd(tot),
    totalOwn: mean(totOwn),
    totalOwnSd: sd(totOwn),
    eps1Sd: sd(e1),
    eps2Sd: sd(e2),
    valTotal: mean(val),
    valTotalSd: sd(val),
    valTotalOwn: mean(runs.map((r) => r.valEps1Own + r.valEps2Own)),
  };
}

/**
 * The point of `points` with the lowest mean validation total (own-class when `own`); ties go
 * to the first in sweep order (the run plan: λ ascending as given, LDC's N_c outermost).
 */
export function chooseOnValidation(points: readonly SweepPoint[], own = false): SweepPoint | null {
  let best: SweepPoint | null = null;
  for (const p of points) {
    const v = own ? p.valTotalOwn : p.valTotal;
    if (!best || v < (own ? best.valTotalOwn : best.valTotal)) best = p;
  }
  return best;
}

function bestPoint(p: SweepPoint | null, own: boolean): BestPoint | null {
  if (!p) return null;
  return {
    lambda: p.lambda,
    nc: p.nc,
    eps1: own ? p.eps1Own : p.eps1,
    eps2: own ? p.eps2Own : p.eps2,
    total: own ? p.totalOwn : p.total,
    totalSd: own ? p.totalOwnSd : p.totalSd,
    n: p.n,
    valTotal: own ? p.valTotalOwn : p.valTotal,
  };
}

/**
 * LDC − EWC test totals per seed at the two chosen settings, over the seeds both have run.
 */
export function pairedLdcMinusEwc(
  runs: readonly RunResult[],
  ldc: { lambda: number; nc: number | null } | null,
  ewc: { lambda: number } | null,
  own = false,
): PairedDifference | null {
  if (!ldc || !ewc) return null;
  const total = (r: RunResult) => (own ? r.eps1Own + r.eps2Own : r.eps1 + r.eps2);
  const ewcBySeed = new Map<number, number>();
  for (const r of runs)
    if (r.method === 'ewc' && r.lambda === ewc.lambda) ewcBySeed.set(r.seed, total(r));
  const d: number[] = [];
  for (const r of runs) {
    if (r.method !== 'ldc' || r.lambda !== ldc.lambda || r.nc !== ldc.nc) continue;
    const e = ewcBySeed.get(r.seed);
    if (e !== undefined) d.push(total(r) - e);
  }
  return d.length ? meanInterval(d) : null;
}

const METHODS: readonly Method[] = ['none', 'ldc', 'ewc'];

/** Chosen settings, the N_c curve, the budgets and the paired comparison, from a sweep. */
export function summarize(
  sweep: readonly SweepPoint[],
  runs: readonly RunResult[],
): ForgettingSummary {
  const of = (m: Method) => sweep.filter((p) => p.method === m);
  const chosen = (own: boolean) =>
    Object.fromEntries(METHODS.map((m) => [m, chooseOnValidation(of(m), own)])) as Record<
      Method,
      SweepPoint | null
    >;
  const c = chosen(false);
  const cOwn = chosen(true);
  const best = Object.fromEntries(METHODS.map((m) => [m, bestPoint(c[m], false)])) as Record<
    Method,
    BestPoint | null
  >;
  const bestOwn = Object.fromEntries(METHODS.map((m) => [m, bestPoint(cOwn[m], true)])) as Record<
    Method,
    BestPoint | null
  >;
  const ncs = [...new Set(of('ldc').map((p) => p.nc ?? 0))].sort((a, b) => a - b);
  const ncCurve = ncs.map((nc) => {
    const q = chooseOnValidation(of('ldc').filter((p) => p.nc === nc)) as SweepPoint;
    return {
      nc,
      lambda: q.lambda,
      total: q.total,
      totalSd: q.totalSd,
      eps1: q.eps1,
      eps2: q.eps2,
      valTotal: q.valTotal,
    };
  });
  return {
    selection: 'validation',
    budget: { none: of('none').length, ldc: of('ldc').length, ewc: of('ewc').length },
    best,
    bestOwn,
    ncCurve,
    ewcReference: best.ewc?.total ?? NaN,
    bestNc: best.ldc?.nc ?? null,
    paired: { ldcMinusEwc: pairedLdcMinusEwc(runs, c.ldc, c.ewc) },
    pairedOwn: { ldcMinusEwc: pairedLdcMinusEwc(runs, cOwn.ldc, cOwn.ewc, true) },
  };
}
