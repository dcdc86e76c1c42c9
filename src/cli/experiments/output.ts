/**
 * What the run experiments write: the JSON document (schema in the README) and, next to it, CSVs
 * of the spectrum, the modes and the training curves.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { AnalysisResult } from '../../engine/experiments/analysis';

export function csv(rows: (string | number)[][]): string {
  return rows.map((r) => r.join(',')).join('\n') + '\n';
}

/** Writes `text` to `file`, making its folder first. */
export function writeText(file: string, text: string): void {
  mkdirSync(dirname(resolve(file)), { recursive: true });
  writeFileSync(file, text);
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

/** Writes the JSON document and its spectrum, modes and training CSVs; returns the files. */
export function writeRunOutputs(out: Record<string, unknown>, file: string): string[] {
  writeText(file, JSON.stringify(out, null, 1));
  const base = file.replace(/\.json$/i, '');
  const spectrum = (out.spectrum as { variance: number[] }).variance;
  const modes = out.modes as ReturnType<typeof modesJson>;
  const t = out.training as Record<string, number[]>;
  const files = [`${base}.spectrum.csv`, `${base}.modes.csv`, `${base}.training.csv`];
  writeFileSync(files[0], csv([['rank', 'variance'], ...spectrum.map((v, i) => [i + 1, v])]));
  writeFileSync(
    files[1],
    csv([
      ['rank', 'variance', 'flatness', 'left', 'right', 'L0'],
      ...modes.map((m) => [m.rank, m.variance, m.flatness, m.left, m.right, m.L0]),
    ]),
  );
  writeFileSync(
    files[2],
    csv([
      ['epoch', 'step', 'trainLoss', 'trainError', 'testLoss', 'testError'],
      ...t.epoch.map((e, i) => [
        e,
        t.step[i],
        t.trainLoss[i],
        t.trainError[i],
        t.testLoss[i],
        t.testError[i],
      ]),
    ]),
  );
  return [file, ...files];
}
