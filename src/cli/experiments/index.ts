/**
 * The experiments of `npm run reproduce`, one file each. A new experiment is one file that
 * exports a CliExperiment and one line in EXPERIMENTS; its usage lines come from `help`.
 */
import type { CliOptions } from '../options';
import { curvature } from './curvature';
import { forgetting } from './forgetting';
import { hyperSweep } from './hyperSweep';
import { noiseShaping } from './noiseShaping';
import { optimizerComparison } from './optimizerComparison';
import { theory } from './theory';
import { varianceFlatness } from './varianceFlatness';
import { widthSweep } from './widthSweep';

export type Log = (s: string) => void;

interface Described {
  /** The value of --experiment. */
  name: string;
  /** Usage text; a line break continues it on the next line, indented. */
  help: string;
}

/**
 * An experiment that takes reproduce's options (OPTIONS): 'run' trains one network per seed,
 * 'sweep' several with quick defaults (SWEEP_DEFAULTS) and no bundle. `run` returns the files
 * it wrote.
 */
export interface OptionsExperiment extends Described {
  kind: 'run' | 'sweep';
  run: (opts: CliOptions, log: Log) => Promise<string[]>;
}

/** An experiment with its own option table and usage (`--experiment NAME --help`). */
export interface OwnExperiment extends Described {
  kind: 'own';
  main: (argv: string[]) => Promise<void>;
}

export type CliExperiment = OptionsExperiment | OwnExperiment;

export const EXPERIMENTS: readonly CliExperiment[] = [
  varianceFlatness,
  theory,
  curvature,
  forgetting,
  widthSweep,
  hyperSweep,
  optimizerComparison,
  noiseShaping,
];

export function experimentNamed(name: string): CliExperiment | undefined {
  return EXPERIMENTS.find((e) => e.name === name);
}

/** The experiments section of the usage. */
export function experimentsUsage(indent = 2, column = 25): string {
  return EXPERIMENTS.flatMap((e) => {
    const [first, ...rest] = e.help.split('\n');
    return [
      `${' '.repeat(indent)}${e.name}`.padEnd(column) + first,
      ...rest.map((l) => ' '.repeat(column) + l),
    ];
  }).join('\n');
}
