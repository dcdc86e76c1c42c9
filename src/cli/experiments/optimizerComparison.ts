import type { OptionsExperiment } from '.';
import {
  ADAM_DEFAULT_LR,
  archOptimizerComparison,
  optimizerComparison as runOptimizerComparison,
} from '../../engine/experiments/sweeps';
import { sweepRow, sweepStart, writeSweepOutputs } from './sweepOutput';

export const optimizerComparison: OptionsExperiment = {
  name: 'optimizer-comparison',
  help:
    'SGD, momentum and Adam from the same initialisation (momentum at\n' +
    'α(1 − μ), the same effective step as SGD at α; Adam at\n' +
    `α = ${ADAM_DEFAULT_LR} unless --adam-lr)`,
  kind: 'sweep',
  run: async (opts, log) => {
    const t0 = performance.now();
    const { data, head, sweepOpts } = await sweepStart(opts, log);
    const runs = opts.arch
      ? await archOptimizerComparison(opts.arch, data, sweepOpts, undefined, opts.adamLr)
      : await runOptimizerComparison(opts.config, data, sweepOpts, undefined, opts.adamLr);
    const out = {
      ...head,
      optimizers: runs.map(sweepRow),
      timings: { perRun: runs.map((r) => r.timings.total), total: (performance.now() - t0) / 1000 },
    };
    return writeSweepOutputs(out, opts.out);
  },
};
