// The CLI pool's speed-up on a many-core machine without Node (issue 13): run by the node that
// prepare.sh packs, on the bundle pack-pool.sh packs, from .gpucheck/:
//   ./node ../scripts/gpu-check/pool-bench.mjs [out.json] [workers,…]
// Wall-clock seconds of whole CLI runs (thread start-up included) for a width sweep and a
// forgetting sweep on 1 worker and on more, with speed-up and efficiency; results must equal
// the 1-worker run's (the CLI's runs are seeded), which this checks.
import { spawnSync } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { readFileSync, writeFileSync } from 'node:fs';

const out = process.argv[2] ?? 'pool-device.json';
const counts = (process.argv[3] ?? '1,4,8,15').split(',').map(Number);
const QUICK = ['--warmup-epochs', '2', '--window-epochs', '2', '--modes', '12'];
const CASES = [
  {
    name: 'width-sweep',
    runs: 8,
    args: ['--experiment', 'width-sweep', '--widths', '10,15,20,25,30,35,40,45', ...QUICK],
  },
  {
    name: 'forgetting',
    runs: 4 * (1 + 3 + 6),
    args: [
      '--experiment',
      'forgetting',
      '--seeds',
      '0,1,2,3',
      '--pretrain-epochs',
      '1',
      '--task1-epochs',
      '3',
      '--window-epochs',
      '4',
      '--task2-steps',
      '100',
      '--lambdas',
      '1,10,100',
      '--ewc-lambdas',
      '1e4,1e5,1e6',
      '--nc',
      '10,30',
      '--displacement-modes',
      '30',
    ],
  },
];

// What a run measured, without its timings (those differ run to run by design).
function measured(doc) {
  return JSON.stringify(doc, (k, v) =>
    /^(timings|seconds)$/.test(k) || (k === 'failed' && v.length === 0) ? undefined : v,
  );
}

const cases = [];
for (const c of CASES) {
  let base = null;
  for (const w of counts) {
    const file = `/tmp/pool-${c.name}-${w}.json`;
    const t0 = performance.now();
    const r = spawnSync(
      './node',
      ['pool/cli/x/reproduce.mjs', ...c.args, '--workers', String(w), '--out', file, '--quiet'],
      { encoding: 'utf8' },
    );
    const seconds = (performance.now() - t0) / 1000;
    if (r.status !== 0) throw new Error(`${c.name} ×${w} failed:\n${r.stderr}`);
    const doc = measured(JSON.parse(readFileSync(file, 'utf8')));
    const row = {
      name: c.name,
      where: 'node',
      workers: w,
      seconds: +seconds.toFixed(2),
      runs: c.runs,
    };
    if (base) {
      row.speedUp = +(base.seconds / seconds).toFixed(2);
      row.efficiency = +(row.speedUp / w).toFixed(2);
      row.sameResults = doc === base.doc;
    } else base = { seconds, doc };
    cases.push(row);
    console.log(JSON.stringify(row));
  }
}
writeFileSync(
  out,
  JSON.stringify({ cores: availableParallelism(), load: loadavg(), cases }, null, 1),
);
