/**
 * A finished run written out, by one serialiser for both places it goes: the run bundle (the
 * page's run format: config and everything the figures draw; the page saves and opens it, the
 * CLI writes it with `--bundle`, and the page ships a precomputed one so the first screen shows
 * real results) and the CLI's JSON document (schema in the README: fits, modes, spectrum and
 * training curves, without the per-step series).
 */
import type { AnalysisResult, ModeProfile } from './analysis';
import type { RunConfig } from './config';
import type { EpochRecord, RunId } from './training';

export const BUNDLE_FORMAT = 'flat-minima-lab/run';
export const BUNDLE_VERSION = 1;

export interface RunBundle {
  format: typeof BUNDLE_FORMAT;
  version: typeof BUNDLE_VERSION;
  createdAt: string;
  /** How the run was made, e.g. "npm run reproduce (Node, wasm)". */
  createdWith: string;
  preset: string;
  config: RunConfig;
  epochs: EpochRecord[];
  minibatch: { step: number; loss: number }[];
  exploration: { epoch: number; step: number; reason: string } | null;
  windows: { run: RunId; startStep: number; endStep: number | null }[];
  results: Partial<Record<RunId, AnalysisResult>>;
  profiles: ModeProfile[];
}

/** What a bundle is made from: the run store's series and results, and the run's settings. */
export interface BundleSource {
  preset: string;
  config: RunConfig;
  createdWith: string;
  epochs: EpochRecord[];
  minibatch: { step: number; loss: number }[];
  exploration: { epoch: number; step: number; reason: string } | null;
  windows: { run: RunId; startStep: number; endStep: number | null }[];
  results: Partial<Record<RunId, AnalysisResult>>;
  profiles: ModeProfile[];
}

/**
 * The bundle of a run: slimmed, numbers rounded to `digits` significant digits. The page saves
 * with 6 (the numbers the figures show survive a save and reopen unchanged); the CLI's
 * `--bundle` with 4, to keep shipped bundles small.
 */
export function makeBundle(src: BundleSource, createdAt = new Date(), digits = 6): RunBundle {
  const results: RunBundle['results'] = {};
  for (const run of ['sgd', 'langevin'] as const) {
    const r = src.results[run];
    if (r) results[run] = slimResult(r);
  }
  return roundNumbers(
    {
      format: BUNDLE_FORMAT,
      version: BUNDLE_VERSION,
      createdAt: createdAt.toISOString(),
      createdWith: src.createdWith,
      preset: src.preset,
      config: src.config,
      epochs: src.epochs,
      minibatch: thinSeries(src.minibatch),
      exploration: src.exploration,
      windows: src.windows,
      results,
      profiles: src.profiles,
    },
    digits,
  );
}

/** Deep copy with every non-integer number rounded to `digits` significant digits. */
export function roundNumbers<T>(value: T, digits = 4): T {
  return JSON.parse(
    JSON.stringify(value, (_k, v: unknown) =>
      typeof v === 'number' && Number.isFinite(v) && !Number.isInteger(v)
        ? Number(v.toPrecision(digits))
        : v,
    ),
  ) as T;
}

/** Keeps the first `modes` trajectory rows and at most `points` time points. */
export function slimResult(r: AnalysisResult, modes = 8, points = 300): AnalysisResult {
  const stride = Math.max(1, Math.ceil(r.trajectory.steps.length / points));
  const pick = <T>(a: T[]) => a.filter((_, i) => i % stride === 0);
  return {
    ...r,
    // JSON has no Infinity: a mode whose profile never reached the threshold is left out
    // (it is never part of a fit either).
    modes: r.modes.filter(
      (m) => Number.isFinite(m.flatness) && Number.isFinite(m.left) && Number.isFinite(m.right),
    ),
    trajectory: {
      steps: pick(r.trajectory.steps),
      theta: r.trajectory.theta.slice(0, modes).map(pick),
    },
  };
}

/** At most `max` points, evenly thinned (the minibatch-loss series of a bundle). */
export function thinSeries<T>(series: T[], max = 800): T[] {
  const stride = Math.ceil(series.length / max);
  return stride <= 1 ? series : series.filter((_, i) => i % stride === 0);
}

/** The training curves as columns (the CLI document's `training`). */
export function trainingJson(
  epochs: Pick<
    EpochRecord,
    'epoch' | 'step' | 'trainLoss' | 'trainError' | 'testLoss' | 'testError'
  >[],
) {
  return {
    epoch: epochs.map((r) => r.epoch),
    step: epochs.map((r) => r.step),
    trainLoss: epochs.map((r) => r.trainLoss),
    trainError: epochs.map((r) => r.trainError),
    testLoss: epochs.map((r) => r.testLoss),
    testError: epochs.map((r) => r.testError),
  };
}

type ModeFields = Pick<
  AnalysisResult['modes'][number],
  'rank' | 'variance' | 'flatness' | 'left' | 'right' | 'L0'
>;

export function modesJson(r: { modes: ModeFields[] }) {
  return r.modes.map((m) => ({
    rank: m.rank,
    variance: m.variance,
    flatness: m.flatness,
    left: m.left,
    right: m.right,
    L0: m.L0,
  }));
}

export function fitJson(f: AnalysisResult['fits']['psi']) {
  return {
    exponent: f.exponent,
    ci95: f.ci95,
    method: f.method ?? 'ols-t',
    ciOls: f.ciOls ?? f.ci95,
    ...(f.tls ? { tls: f.tls } : {}),
    r2: f.r2,
    ranks: f.ranks,
    n: f.n,
    slope: f.slope,
  };
}

export function analysisJson(r: AnalysisResult) {
  const th = r.theory;
  const byRank = new Map(th?.modes.map((m) => [m.rank, m]));
  return {
    spectrum: { variance: r.variance },
    modes: modesJson(r).map((m) => {
      const t = byRank.get(m.rank);
      return t
        ? { ...m, D: t.D, tau: t.tau, tauIntegral: t.tauIntegral, tauAcf: t.tauAcf, T0: t.T0 }
        : m;
    }),
    fits: {
      gamma: fitJson(r.fits.gamma),
      psi: fitJson(r.fits.psi),
      ...(th
        ? {
            D: fitJson(th.fits.D),
            tau: fitJson(th.fits.tau),
            tauIntegral: fitJson(th.fits.tauIntegral),
            ...(th.fits.T0 ? { temperature: fitJson(th.fits.T0) } : {}),
            psiPredicted: { ...th.fits.psiPredicted, identity: true },
          }
        : {}),
    },
    ...(th?.fits.tauAgreement
      ? {
          tauCheck: {
            medianRatio: th.fits.tauAgreement.medianRatio,
            quartiles: th.fits.tauAgreement.quartiles,
            slope: fitJson(th.fits.tauAgreement.fit),
            n: th.fits.tauAgreement.n,
          },
        }
      : {}),
    ...(r.einstein ? { einstein: r.einstein } : {}),
    ...(th
      ? {
          activeTemperature: th.temperature.map((t) => ({
            rank: t.rank,
            flatness: t.flatness,
            K: t.K,
            deltas: t.deltas,
            T: t.T,
            stderr: t.stderr,
            loss: t.loss,
            minimaSpread: t.minima.std,
          })),
          trajectory: th.trajectory,
        }
      : {}),
    varianceFraction35: r.varianceFraction35,
    rank90: r.rank90,
    driftAlignment: r.driftAlignment,
    snapshots: r.snapshots,
    method: r.method,
  };
}
