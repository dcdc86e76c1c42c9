/**
 * The sweeps' GPU ensemble probe (issue 14): run-steps/s of an ensemble of R runs, measured in
 * a job worker of its own — the kind of worker, device and kernel an ensemble job trains on —
 * that ends once it has answered. Measured once per page for each ensemble size (a sweep of
 * the same size reuses the number), so only the first such sweep waits for it.
 */
import type { EnsembleProbeCommand, EnsembleProbeEvent } from '../protocol/messages';

export type EnsembleMeasure = EnsembleProbeEvent['measure'];

/** A probe that has not answered by then is taken as failed (the runs train on the CPU). */
const PROBE_TIMEOUT_MS = 30_000;

const measured = new Map<number, Promise<EnsembleMeasure>>();

function probe(runs: number, spawn: () => Worker): Promise<EnsembleMeasure> {
  return new Promise((resolve) => {
    let w: Worker;
    try {
      w = spawn();
    } catch (e) {
      resolve({ error: e instanceof Error ? e.message : String(e) });
      return;
    }
    const end = (m: EnsembleMeasure) => {
      clearTimeout(timer);
      w.terminate();
      resolve(m);
    };
    const timer = setTimeout(
      () => end({ error: `no answer in ${PROBE_TIMEOUT_MS / 1000} s` }),
      PROBE_TIMEOUT_MS,
    );
    w.onmessage = (ev: MessageEvent<EnsembleProbeEvent | { type: string }>) => {
      if (ev.data.type === 'ensembleProbed') end((ev.data as EnsembleProbeEvent).measure);
    };
    w.onerror = (ev) => end({ error: ev.message || 'the probe worker failed' });
    w.postMessage({ type: 'ensembleProbe', runs } satisfies EnsembleProbeCommand);
  });
}

/** The ensemble's run-steps/s at `runs` runs, or why there is none (cached for the page). */
export function measureEnsemble(runs: number, spawn: () => Worker): Promise<EnsembleMeasure> {
  let m = measured.get(runs);
  if (!m) {
    m = probe(runs, spawn);
    measured.set(runs, m);
  }
  return m;
}
