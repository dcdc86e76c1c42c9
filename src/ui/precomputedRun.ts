/** The bundled precomputed run the figures show until the first run of this visit (~200 kB). */
export const precomputedRun = () => import('../data/precomputed-run.json');
