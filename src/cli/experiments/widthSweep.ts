import type { OptionsExperiment } from '.';
import { SHARP_THRESHOLD_C } from '../../engine/landscape/effectiveDimension';
import { archWidthSweep, widthSweep as runWidthSweep } from '../../engine/experiments/sweeps';
import { sweepRow, sweepStart, writeSweepOutputs } from './sweepOutput';

export const widthSweep: OptionsExperiment = {
  name: 'width-sweep',
  help:
    'one run per hidden width: ψ, γ, the variance and flatness spectra,\n' +
    'D_L (modes from mode 2 holding 90%/95% of the variance) and D_s\n' +
    `(directions with F below c·‖ŵ2‖/√h², c = ${SHARP_THRESHOLD_C}) against the parameter count`,
  kind: 'sweep',
  run: async (opts, log) => {
    const t0 = performance.now();
    const { data, head, sweepOpts } = await sweepStart(opts, log);
    const runs = opts.arch
      ? await archWidthSweep(opts.arch, opts.widths, data, sweepOpts)
      : await runWidthSweep(opts.config, opts.widths, data, sweepOpts);
    const out = {
      ...head,
      widths: runs.map(sweepRow),
      timings: {
        perWidth: runs.map((r) => r.timings.total),
        total: (performance.now() - t0) / 1000,
      },
    };
    return writeSweepOutputs(out, opts.out);
  },
};
