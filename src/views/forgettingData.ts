/**
 * What the forgetting figures (section 6, Fig. 4) draw, computed from the runs in the store:
 * per setting (method, λ, N_c) the mean and range over seeds of ε₁, ε₂ and ε₁ + ε₂ under the
 * chosen scoring, each method's best setting, the chosen settings, mean curves with their
 * range, and LDC's best total at each N_c. Pure functions, so the figures stay live while the
 * sweep runs (the store's SweepPoints carry a standard deviation but not the range).
 */
import type { CurvePoint, Method, RunKey, RunResult } from '../engine/forgetting';
import type { ForgettingChoice, Scoring } from '../state/forgettingStore';

export const METHODS: readonly Method[] = ['none', 'ldc', 'ewc'];
export const METHOD_LABEL: Record<Method, string> = {
  none: 'no constraint',
  ldc: 'LDC',
  ewc: 'EWC',
};
/** Okabe–Ito colours through CSS variables (src/views/forgetting.css). */
export const METHOD_COLOR: Record<Method, string> = {
  none: 'var(--fm-forget-none)',
  ldc: 'var(--fm-forget-ldc)',
  ewc: 'var(--fm-forget-ewc)',
};
export const SCORING_LABEL: Record<Scoring, string> = {
  all: '10-way output',
  own: "task's own classes",
};

export interface Setting {
  method: Method;
  lambda: number;
  nc: number | null;
}

export function settingKey(s: Setting): string {
  return `${s.method}|${s.lambda}|${s.nc ?? ''}`;
}

export function sameSetting(a: Setting, b: Setting): boolean {
  return a.method === b.method && a.lambda === b.lambda && a.nc === b.nc;
}

/** "LDC, λ = 3, N_c = 300" */
export function settingLabel(s: Setting): string {
  if (s.method === 'none') return METHOD_LABEL.none;
  return `${METHOD_LABEL[s.method]}, λ = ${fmtLambda(s.lambda)}${s.nc !== null ? `, N_c = ${s.nc}` : ''}`;
}

/** "LDC (λ = 3, N_c = 300)" */
export function settingShort(s: Setting): string {
  if (s.method === 'none') return METHOD_LABEL.none;
  return `${METHOD_LABEL[s.method]} (λ = ${fmtLambda(s.lambda)}${s.nc !== null ? `, N_c = ${s.nc}` : ''})`;
}

/** λ as typed: 0.1, 3, 300, 3×10⁵. */
export function fmtLambda(l: number): string {
  if (l === 0) return '0';
  if (l >= 1e4) {
    const e = Math.floor(Math.log10(l) + 1e-9);
    const m = l / 10 ** e;
    const sup = String(e)
      .split('')
      .map((c) => '⁰¹²³⁴⁵⁶⁷⁸⁹'[Number(c)])
      .join('');
    return `${Math.abs(m - 1) < 1e-9 ? '' : `${Number(m.toPrecision(3))}×`}10${sup}`;
  }
  return String(Number(l.toPrecision(3)));
}

export interface Stat {
  mean: number;
  min: number;
  max: number;
  sd: number;
  n: number;
}

export function stat(xs: readonly number[]): Stat {
  const f = xs.filter(Number.isFinite);
  const n = f.length;
  if (!n) return { mean: NaN, min: NaN, max: NaN, sd: NaN, n: 0 };
  const mean = f.reduce((a, b) => a + b, 0) / n;
  const sd = n > 1 ? Math.sqrt(f.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, min: Math.min(...f), max: Math.max(...f), sd, n };
}

export function errors(
  r: Pick<RunResult | CurvePoint, 'eps1' | 'eps2' | 'eps1Own' | 'eps2Own'>,
  scoring: Scoring,
): [number, number] {
  return scoring === 'own' ? [r.eps1Own, r.eps2Own] : [r.eps1, r.eps2];
}

export interface SettingStats extends Setting {
  eps1: Stat;
  eps2: Stat;
  total: Stat;
  seeds: number[];
}

/** Mean and range over seeds of every setting that has runs, in the order first seen. */
export function settingStats(runs: readonly RunResult[], scoring: Scoring): SettingStats[] {
  const groups = new Map<string, RunResult[]>();
  for (const r of runs) {
    const k = settingKey(r);
    const g = groups.get(k);
    if (g) g.push(r);
    else groups.set(k, [r]);
  }
  return [...groups.values()].map((g) => {
    const e = g.map((r) => errors(r, scoring));
    return {
      method: g[0].method,
      lambda: g[0].lambda,
      nc: g[0].nc,
      eps1: stat(e.map((x) => x[0])),
      eps2: stat(e.map((x) => x[1])),
      total: stat(e.map((x) => x[0] + x[1])),
      seeds: g.map((r) => r.seed),
    };
  });
}

/**
 * The lowest mean ε₁ + ε₂ of a method. Only settings run on as many seeds as the best-covered
 * one count, so that while a sweep is under way a setting seen on one lucky seed does not win.
 */
export function bestOf(stats: readonly SettingStats[], method: Method): SettingStats | null {
  const mine = stats.filter((s) => s.method === method);
  const most = Math.max(0, ...mine.map((s) => s.total.n));
  let best: SettingStats | null = null;
  for (const s of mine)
    if (s.total.n === most && (!best || s.total.mean < best.total.mean)) best = s;
  return best;
}

/** The settings the figures show: the chosen λ (and N_c) of each method, else its best. */
export function chosenSettings(
  stats: readonly SettingStats[],
  choice: ForgettingChoice,
): Record<Method, SettingStats | null> {
  const find = (s: Setting) => stats.find((x) => sameSetting(x, s)) ?? null;
  return {
    none: find({ method: 'none', lambda: 0, nc: null }),
    ldc:
      (choice.ldc && find({ method: 'ldc', lambda: choice.ldc.lambda, nc: choice.ldc.nc })) ??
      bestOf(stats, 'ldc'),
    ewc:
      (choice.ewc && find({ method: 'ewc', lambda: choice.ewc.lambda, nc: null })) ??
      bestOf(stats, 'ewc'),
  };
}

export interface CurveStat {
  step: number;
  eps1: Stat;
  eps2: Stat;
}

/**
 * The curves of one setting over its seeds (finished runs, plus the run in progress when it
 * belongs to this setting), as mean and range at each recorded step.
 */
export function settingCurve(
  runs: readonly RunResult[],
  live: { key: RunKey; curve: CurvePoint[] } | null,
  setting: Setting,
  scoring: Scoring,
): CurveStat[] {
  const curves: CurvePoint[][] = runs.filter((r) => sameSetting(r, setting)).map((r) => r.curve);
  if (
    live &&
    sameSetting(live.key, setting) &&
    !runs.some((r) => sameSetting(r, setting) && r.seed === live.key.seed)
  )
    curves.push(live.curve);
  const bySteps = new Map<number, [number, number][]>();
  for (const c of curves)
    for (const p of c) {
      const list = bySteps.get(p.step);
      const e = errors(p, scoring);
      if (list) list.push(e);
      else bySteps.set(p.step, [e]);
    }
  return [...bySteps.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([step, es]) => ({
      step,
      eps1: stat(es.map((e) => e[0])),
      eps2: stat(es.map((e) => e[1])),
    }));
}

/** LDC's best setting (lowest mean ε₁ + ε₂ over λ) at each N_c, ascending N_c. */
export function ncCurve(stats: readonly SettingStats[]): SettingStats[] {
  const ncs = [...new Set(stats.filter((s) => s.method === 'ldc').map((s) => s.nc ?? 0))].sort(
    (a, b) => a - b,
  );
  const out: SettingStats[] = [];
  for (const nc of ncs) {
    const b = bestOf(
      stats.filter((s) => s.method === 'ldc' && s.nc === nc),
      'ldc',
    );
    if (b) out.push(b);
  }
  return out;
}
