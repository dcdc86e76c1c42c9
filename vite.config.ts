import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
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

export default defineConfig({
  // Relative base: the built site works from any sub-path of any static host.
  base: './',
  plugins: [react(), coiServiceWorker()],
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
