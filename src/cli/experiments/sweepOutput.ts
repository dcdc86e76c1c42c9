/**
 * What the sweeps share: the JSON document's head, one row per run, and the document with a CSV
 * of the per-run summary next to it.
 */
import { writeFileSync } from 'node:fs';
import { cliBackend, loadData } from '../setup';
import type { FailedJob } from '../pool';
import { sweepRunner, type SweepGpu } from '../runners';
import { chooseGpu } from '../gpu';
import type { CliOptions } from '../options';
import type { Log } from '.';
import { csv, writeText } from './output';
import { fitJson } from '../../engine/experiments/runDocument';
import type { Dataset } from '../../engine/data/dataset';
import type { RunSummary } from '../../engine/experiments/sweeps';

export function sweepRow(r: RunSummary) {
  return {
    hidden: r.hidden,
    B: r.batchSize,
    lr: r.lr,
    optimizer: r.optimizer,
    momentum: r.momentum,
    params: r.params,
    dim: r.dim,
    snapshots: r.snapshots,
    stepEvery: r.stepEvery,
    DL90: r.dims.DL90,
    DL95: r.dims.DL95,
    Ds: r.dims.Ds,
    sharpThreshold: r.dims.threshold,
    sharpC: r.dims.c,
    meanNorm: r.dims.norm,
    DsRanks: r.dims.ranks,
    dsCurve: r.dsCurve,
    dsByScale: r.dsByScale,
    psi: fitJson(r.psi),
    gamma: fitJson(r.gamma),
    finalTrainError: r.finalTrainError,
    finalTestError: r.finalTestError,
    variance: r.variance,
    modes: r.modes,
    flatnessSpectrum: r.flatnessSpectrum,
    timings: r.timings,
    ...(r.arch ? { arch: r.arch, block: r.block } : {}),
  };
}

/**
 * The sweep's GPU: none for a queue's sweep (its workers train) or the deeper architectures
 * (the fused kernel trains the 784-h-h-10 network), else what `--gpu` and this machine give.
 */
async function sweepGpu(opts: CliOptions): Promise<SweepGpu> {
  const mode = opts.gpu;
  const notTried = opts.queue
    ? "every run trains on the CPU of the queue's workers (--queue)"
    : opts.arch
      ? `every run trains on the CPU: the fused GPU kernel trains the 784-h-h-10 network, not --arch ${opts.arch.arch}`
      : null;
  const choice = notTried
    ? { device: null, adapter: null, software: false, reason: notTried }
    : await chooseGpu(mode);
  return {
    choice,
    report: { mode, adapter: choice.adapter, runsOnGpu: 0, note: choice.reason },
    sharpC: opts.sharpC,
  };
}

/** Loads the backend and data; returns them with the head every sweep document starts with. */
export async function sweepStart(opts: CliOptions, log: Log) {
  // First: --gpu on without a GPU stops here, before anything loads.
  const gpu = await sweepGpu(opts);
  if (!gpu.choice.device) log(`gpu: ${gpu.report.note}`);
  const backend = await cliBackend();
  const data = await loadData(opts.idx);
  const arch = opts.arch;
  log(
    `backend ${backend.name}; data ${data.name}; ${opts.experiment}${arch ? ` --arch ${arch.arch}` : ''}`,
  );
  // Filled while the pool or the queue runs; the document lists it once the sweep is done.
  const failed: FailedJob[] = [];
  const runner = sweepRunner({ ...opts, log }, data, failed, gpu);
  const head = {
    experiment: opts.experiment,
    arch: arch ? arch.arch : 'mlp',
    config: arch ?? opts.config,
    backend: backend.name,
    gpu: gpu.report,
    data: { name: data.name, train: data.train.count, test: data.test.count },
    ...(runner ? { failed } : {}),
  };
  return { data: data as Dataset, head, sweepOpts: { log, sharpC: opts.sharpC, runner } };
}

export function writeSweepOutputs(out: Record<string, unknown>, file: string): string[] {
  writeText(file, JSON.stringify(out, null, 1));
  const rows = (out.widths ?? out.runs ?? out.optimizers) as ReturnType<typeof sweepRow>[];
  const summary = file.replace(/\.json$/i, '') + '.summary.csv';
  writeFileSync(
    summary,
    csv([
      [
        'hidden',
        'B',
        'lr',
        'optimizer',
        'params',
        'dim',
        'DL90',
        'DL95',
        'Ds',
        'psi',
        'psiLo',
        'psiHi',
        'gamma',
        'gammaLo',
        'gammaHi',
      ],
      ...rows.map((r) => [
        r.hidden,
        r.B,
        r.lr,
        r.optimizer,
        r.params,
        r.dim,
        r.DL90,
        r.DL95,
        r.Ds,
        r.psi.exponent,
        r.psi.ci95[0],
        r.psi.ci95[1],
        r.gamma.exponent,
        r.gamma.ci95[0],
        r.gamma.ci95[1],
      ]),
    ]),
  );
  return [file, summary];
}
