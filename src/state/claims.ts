/**
 * Comparisons the page's prose states, decided by intervals rather than by means: a caption says
 * one method is flatter, lower or better only where the 95% interval of the difference excludes
 * zero, and names the others it is not resolved from. Pure functions, unit-tested with known
 * answers (tests/unit/claims.test.ts).
 */
// The pure modules only: the package indexes would pull TensorFlow.js into the page's bundle.
import { meanInterval, type PairedDifference } from '../engine/forgetting/selection';
import { studentTQuantile } from '../engine/landscape/fits';

/**
 * Welch's 95% interval of a − b from means and sample sds alone: for a summary that keeps no
 * per-seed values. Unpaired, so wider than the paired interval when seeds move both together.
 */
export function welchDifference(
  a: { mean: number; sd: number; n: number },
  b: { mean: number; sd: number; n: number },
): PairedDifference {
  const mean = a.mean - b.mean;
  const n = Math.min(a.n, b.n);
  if (a.n < 2 || b.n < 2) return { mean, sd: NaN, ci95: [NaN, NaN], n };
  const va = (a.sd * a.sd) / a.n;
  const vb = (b.sd * b.sd) / b.n;
  const se = Math.sqrt(va + vb);
  if (se === 0) return { mean, sd: 0, ci95: [mean, mean], n };
  const df = (va + vb) ** 2 / ((va * va) / (a.n - 1) + (vb * vb) / (b.n - 1));
  const half = studentTQuantile(0.975, df) * se;
  return { mean, sd: se * Math.sqrt(n), ci95: [mean - half, mean + half], n };
}

/** a − b per seed over the seeds both have, with its 95% t interval; null with no common seed. */
export function pairedBySeed<R extends { seed: number }>(
  a: readonly R[],
  b: readonly R[],
  value: (r: R) => number,
): PairedDifference | null {
  const bySeed = new Map(b.map((r) => [r.seed, value(r)]));
  const d: number[] = [];
  for (const r of a) {
    const v = bySeed.get(r.seed);
    const u = value(r);
    if (v !== undefined && Number.isFinite(u) && Number.isFinite(v)) d.push(u - v);
  }
  return d.length ? meanInterval(d) : null;
}

/** Whether a difference's 95% interval excludes zero (never with fewer than two seeds). */
export function resolved(d: PairedDifference | null): boolean {
  return !!d && d.n > 1 && (d.ci95[0] > 0 || d.ci95[1] < 0);
}

/**
 * The leader among groups of runs by a per-seed value (largest when `larger`), and the groups
 * it is not resolved from by the paired 95% interval over seeds. `seeds` is the most seeds any
 * comparison had: 1 means no comparison can be resolved.
 */
export function leaderBySeed<K extends string, R extends { seed: number }>(
  groups: readonly { key: K; runs: readonly R[] }[],
  value: (r: R) => number,
  larger: boolean,
): { leader: K; tied: K[]; seeds: number } | null {
  const mean = (rs: readonly R[]) => {
    const v = rs.map(value).filter(Number.isFinite);
    return v.length ? v.reduce((s, x) => s + x, 0) / v.length : NaN;
  };
  const scored = groups.filter((g) => Number.isFinite(mean(g.runs)));
  if (!scored.length) return null;
  const lead = scored.reduce((best, g) =>
    larger
      ? mean(g.runs) > mean(best.runs)
        ? g
        : best
      : mean(g.runs) < mean(best.runs)
        ? g
        : best,
  );
  const tied: K[] = [];
  let seeds = 0;
  for (const g of scored) {
    if (g === lead) continue;
    const d = pairedBySeed(lead.runs, g.runs, value);
    seeds = Math.max(seeds, d?.n ?? 0);
    if (!resolved(d)) tied.push(g.key);
  }
  return { leader: lead.key, tied, seeds };
}
