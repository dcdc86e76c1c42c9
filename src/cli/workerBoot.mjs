// A worker thread's entry: tsx's loader is not inherited by worker threads, so register it
// here, then load the TypeScript entry the pool named.
import { register } from 'tsx/esm/api';
import { workerData } from 'node:worker_threads';

register();
await import(workerData.entry);
