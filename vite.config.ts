import { readFileSync, rmSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

/**
 * The site ships the digits gzipped only (data/mnist-10k.bin.gz, ~1.6 MB): the plain 7.9 MB
 * file that scripts/build-data.ts writes beside it for the Node tools is left out of the build.
 */
function compressedDigitsOnly(): Plugin {
  let outDir = 'dist';
  return {
    name: 'compressed-digits-only',
    apply: 'build',
    configResolved(c) {
      outDir = resolve(c.root, c.build.outDir);
    },
    closeBundle() {
      rmSync(join(outDir, 'data', 'mnist-10k.bin'), { force: true });
    },
  };
}

const GZIP_QUERY = '?gzip';
const GZIP_ID = '\0gzip-asset:';

/**
 * `import url from './x.json?gzip'`: the URL of the file gzip-compressed (level 9), emitted as a
 * static asset, for data a figure fetches and decodes (src/ui/gzipJson.ts) instead of carrying it
 * in a script chunk: the bundled run is ~0.21 MB as a chunk, ~0.06 MB gzipped, whatever the host
 * compresses. The dev server hands the same bytes as a data: URL.
 */
function gzipAsset(): Plugin {
  let build = false;
  return {
    name: 'gzip-asset',
    enforce: 'pre',
    configResolved(c) {
      build = c.command === 'build';
    },
    async resolveId(source, importer) {
      if (!source.endsWith(GZIP_QUERY)) return null;
      const r = await this.resolve(source.slice(0, -GZIP_QUERY.length), importer, {
        skipSelf: true,
      });
      return r && GZIP_ID + r.id;
    },
    load(id) {
      if (!id.startsWith(GZIP_ID)) return null;
      const file = id.slice(GZIP_ID.length);
      this.addWatchFile(file);
      const source = gzipSync(readFileSync(file), { level: 9 });
      // The id ends in .json: say it is a script, or the bundler parses it as JSON.
      if (!build) {
        const url = `data:application/gzip;base64,${source.toString('base64')}`;
        return { code: `export default ${JSON.stringify(url)};`, moduleType: 'js' };
      }
      const ref = this.emitFile({ type: 'asset', name: `${basename(file)}.gz`, source });
      return { code: `export default import.meta.ROLLUP_FILE_URL_${ref};`, moduleType: 'js' };
    },
  };
}

export default defineConfig({
  // Relative base: the built site works from any sub-path of any static host.
  base: './',
  plugins: [react(), compressedDigitsOnly(), gzipAsset()],
  worker: { format: 'es' },
  optimizeDeps: {
    include: [
      '@tensorflow/tfjs',
      '@tensorflow/tfjs-backend-wasm',
      '@tensorflow/tfjs-backend-webgpu',
    ],
  },
  build: {
    target: 'es2022',
    rollupOptions: {
      input: { main: 'index.html', bench: 'bench.html' },
    },
    chunkSizeWarningLimit: 4000,
  },
});
