import type { OwnExperiment } from '.';

export const forgetting: OwnExperiment = {
  name: 'forgetting',
  help:
    'catastrophic forgetting, LDC versus EWC (Fig. 4); its options:\n' +
    'npm run reproduce -- --experiment forgetting --help',
  kind: 'own',
  main: async (argv) => {
    // Loaded on use: its engine half is not needed by the other experiments.
    const { forgettingMain } = await import('../forgetting');
    return forgettingMain(argv);
  },
};
