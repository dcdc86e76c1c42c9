/**
 * variance-flatness (Figs. 1–2): one run, PCA of the window, flatness of its modes, the σ²–F fit;
 * with --seeds one run per seed, with --arch mlp4|cnn the same pipeline on that network. The
 * theory experiment (theory.ts) is this pipeline plus D, τ and the active temperature.
 */
import { cliBackend, loadData } from '../setup';
import { withFlatnessPool } from '../runners';
import type { CliOptions } from '../options';
import type { Log, OptionsExperiment } from '.';
import { writeRunOutputs, writeText } from './output';
import { addCurvatureJson, curvatureLog, wantsCurvature } from './curvature';
import { RunSettingsError, dataShape, planRun } from '../../engine/experiments/runChecks';
import { WindowAnalysis, type AnalysisResult } from '../../engine/experiments/analysis';
import { trainingRun, type EpochRecord, type RunId } from '../../engine/experiments/training';
import { initMlp } from '../../engine/nets/mlp';
import { SnapshotWindow } from '../../engine/pca/snapshotWindow';
import type { WeightCheckpoint } from '../../engine/landscape/activeTemperature';
import {
  architectureRun,
  collapseWarning,
  type ArchConfig,
  type ArchResult,
} from '../../engine/experiments/architectures';
import {
  analysisJson,
  fitJson,
  makeBundle,
  modesJson,
  trainingJson,
  type RunBundle,
} from '../../engine/experiments/runDocument';

/** Runs the experiment; returns the JSON document and the run bundle of the same run. */
export async function reproduce(
  opts: CliOptions,
  log: Log,
): Promise<{ out: Record<string, unknown>; bundle: RunBundle }> {
  const t0 = performance.now();
  const backend = await cliBackend();
  const data = await loadData(opts.idx);
  const cfg = opts.config;
  // The page's check before Start: settings that cannot work stop here, before any training.
  const plan = planRun(cfg, dataShape(data));
  if (plan.problems.length) throw new RunSettingsError(plan.problems);
  for (const note of plan.notes) log(note);
  log(
    `backend ${backend.name}; data ${data.name}: ${data.train.count} train / ${data.test.count} test`,
  );
  const epochs: EpochRecord[] = [];
  const minibatch: { step: number; loss: number }[] = [];
  const windowSteps: RunBundle['windows'] = [];
  let lossSum = 0;
  let lossN = 0;
  let exploration: RunBundle['exploration'] = null;
  let explorationStartEpoch: number | null = null;
  const windows = new Map<RunId, { win: SnapshotWindow; first: number | null; every: number }>();
  const checkpoints: (WeightCheckpoint & { epoch: number })[] = [];
  const results = new Map<RunId, AnalysisResult>();
  const timings: Record<string, number> = {};
  let phaseStart = performance.now();
  let lastLog = 0;
  for await (const e of trainingRun(cfg, data, { initial: initMlp(cfg.hidden, cfg.seed) })) {
    if (e.type === 'epoch') {
      epochs.push(e.record);
      const now = performance.now();
      if (now - lastLog > 2000) {
        lastLog = now;
        log(
          `epoch ${e.record.epoch}: train loss ${e.record.trainLoss.toExponential(3)}, error ${(e.record.trainError * 100).toFixed(2)}%`,
        );
      }
    } else if (e.type === 'checkpoint') {
      if (opts.experiment === 'theory' || wantsCurvature(opts.experiment))
        checkpoints.push({ epoch: e.epoch, step: e.step, ...e.weights });
    } else if (e.type === 'exploration') {
      explorationStartEpoch = e.epoch;
      exploration = { epoch: e.epoch, step: e.step, reason: e.reason };
      timings.warmup = (performance.now() - phaseStart) / 1000;
      phaseStart = performance.now();
      log(`exploration phase from epoch ${e.epoch} (${e.reason})`);
    } else if (e.type === 'windowStart') {
      windowSteps.push({ run: e.run, startStep: e.step, endStep: null });
      windows.set(e.run, {
        win: new SnapshotWindow(cfg.hidden ** 2, { maxSnapshots: e.expectedSnapshots + 16 }),
        first: null,
        every: e.every,
      });
      phaseStart = performance.now();
    } else if (e.type === 'step') {
      lossSum += e.loss;
      if (++lossN === 20) {
        minibatch.push({ step: e.step, loss: lossSum / lossN });
        lossSum = 0;
        lossN = 0;
      }
      if (!e.w2) continue;
      const w = windows.get(e.phase === 'langevin-window' ? 'langevin' : 'sgd');
      if (w) {
        if (w.first === null) w.first = e.step;
        w.win.add(e.w2);
      }
    } else if (e.type === 'windowEnd') {
      timings[e.run === 'sgd' ? 'window' : 'langevin'] = (performance.now() - phaseStart) / 1000;
      for (const w of windowSteps) if (w.run === e.run && w.endStep === null) w.endStep = e.step;
      const w = windows.get(e.run)!;
      log(`${e.run} window: ${w.win.count} snapshots; analysing…`);
      const a = await withFlatnessPool({ ...opts, log }, (flatnessSearch) =>
        WindowAnalysis.analyze(e.run, w.win, e.weights, data.train, cfg, w.first ?? 0, w.every, {
          flatnessSearch,
        }),
      );
      if (opts.experiment === 'theory') {
        const th = await a.theory(e.run === 'sgd' ? checkpoints : []);
        a.result.theory = th;
        timings[`${e.run === 'sgd' ? '' : 'langevin.'}theory`] =
          th.timings.velocity + th.timings.temperature + th.timings.trajectory;
        log(
          `${e.run}: β₁ = ${th.fits.D.exponent.toFixed(3)}, β₂ = ${th.fits.tau.exponent.toFixed(3)} (β₁ + β₂ = ψ by the definition of τ)${th.fits.tauAgreement ? `; τ check: τ_acf/τ median ${th.fits.tauAgreement.medianRatio.toFixed(3)}, slope ${th.fits.tauAgreement.fit.exponent.toFixed(3)}` : ''}${th.trajectory ? `; corr(T, L) along the trajectory ${th.trajectory.correlation.toFixed(3)}` : ''}`,
        );
      }
      if (wantsCurvature(opts.experiment) && e.run === 'sgd') {
        a.result.curvature = await a.curvature(checkpoints);
        log(curvatureLog(a.result.curvature));
      }
      results.set(e.run, a.result);
      timings[`${e.run === 'sgd' ? '' : 'langevin.'}pca`] = a.result.timings.pca;
      timings[`${e.run === 'sgd' ? '' : 'langevin.'}flatness`] = a.result.timings.flatness;
      a.dispose();
      const ein = a.result.einstein;
      log(
        `${e.run}: ψ = ${a.result.fits.psi.exponent.toFixed(3)} (R² ${a.result.fits.psi.r2.toFixed(3)}), γ = ${a.result.fits.gamma.exponent.toFixed(3)}; PCA ${a.result.timings.pca.toFixed(2)} s, flatness ${a.result.timings.flatness.toFixed(2)} s${ein ? `; Einstein check: ${ein.equilibratedCount} of ${ein.modes.length} modes equilibrated` : ''}`,
      );
      phaseStart = performance.now();
      if (e.run === 'sgd' && opts.dynamics === 'sgd') break;
    } else if (e.type === 'diverged') {
      throw new Error(e.message);
    }
  }
  timings.total = (performance.now() - t0) / 1000;
  const primary = results.get(opts.dynamics);
  if (!primary) throw new Error(`the ${opts.dynamics} run produced no analysis`);
  const out: Record<string, unknown> = {
    experiment: opts.experiment,
    dynamics: opts.dynamics,
    config: cfg,
    backend: backend.name,
    data: { name: data.name, train: data.train.count, test: data.test.count },
    training: trainingJson(epochs),
    explorationStartEpoch,
    ...analysisJson(primary),
    timings,
  };
  if (opts.dynamics === 'langevin' && results.get('sgd'))
    out.sgd = analysisJson(results.get('sgd')!);
  addCurvatureJson(out, results.get('sgd'), opts.dynamics === 'sgd');
  // 4 significant digits, not the page's 6: CLI bundles are what the page ships.
  const bundle = makeBundle(
    {
      createdWith: `npm run reproduce (Node ${process.version}, tfjs ${backend.name})`,
      preset: opts.preset,
      config: cfg,
      epochs,
      minibatch,
      exploration,
      windows: windowSteps,
      results: Object.fromEntries(results),
      profiles: [...results.values()].flatMap((r) => r.profiles),
    },
    new Date(),
    4,
  );
  return { out, bundle };
}

/** Mean, sample sd (n − 1) and the values of one number over seeds. */
export function seedStat(values: number[]): {
  mean: number;
  sd: number;
  n: number;
  values: number[];
} {
  const v = values.filter((x) => Number.isFinite(x));
  const n = v.length;
  const mean = n ? v.reduce((a, b) => a + b, 0) / n : NaN;
  const sd = n > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : NaN;
  return { mean, sd, n, values };
}

/**
 * One run per seed: a headline exponent is a mean ± sd over seeds (SCIENCE.md). The document is
 * the first seed's, with each seed's fits (`perSeed`) and their summary (`seedSummary`).
 */
export async function reproduceSeeds(
  opts: CliOptions,
  seeds: number[],
  log: Log,
): Promise<{ out: Record<string, unknown>; bundle: RunBundle }> {
  let first: { out: Record<string, unknown>; bundle: RunBundle } | null = null;
  const perSeed: Record<string, unknown>[] = [];
  for (const seed of seeds) {
    log(`seed ${seed} (${perSeed.length + 1} of ${seeds.length})`);
    const r = await reproduce({ ...opts, config: { ...opts.config, seed } }, log);
    first ??= r;
    const fits = r.out.fits as Record<string, ReturnType<typeof fitJson>>;
    perSeed.push({
      seed,
      psi: fits.psi,
      gamma: fits.gamma,
      ...(fits.D ? { D: fits.D } : {}),
      varianceFraction35: r.out.varianceFraction35,
      ...(r.out.einstein ? { einstein: r.out.einstein } : {}),
    });
  }
  const pick = (f: (p: Record<string, unknown>) => unknown) =>
    seedStat(perSeed.map((p) => Number(f(p))));
  const fit = (p: Record<string, unknown>, k: string) =>
    (p[k] as ReturnType<typeof fitJson> | undefined)?.exponent;
  const seedSummary: Record<string, unknown> = {
    psi: pick((p) => fit(p, 'psi')),
    psiTls: pick((p) => (p.psi as ReturnType<typeof fitJson>).tls?.exponent),
    gamma: pick((p) => fit(p, 'gamma')),
    varianceFraction35: pick((p) => p.varianceFraction35),
    ...(perSeed[0].D ? { beta1: pick((p) => fit(p, 'D')) } : {}),
  };
  log(
    `over ${seeds.length} seeds: ψ = ${fmtStat(seedSummary.psi)}, γ = ${fmtStat(seedSummary.gamma)}, 2–35 share = ${fmtStat(seedSummary.varianceFraction35)}`,
  );
  const { out, bundle } = first!;
  return { out: { ...out, seeds, perSeed, seedSummary }, bundle };
}

function fmtStat(x: unknown): string {
  const s = x as ReturnType<typeof seedStat>;
  return `${s.mean.toFixed(3)} ± ${s.sd.toFixed(3)}`;
}

/** Runs the variance–flatness pipeline on mlp4 or the CNN; returns the JSON document. */
export async function reproduceArchitecture(
  opts: CliOptions,
  cfg: ArchConfig,
  log: Log,
): Promise<Record<string, unknown>> {
  const backend = await cliBackend();
  const data = await loadData(opts.idx);
  log(`backend ${backend.name}; data ${data.name}; --arch ${cfg.arch}`);
  const r: ArchResult = await architectureRun(cfg, data, { log, sharpC: opts.sharpC });
  log(
    `${cfg.arch} block ${r.block.name} (${r.block.dim}${r.block.sampled ? ` of ${r.block.fullDim}, sampled` : ''}), ${r.optimizer} α ${r.lr}${r.optimizer === 'momentum' ? ` μ ${r.momentum}` : ''}: ψ = ${r.fits.psi.exponent.toFixed(3)} (R² ${r.fits.psi.r2.toFixed(3)}), γ = ${r.fits.gamma.exponent.toFixed(3)}; D_L90 = ${r.dims.DL90}, D_s = ${r.dims.Ds}`,
  );
  const warning = collapseWarning(r);
  if (warning) log(warning);
  return {
    experiment: opts.experiment,
    dynamics: 'sgd',
    arch: r.arch,
    block: r.block,
    optimizer: r.optimizer,
    lr: r.lr,
    momentum: r.momentum,
    config: cfg,
    backend: backend.name,
    data: { name: data.name, train: data.train.count, test: data.test.count },
    training: trainingJson(r.epochs),
    explorationStartEpoch: cfg.warmupEpochs,
    spectrum: { variance: r.variance },
    modes: modesJson(r),
    fits: { gamma: fitJson(r.fits.gamma), psi: fitJson(r.fits.psi) },
    varianceFraction35: r.varianceFraction35,
    rank90: r.rank90,
    effectiveDimension: r.dims,
    meanNorm: r.meanNorm,
    snapshots: r.snapshots,
    method: r.method,
    timings: r.timings,
  };
}

/**
 * The run experiments' command: the architecture pipeline, the seeds or the one run; writes the
 * JSON document, its CSVs and (--bundle) the run bundle.
 */
export async function runExperiment(opts: CliOptions, log: Log): Promise<string[]> {
  if (opts.arch)
    return writeRunOutputs(await reproduceArchitecture(opts, opts.arch, log), opts.out);
  const { out, bundle } = opts.seeds
    ? await reproduceSeeds(opts, opts.seeds, log)
    : await reproduce(opts, log);
  const files = writeRunOutputs(out, opts.out);
  if (opts.bundle) {
    writeText(opts.bundle, JSON.stringify(bundle));
    files.push(opts.bundle);
  }
  return files;
}

export const varianceFlatness: OptionsExperiment = {
  name: 'variance-flatness',
  help: 'PCA spectrum, flatness and the σ²–F fit (Figs. 1–2)',
  kind: 'run',
  run: runExperiment,
};
