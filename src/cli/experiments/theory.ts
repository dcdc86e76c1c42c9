import type { OptionsExperiment } from '.';
import { runExperiment } from './varianceFlatness';

/** variance-flatness plus the noise strength D, the correlation time τ and T (Figs. 3, 5). */
export const theory: OptionsExperiment = {
  name: 'theory',
  help:
    'the same, plus noise strength D, correlation time τ and the\n' +
    'active temperature (Figs. 3, 5)',
  kind: 'run',
  run: runExperiment,
};
