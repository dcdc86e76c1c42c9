// `npm test`: every check in order — data asset, types, lint, unit tests (vitest, Node), the
// production build, then browser tests (node:test + playwright-core in Debian Chromium).
// No check depends on how fast the machine is; every limit is generous and TEST_TIMEOUT_SCALE
// (e.g. 3) stretches them all on a very slow one. The summary gives each stage's wall time.
import { spawnSync } from 'node:child_process';
import { readFileSync, mkdirSync, readdirSync } from 'node:fs';
import { TEST_TIMEOUT } from '../tests/e2e/harness.mjs';

const results = [];
const started = Date.now();
let stageStart = started;
/** Seconds since the previous stage ended (the stage just run). */
function stageSeconds() {
  const now = Date.now();
  const s = (now - stageStart) / 1000;
  stageStart = now;
  return s;
}
function run(name, cmd, args, env = {}) {
  console.log(`\n▶ ${name}: ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, ...env } });
  results.push({ name, ok: r.status === 0, seconds: stageSeconds() });
  if (r.status !== 0) {
    console.error(`✖ ${name} failed (exit ${r.status})`);
    summary();
    process.exit(1);
  }
}

let passed = 0;
let failed = 0;
function summary() {
  console.log(
    '\n' +
      results.map((r) => `${r.ok ? '✔' : '✖'} ${r.name} (${r.seconds.toFixed(0)} s)`).join('\n'),
  );
  console.log(
    `tests: ${passed} passed, ${failed} failed; ${((Date.now() - started) / 1000).toFixed(0)} s in all`,
  );
}

mkdirSync('test-results', { recursive: true });
run('data asset', 'npx', ['tsx', 'scripts/build-data.ts']);
// The whole tree, then the engine alone without the DOM lib (tsconfig.engine.json).
run('typecheck', 'npm', ['run', 'typecheck']);
run('lint', 'npx', ['eslint', '.']);
run('format', 'npx', ['prettier', '--check', '.']);
run('chromium present', 'bash', ['scripts/ensure-chromium.sh']);
run('redis-server present', 'bash', ['scripts/ensure-redis.sh']);
const unit = spawnSync(
  'npx',
  ['vitest', 'run', '--reporter=default', '--reporter=json', '--outputFile=test-results/unit.json'],
  {
    stdio: 'inherit',
  },
);
try {
  const j = JSON.parse(readFileSync('test-results/unit.json', 'utf8'));
  passed += j.numPassedTests;
  failed += j.numFailedTests;
} catch {
  failed += 1;
}
results.push({ name: 'unit tests (vitest)', ok: unit.status === 0, seconds: stageSeconds() });
if (unit.status !== 0) {
  summary();
  process.exit(1);
}
// A test build: it carries the crash hook the browser tests use (src/protocol/testHooks.ts).
run('build', 'npx', ['vite', 'build', '--logLevel', 'warn'], { VITE_TEST_HOOKS: '1' });
const e2e = spawnSync(
  process.execPath,
  [
    '--test',
    '--test-concurrency=1',
    // Each wait has its own limit; this one only turns a wait that has none into a failure.
    `--test-timeout=${TEST_TIMEOUT}`,
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=tap',
    '--test-reporter-destination=test-results/e2e.tap',
    ...readdirSync('tests/e2e')
      .filter((f) => f.endsWith('.test.mjs'))
      .sort()
      .map((f) => `tests/e2e/${f}`),
  ],
  { stdio: 'inherit' },
);
try {
  const tap = readFileSync('test-results/e2e.tap', 'utf8');
  passed += Number(/^# pass (\d+)/m.exec(tap)?.[1] ?? 0);
  failed += Number(/^# fail (\d+)/m.exec(tap)?.[1] ?? 0);
} catch {
  failed += 1;
}
results.push({ name: 'browser tests (Chromium)', ok: e2e.status === 0, seconds: stageSeconds() });
summary();
process.exit(e2e.status === 0 && failed === 0 ? 0 : 1);
