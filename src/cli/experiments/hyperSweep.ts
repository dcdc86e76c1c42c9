import type { OptionsExperiment } from '.';
import { archHyperSweep, hyperSweep as runHyperSweep } from '../../engine/experiments/sweeps';
import { sweepRow, sweepStart, writeSweepOutputs } from './sweepOutput';

export const hyperSweep: OptionsExperiment = {
  name: 'hyper-sweep',
  help: 'one run per (B, α): ψ and γ with their 95% intervals',
  kind: 'sweep',
  run: async (opts, log) => {
    const t0 = performance.now();
    const { data, head, sweepOpts } = await sweepStart(opts, log);
    const runs = opts.arch
      ? await archHyperSweep(opts.arch, opts.Bs, opts.lrs, data, sweepOpts)
      : await runHyperSweep(opts.config, opts.Bs, opts.lrs, data, sweepOpts);
    const out = {
      ...head,
      Bs: opts.Bs,
      lrs: opts.lrs,
      runs: runs.map((r) => ({ ...sweepRow(r), BoverLr: r.batchSize / r.lr })),
      timings: { perRun: runs.map((r) => r.timings.total), total: (performance.now() - t0) / 1000 },
    };
    return writeSweepOutputs(out, opts.out);
  },
};
