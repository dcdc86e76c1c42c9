/**
 * Noise shaping (SI §S9): training and test error of SGD, GD, GD + isotropic noise and GD +
 * flatness-detecting noise against the gradient budget (epochs of example gradients), the mean
 * over the seeds shown; the table gives each method's final test error, the median flatness
 * along its solution's sharpest directions, when it entered the exploration phase, and its noise.
 */
import { use, useMemo } from 'react';
import { line, scaleLinear } from 'd3';
import {
  NOISE_METHODS,
  loadPrecomputedNoiseShaping,
  methodLabel,
  noiseShapingSummary,
  useNoiseShaping,
  type NoiseMethod,
  type NoiseShapingRun,
} from '../state/noiseShapingStore';
import { CATEGORY_COLORS, fmt, fmtFixed, plotBox, useSize } from './chart';
import { Axis, ChartSvg, EmptyState, FigureShell, FigureTable, Swatch } from './ChartParts';

const COLOR: Record<NoiseMethod, string> = {
  sgd: CATEGORY_COLORS[0],
  gd: CATEGORY_COLORS[1],
  'gd-isotropic': CATEGORY_COLORS[2],
  'gd-flatness': CATEGORY_COLORS[3],
};

/** Mean over runs (which share the epoch grid) of one error series. */
function meanCurve(runs: NoiseShapingRun[], key: 'trainError' | 'testError'): [number, number][] {
  if (!runs.length) return [];
  const n = Math.min(...runs.map((r) => r.epochs.length));
  return Array.from({ length: n }, (_, i) => [
    runs[0].epochs[i],
    runs.reduce((a, r) => a + r[key][i], 0) / runs.length,
  ]);
}

const pct = (x: number) => `${fmtFixed(100 * x, 1)}%`;
const pm = (m: number, sd: number, f: (x: number) => string) =>
  Number.isFinite(sd) ? `${f(m)} ± ${f(sd)}` : f(m);

export function NoiseShapingView() {
  // Until the bundled runs are in, the figure waits in its Suspense (an embed measures it drawn).
  use(loadPrecomputedNoiseShaping());
  const runs = useNoiseShaping((s) => s.runs);
  const source = useNoiseShaping((s) => s.source);
  const seeds = useNoiseShaping((s) => s.seeds);
  const [frameRef, size] = useSize<HTMLDivElement>(0.55);
  const box = plotBox(size);
  const byMethod = useMemo(
    () => NOISE_METHODS.map((m) => ({ m, rs: runs.filter((r) => r.method === m) })),
    [runs],
  );
  const curves = useMemo(
    () =>
      byMethod.map(({ m, rs }) => ({
        m,
        test: meanCurve(rs, 'testError'),
        train: meanCurve(rs, 'trainError'),
      })),
    [byMethod],
  );
  const { summary } = useMemo(() => noiseShapingSummary(runs), [runs]);
  const maxEpoch = Math.max(1, ...runs.map((r) => r.epochs[r.epochs.length - 1] ?? 0));
  // The first epochs (~90% error) would flatten everything after them: the axis starts at the
  // highest error reached after the first twentieth of the budget.
  const later = curves.flatMap((c) =>
    [...c.test, ...c.train].filter(([e]) => e >= maxEpoch / 20).map(([, v]) => v),
  );
  const yMax = Math.min(1, Math.max(0.05, ...later) * 1.1);
  const x = scaleLinear().domain([0, maxEpoch]).range([box.x0, box.x1]);
  const y = scaleLinear().domain([0, yMax]).range([box.y1, box.y0]);
  const path = line<[number, number]>()
    .x(([e]) => x(e))
    .y(([, v]) => y(v));
  const nSeeds = new Set(runs.map((r) => r.seed)).size;
  const has = runs.length > 0;
  return (
    <FigureShell
      id="noise-shaping"
      title="Training with four kinds of noise from the same start"
      caption={
        <>
          Test error (solid) and training error (dashed) against the gradient budget: one epoch is N
          example gradients, so SGD takes N/B steps per epoch and each gradient-descent method one
          full-batch step.{' '}
          {has
            ? `Mean over ${nSeeds} seed${nSeeds === 1 ? '' : 's'} (${seeds.join(', ')}), ${source === 'precomputed' ? 'precomputed with the command line' : 'run on this page'}.`
            : ''}{' '}
          The y axis is cut at {pct(yMax)}; every run starts near 90%.
        </>
      }
      readout={
        has
          ? `Final test error: ${NOISE_METHODS.filter((m) => summary[m].finalTestError.n > 0)
              .map((m) => `${methodLabel(m)} ${pct(summary[m].finalTestError.mean)}`)
              .join(', ')}.`
          : 'Run the comparison to fill this figure.'
      }
      frameRef={frameRef}
      legend={
        <>
          {NOISE_METHODS.map((m) => (
            <span key={m} className="fm-legend-item">
              <Swatch color={COLOR[m]} kind="line" /> {methodLabel(m)}
            </span>
          ))}
          <span className="fm-legend-item">
            <Swatch color="currentColor" kind="dash" /> training error
          </span>
        </>
      }
      table={
        <FigureTable
          caption="Per method, mean ± sd over seeds: final errors, flatness and curvature of the solution, exploration, noise"
          header={[
            'method',
            'test error',
            'median F, top modes',
            'λ₁ (Hessian)',
            'exploration from epoch',
            'steps',
            'noise power / step',
          ]}
          rows={byMethod
            .filter(({ rs }) => rs.length > 0)
            .map(({ m, rs }) => {
              const s = summary[m];
              const lam = rs.map((r) => r.topCurvature[0]);
              const starts = rs.map((r) => r.explorationStartEpoch);
              return {
                key: m,
                cells: [
                  methodLabel(m),
                  pm(s.finalTestError.mean, s.finalTestError.sd, pct),
                  pm(s.medianTopFlatness.mean, s.medianTopFlatness.sd, (v) => fmtFixed(v, 3)),
                  fmt(lam.reduce((a, b) => a + b, 0) / lam.length),
                  starts.map((e) => (e === null ? 'never' : e)).join(', '),
                  rs[0].steps.toLocaleString('en'),
                  rs[0].noisePower > 0 ? fmt(rs[0].noisePower) : '0',
                ],
              };
            })}
        />
      }
      csv={() => ({
        header: ['method', 'seed', 'epoch', 'train_error', 'test_error'],
        rows: runs.flatMap((r) =>
          r.epochs.map((e, i) => [r.method, r.seed, e, r.trainError[i], r.testError[i]]),
        ),
      })}
    >
      <ChartSvg
        size={size}
        box={box}
        label={`Training and test error against the gradient budget. ${
          has
            ? `Final test error: ${NOISE_METHODS.filter((m) => summary[m].finalTestError.n > 0)
                .map((m) => `${methodLabel(m)} ${pct(summary[m].finalTestError.mean)}`)
                .join(', ')}.`
            : 'No runs yet.'
        }`}
      >
        {(clip) =>
          has ? (
            <>
              <Axis
                scale={x}
                side="bottom"
                box={box}
                label="gradient budget (epochs of N examples)"
              />
              <Axis
                scale={y}
                side="left"
                box={box}
                label="error (%)"
                format={(d) => fmt(100 * Number(d))}
              />
              <g clipPath={clip}>
                {curves.map((c) => (
                  <g key={c.m}>
                    <path
                      d={path(c.test) ?? ''}
                      fill="none"
                      style={{ stroke: COLOR[c.m], strokeWidth: 2 }}
                    />
                    <path
                      d={path(c.train) ?? ''}
                      fill="none"
                      style={{ stroke: COLOR[c.m], strokeWidth: 1.5, strokeDasharray: '3 3' }}
                    />
                  </g>
                ))}
              </g>
            </>
          ) : (
            <EmptyState box={box} text="No runs yet" />
          )
        }
      </ChartSvg>
    </FigureShell>
  );
}
