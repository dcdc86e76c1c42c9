/**
 * The single worker client of the page, created once from the URL's backend choice (already
 * validated by the URL schema). UI components call its commands; results come back through the
 * run store.
 */
import type { BackendName } from '../engine/backend';
import { useConfig } from '../state/configStore';
import { WorkerClient } from '../worker/client';

const forced = useConfig.getState().backend as BackendName | null;
export const workers = new WorkerClient(forced ?? undefined);
