/**
 * The crash hook the browser tests use, carried by test builds only: `VITE_TEST_HOOKS=1 npx vite
 * build` (npm test's build stage does this). In any other build `TEST_HOOKS` is the literal
 * false, so the bundler drops the hook's code, `window.__flatMinima` has no crash functions, and
 * a worker that is sent a 'crash' message ignores it: the hook is no part of the production
 * protocol (messages.ts).
 */
export const TEST_HOOKS: boolean = import.meta.env.VITE_TEST_HOOKS === '1';

/** Test builds only: the worker throws an uncaught error, exercising crash reporting and restart. */
export interface CrashCommand {
  type: 'crash';
}

/**
 * Test builds only: the trainer destroys its WebGPU device when a run on the fused trainer is
 * about to train step `step` (exercising the fall-back to wasm at a known point of the run).
 */
export interface LoseGpuCommand {
  type: 'loseGpuAt';
  step: number;
}

/** Throws from a fresh task, so the error is uncaught and reaches the page as the worker's onerror. */
export function crashSoon(): void {
  setTimeout(() => {
    throw new Error('deliberate crash (test hook)');
  });
}
