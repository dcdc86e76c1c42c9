import { readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

// Cross-origin isolation lets the wasm backend use threads (SharedArrayBuffer).
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/**
 * Ships coi-serviceworker (npm) as dist/coi-serviceworker.min.js, next to index.html: on a
 * static host that cannot send the isolation headers, index.html registers it (see there).
 */
function coiServiceWorker(): Plugin {
  const file = createRequire(import.meta.url).resolve('coi-serviceworker/coi-serviceworker.min.js');
  return {
    name: 'coi-serviceworker',
    apply: 'build',
    generateBundle() {
      this.emitFile({
        type: 'asset',
        fileName: 'coi-serviceworker.min.js',
        source: readFileSync(file),
      });
    },
  };
}

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

export default defineConfig({
  // Relative base: the built site works from any sub-path of any static host.
  base: './',
  plugins: [react(), coiServiceWorker(), compressedDigitsOnly()],
  server: { headers: isolation },
  preview: { headers: isolation },
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
