/**
 * curvature (issue 16): the variance–flatness run plus the Hessian of the training loss in W2 at
 * the SGD window's centre — kᵢ = pᵢᵀHpᵢ beside Fᵢ, the top eigenvalues by Lanczos with their
 * overlap with the PCA modes, tr H by Hutchinson — and λ_max along training for SGD and for a
 * full-batch GD run against 2/α. The theory experiment includes it.
 */
import type { Log, OptionsExperiment } from '.';
import type { CliOptions } from '../options';
import type { AnalysisResult } from '../../engine/experiments/analysis';
import type { CurvatureSummary } from '../../engine/experiments/curvatureRun';
import { runExperiment } from './varianceFlatness';

/** Experiments whose SGD window gets the Hessian analysis. */
export function wantsCurvature(experiment: string): boolean {
  return experiment === 'curvature' || experiment === 'theory';
}

/** One log line of the curvature results. */
export function curvatureLog(c: CurvatureSummary): string {
  const e = c.edgeOfStability;
  const sgdMax = e ? Math.max(...e.sgd.map((p) => p.lambdaMax)) : NaN;
  const gdMax = e ? Math.max(...e.gd.map((p) => p.lambdaMax)) : NaN;
  return (
    `curvature: k ∝ F^${c.fit.exponent.toFixed(3)} (R² ${c.fit.r2.toFixed(3)}, n ${c.fit.n}), ` +
    `median k/picture ${c.medianRatio.toFixed(3)}; λ₁ = ${c.top[0]?.eigenvalue.toPrecision(4)}, ` +
    `tr H = ${c.trace.value.toPrecision(4)} ± ${c.trace.stderr.toPrecision(2)}` +
    (e
      ? `; λ_max max SGD ${sgdMax.toPrecision(4)}, GD ${gdMax.toPrecision(4)} vs 2/α = ${e.twoOverLr}`
      : '') +
    `; ${(c.timings.curvature + c.timings.lanczos + c.timings.trace).toFixed(1)} s`
  );
}

/**
 * Adds the JSON of the SGD window's curvature to the run document: `modes[]` gain `curvature`
 * (when the document's modes are the SGD window's), `hessian` and `edgeOfStability`.
 */
export function addCurvatureJson(
  doc: Record<string, unknown>,
  sgd: AnalysisResult | undefined,
  modesAreSgd: boolean,
): void {
  const c = sgd?.curvature;
  if (!c) return;
  if (modesAreSgd && Array.isArray(doc.modes)) {
    const k = new Map(c.modes.map((m) => [m.rank, m.curvature]));
    doc.modes = (doc.modes as { rank: number }[]).map((m) =>
      k.has(m.rank) ? { ...m, curvature: k.get(m.rank) } : m,
    );
  }
  doc.curvature = {
    modes: c.modes.map((m) => ({
      rank: m.rank,
      flatness: m.flatness,
      curvature: m.curvature,
      predicted: m.predicted,
    })),
    // k ∝ F^exponent over modes ≥ 2; the quadratic picture k = 8·ln(factor)·L⁰/F² has −2.
    fit: c.fit,
    medianRatio: c.medianRatio,
    centre: c.centre,
  };
  doc.hessian = {
    top: c.top.map((t) => ({ rank: t.rank, eigenvalue: t.eigenvalue, residual: t.residual })),
    overlapRanks: c.overlapRanks,
    // overlap[j][i] = |⟨v_{j+1}, p_{overlapRanks[i]}⟩|², rows the Hessian eigenvectors.
    overlap: c.overlap,
    trace: c.trace,
    lanczosIterations: c.lanczosIterations,
    loss: c.loss,
    timings: c.timings,
  };
  const e = c.edgeOfStability;
  if (e)
    doc.edgeOfStability = {
      sgd: e.sgd,
      gd: e.gd,
      twoOverLr: e.twoOverLr,
      lr: e.lr,
      warmStart: e.warmStart,
      lanczosIterations: e.lanczosIterations,
    };
}

export const curvature: OptionsExperiment = {
  name: 'curvature',
  help:
    'variance-flatness plus the W2 Hessian: curvature along the modes,\n' +
    'top eigenvalues and overlaps, trace, λ_max along training vs 2/α',
  kind: 'run',
  run: (opts: CliOptions, log: Log) => runExperiment(opts, log),
};
