// The command line's GPU sweeps (issue 14): `--gpu auto|off|on`, the choice of where a sweep
// trains (Dawn for Node injected as a fake: CI has neither the package nor a GPU), and the
// sweep on ensembles with the GPU kernel replaced by a CPU stand-in that steps the same SIMD
// kernel, so every summary must equal the run's own on the CPU — also when the GPU fails
// mid-ensemble and the runs not yet handed out train on the CPU instead.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseCliOptions, UsageError } from '../../src/cli/options';
import {
  chooseGpu,
  GPU_INSTALL,
  GpuUnavailableError,
  loadDawn,
  type DawnLoader,
} from '../../src/cli/gpu';
import { localCpu, poolCpu, runOnEnsembles, type GpuReport } from '../../src/cli/gpuSweep';
import { WorkerPool, type FailedJob } from '../../src/cli/pool';
import { loadEmbeddedDataset } from '../../src/engine/data/embedded';
import type { Dataset } from '../../src/engine/data/dataset';
import type { RunConfig } from '../../src/engine/experiments/config';
import type { RunSummary, SweepJobSpec } from '../../src/engine/experiments/sweeps';
import { runJob } from '../../src/engine/jobs/run';
import { SHARP_THRESHOLD_C } from '../../src/engine/landscape/effectiveDimension';
import { FusedGpuError } from '../../src/engine/nets/webgpu/fusedRuntime';
import { CpuEnsemble, ENSEMBLE_TEST_CONFIGS } from '../fixtures/cpuEnsemble';
import { useBackend } from './tfBackend';

const sweepArgs = ['--experiment', 'width-sweep'];
/** Where a developer installed Dawn for Node, the real import succeeds: those checks skip. */
const dawnInstalled = await loadDawn().then(
  () => true,
  () => false,
);

describe('--gpu', () => {
  it('defaults to auto and reads off and on', () => {
    expect(parseCliOptions(sweepArgs).gpu).toBe('auto');
    expect(parseCliOptions([...sweepArgs, '--gpu', 'off']).gpu).toBe('off');
    expect(parseCliOptions(['--experiment', 'hyper-sweep', '--gpu', 'on']).gpu).toBe('on');
  });

  it('refuses other values and combinations it cannot honour, saying why', () => {
    const refused = (args: string[]) => {
      try {
        parseCliOptions(args);
      } catch (e) {
        expect(e).toBeInstanceOf(UsageError);
        return (e as Error).message;
      }
      throw new Error(`accepted ${args.join(' ')}`);
    };
    expect(refused([...sweepArgs, '--gpu', 'yes'])).toBe(
      '--gpu must be auto, off or on, got "yes"',
    );
    expect(refused(['--experiment', 'variance-flatness', '--gpu', 'on'])).toMatch(
      /--gpu works with the sweeps/,
    );
    expect(refused([...sweepArgs, '--gpu', 'on', '--queue', 'redis://h:6379'])).toMatch(
      /--gpu on and --queue/,
    );
    expect(refused([...sweepArgs, '--gpu', 'on', '--arch', 'mlp4'])).toMatch(/784-h-h-10 network/);
  });
});

/** A Dawn for Node that offers one adapter (or none) and hands out a stand-in device. */
function fakeDawn(adapter: { description: string; fallback: boolean } | null) {
  const calls = { devices: 0 };
  const device = { destroy: () => undefined } as unknown as GPUDevice;
  const gpuAdapter = adapter && {
    info: { vendor: 'test', architecture: '', device: '', description: adapter.description },
    isFallbackAdapter: adapter.fallback,
    limits: {
      maxStorageBufferBindingSize: 2 ** 27,
      maxComputeInvocationsPerWorkgroup: 256,
      maxComputeWorkgroupSizeX: 256,
    },
    requestDevice: async () => {
      calls.devices++;
      return device;
    },
  };
  const load: DawnLoader = async () => ({
    create: () => ({ requestAdapter: async () => gpuAdapter }) as unknown as GPU,
    globals: {},
  });
  return { load, calls, device };
}

const notInstalled: DawnLoader = () =>
  Promise.reject(
    Object.assign(new Error("Cannot find package 'webgpu'"), { code: 'ERR_MODULE_NOT_FOUND' }),
  );

describe('where a sweep trains', () => {
  it('without the package: auto trains on the CPU and says how to install it', async () => {
    const c = await chooseGpu('auto', notInstalled);
    expect(c.device).toBe(null);
    expect(c.reason).toBe(
      `every run trains on the CPU: WebGPU for Node is not installed (${GPU_INSTALL})`,
    );
  });

  it.skipIf(dawnInstalled)(
    'the real import finds no webgpu package (it is no dependency): auto goes on, on stops the command',
    async () => {
      const c = await chooseGpu('auto');
      expect(c.device).toBe(null);
      expect(c.reason).toBe(
        `every run trains on the CPU: WebGPU for Node is not installed (${GPU_INSTALL})`,
      );
      // The command stops before it loads anything, with one line.
      const r = spawnSync(
        'npx',
        [
          'tsx',
          'src/cli/reproduce.ts',
          ...sweepArgs,
          '--gpu',
          'on',
          '--out',
          '/nonexistent/x.json',
        ],
        { encoding: 'utf8' },
      );
      expect(r.status).toBe(1);
      expect(r.stderr).toBe(`error: --gpu on: WebGPU for Node is not installed (${GPU_INSTALL})\n`);
    },
  );

  it('without the package: on is a one-line error naming the install command', async () => {
    const e = await chooseGpu('on', notInstalled).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(GpuUnavailableError);
    expect((e as Error).message).toBe(
      `--gpu on: WebGPU for Node is not installed (${GPU_INSTALL})`,
    );
    expect((e as Error).message).not.toContain('\n');
  });

  it('no adapter: auto trains on the CPU, on is an error', async () => {
    const { load } = fakeDawn(null);
    expect((await chooseGpu('auto', load)).reason).toMatch(/offered no WebGPU adapter/);
    await expect(chooseGpu('on', load)).rejects.toThrow(/^--gpu on: Dawn for Node offered no/);
  });

  it('a software adapter: never chosen by auto, forced by on', async () => {
    const { load, calls, device } = fakeDawn({ description: 'SwiftShader', fallback: true });
    const auto = await chooseGpu('auto', load);
    expect(auto.device).toBe(null);
    expect(auto.reason).toMatch(/only adapter is a software one .*SwiftShader.*--gpu on forces it/);
    expect(calls.devices).toBe(0);
    const on = await chooseGpu('on', load);
    expect(on.device).toBe(device);
    expect(on.software).toBe(true);
    expect(on.reason).toMatch(/software adapter .*SwiftShader, forced/);
  });

  it('a hardware adapter: auto trains on it', async () => {
    const { load, device } = fakeDawn({ description: 'NVIDIA H200', fallback: false });
    const c = await chooseGpu('auto', load);
    expect(c.device).toBe(device);
    expect(c.software).toBe(false);
    expect(c.reason).toBe('the hardware adapter test NVIDIA H200');
  });

  it('off never loads the package', async () => {
    let loaded = false;
    const c = await chooseGpu('off', async () => {
      loaded = true;
      throw new Error('not here');
    });
    expect(loaded).toBe(false);
    expect(c.reason).toBe('--gpu off: every run trains on the CPU');
  });
});

const dataPath = 'public/data/mnist-10k.bin';
// The windows end at different steps (240 and 480), so a fault at chunk 7 falls after runs 0
// and 2 ended.
const configs = ENSEMBLE_TEST_CONFIGS;
const narrow: RunConfig = { ...configs[2], hidden: 8 };
const specOf = (config: RunConfig): SweepJobSpec => ({
  kind: 'run',
  config,
  sharpC: SHARP_THRESHOLD_C,
});
const withoutTimings = (s: RunSummary) => ({ ...s, timings: null });

describe.skipIf(!existsSync(dataPath))('a sweep on ensembles (GPU kernel: a CPU stand-in)', () => {
  let data: Dataset;
  /** Each config's summary trained alone, as the CPU pool's job gives it. */
  const alone = new Map<RunConfig, RunSummary>();
  const summaryAlone = async (c: RunConfig) => {
    if (!alone.has(c)) {
      const r = await runJob(specOf(c), data);
      if (r.kind === 'forgetting') throw new Error('not a run');
      alone.set(c, r.summary);
    }
    return withoutTimings(alone.get(c)!);
  };
  beforeAll(async () => {
    await useBackend('wasm');
    data = loadEmbeddedDataset(readFileSync(dataPath));
  });

  function sweep(failAtChunk: number | 'build' | null, cpuOn: 'pool' | 'here', budget?: number) {
    const report: GpuReport = { mode: 'on', adapter: 'stand-in', runsOnGpu: 0, note: 'test' };
    const failed: FailedJob[] = [];
    const kernels: CpuEnsemble[] = [];
    const log: string[] = [];
    /** Kernels not yet disposed when each kernel was built. */
    const liveAtBuild: number[] = [];
    let live = 0;
    const build = async (specs: ConstructorParameters<typeof CpuEnsemble>[1]) => {
      if (failAtChunk === 'build') throw new FusedGpuError('the kernel could not be built');
      const k = new CpuEnsemble(data.train, specs, failAtChunk);
      liveAtBuild.push(live++);
      const dispose = k.dispose.bind(k);
      k.dispose = () => {
        live--;
        dispose();
      };
      kernels.push(k);
      return k;
    };
    const pool = cpuOn === 'pool' ? new WorkerPool(1, { idx: null }) : null;
    const run = (cs: RunConfig[]) =>
      runOnEnsembles(cs.map(specOf), {
        build,
        cpu: pool ? poolCpu(pool) : localCpu(data, (s) => log.push(s)),
        data,
        sharpC: SHARP_THRESHOLD_C,
        report,
        failed,
        log: (s) => log.push(s),
        budget,
      }).finally(() => pool?.close());
    return { run, report, failed, kernels, log, liveAtBuild };
  }

  it("one width's runs train as one ensemble, analysed on the pool: the runs' own summaries", async () => {
    const s = sweep(null, 'pool');
    const out = await s.run(configs);
    expect(s.failed).toEqual([]);
    expect(s.kernels).toHaveLength(1);
    expect(s.kernels[0].runs).toBe(3);
    expect(s.report.runsOnGpu).toBe(3);
    expect(s.report.note).toBe('test: 3 runs train as one fused ensemble on the GPU');
    for (let i = 0; i < configs.length; i++)
      expect(withoutTimings(out[i])).toEqual(await summaryAlone(configs[i]));
  });

  it('two widths train as two ensembles side by side, or one at a time where their windows exceed the budget', async () => {
    const cs = [narrow, configs[0]];
    for (const budget of [undefined, 1]) {
      const s = sweep(null, 'here', budget);
      const out = await s.run(cs);
      expect(s.kernels.map((k) => [k.hidden, k.runs]).sort()).toEqual([
        [12, 1],
        [8, 1],
      ]);
      // Side by side: the second kernel is built while the first trains.
      expect(s.liveAtBuild).toEqual(budget === undefined ? [0, 1] : [0, 0]);
      expect(s.report.runsOnGpu).toBe(2);
      expect(s.report.note).toBe(
        'test: 2 runs train as 2 fused ensembles on the GPU (one kernel per width: h 8, 12)',
      );
      for (let i = 0; i < cs.length; i++)
        expect(withoutTimings(out[i])).toEqual(await summaryAlone(cs[i]));
    }
  });

  it('a GPU fault mid-ensemble: the runs handed out are kept, the rest train on the CPU', async () => {
    const s = sweep(7, 'here');
    const out = await s.run(configs);
    expect(s.failed).toEqual([]);
    expect(s.kernels[0].chunks).toBe(7);
    expect(s.report.runsOnGpu).toBe(2);
    expect(s.report.note).toMatch(
      /the GPU ensemble of h = 12 stopped \(the WebGPU device was lost \(stand-in\)\): the 2 runs it had trained were kept, and its 1 other trained on the CPU from the start \(the same seeds, so the same runs\)$/,
    );
    expect(out).toHaveLength(3);
    for (let i = 0; i < configs.length; i++)
      expect(withoutTimings(out[i])).toEqual(await summaryAlone(configs[i]));
  });

  it('a kernel that cannot be built sends every run to the CPU; momentum gets a kernel of its own', async () => {
    const momentum: RunConfig = { ...configs[1], optimizer: 'momentum', momentum: 0.9, lr: 0.01 };
    const cs = [configs[0], momentum, narrow];
    // One ensemble at a time (a budget of 1 byte): the others start after the first failed.
    const s = sweep('build', 'here', 1);
    const out = await s.run(cs);
    expect(s.failed).toEqual([]);
    expect(s.report.runsOnGpu).toBe(0);
    expect(s.report.note).toMatch(
      /^test: 3 runs train as 3 fused ensembles on the GPU \(one kernel per width and optimizer/,
    );
    expect(s.report.note).toMatch(
      /the GPU ensemble of h = 12 stopped \(the kernel could not be built\): its 1 run trained on the CPU \(/,
    );
    expect(s.report.note).toMatch(
      /the 1 run of h = 12, momentum trained on the CPU \(the GPU had failed\)/,
    );
    expect(s.report.note).toMatch(/the 1 run of h = 8 trained on the CPU \(the GPU had failed\)$/);
    for (let i = 0; i < cs.length; i++)
      expect(withoutTimings(out[i])).toEqual(await summaryAlone(cs[i]));
  });
});
