/**
 * Whether a section-7 sweep's plain-SGD runs train as fused ensembles on the GPU or spread over
 * the CPU pool (issue 14): the faster on the measured throughput. An ensemble of R runs is one
 * job on one worker; the same R runs on the pool step on up to N workers at once, each at one
 * worker's WebAssembly SIMD speed. So the comparison is the ensemble's aggregate run-steps/s at
 * R against min(N, R) × the SIMD steps/s — both of the same network and batch (fusedProbe.ts).
 *
 * A software adapter is never chosen unless forced (as for a single run); `?backend=webgpu`
 * forces the ensembles whatever they measure (the tests run them so). A missing measurement
 * keeps the runs on the CPU, where they run without a GPU.
 */

export interface EnsembleChoiceInput {
  /** `?backend=webgpu`: ensembles whatever the numbers. */
  forced: boolean;
  /** Runs in the sweep's largest ensemble (the group size that was measured). */
  runs: number;
  /** The ensemble's measurement at `runs`, or why there is none. */
  ensemble:
    { adapter: string; software: boolean; runStepsPerSec: number } | { error: string } | null;
  /** Steps/s of one worker's CPU step (the trainer's probe), and what ran it ('wasm'). */
  cpu: { stepsPerSec: number; name: string } | null;
  /** Workers of the CPU pool the sweep would run on. */
  workers: number;
}

export interface EnsembleChoice {
  gpu: boolean;
  /** One sentence with the numbers. */
  reason: string;
}

const fmt = (x: number): string => Math.round(x).toLocaleString('en');

export function ensembleChoice(m: EnsembleChoiceInput): EnsembleChoice {
  if (m.forced) return { gpu: true, reason: 'forced by ?backend=webgpu' };
  const cpu = (reason: string): EnsembleChoice => ({ gpu: false, reason });
  const e = m.ensemble;
  if (!e) return cpu('the GPU ensemble was not measured');
  if ('error' in e) return cpu(`the GPU ensemble could not be measured (${e.error})`);
  if (e.software)
    return cpu(`${e.adapter} is a software adapter (used only under ?backend=webgpu)`);
  if (!m.cpu || !(m.cpu.stepsPerSec > 0))
    return cpu('the CPU step was not measured to weigh the GPU ensemble against');
  if (!(e.runStepsPerSec > 0) || !(m.runs >= 1)) return cpu('the GPU ensemble measured no steps');
  const workers = Math.max(1, Math.min(Math.floor(m.workers), m.runs));
  const cpuRate = workers * m.cpu.stepsPerSec;
  const gpuSide = `${m.runs} run${m.runs === 1 ? '' : 's'} at ${fmt(e.runStepsPerSec)} run-steps/s on the GPU ensemble (${e.adapter})`;
  const cpuSide = `${workers} worker${workers === 1 ? '' : 's'} × ${fmt(m.cpu.stepsPerSec)} steps/s on the CPU (${m.cpu.name})`;
  if (e.runStepsPerSec > cpuRate)
    return { gpu: true, reason: `the GPU ensemble is faster: ${gpuSide} against ${cpuSide}` };
  // A tie keeps the CPU: the GPU would add a device and a worker's data copy for nothing.
  return cpu(
    `the CPU pool is ${e.runStepsPerSec === cpuRate ? 'as fast' : 'faster'}: ${cpuSide} = ${fmt(cpuRate)} run-steps/s against ${gpuSide}`,
  );
}
