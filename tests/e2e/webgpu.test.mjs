// The WebGPU path: Chromium with --enable-unsafe-webgpu offers a software (SwiftShader) adapter
// here. Forced with ?backend=webgpu, the quick run trains on the fused WGSL trainer and must go
// through the hand-over to the analysis to `done`, its first epoch matching the wasm run's losses
// to float32 tolerance; a device lost mid-run must hand the run to wasm, which finishes it. Speed
// is not judged on a software adapter (SwiftShader steps ~30 times a second here: two epochs of
// 160 steps and five modes keep each run short). A tiny section-7 grid forced to WebGPU trains
// as one fused ensemble in a job worker and must give the wasm sweep's results.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  launch,
  openPage,
  runState,
  serveDist,
  withoutTimes,
  WAIT,
  TEST_TIMEOUT,
} from './harness.mjs';

let server;
let browser;
before(async () => {
  server = await serveDist();
  browser = await launch([
    '--enable-unsafe-webgpu',
    '--enable-features=Vulkan',
    '--use-webgpu-adapter=swiftshader',
  ]);
});
after(async () => {
  await browser?.close();
  await server?.close();
});

const SHORT = 'preset=quick&warmup=1&window=1&modes=5';
const QUICK = `${SHORT}&autorun=1`;
const NO_ADAPTER = /backend could start: webgpu/;

/** Opens the quick run on `backend`; waits for `done` (or, with `firstEpoch`, epoch 1) or a failure. */
async function quickRun(backend, firstEpoch = false) {
  const url = `${server.url}?backend=${backend}&${QUICK}`;
  const { page, context, errors } = await openPage(browser, url, server.origin);
  await page.waitForFunction(
    (epochOnly) => {
      const r = window.__flatMinima.run();
      if (r.error || r.runState === 'error') return true;
      return epochOnly ? r.epochs.length >= 2 : r.runState === 'done';
    },
    firstEpoch,
    { timeout: WAIT.run },
  );
  const s = await runState(page);
  const chosen = await page.locator('#root').getAttribute('data-backend');
  const note = s.stepNote ? await page.getByTestId('step-note').textContent() : null;
  await context.close();
  return { s, chosen, note, errors };
}

test(
  'forced WebGPU (software adapter): the quick run reaches done with wasm’s first-epoch losses',
  { timeout: TEST_TIMEOUT },
  async (t) => {
    const gpu = await quickRun('webgpu');
    if (gpu.s.error && NO_ADAPTER.test(gpu.s.error)) {
      t.skip(`this Chromium offers no WebGPU adapter: ${gpu.s.error}`);
      return;
    }
    assert.equal(gpu.chosen, 'webgpu');
    assert.equal(gpu.s.error, null, gpu.s.error ?? '');
    assert.equal(gpu.s.runState, 'done');
    assert.equal(gpu.s.stepImpl, 'webgpu-fused');
    assert.equal(gpu.s.stepNote, null);
    // The window's W2 snapshots came back from the GPU in chunks, every one of them.
    assert.equal(gpu.s.results.sgd?.snapshots, 160);
    const cpu = await quickRun('wasm', true);
    assert.equal(cpu.chosen, 'wasm');
    assert.equal(cpu.s.error, null, cpu.s.error ?? '');
    // Epoch 0 is the untrained network, epoch 1 the first epoch of SGD.
    for (let e = 0; e < 2; e++) {
      const a = gpu.s.epochs[e];
      const b = cpu.s.epochs[e];
      assert.equal(a.step, b.step);
      assert.ok(
        Math.abs(a.trainLoss - b.trainLoss) <= 1e-3 * b.trainLoss,
        `epoch ${e}: webgpu ${a.trainLoss} vs wasm ${b.trainLoss}`,
      );
      assert.ok(Math.abs(a.testLoss - b.testLoss) <= 1e-3 * b.testLoss, `epoch ${e}: test loss`);
    }
    assert.deepEqual(gpu.errors, [], gpu.errors.join('\n'));
  },
);

test(
  'forced WebGPU: a device lost mid-window hands the run to wasm, which takes it to done',
  { timeout: TEST_TIMEOUT },
  async (t) => {
    const url = `${server.url}?backend=webgpu&${SHORT}`;
    const { page, context, errors } = await openPage(browser, url, server.origin);
    const hooked = await page.evaluate(() => typeof window.__flatMinima.loseGpuAt === 'function');
    if (!hooked) throw new Error('this build has no test hooks: build it with VITE_TEST_HOOKS=1');
    // Chunks of 64 steps end at epoch ends (160 steps): the first chunk to reach step 200 is the
    // one from step 224, 64 steps into the window, after the GPU sent 64 of its W2 snapshots.
    await page.evaluate(() => window.__flatMinima.loseGpuAt(200));
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    await page.waitForFunction(
      () => {
        const r = window.__flatMinima.run();
        return r.error || r.runState === 'error' || r.runState === 'done';
      },
      null,
      { timeout: WAIT.run },
    );
    const s = await runState(page);
    const note = await page.getByTestId('step-note').textContent({ timeout: WAIT.ui });
    await context.close();
    if (s.error && NO_ADAPTER.test(s.error)) {
      t.skip(`this Chromium offers no WebGPU adapter: ${s.error}`);
      return;
    }
    assert.equal(s.error, null, s.error ?? '');
    assert.equal(s.runState, 'done');
    assert.equal(s.stepImpl, 'wasm-simd');
    assert.match(s.stepNote, /^WebGPU failed at step 224 \(.+\); the run continues on wasm-simd/);
    assert.match(note, /WebGPU failed at step 224/);
    // Nothing measured was lost or measured twice: every epoch, every window snapshot.
    assert.deepEqual(
      s.epochs.map((e) => e.step),
      [0, 160, 320],
    );
    assert.equal(s.results.sgd?.snapshots, 160);
    assert.equal(s.minibatch[s.minibatch.length - 1].step, 320);
    assert.deepEqual(errors, [], errors.join('\n'));
  },
);

test(
  'both fused WGSL layouts and the task-2 kernel match the float64 step, and an ensemble equals its runs alone',
  { timeout: TEST_TIMEOUT },
  async (t) => {
    const url = `${server.url}bench.html?mode=webgpu&seconds=0`;
    const { page, context, errors } = await openPage(browser, url, server.origin);
    await page.waitForFunction(() => window.__webgpuBench !== undefined, null, {
      timeout: WAIT.run,
    });
    const r = await page.evaluate(() => window.__webgpuBench);
    await context.close();
    if (r.error && /no WebGPU adapter/.test(r.error)) {
      t.skip(r.error);
      return;
    }
    assert.equal(r.error, undefined, r.error);
    // Six steps of B = 50 in float32 against float64: rounding only, far below 1e-5.
    for (const [k, v] of Object.entries(r.check.reference))
      assert.ok(v <= 1e-5, `${k}: ${v} relative to the float64 step`);
    // Three runs with their own seeds, α and B in one dispatch: each the same as alone.
    assert.equal(r.check.ensembleVsSingle, 0);
    // The split layout (a step over many workgroups, two dispatches per step): the same
    // float64 answer over the same six minibatches, and its ensemble equals its runs alone.
    for (const [k, v] of Object.entries(r.split.check.reference))
      assert.ok(v <= 1e-5, `split ${k}: ${v} relative to the float64 step`);
    assert.equal(r.split.check.ensembleVsSingle, 0);
    // Momentum and Adam in both layouts: two runs (own B, α, μ) for two steps, their weights
    // and optimizer state read back into a new kernel for two more, against float64.
    for (const [layout, check] of [
      ['workgroup', r.check],
      ['split', r.split.check],
    ])
      for (const [kind, c] of Object.entries(check.optimizers)) {
        for (const k of ['lossRel', 'weightsRel', 'stateRel'])
          assert.ok(c[k] <= 1e-5, `${layout} ${kind} ${k}: ${c[k]} relative to the float64 step`);
        assert.ok(c.stepCountOk, `${layout} ${kind}: the step count read back`);
      }
    // A forgetting seed's task-2 runs (W2 only; none, EWC, LDC) as one ensemble: six steps
    // against float64, error counts equal to the reference's, each run bit for bit as alone;
    // and h = 200 with a batch of two tiles.
    const f = r.forgetting.check;
    for (const [k, v] of [
      ['lossRel', f.lossRel],
      ['w2Rel', f.w2Rel],
      ['h = 200 lossRel', f.wide.lossRel],
      ['h = 200 w2Rel', f.wide.w2Rel],
    ])
      assert.ok(v <= 1e-5, `task-2 ${k}: ${v} relative to float64`);
    assert.equal(f.scoreDiff, 0);
    assert.equal(f.wide.scoreDiff, 0);
    assert.equal(f.ensembleVsSingle, 0);
    // Its device destroyed under it: the kernel says so, and every call rejects with that.
    const lost = r.forgetting.lost;
    assert.match(lost.error ?? '', /WebGPU device was lost/);
    for (const msg of lost.rejections) assert.match(msg ?? 'resolved', /^FusedGpuError: .*lost/);
    assert.deepEqual(errors, [], errors.join('\n'));
  },
);

/**
 * Opens the page on `backend` (and `query`) and waits until its data and backend are there;
 * resolves with the page, or with the page's error (its context closed).
 */
async function openReady(backend, query = '') {
  const opened = await openPage(browser, `${server.url}?backend=${backend}${query}`, server.origin);
  await opened.page.waitForFunction(
    () => {
      const r = window.__flatMinima.run();
      return r.error || (r.dataset !== null && r.backend !== null);
    },
    null,
    { timeout: WAIT.load },
  );
  const s = await runState(opened.page);
  if (!s.error) return opened;
  await opened.context.close();
  return { error: s.error };
}

/**
 * Tiny runs of section 7's (B, α) grid (h = 10, one warm-up and one window epoch, five modes;
 * by default three at B = 200, 40 steps an epoch; [B, α, optimizer] for another optimizer than
 * SGD) on `backend`, started through the test hook,
 * the GPU ensemble losing its device at step `loseGpuAt` if given; resolves with the sweep and
 * the pool's word on the GPU once the sweep ends.
 */
async function tinyGrid(
  backend,
  runs = [
    [200, 0.05],
    [200, 0.1],
    [200, 0.2],
  ],
  loseGpuAt = null,
) {
  const opened = await openReady(backend);
  if (opened.error) return opened;
  const { page, context, errors } = opened;
  const started = await page.evaluate(
    ([runs, loseGpuAt]) => {
      if (typeof window.__flatMinima.startSweep !== 'function') return false;
      if (loseGpuAt !== null) window.__flatMinima.loseEnsembleGpuAt(loseGpuAt);
      const c = window.__flatMinima.config();
      const items = runs.map(([batchSize, lr, optimizer = 'sgd']) => ({
        spec: {
          kind: 'mlp',
          config: {
            ...c,
            hidden: 10,
            batchSize,
            lr,
            optimizer,
            momentum: 0.9,
            warmupEpochs: 1,
            windowEpochs: 1,
            flatnessModes: 5,
            contrast: false,
          },
        },
        label: `B ${batchSize}, α ${lr}`,
      }));
      window.__flatMinima.startSweep('hyper', items);
      return true;
    },
    [runs, loseGpuAt],
  );
  if (!started) throw new Error('this build has no test hooks: build it with VITE_TEST_HOOKS=1');
  await page.waitForFunction(
    () => ['done', 'error', 'cancelled'].includes(window.__flatMinima.universality().hyper.status),
    null,
    { timeout: WAIT.run },
  );
  const sweep = await page.evaluate(() => window.__flatMinima.universality().hyper);
  const pool = await page.evaluate(() => window.__flatMinima.pool());
  // The sweeps' ensemble probe, in a job worker of its own as an unforced sweep runs it.
  const probe =
    backend === 'webgpu' ? await page.evaluate(() => window.__flatMinima.measureEnsemble(2)) : null;
  await context.close();
  return { sweep, pool, probe, errors };
}

test(
  'forced WebGPU: a tiny (B, α) grid and a momentum run train as fused ensembles (one per optimizer) and match the wasm sweep',
  { timeout: TEST_TIMEOUT },
  async (t) => {
    // Three SGD runs share one kernel; a momentum run gets a kernel of its own.
    const runs = [
      [200, 0.05],
      [200, 0.1],
      [200, 0.2],
      [200, 0.01, 'momentum'],
    ];
    const gpu = await tinyGrid('webgpu', runs);
    if (gpu.error && NO_ADAPTER.test(gpu.error)) {
      t.skip(`this Chromium offers no WebGPU adapter: ${gpu.error}`);
      return;
    }
    assert.equal(gpu.error, undefined, gpu.error);
    assert.equal(gpu.sweep.status, 'done', gpu.sweep.message ?? '');
    assert.equal(
      gpu.pool.gpu,
      '4 runs train as 2 fused ensembles on the GPU (one kernel per optimizer: sgd, momentum)',
    );
    // The probe an unforced sweep weighs the ensemble by: a number from the software adapter
    // (which an unforced sweep never takes: ensembleChoice.test.ts).
    assert.equal(gpu.probe.error, undefined, gpu.probe.error);
    assert.equal(gpu.probe.software, true);
    assert.ok(gpu.probe.runStepsPerSec > 0, JSON.stringify(gpu.probe));
    t.diagnostic(`ensemble probe: ${JSON.stringify(gpu.probe)}`);
    const cpu = await tinyGrid('wasm', runs);
    assert.equal(cpu.sweep.status, 'done', cpu.sweep.message ?? '');
    // Where the page trains on wasm nothing changes: no ensemble.
    assert.equal(cpu.pool.gpu, null);
    for (let i = 0; i < runs.length; i++) {
      const a = gpu.sweep.plan[i];
      const b = cpu.sweep.plan[i];
      assert.equal(a.failed, null, a.failed ?? '');
      const ga = a.result.summary;
      const ca = b.result.summary;
      t.diagnostic(
        `run ${i}: ψ ${ga.psi.exponent} (GPU ensemble) vs ${ca.psi.exponent} (wasm); train error ${ga.finalTrainError} vs ${ca.finalTrainError}; training ${ga.timings.train.toFixed(1)} s vs ${ca.timings.train.toFixed(1)} s`,
      );
      // Every window step came back from the GPU: 40 snapshots of W2.
      assert.equal(ga.snapshots, 40);
      assert.equal(ga.snapshots, ca.snapshots);
      assert.equal(ga.lr, ca.lr);
      // Float32 on the GPU in other summation orders than wasm's: 80 SGD steps apart by rounding
      // only (at B = 100, 160 steps, ψ agreed to 5e-5 relative on SwiftShader, train errors
      // exactly).
      assert.ok(
        Math.abs(ga.finalTrainError - ca.finalTrainError) <= 0.002,
        `run ${i}: train error ${ga.finalTrainError} vs ${ca.finalTrainError}`,
      );
      assert.ok(
        Math.abs(ga.psi.exponent - ca.psi.exponent) <= 1e-3 * Math.abs(ca.psi.exponent),
        `run ${i}: ψ ${ga.psi.exponent} vs ${ca.psi.exponent}`,
      );
    }
    assert.deepEqual(gpu.errors, [], gpu.errors.join('\n'));
  },
);

test(
  'forced WebGPU: the GPU ensemble losing its device continues its runs not yet trained on the pool',
  { timeout: TEST_TIMEOUT },
  async (t) => {
    // B = 200 ends its window at step 80 and is handed out; the B = 100 runs are in theirs
    // (steps 80–160) when the device goes, at the chunk from step 144: they continue on the
    // pool from their window's start, the checkpoint after epoch 1 (not from step 0).
    const gpu = await tinyGrid(
      'webgpu',
      [
        [200, 0.1],
        [100, 0.1],
        [100, 0.2],
      ],
      100,
    );
    if (gpu.error && NO_ADAPTER.test(gpu.error)) {
      t.skip(`this Chromium offers no WebGPU adapter: ${gpu.error}`);
      return;
    }
    assert.equal(gpu.error, undefined, gpu.error);
    assert.equal(gpu.sweep.status, 'done', gpu.sweep.message ?? '');
    assert.match(
      gpu.pool.gpu,
      /^the GPU ensemble stopped \(the WebGPU device was lost .*\); of its 2 runs not yet trained, 2 continue on the CPU pool from their last checkpoints \(epoch 1 of 2\); the 1 already trained is kept$/,
    );
    // Every run has its result: the one the GPU made and the two the pool continued (their
    // whole windows: 80 snapshots).
    assert.deepEqual(
      gpu.sweep.plan.map((p) => [p.failed, p.result?.summary.snapshots]),
      [
        [null, 40],
        [null, 80],
        [null, 80],
      ],
    );
    assert.deepEqual(gpu.errors, [], gpu.errors.join('\n'));
  },
);

/** Section 6's smallest sweep (one seed, three task-2 runs of 40 steps), on `backend`. */
const TINY_FORGETTING =
  'ft1=0,1&ft2=2,3&fseeds=1&flambdas=3&fewc=1e4&fnc=20&fpre=1&fepochs=1&fwindow=3&fsteps=40';

async function forgettingSweep(backend, loseGpuAt = null) {
  const opened = await openReady(backend, `&${TINY_FORGETTING}`);
  if (opened.error) return opened;
  const { page, context, errors } = opened;
  if (loseGpuAt !== null) {
    const hooked = await page.evaluate(
      (n) =>
        typeof window.__flatMinima.loseEnsembleGpuAt === 'function' &&
        (window.__flatMinima.loseEnsembleGpuAt(n), true),
      loseGpuAt,
    );
    if (!hooked) throw new Error('this build has no test hooks: build it with VITE_TEST_HOOKS=1');
  }
  await page.getByTestId('forgetting-start').click();
  await page.waitForFunction(
    () => ['done', 'error', 'cancelled'].includes(window.__flatMinima.forgetting().status),
    null,
    { timeout: WAIT.run },
  );
  const f = await page.evaluate(() => window.__flatMinima.forgetting());
  const pool = await page.evaluate(() => window.__flatMinima.pool());
  await context.close();
  return { f, pool, errors };
}

test(
  'forced WebGPU: section 6’s task-2 runs train as one GPU ensemble with wasm’s numbers; a lost device sends them to the CPU',
  { timeout: TEST_TIMEOUT },
  async (t) => {
    const gpu = await forgettingSweep('webgpu');
    if (gpu.error && NO_ADAPTER.test(gpu.error)) {
      t.skip(`this Chromium offers no WebGPU adapter: ${gpu.error}`);
      return;
    }
    assert.equal(gpu.error, undefined, gpu.error);
    assert.equal(gpu.f.status, 'done', gpu.f.message ?? '');
    assert.match(
      gpu.pool.gpu,
      /^section 6's task-2 runs of seed 0 trained on the GPU ensemble \(.+\), forced by \?backend=webgpu$/,
    );
    const cpu = await forgettingSweep('wasm');
    assert.equal(cpu.f.status, 'done', cpu.f.message ?? '');
    // Task 1 trained on the CPU in both: the same modes to the last bit.
    assert.deepEqual(withoutTimes(gpu.f.task1), withoutTimes(cpu.f.task1));
    assert.deepEqual(
      gpu.f.runs.map((r) => [r.method, r.lambda, r.nc]),
      cpu.f.runs.map((r) => [r.method, r.lambda, r.nc]),
    );
    // Float32 on the GPU against tfjs on wasm, 40 steps: each test error within one example of
    // ~400 (in the unit test's float64 reference, every error count agreed).
    for (const [i, r] of gpu.f.runs.entries()) {
      const c = cpu.f.runs[i];
      for (const k of ['eps1', 'eps2', 'eps1Own', 'eps2Own', 'valEps1', 'valEps2'])
        assert.ok(
          Math.abs(r[k] - c[k]) <= 0.005,
          `${r.method} λ ${r.lambda} ${k}: ${r[k]} vs ${c[k]}`,
        );
      assert.deepEqual(
        r.curve.map((p) => p.step),
        c.curve.map((p) => p.step),
      );
    }
    assert.deepEqual(gpu.errors, [], gpu.errors.join('\n'));

    // The device lost at the ensemble's first chunk: the seed's runs train on the CPU instead,
    // wasm's numbers to the last bit, and the badge says why.
    const lost = await forgettingSweep('webgpu', 0);
    assert.equal(lost.f.status, 'done', lost.f.message ?? '');
    assert.match(
      lost.pool.gpu,
      /^section 6's task-2 runs of seed 0 trained on the CPU: the GPU ensemble failed \(.+\)$/,
    );
    assert.deepEqual(withoutTimes(lost.f.runs), withoutTimes(cpu.f.runs));
    assert.deepEqual(lost.errors, [], lost.errors.join('\n'));
  },
);
