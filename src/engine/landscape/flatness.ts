/**
 * Loss-landscape flatness along PCA directions (SCIENCE.md, Fig. 2).
 *
 * For a direction p_i, the profile is L_i(δθ) = L(w* + δθ·p_i). Its flatness is
 *   F_i = θ_i^u − θ_i^l,
 * where L_i⁰ is the minimum of the profile near δθ = 0 (found at θ_i⁰) and θ_i^l < θ_i⁰ < θ_i^u are
 * the closest points on each side where L_i = factor·L_i⁰ (factor = e in the paper; 2 works too).
 *
 * Algorithm, per mode:
 *  1. Minimum: evaluate δ = −m, 0, +m (m = `minimumBracket`, default `initialStep`). If 0 is not
 *     the lowest, walk downhill with golden-ratio growing steps until the loss rises (bounded
 *     by `maxDistance` and `maxMinimumSteps`). Then refine with parabolic steps on ln L
 *     (exact for an inverse-Gaussian profile), golden-section when a parabola is unusable,
 *     until the parabola predicts the remaining decrease of L to be below `relTol`/10
 *     (relative), or the bracket ends are that close to its middle — L⁰ then has a relative
 *     error ≪ relTol, which moves θ^{l,u} by ≪ relTol.
 *  2. Crossings, both sides at once: from θ⁰, step outward geometrically (×`expansion`,
 *     starting at `initialStep`, reusing points already evaluated) until L ≥ factor·L⁰; then
 *     refine the bracket to relative tolerance `relTol` on the distance |θ − θ⁰|. The default
 *     refinement is Brent's root finder on g = ln L − ln(factor·L⁰) in the variable t = (θ−θ⁰)²,
 *     in which an inverse-Gaussian profile is a straight line, so it usually converges in 2–4
 *     evaluations; 'bisect' is plain bisection (~log2(range/tol) evaluations), for comparison.
 *
 * All modes run in LOCKSTEP: each iteration gathers the next point(s) of every unfinished
 * mode (≤ 3 per mode) and makes ONE batched `evalFn` call, so the loss can be evaluated as a
 * single big tensor program. Each mode's search is a generator that yields the δ it needs.
 *
 * Robustness: a non-finite loss counts as "above the threshold" (the loss blew up); a side
 * that never reaches the threshold within `maxDistance` of θ⁰ gets θ = ±Infinity and the mode
 * flatness = Infinity (flags say which); a minimum walk that runs away is flagged. The number
 * of iterations is bounded (`maxIterations`), so the search can never hang.
 */

/** A point of a loss profile: the loss is L(centre + delta·direction). */
export interface ProfilePoint {
  direction: Float64Array | Float32Array;
  delta: number;
}

/** Evaluates the loss at many points in one call; returns one loss per point, in order. */
export type EvalFn = (points: readonly ProfilePoint[]) => Promise<Float64Array>;

/** A direction to measure: the PCA rank (for reporting) and the unit vector p_i. */
export interface FlatnessMode {
  rank: number;
  direction: Float64Array | Float32Array;
}

export interface FlatnessOptions {
  /** Threshold factor: crossings where L = factor·L⁰ (paper: e; 2 must agree qualitatively). */
  factor?: number;
  /** Relative tolerance on the crossing distance |θ − θ⁰| (default 1e-3). */
  relTol?: number;
  /** First outward step from θ⁰ (default 0.05, in units of δθ along a unit direction). */
  initialStep?: number;
  /** Growth factor of the outward steps (default 2). */
  expansion?: number;
  /** Half-width of the first bracket of the minimum search (default `initialStep`). */
  minimumBracket?: number;
  /** Sides not crossing within this distance of θ⁰ are reported as ±Infinity (default 1e3). */
  maxDistance?: number;
  /** Most downhill steps while looking for the minimum (default 30). */
  maxMinimumSteps?: number;
  /** Most refinement steps of the minimum inside its bracket (default 12). */
  maxMinimumRefinements?: number;
  /** Root refinement: Brent on ln L in (θ−θ⁰)² (default) or plain bisection in θ. */
  method?: 'brent' | 'bisect';
  /** Safety cap on lockstep iterations (default 400). */
  maxIterations?: number;
  /** Called after every batched evaluation. */
  onProgress?: (p: FlatnessProgress) => void;
  /** Cancels between iterations (throws the signal's reason). */
  signal?: AbortSignal;
}

export interface FlatnessProgress {
  iteration: number;
  /** Modes finished so far, of `modes`. */
  done: number;
  modes: number;
  evaluations: number;
}

/** Flatness of one mode. Field names match `ModeFlatness` in experiments/analysis.ts. */
export interface ModeFlatnessResult {
  rank: number;
  /** Minimum of the profile near δθ = 0 … */
  L0: number;
  /** … and where it lies. */
  theta0: number;
  /** θ^l < θ⁰ with L(θ^l) = factor·L⁰ (−Infinity when not found within maxDistance). */
  left: number;
  /** θ^u > θ⁰ with L(θ^u) = factor·L⁰ (+Infinity when not found within maxDistance). */
  right: number;
  /** F = right − left (Infinity when a side is unbounded, NaN when L⁰ is unusable). */
  flatness: number;
  /** Loss evaluations spent on this mode. */
  evaluations: number;
  /** The threshold factor·L⁰. */
  threshold: number;
  leftFound: boolean;
  rightFound: boolean;
  /** False when the downhill walk for the minimum hit maxDistance / maxMinimumSteps. */
  minimumBracketed: boolean;
  /** Evaluations that returned NaN or ±Infinity. */
  nonFinite: number;
  /** Every point evaluated for this mode (δ, L), in evaluation order — a free coarse profile. */
  samples: { delta: number; loss: number }[];
}

export interface FlatnessReport {
  modes: ModeFlatnessResult[];
  /** Batched evalFn calls made (= lockstep iterations). */
  iterations: number;
  /** Total points evaluated. */
  evaluations: number;
  seconds: number;
}

interface Resolved {
  factor: number;
  relTol: number;
  initialStep: number;
  expansion: number;
  minimumBracket: number;
  maxDistance: number;
  maxMinimumSteps: number;
  maxMinimumRefinements: number;
  method: 'brent' | 'bisect';
}

function resolve(o: FlatnessOptions): Resolved {
  const initialStep = o.initialStep ?? 0.05;
  const r: Resolved = {
    factor: o.factor ?? Math.E,
    relTol: o.relTol ?? 1e-3,
    initialStep,
    expansion: o.expansion ?? 2,
    minimumBracket: o.minimumBracket ?? initialStep,
    maxDistance: o.maxDistance ?? 1e3,
    maxMinimumSteps: o.maxMinimumSteps ?? 30,
    maxMinimumRefinements: o.maxMinimumRefinements ?? 12,
    method: o.method ?? 'brent',
  };
  if (!(r.factor > 1)) throw new Error(`measureFlatness: factor must be > 1, got ${r.factor}`);
  if (!(r.relTol > 0 && r.relTol < 1))
    throw new Error(`measureFlatness: relTol must be in (0, 1), got ${r.relTol}`);
  if (!(r.initialStep > 0) || !(r.minimumBracket > 0))
    throw new Error('measureFlatness: steps must be > 0');
  if (!(r.expansion > 1))
    throw new Error(`measureFlatness: expansion must be > 1, got ${r.expansion}`);
  if (!(r.maxDistance > r.initialStep))
    throw new Error('measureFlatness: maxDistance must exceed initialStep');
  return r;
}

/** A search asks for a batch of δ and receives their losses. */
type Search<R> = Generator<number[], R, Float64Array>;
/** A side search asks for one δ at a time. */
type SideSearch = Generator<number, SideResult, number>;

interface SideResult {
  theta: number;
  found: boolean;
}

const GOLD = 1.618033988749895;
const CGOLD = 0.3819660112501051;

/**
 * Flatness of every mode, all modes in lockstep: one `evalFn` call per iteration with the
 * pending points of all unfinished modes (both sides of each).
 */
export async function measureFlatness(
  evalFn: EvalFn,
  modes: readonly FlatnessMode[],
  options: FlatnessOptions = {},
): Promise<FlatnessReport> {
  const opts = resolve(options);
  const t0 = performanceNow();
  const maxIterations = options.maxIterations ?? 400;
  const results: (ModeFlatnessResult | null)[] = modes.map(() => null);
  const samples: { delta: number; loss: number }[][] = modes.map(() => []);
  const gens = modes.map((_, i) => modeSearch(opts, samples[i]));
  let pending: (number[] | null)[] = gens.map((g, i) => {
    const r = g.next();
    if (r.done) {
      results[i] = finish(modes[i].rank, r.value, samples[i]);
      return null;
    }
    return r.value;
  });
  let iterations = 0;
  let evaluations = 0;
  while (pending.some((p) => p !== null)) {
    options.signal?.throwIfAborted();
    if (iterations >= maxIterations) {
      // Safety net: give up on whatever is still running (should not happen with sane options).
      pending.forEach((p, i) => {
        if (p !== null) results[i] = abandoned(modes[i].rank, samples[i]);
      });
      break;
    }
    const points: ProfilePoint[] = [];
    pending.forEach((p, i) => {
      if (p) for (const delta of p) points.push({ direction: modes[i].direction, delta });
    });
    const losses = await evalFn(points);
    if (losses.length !== points.length) {
      throw new Error(
        `measureFlatness: evalFn returned ${losses.length} losses for ${points.length} points`,
      );
    }
    iterations++;
    evaluations += points.length;
    let k = 0;
    pending = pending.map((p, i) => {
      if (!p) return null;
      const vals = losses.subarray(k, k + p.length);
      k += p.length;
      for (let j = 0; j < p.length; j++) samples[i].push({ delta: p[j], loss: vals[j] });
      const r = gens[i].next(Float64Array.from(vals));
      if (r.done) {
        results[i] = finish(modes[i].rank, r.value, samples[i]);
        return null;
      }
      return r.value;
    });
    options.onProgress?.({
      iteration: iterations,
      done: results.filter((r) => r !== null).length,
      modes: modes.length,
      evaluations,
    });
  }
  return {
    modes: results.map((r, i) => r ?? abandoned(modes[i].rank, samples[i])),
    iterations,
    evaluations,
    seconds: (performanceNow() - t0) / 1000,
  };
}

function performanceNow(): number {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}

interface ModeOutcome {
  L0: number;
  theta0: number;
  threshold: number;
  minimumBracketed: boolean;
  left: SideResult;
  right: SideResult;
}

function finish(
  rank: number,
  o: ModeOutcome,
  samples: { delta: number; loss: number }[],
): ModeFlatnessResult {
  const valid = Number.isFinite(o.L0) && o.L0 > 0;
  const flatness = !valid ? NaN : o.right.theta - o.left.theta;
  return {
    rank,
    L0: o.L0,
    theta0: o.theta0,
    left: o.left.theta,
    right: o.right.theta,
    flatness,
    evaluations: samples.length,
    threshold: o.threshold,
    leftFound: o.left.found,
    rightFound: o.right.found,
    minimumBracketed: o.minimumBracketed,
    nonFinite: samples.filter((s) => !Number.isFinite(s.loss)).length,
    samples,
  };
}

function abandoned(rank: number, samples: { delta: number; loss: number }[]): ModeFlatnessResult {
  return {
    rank,
    L0: NaN,
    theta0: NaN,
    left: NaN,
    right: NaN,
    flatness: NaN,
    evaluations: samples.length,
    threshold: NaN,
    leftFound: false,
    rightFound: false,
    minimumBracketed: false,
    nonFinite: samples.filter((s) => !Number.isFinite(s.loss)).length,
    samples,
  };
}

/** Loss used for comparisons: non-finite counts as +Infinity (the loss blew up). */
function cmp(l: number): number {
  return Number.isFinite(l) ? l : Infinity;
}

/** The whole search for one mode. `log` receives every evaluated point (filled by the driver). */
function* modeSearch(o: Resolved, log: { delta: number; loss: number }[]): Search<ModeOutcome> {
  // --- 1. the minimum near 0 ------------------------------------------------------------
  const m = o.minimumBracket;
  const v0 = yield [-m, 0, m];
  // Bracket (a, b, c): b between a and c, L(b) ≤ L(a), L(c).
  let a = -m;
  let b = 0;
  let c = m;
  let fa = cmp(v0[0]);
  let fb = cmp(v0[1]);
  let fc = cmp(v0[2]);
  let minimumBracketed = true;
  if (!Number.isFinite(fb)) {
    // The centre itself is unusable: no meaningful L⁰.
    return {
      L0: NaN,
      theta0: 0,
      threshold: NaN,
      minimumBracketed: false,
      left: { theta: NaN, found: false },
      right: { theta: NaN, found: false },
    };
  }
  if (fb > Math.min(fa, fc)) {
    // Walk downhill from 0 towards the lower side (mnbrak-style, golden growth).
    const s = fa < fc ? -1 : 1;
    let pPrev = 0;
    let fPrev = fb;
    let p = s * m;
    let fp = s < 0 ? fa : fc;
    let steps = 0;
    for (;;) {
      const next = p + GOLD * (p - pPrev);
      if (Math.abs(next) > o.maxDistance || steps >= o.maxMinimumSteps) {
        minimumBracketed = false;
        a = pPrev;
        fa = fPrev;
        b = p;
        fb = fp;
        c = p;
        fc = fp;
        break;
      }
      const fn = cmp((yield [next])[0]);
      steps++;
      if (fn >= fp) {
        a = pPrev;
        fa = fPrev;
        b = p;
        fb = fp;
        c = next;
        fc = fn;
        break;
      }
      pPrev = p;
      fPrev = fp;
      p = next;
      fp = fn;
    }
  }
  if (a > c) {
    [a, c] = [c, a];
    [fa, fc] = [fc, fa];
  }
  // Refine inside the bracket: parabola through the three points on ln L, golden fallback.
  if (minimumBracketed) {
    for (let it = 0; it < o.maxMinimumRefinements; it++) {
      // A bracket whose ends are within relTol/10 of its middle pins L⁰ down well enough
      // (typical of flat modes, where float32 noise makes the parabola meaningless).
      if (Math.max(fa, fc) - fb <= 0.1 * o.relTol * fb) break;
      const par = parabolaVertex(a, fa, b, fb, c, fc);
      let x: number;
      if (par) {
        // Stop once the predicted further decrease is negligible: L⁰ is then accurate to
        // ≪ relTol, which is all the threshold factor·L⁰ needs.
        if (fb - par.value <= 0.1 * o.relTol * fb) break;
        x = par.x;
        const minGap = 1e-3 * (c - a);
        if (!(x > a + minGap && x < c - minGap) || Math.abs(x - b) < minGap)
          x = goldenPoint(a, b, c);
      } else {
        // Not a usable parabola (non-finite or non-positive values, or collinear).
        if (c - a <= o.relTol * Math.max(Math.abs(b), m) * 1e-3) break;
        x = goldenPoint(a, b, c);
      }
      const fx = cmp((yield [x])[0]);
      if (fx <= fb) {
        if (x > b) {
          a = b;
          fa = fb;
        } else {
          c = b;
          fc = fb;
        }
        b = x;
        fb = fx;
      } else if (x > b) {
        c = x;
        fc = fx;
      } else {
        a = x;
        fa = fx;
      }
    }
  }
  const theta0 = b;
  const L0 = fb;
  const threshold = o.factor * L0;
  if (!(L0 > 0)) {
    return {
      L0,
      theta0,
      threshold,
      minimumBracketed,
      left: { theta: NaN, found: false },
      right: { theta: NaN, found: false },
    };
  }
  // --- 2. the two crossings, concurrently ---------------------------------------------------
  const known = log.map((s) => ({ delta: s.delta, loss: s.loss }));
  const left = sideSearch(o, known, theta0, L0, threshold, -1);
  const right = sideSearch(o, known, theta0, L0, threshold, +1);
  let l = left.next();
  let r = right.next();
  while (!l.done || !r.done) {
    const req: number[] = [];
    if (!l.done) req.push(l.value);
    if (!r.done) req.push(r.value);
    const vals = yield req;
    let k = 0;
    if (!l.done) l = left.next(vals[k++]);
    if (!r.done) r = right.next(vals[k]);
  }
  return { L0, theta0, threshold, minimumBracketed, left: l.value, right: r.value };
}

/** Vertex of the parabola through three points in (x, ln f); null when unusable. */
function parabolaVertex(
  a: number,
  fa: number,
  b: number,
  fb: number,
  c: number,
  fc: number,
): { x: number; value: number } | null {
  if (!(fa > 0 && fb > 0 && fc > 0) || !Number.isFinite(fa) || !Number.isFinite(fc)) return null;
  const ya = Math.log(fa);
  const yb = Math.log(fb);
  const yc = Math.log(fc);
  // Divided differences: y = yb + d1·(x − b) + d2·(x − a)(x − b)… use Newton form on (a, b, c).
  const d1 = (yb - ya) / (b - a);
  const d2 = ((yc - yb) / (c - b) - d1) / (c - a);
  if (!(d2 > 0)) return null; // not convex in ln L: no minimum to aim at
  // y(x) = ya + d1 (x − a) + d2 (x − a)(x − b); y'(x) = d1 + d2 (2x − a − b) = 0
  const x = (a + b) / 2 - d1 / (2 * d2);
  const y = ya + d1 * (x - a) + d2 * (x - a) * (x - b);
  return { x, value: Math.exp(y) };
}

/** Golden-section point in the larger of the two segments of the bracket. */
function goldenPoint(a: number, b: number, c: number): number {
  return c - b > b - a ? b + CGOLD * (c - b) : b - CGOLD * (b - a);
}

/**
 * One side's crossing: returns θ (absolute δ) where L = threshold, with |θ − θ⁰| known to
 * relative tolerance relTol. `s` = −1 (left) or +1 (right). `known` are points already
 * evaluated (minimum search), reused to start the bracket.
 */
function* sideSearch(
  o: Resolved,
  known: readonly { delta: number; loss: number }[],
  theta0: number,
  L0: number,
  threshold: number,
  s: -1 | 1,
): SideSearch {
  const above = (l: number): boolean => !Number.isFinite(l) || l >= threshold;
  // Bracket in distance r = s·(θ − θ⁰) ≥ 0: lo below the threshold, hi at/above it.
  let lo = 0;
  let fLo = L0;
  let hi = Infinity;
  let fHi = NaN;
  for (const p of known) {
    const r = s * (p.delta - theta0);
    if (r <= 0) continue;
    if (above(p.loss)) {
      if (r < hi) {
        hi = r;
        fHi = p.loss;
      }
    }
  }
  for (const p of known) {
    const r = s * (p.delta - theta0);
    if (r > lo && r < hi && !above(p.loss)) {
      lo = r;
      fLo = p.loss;
    }
  }
  // Expand outward until the threshold is crossed.
  if (!(hi < Infinity)) {
    let r = Math.max(lo * o.expansion, o.initialStep);
    for (;;) {
      r = Math.min(r, o.maxDistance);
      const f = yield theta0 + s * r;
      if (above(f)) {
        hi = r;
        fHi = f;
        break;
      }
      lo = r;
      fLo = f;
      if (r >= o.maxDistance) return { theta: s * Infinity, found: false };
      r *= o.expansion;
    }
  }
  const tolOk = (): boolean => hi - lo <= o.relTol * hi;
  // Make the upper end finite (bisect in r) so that interpolation is possible.
  while (!Number.isFinite(fHi) && !tolOk()) {
    const mid = 0.5 * (lo + hi);
    const f = yield theta0 + s * mid;
    if (above(f)) {
      hi = mid;
      fHi = f;
    } else {
      lo = mid;
      fLo = f;
    }
  }
  if (tolOk())
    return { theta: theta0 + s * interpolateCrossing(lo, fLo, hi, fHi, threshold), found: true };
  if (o.method === 'bisect') {
    while (!tolOk()) {
      const mid = 0.5 * (lo + hi);
      const f = yield theta0 + s * mid;
      if (above(f)) {
        hi = mid;
        fHi = f;
      } else {
        lo = mid;
        fLo = f;
      }
    }
    return { theta: theta0 + s * interpolateCrossing(lo, fLo, hi, fHi, threshold), found: true };
  }
  // Brent's root finder on g(t) = ln L − ln T, t = r². Tolerance: |Δt| ≤ relTol·t ⇒ |Δr| ≤ relTol·r/2.
  const lnT = Math.log(threshold);
  // Non-finite losses are "far above" the threshold; a non-positive one is far below it.
  const g = (l: number): number => (!Number.isFinite(l) ? 50 : l > 0 ? Math.log(l) - lnT : -50);
  const tr = yield* brentRoot(
    lo * lo,
    g(fLo),
    hi * hi,
    g(fHi),
    (t) => 0.5 * o.relTol * t,
    (t) => theta0 + s * Math.sqrt(t),
    g,
  );
  return { theta: theta0 + s * Math.sqrt(tr), found: true };
}

/** Linear interpolation of the crossing in r between a finite bracket; midpoint otherwise. */
function interpolateCrossing(
  lo: number,
  fLo: number,
  hi: number,
  fHi: number,
  threshold: number,
): number {
  if (Number.isFinite(fLo) && Number.isFinite(fHi) && fHi > fLo) {
    const r = lo + ((threshold - fLo) / (fHi - fLo)) * (hi - lo);
    if (r >= lo && r <= hi) return r;
  }
  return 0.5 * (lo + hi);
}

/**
 * Brent's method (zbrent, Numerical Recipes §9.3) as a generator: it yields the δ to evaluate
 * (via `toDelta`) and receives the loss. Requires g(a) < 0 ≤ g(b). `tolAt(t)` is the absolute
 * tolerance at t; returns a root estimate within the final bracket.
 */
function* brentRoot(
  a0: number,
  fa0: number,
  b0: number,
  fb0: number,
  tolAt: (t: number) => number,
  toDelta: (t: number) => number,
  g: (loss: number) => number,
): Generator<number, number, number> {
  let a = a0;
  let b = b0;
  let fa = fa0;
  let fb = fb0;
  let c = b;
  let fc = fb;
  let d = b - a;
  let e = d;
  for (let iter = 0; iter < 200; iter++) {
    if ((fb > 0 && fc > 0) || (fb < 0 && fc < 0)) {
      c = a;
      fc = fa;
      e = d = b - a;
    }
    if (Math.abs(fc) < Math.abs(fb)) {
      a = b;
      b = c;
      c = a;
      fa = fb;
      fb = fc;
      fc = fa;
    }
    const tol1 = 2 * Number.EPSILON * Math.abs(b) + 0.5 * tolAt(Math.abs(b));
    const xm = 0.5 * (c - b);
    if (Math.abs(xm) <= tol1 || fb === 0) {
      // Final estimate: secant between b and c (the root lies between them).
      if (fb !== fc && Number.isFinite(fc)) {
        const r = b - (fb * (c - b)) / (fc - fb);
        if ((r - b) * (r - c) <= 0) return r;
      }
      return b;
    }
    if (Math.abs(e) >= tol1 && Math.abs(fa) > Math.abs(fb)) {
      const s = fb / fa;
      let p: number;
      let q: number;
      if (a === c) {
        p = 2 * xm * s;
        q = 1 - s;
      } else {
        const qq = fa / fc;
        const r = fb / fc;
        p = s * (2 * xm * qq * (qq - r) - (b - a) * (r - 1));
        q = (qq - 1) * (r - 1) * (s - 1);
      }
      if (p > 0) q = -q;
      p = Math.abs(p);
      const min1 = 3 * xm * q - Math.abs(tol1 * q);
      const min2 = Math.abs(e * q);
      if (2 * p < Math.min(min1, min2)) {
        e = d;
        d = p / q;
      } else {
        d = xm;
        e = d;
      }
    } else {
      d = xm;
      e = d;
    }
    a = b;
    fa = fb;
    b += Math.abs(d) > tol1 ? d : xm >= 0 ? tol1 : -tol1;
    fb = g(yield toDelta(b));
  }
  return b;
}

/** L(δ) along one direction at the given δ values, in one batched call (for plotting). */
export async function lossProfile(
  evalFn: EvalFn,
  direction: Float64Array | Float32Array,
  deltas: ArrayLike<number>,
): Promise<Float64Array> {
  const points: ProfilePoint[] = [];
  for (let i = 0; i < deltas.length; i++) points.push({ direction, delta: deltas[i] });
  return evalFn(points);
}

/** Profiles of several directions on the same δ grid, in one batched call. */
export async function lossProfiles(
  evalFn: EvalFn,
  directions: readonly (Float64Array | Float32Array)[],
  deltas: ArrayLike<number>,
): Promise<Float64Array[]> {
  const points: ProfilePoint[] = [];
  for (const direction of directions)
    for (let i = 0; i < deltas.length; i++) points.push({ direction, delta: deltas[i] });
  const all = await evalFn(points);
  return directions.map((_, k) => all.slice(k * deltas.length, (k + 1) * deltas.length));
}
