import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
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

export default defineConfig({
  // Relative base: the built site works from any sub-path of any static host.
  base: './',
  plugins: [react(), compressedDigitsOnly()],
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
