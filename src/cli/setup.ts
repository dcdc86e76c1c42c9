/**
 * What every command-line experiment starts with: the tfjs wasm backend (its .wasm files from
 * node_modules) and the data set — the embedded digits, or the MNIST IDX files in a folder.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { selectBackend, type BackendChoice } from '../engine/backend';
import type { Dataset } from '../engine/data/dataset';
import { loadEmbeddedDataset } from '../engine/data/embedded';
import { loadIdxDataset } from '../engine/data/idx';

function here(): string {
  return dirname(fileURLToPath(import.meta.url));
}

/** The wasm backend, as the experiments measure and the tests check it. */
export function cliBackend(): Promise<BackendChoice> {
  return selectBackend({
    forced: 'wasm',
    wasmPaths: resolve(here(), '../../node_modules/@tensorflow/tfjs-backend-wasm/dist') + '/',
  });
}

/** The IDX files in `idxDir`, or the embedded digits when it is null. */
export async function loadData(idxDir: string | null): Promise<Dataset> {
  if (idxDir) {
    const files = readdirSync(idxDir)
      .filter((f) => /idx[13]-ubyte(\.gz)?$/.test(f))
      .map((f) => ({ name: f, bytes: new Uint8Array(readFileSync(join(idxDir, f))) }));
    return loadIdxDataset(files);
  }
  const asset = resolve(here(), '../../public/data/mnist-10k.bin');
  try {
    return loadEmbeddedDataset(readFileSync(asset));
  } catch (e) {
    throw new Error(
      `cannot read ${asset} (${e instanceof Error ? e.message : e}); run "npm run data" first`,
      { cause: e },
    );
  }
}
