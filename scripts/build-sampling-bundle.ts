/**
 * The bundled with/without-replacement comparison (issue 17): ψ, β₁, β₂ and C(s) of two theory
 * runs that differ only in --sampling, cut down from their run bundles. Regenerate with
 *   npm run reproduce -- --experiment theory --sampling epoch --out e.json --bundle e.bundle.json
 *   npm run reproduce -- --experiment theory --sampling replacement --out r.json --bundle r.bundle.json
 *   npx tsx scripts/build-sampling-bundle.ts e.bundle.json r.bundle.json src/data/sampling-precomputed.json
 */
import { readFileSync, writeFileSync } from 'node:fs';

interface Fit {
  exponent: number;
  ci95: [number, number];
}
interface Bundle {
  config: Record<string, unknown> & { sampling?: string };
  results: {
    sgd: {
      fits: { psi: Fit };
      theory: {
        fits: { D: Fit; tau: Fit };
        modes: { rank: number; C: number[]; zeroLag: number | null }[];
      };
    };
  };
}

/** Lags of C(s) kept: the anticorrelation lives in the first few dozen steps. */
const LAGS = 60;
const fit = (f: Fit) => ({
  exponent: +f.exponent.toFixed(4),
  ci95: f.ci95.map((x) => +x.toFixed(4)),
});

const [epochFile, replacementFile, out] = process.argv.slice(2);
if (!out) throw new Error('usage: build-sampling-bundle EPOCH_BUNDLE REPLACEMENT_BUNDLE OUT');
const runs = [epochFile, replacementFile].map((file, i) => {
  const b = JSON.parse(readFileSync(file, 'utf8')) as Bundle;
  const want = i === 0 ? 'epoch' : 'replacement';
  const sampling = b.config.sampling ?? 'epoch';
  if (sampling !== want) throw new Error(`${file}: sampling ${sampling}, expected ${want}`);
  const sgd = b.results.sgd;
  return {
    sampling,
    psi: fit(sgd.fits.psi),
    beta1: fit(sgd.theory.fits.D),
    beta2: fit(sgd.theory.fits.tau),
    modes: sgd.theory.modes
      .filter((m) => m.C.length > 0)
      .map((m) => ({
        rank: m.rank,
        zeroLag: m.zeroLag,
        C: m.C.slice(0, LAGS + 1).map((c) => +c.toFixed(4)),
      })),
  };
});
const { sampling: _s, ...config } = JSON.parse(readFileSync(epochFile, 'utf8')).config as Record<
  string,
  unknown
>;
void _s;
writeFileSync(out, JSON.stringify({ config, runs }) + '\n');
