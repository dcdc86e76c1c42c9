/**
 * Where the page's workers fetch TensorFlow.js's wasm binaries: absolute URLs, by the file
 * names tfjs asks for (the trainer, the analysis worker and the pool's job workers).
 */
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';

export function absolute(url: string): string {
  return new URL(url, document.baseURI).href;
}

export function wasmPaths(): Record<string, string> {
  return {
    'tfjs-backend-wasm.wasm': absolute(wasmPlain),
    'tfjs-backend-wasm-simd.wasm': absolute(wasmSimd),
    // tfjs wants all three names; threads are off, so this one is never fetched and the
    // threaded binary is not shipped (README, "No isolation headers").
    'tfjs-backend-wasm-threaded-simd.wasm': absolute(wasmSimd),
  };
}
