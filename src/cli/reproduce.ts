/**
 * Headless reproduction: the same engine code as the browser, in Node on the wasm backend.
 *
 *   npm run reproduce -- --experiment variance-flatness [--preset paper] [--B 50 --lr 0.1
 *     --seed 0 --dynamics sgd|langevin --temperature T --warmup-epochs 60 --window-epochs 10
 *     --out results.json]
 *
 * Writes JSON (schema in the README) and, next to it, CSVs. Bad arguments print the usage and
 * exit with code 2. The options are one table (options.ts, which also prints the usage); the
 * experiments are one file each under experiments/ (registered in experiments/index.ts).
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RunSettingsError } from '../engine/experiments/runChecks';
import { EXPERIMENTS, experimentNamed } from './experiments';
import { parseOrExit } from './args';
import { parseCliOptions, usage, type CliOptions } from './options';

export type { CliOptions };
export { parseCliOptions as parseArgs };
export { reproduce, reproduceSeeds, seedStat } from './experiments/varianceFlatness';

/** An experiment with its own options (forgetting): found before reproduce's table is applied. */
function ownExperiment(argv: string[]) {
  const named = argv.flatMap((a, i) =>
    a === '--experiment' ? [argv[i + 1]] : a.startsWith('--experiment=') ? [a.slice(13)] : [],
  );
  const entry = EXPERIMENTS.find((e) => e.kind === 'own' && e.name === named.at(-1));
  return entry?.kind === 'own' ? entry : null;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const own = ownExperiment(argv);
  if (own) return own.main(argv);
  const opts: CliOptions = parseOrExit(() => parseCliOptions(argv), usage);
  const log = opts.quiet ? () => undefined : (s: string) => process.stderr.write(s + '\n');
  const entry = experimentNamed(opts.experiment);
  if (entry?.kind !== 'run' && entry?.kind !== 'sweep')
    throw new Error(`no runner for "${opts.experiment}"`);
  log(`wrote ${(await entry.run(opts, log)).join(', ')}`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
    // Settings that cannot work together are bad arguments too.
    process.exit(e instanceof RunSettingsError ? 2 : 1);
  });
}
