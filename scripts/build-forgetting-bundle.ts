/**
 * Builds src/data/forgetting-precomputed.json, the sweep section 6 shows before a reader runs
 * one, from the JSON of a headless sweep at the page's default settings (3 seeds):
 *
 *   npm run reproduce -- --experiment forgetting --seeds 0,1,2 --out forgetting.json
 *   npx tsx scripts/build-forgetting-bundle.ts --in forgetting.json \
 *     [--command "…the command above…"] [--out src/data/forgetting-precomputed.json]
 *
 * To keep the file small (< 100 KB) numbers are rounded to 4 significant digits, every run keeps
 * its final errors, and only the runs of the settings the figures show first keep their curves
 * and displacements: chosen with the page's own rules (src/state/forgettingData.ts), each
 * method's setting on validation data under both scorings, and LDC's chosen λ at every N_c.
 * The task-1 mode tables are cut to the displaced modes.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { RunResult, Task1Report } from '../src/engine/forgetting';
import {
  bestOf,
  ncCurve,
  sameSetting,
  settingStats,
  type Setting,
} from '../src/state/forgettingData';
import {
  FORGETTING_BUNDLE_FORMAT,
  RUN_COLUMNS,
  type CurveRow,
  type ForgettingBundle,
} from '../src/state/forgettingBundle';

const argv = process.argv.slice(2);
const arg = (k: string, d: string | null) => {
  const i = argv.indexOf(k);
  return i >= 0 ? argv[i + 1] : d;
};
const input = arg('--in', null);
if (!input) {
  console.error(
    'usage: build-forgetting-bundle.ts --in forgetting.json [--command CMD] [--out FILE]',
  );
  process.exit(2);
}
const out = arg('--out', 'src/data/forgetting-precomputed.json')!;

type CliTask1 = Omit<Task1Report, 'modes'>;
interface CliOutput {
  backend: string;
  data: { name?: string } | string;
  config: ForgettingBundle['config'];
  validation: ForgettingBundle['validation'];
  runs: RunResult[];
  task1: CliTask1[];
  task1Modes: (Task1Report['modes'][number] & { seed: number })[];
  timings: { total: number };
}
const cli = JSON.parse(readFileSync(input, 'utf8')) as CliOutput;
if (!Array.isArray(cli.runs) || !Array.isArray(cli.task1Modes))
  throw new Error(`${input} is not the JSON of \`reproduce --experiment forgetting\``);
// JSON wrote NaN as null; the page's selection reads numbers.
const n = (v: unknown) => (typeof v === 'number' ? v : NaN);
const runs: RunResult[] = cli.runs.map((r) => ({
  ...r,
  valEps1: n(r.valEps1),
  valEps2: n(r.valEps2),
  valEps1Own: n(r.valEps1Own),
  valEps2Own: n(r.valEps2Own),
}));

const r4 = (v: number | null): number | null =>
  typeof v === 'number' && Number.isFinite(v) ? Number(v.toPrecision(4)) : null;

const featured: Setting[] = [{ method: 'none', lambda: 0, nc: null }];
for (const scoring of ['all', 'own'] as const) {
  const stats = settingStats(runs, scoring);
  for (const s of [bestOf(stats, 'ldc'), bestOf(stats, 'ewc'), ...ncCurve(stats)])
    if (s && !featured.some((f) => sameSetting(f, s))) featured.push(s);
}

const displaced = cli.config.displacementModes;
const bundle: ForgettingBundle = {
  format: FORGETTING_BUNDLE_FORMAT,
  command:
    arg('--command', null) ??
    `npm run reproduce -- --experiment forgetting --seeds ${cli.config.seeds.join(',')}`,
  date: new Date().toISOString().slice(0, 10),
  backend: cli.backend,
  data: typeof cli.data === 'string' ? cli.data : (cli.data.name ?? 'digits'),
  seconds: Math.round(cli.timings.total),
  config: cli.config,
  validation: cli.validation,
  columns: RUN_COLUMNS,
  runs: runs.map((r) =>
    RUN_COLUMNS.map((c) => {
      const v = r[c];
      return typeof v === 'number' ? r4(v) : v;
    }),
  ),
  detail: runs.flatMap((r, i) =>
    featured.some((f) => sameSetting(f, r))
      ? [
          {
            run: i,
            curve: r.curve.map((p): CurveRow => [
              p.step,
              r4(p.eps1) ?? NaN,
              r4(p.eps2) ?? NaN,
              r4(p.eps1Own) ?? NaN,
              r4(p.eps2Own) ?? NaN,
            ]),
            displacement: r.displacement.slice(0, displaced).map(r4),
          },
        ]
      : [],
  ),
  task1: cli.task1.map((t) => ({
    ...t,
    modes: cli.task1Modes
      .filter((m) => m.seed === t.seed && m.rank <= displaced)
      .map(({ seed: _seed, ...m }) => ({
        ...m,
        variance: r4(m.variance) ?? NaN,
        flatness: r4(m.flatness) ?? NaN,
        measured: r4(m.measured) ?? NaN,
        left: r4(m.left) ?? NaN,
        right: r4(m.right) ?? NaN,
      })),
  })),
};
const text = JSON.stringify(bundle);
writeFileSync(out, `${text}\n`);
console.log(
  `${out}: ${runs.length} runs, ${bundle.detail.length} with curves (${featured.length} settings), ${(text.length / 1024).toFixed(1)} KB`,
);
