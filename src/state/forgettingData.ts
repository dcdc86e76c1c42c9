/**
 * What the forgetting figures (section 6, Fig. 4) draw, computed from the runs in the store:
 * per setting (method, λ, N_c) the mean and range over seeds of ε₁, ε₂ and ε₁ + ε₂ under the
 * chosen scoring (test data) and of ε₁ + ε₂ on the held-out validation data, each method's
 * setting chosen on validation data, the settings shown, mean curves with their range, LDC at
 * each N_c, and the paired LDC − EWC difference over seeds. Pure functions, so the figures stay
 * live while the sweep runs (the store's SweepPoints carry a standard deviation but not the
 * range).
 */
import type {
  CurvePoint,
  ForgettingSummary,
  Method,
  RunKey,
  RunResult,
} from '../engine/forgetting';
// The pure module only: the package index would pull TensorFlow.js into the page's bundle.
import { meanInterval, type PairedDifference } from '../engine/forgetting/selection';
import { welchDifference } from './claims';
import type { ForgettingChoice, Scoring } from './forgettingStore';

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

/** ε₁ + ε₂ of a run on the held-out validation data. */
export function valTotal(
  r: Pick<RunResult, 'valEps1' | 'valEps2' | 'valEps1Own' | 'valEps2Own'>,
  scoring: Scoring,
): number {
  return scoring === 'own' ? r.valEps1Own + r.valEps2Own : r.valEps1 + r.valEps2;
}

export interface SettingStats extends Setting {
  /** Test errors. */
  eps1: Stat;
  eps2: Stat;
  total: Stat;
  /** ε₁ + ε₂ on the validation data: what the settings are chosen by. */
  val: Stat;
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
      val: stat(g.map((r) => valTotal(r, scoring))),
      seeds: g.map((r) => r.seed),
    };
  });
}

/**
 * A method's setting chosen on validation data: the lowest mean validation ε₁ + ε₂ (ties: the
 * first in sweep order), as the engine's summary chooses (selection.ts). Only settings run on
 * as many seeds as the best-covered one count, so that while a sweep is under way a setting
 * seen on one lucky seed does not win.
 */
export function bestOf(stats: readonly SettingStats[], method: Method): SettingStats | null {
  const mine = stats.filter((s) => s.method === method);
  const most = Math.max(0, ...mine.map((s) => s.total.n));
  let best: SettingStats | null = null;
  for (const s of mine) if (s.total.n === most && (!best || s.val.mean < best.val.mean)) best = s;
  return best;
}

/** Settings each method has chosen among so far (the selection budget). */
export function budgets(stats: readonly SettingStats[]): Record<Method, number> {
  const n = (m: Method) => stats.filter((s) => s.method === m).length;
  return { none: n('none'), ldc: n('ldc'), ewc: n('ewc') };
}

/** LDC − EWC test ε₁ + ε₂ per seed at two settings, over the seeds both have run. */
export function pairedDifference(
  runs: readonly RunResult[],
  ldc: Setting | null,
  ewc: Setting | null,
  scoring: Scoring,
): PairedDifference | null {
  if (!ldc || !ewc) return null;
  const total = (r: RunResult) => {
    const [a, b] = errors(r, scoring);
    return a + b;
  };
  const e = new Map(runs.filter((r) => sameSetting(r, ewc)).map((r) => [r.seed, total(r)]));
  const d: number[] = [];
  for (const r of runs) {
    const v = e.get(r.seed);
    if (sameSetting(r, ldc) && v !== undefined) d.push(total(r) - v);
  }
  return d.length ? meanInterval(d) : null;
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

/** LDC at each N_c, its λ chosen on validation data, ascending N_c. */
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

const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : '–');

/** A signed difference with a true minus sign. */
const s3 = (x: number) => (x < 0 ? `−${f3(-x)}` : f3(x));

/** "−0.102 (95% CI −0.178 to −0.027, 5 seeds)"; without the interval for one seed. */
export function pairedText(d: PairedDifference): string {
  const ci = d.n > 1 ? ` (95% CI ${s3(d.ci95[0])} to ${s3(d.ci95[1])}, ${d.n} seeds)` : ' (1 seed)';
  return `${s3(d.mean)}${ci}`;
}

/** What a paired LDC − EWC interval says, in words. */
export function pairedVerdict(d: PairedDifference): string {
  if (d.n < 2) return 'one seed cannot say which method has the lower ε₁ + ε₂';
  if (d.ci95[1] < 0) return 'LDC’s ε₁ + ε₂ is lower, beyond the seed-to-seed variation';
  if (d.ci95[0] > 0) return 'EWC’s ε₁ + ε₂ is lower, beyond the seed-to-seed variation';
  return 'the interval includes 0: over these seeds neither method is resolved as better';
}

/** LDC at one N_c (its λ chosen on validation data) against EWC at its chosen λ. */
export interface NcVersusEwc {
  nc: number;
  /** LDC − EWC test ε₁ + ε₂. */
  d: PairedDifference;
}

/** LDC − EWC at each N_c of `curve`, paired seed by seed over the seeds both have run. */
export function ncVersusEwc(
  runs: readonly RunResult[],
  curve: readonly SettingStats[],
  ewc: Setting | null,
  scoring: Scoring,
): NcVersusEwc[] {
  if (!ewc) return [];
  return curve.flatMap((p) => {
    const d = pairedDifference(runs, p, ewc, scoring);
    return d ? [{ nc: p.nc ?? 0, d }] : [];
  });
}

/**
 * Where LDC is below EWC, by the 95% interval of LDC − EWC at each N_c rather than by the
 * means: "By the 95% interval of LDC − EWC (paired seed by seed), LDC is below EWC at N_c =
 * 200, 300, above it at N_c = 5, 10 and unresolved (the interval includes 0) at N_c = 100."
 * `how` says how the interval was taken.
 */
export function ncVerdictText(cmp: readonly NcVersusEwc[], how: string): string {
  if (!cmp.length) return '';
  if (cmp.every((c) => c.d.n < 2)) return 'One seed cannot say at which N_c LDC is below EWC.';
  const at = (f: (c: NcVersusEwc) => boolean) =>
    cmp
      .filter(f)
      .map((c) => c.nc)
      .join(', ');
  const lower = at((c) => c.d.n > 1 && c.d.ci95[1] < 0);
  const higher = at((c) => c.d.n > 1 && c.d.ci95[0] > 0);
  const open = at((c) => !(c.d.n > 1 && (c.d.ci95[1] < 0 || c.d.ci95[0] > 0)));
  const parts = [lower ? `LDC is below EWC at N_c = ${lower}` : 'LDC is below EWC at no N_c'];
  if (higher) parts.push(`above it at N_c = ${higher}`);
  if (open) parts.push(`unresolved (the interval includes 0) at N_c = ${open}`);
  const list =
    parts.length > 1 ? `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}` : parts[0];
  return `By the 95% interval of LDC − EWC (${how}), ${list}.`;
}

/** The reference sweep the page bundles (src/views/forgettingReference.json, `--page-summary`). */
export interface ForgettingReference {
  command: string;
  backend: string;
  data: string;
  seeds: number[];
  task1: number[];
  task2: number[];
  validation: { fraction: number; seed: number; heldOut: number };
  runs: number;
  seconds: number;
  task1ErrorBefore: number;
  summary: ForgettingSummary;
}

const pm = (p: { total: number; totalSd: number; n: number }) =>
  `${f3(p.total)}${p.n > 1 ? ` ± ${f3(p.totalSd)}` : ''}`;

/**
 * Section 6's account of a sweep, sentence by sentence, from its summary alone: so that what
 * the page says is what was measured, and says less when the numbers do not support more.
 */
export function describeSweep(r: ForgettingReference): string[] {
  const s = r.summary;
  const { ldc, ewc, none } = s.best;
  const out: string[] = [];
  const n = r.seeds.length;
  out.push(
    `In the reference sweep — ${r.data}; digits ${r.task1.join(',')} then ${r.task2.join(',')}; ${n} seed${n === 1 ? '' : 's'}, ${r.runs} runs, run headless by \`${r.command}\` and bundled with the page — each method's setting was chosen on validation data — ${Math.round(100 * r.validation.fraction)}% of each task digit's training images, held out from all training — among LDC ${s.budget.ldc}, EWC ${s.budget.ewc} and no constraint ${s.budget.none} settings, and its test error is reported.`,
  );
  if (ldc && ewc && none) {
    const forgotten =
      none.eps1 > 0.8 ? `: without a constraint task 1 is forgotten (ε₁ = ${f3(none.eps1)})` : '';
    out.push(
      `Test ε₁ + ε₂, mean ± sd over seeds: LDC ${pm(ldc)} (λ = ${fmtLambda(ldc.lambda)}, N_c = ${ldc.nc}), EWC ${pm(ewc)} (λ = ${fmtLambda(ewc.lambda)}), no constraint ${pm(none)}${forgotten}.`,
    );
  }
  const d = s.paired.ldcMinusEwc;
  if (d) out.push(`Paired seed by seed, LDC − EWC = ${pairedText(d)}: ${pairedVerdict(d)}.`);
  const curve = s.ncCurve;
  if (curve.length > 1 && ewc) {
    const at = (p: (typeof curve)[number]) => `${f3(p.total)} at N_c = ${p.nc}`;
    const cmp = curve.map((p) => ({
      nc: p.nc,
      d: welchDifference(
        { mean: p.total, sd: p.totalSd, n },
        { mean: ewc.total, sd: ewc.totalSd, n },
      ),
    }));
    out.push(
      `With λ chosen on validation data, LDC's test ε₁ + ε₂ goes from ${at(curve[0])} to ${at(curve[curve.length - 1])} (EWC ${f3(ewc.total)}). ${ncVerdictText(cmp, 'unpaired, from the mean and sd over seeds at each N_c')}`,
    );
  }
  const o = s.bestOwn;
  if (o.ldc && o.ewc && o.none) {
    const head =
      none && none.total > 0.5 && o.none.total < 0.15
        ? ` Even the unconstrained run keeps task 1 within its own classes, so most of the 10-way forgetting is the shared output head favouring the new classes, not lost task-1 features.`
        : '';
    const po = s.pairedOwn.ldcMinusEwc;
    out.push(
      `Scored over each task's own classes (chosen the same way): LDC ${pm(o.ldc)}, EWC ${pm(o.ewc)}, no constraint ${pm(o.none)}${po ? `; LDC − EWC ${pairedText(po)}` : ''}.${head}`,
    );
  }
  return out;
}
