/**
 * Builds src/data/universality-precomputed.json: the runs section 7 shows before a visitor runs
 * anything — the optimizer comparison, the width sweep, the (B, α) grid and four architecture
 * runs (4-layer MLP blocks W2, W3, W4 and the CNN), all at the page's default settings, planned
 * by the page's own plan builders (src/state/universalityPlans.ts) and run by the engine with
 * the wasm backend as the trainer worker runs them. To keep the file small (~120 KB) numbers are
 * rounded to 4 significant digits, and the full variance and flatness spectra are kept only for
 * the width sweep, the one figure that draws them (the others draw the measured modes). About
 * 18 minutes on a loaded 2-core machine (the optimizer comparison and the CNN are most of it).
 *
 *   npx tsx scripts/build-universality-bundle.ts [--out src/data/universality-precomputed.json]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { selectBackend } from '../src/engine/backend';
import { loadEmbeddedDataset } from '../src/engine/data/embedded';
import { summariseRun } from '../src/engine/experiments/sweeps';
import {
  archDefaults,
  architectureRun,
  type ArchConfig,
} from '../src/engine/experiments/architectures';
import { DEFAULT_PRESET, presetConfig } from '../src/state/configSchema';
import {
  DEFAULT_ARCH_FORM,
  archPlan,
  gridPlan,
  optimizerPlan,
  widthPlan,
  type PlanItem,
} from '../src/state/universalityPlans';
import type { UniversalityResult } from '../src/protocol/messages';
import {
  UNIVERSALITY_BUNDLE_FORMAT,
  type UniversalityBundle,
} from '../src/state/universalityBundle';

const argv = process.argv.slice(2);
const outIdx = argv.indexOf('--out');
const out = outIdx >= 0 ? argv[outIdx + 1] : 'src/data/universality-precomputed.json';

await selectBackend({
  forced: 'wasm',
  wasmPaths: resolve('node_modules/@tensorflow/tfjs-backend-wasm/dist') + '/',
});
const data = loadEmbeddedDataset(readFileSync('public/data/mnist-10k.bin'));
const config = presetConfig(DEFAULT_PRESET);

async function run(item: PlanItem): Promise<UniversalityResult> {
  const t0 = performance.now();
  let result: UniversalityResult;
  if (item.spec.kind === 'mlp') {
    result = { kind: 'mlp', summary: await summariseRun(item.spec.config, data) };
  } else {
    const cfg: ArchConfig = {
      ...archDefaults(item.spec.arch),
      ...item.spec.settings,
      arch: item.spec.arch,
    };
    result = { kind: 'arch', config: cfg, result: await architectureRun(cfg, data) };
  }
  const psi = result.kind === 'mlp' ? result.summary.psi : result.result.fits.psi;
  console.log(
    `${item.label}: ψ ${psi.exponent.toFixed(3)} [${psi.ci95.map((x) => x.toFixed(2)).join(', ')}], ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  return result;
}

/** Drops the spectra a figure does not draw (`spectra` false). */
function slim(result: UniversalityResult, spectra: boolean): UniversalityResult {
  if (spectra) return result;
  if (result.kind === 'mlp')
    return { kind: 'mlp', summary: { ...result.summary, variance: [], flatnessSpectrum: [] } };
  return { ...result, result: { ...result.result, variance: [] } };
}

async function sweep(items: PlanItem[], spectra = false) {
  const runs = [];
  for (const item of items) runs.push({ ...item, result: slim(await run(item), spectra) });
  return runs;
}

const bundle: UniversalityBundle = {
  format: UNIVERSALITY_BUNDLE_FORMAT,
  createdWith: `scripts/build-universality-bundle.ts, Node ${process.version}, tfjs wasm`,
  date: new Date().toISOString().slice(0, 10),
  config: {
    batchSize: config.batchSize,
    lr: config.lr,
    hidden: config.hidden,
    seed: config.seed,
    momentum: config.momentum,
  },
  sweeps: {
    optimizers: await sweep(optimizerPlan(config)),
    widths: await sweep(widthPlan(config), true),
    hyper: await sweep(gridPlan(config)),
    architectures: await sweep([
      archPlan({ ...DEFAULT_ARCH_FORM, block: 2 }, config),
      archPlan({ ...DEFAULT_ARCH_FORM, block: 3 }, config),
      archPlan({ ...DEFAULT_ARCH_FORM, block: 4 }, config),
      archPlan({ ...DEFAULT_ARCH_FORM, arch: 'cnn' }, config),
    ]),
  },
};

const text = JSON.stringify(bundle, (_k, v: unknown) =>
  typeof v === 'number' && Number.isFinite(v) && !Number.isInteger(v)
    ? Number(v.toPrecision(4))
    : v,
);
writeFileSync(out, text + '\n');
console.log(`wrote ${out} (${(text.length / 1024).toFixed(0)} KB)`);
