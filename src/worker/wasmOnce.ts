/// <reference lib="webworker" />
/**
 * One network fetch per .wasm file for both workers. The trainer and the analysis worker each
 * start TensorFlow.js's wasm backend at the same moment, and each would fetch the same 0.4 MB
 * binary. Here the first to ask fetches it and keeps it in the site's Cache Storage under a
 * Web Lock named after the file; the other waits on the lock and takes the stored copy (as does
 * the next visit: the names carry a content hash, and copies of other builds are deleted).
 * Where either API is missing (an insecure origin, some private modes) it is a plain fetch.
 */
const CACHE = 'flat-minima-wasm';

export function wasmFetcher(current: readonly string[]): (url: string) => Promise<Response> {
  const keep = new Set(current);
  let pruned = false;
  return async (url) => {
    const locks = (self.navigator as Navigator & { locks?: LockManager }).locks;
    if (!locks || typeof caches === 'undefined') return fetch(url);
    try {
      return await locks.request(`${CACHE} ${url}`, async () => {
        const cache = await caches.open(CACHE);
        if (!pruned) {
          pruned = true;
          for (const req of await cache.keys()) if (!keep.has(req.url)) await cache.delete(req);
        }
        const hit = await cache.match(url);
        if (hit) return hit;
        const res = await fetch(url);
        if (res.ok) await cache.put(url, res.clone());
        return res;
      });
    } catch {
      // Storage refused (quota, private mode): the network still works.
      return fetch(url);
    }
  };
}
