/**
 * One thread of the CLI's pool (pool.ts): loads the wasm backend and the data set once, then
 * runs what the pool sends — jobs through runJob, flatness shares through measureShare, a GPU
 * ensemble's windows through analyseWindow — one at a time, answering each with its result or
 * its error message, and passing on its log lines.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { JobCache, runJob } from '../engine/jobs/run';
import { measureShare } from '../engine/jobs/flatness';
import { analyseWindow } from '../engine/jobs/ensemble';
import { checkJobSpec } from '../engine/jobs/spec';
import { dataShape } from '../engine/experiments/runChecks';
import { cliBackend, loadData } from './setup';
import type { PoolReply, PoolRequest } from './pool';

const port = parentPort;
if (!port) throw new Error('poolWorker runs in a worker thread');
const { idx } = workerData as { idx: string | null };
await cliBackend();
const data = await loadData(idx);
const cache = new JobCache();

port.on('message', (msg: PoolRequest) => {
  void (async () => {
    let reply: PoolReply;
    // The run's log lines (its ψ, γ, D_L, D_s) reach the command's stderr as in one thread.
    const log = (line: string) => port.postMessage({ log: line });
    try {
      if (msg.type === 'job') {
        const spec = checkJobSpec(msg.spec, dataShape(data));
        reply = { id: msg.id, ok: true, result: await runJob(spec, data, { cache, log }) };
      } else if (msg.type === 'analyse') {
        const t = msg.task;
        checkJobSpec({ kind: 'run', config: t.config, sharpC: t.sharpC }, dataShape(data));
        const opts = { sharpC: t.sharpC, log };
        const summary = await analyseWindow(t.config, data, t.window, opts, t.index, t.total);
        reply = { id: msg.id, ok: true, result: summary };
      } else {
        reply = { id: msg.id, ok: true, result: await measureShare(msg.share, data.train) };
      }
    } catch (e) {
      reply = { id: msg.id, ok: false, error: e instanceof Error ? e.message : String(e) };
    }
    port.postMessage(reply);
  })();
});
port.postMessage({ ready: true });
