// Tests run tfjs on the wasm backend in Node (the browser's fallback), or cpu when asked.
import { resolve } from 'node:path';
import { selectBackend, type BackendName } from '../../src/engine/backend';

export async function useBackend(name: BackendName = 'wasm'): Promise<void> {
  await selectBackend({
    forced: name,
    wasmPaths: resolve('node_modules/@tensorflow/tfjs-backend-wasm/dist') + '/',
  });
}
