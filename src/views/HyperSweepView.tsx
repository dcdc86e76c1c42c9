/**
 * Section 7d: ψ and γ against B/α over a small (B, α) grid, with their 95% intervals. The
 * paper's theory ties the noise to α/B; a ψ that stays positive across the grid is the inverse
 * relation holding for every setting, and how far it moves is what this plot answers.
 */
import { useMemo } from 'react';
import { scaleLinear, scaleLog } from 'd3';
import { useUniversality } from '../state/universalityStore';
import {
  CATEGORY_COLORS,
  fmtFixed,
  fmtInt,
  fmtInterval,
  linExtent,
  logExtent,
  plotBox,
  useSize,
} from './chart';
import { Axis, ChartSvg, EmptyState, FigureShell, FigureTable, Swatch } from './ChartParts';
import { exponentSign } from './theoryParts';
import { noiseTrend, noiseTrendText } from './hyperTrend';
import { hasExponent, missingFitsNote } from './fitNotes';
import './curves.css';

const SERIES = [
  {
    key: 'psi',
    label: (
      <>
        ψ: σ² ∝ F<sup>−ψ</sup>
      </>
    ),
    color: CATEGORY_COLORS[0],
    kind: 'point',
  },
  {
    key: 'gamma',
    label: (
      <>
        γ: σ²<sub>i</sub> ∝ i<sup>−γ</sup>
      </>
    ),
    color: CATEGORY_COLORS[3],
    kind: 'diamond',
  },
] as const;

export function HyperSweepView() {
  const sweep = useUniversality((s) => s.hyper);
  const runs = sweep.runs;
  const failed = useMemo(() => sweep.plan.filter((p) => p.failed), [sweep.plan]);
  const [frameRef, size] = useSize<HTMLDivElement>(0.55);
  const box = plotBox(size);
  const has = runs.length > 0;
  // Runs sharing B/α sit side by side: a small offset per α keeps their bars apart.
  const lrs = useMemo(() => [...new Set(runs.map((r) => r.lr))].sort((a, b) => a - b), [runs]);
  const offset = (lr: number, series: number) =>
    10 ** (0.018 * (lrs.indexOf(lr) - (lrs.length - 1) / 2) + 0.006 * (series - 0.5));
  const ratio = (r: { batchSize: number; lr: number }) => r.batchSize / r.lr;
  const xd = logExtent(runs.map(ratio), 1.6) ?? [100, 3000];
  const yd = linExtent(
    [
      0,
      ...runs.flatMap((r) =>
        [r.psi.exponent, ...r.psi.ci95, r.gamma.exponent, ...r.gamma.ci95].filter(Number.isFinite),
      ),
    ],
    0.08,
  ) ?? [0, 5];
  const x = scaleLog().domain(xd).range([box.x0, box.x1]);
  const y = scaleLinear().domain(yd).range([box.y1, box.y0]).nice();
  const ariaLabel = has
    ? `ψ and γ against B/α: ${runs.map((r) => `B ${r.batchSize}, α ${r.lr}: ψ ${hasExponent(r.psi) ? fmtFixed(r.psi.exponent) : 'none'}, γ ${hasExponent(r.gamma) ? fmtFixed(r.gamma.exponent) : 'none'}`).join('; ')}.`
    : 'ψ and γ against B/α: no runs yet.';
  const runLabel = (r: { batchSize: number; lr: number }) => `B ${r.batchSize}, α ${r.lr}`;
  // A run whose window was too short for a fit has no exponent: it is named with the reason
  // below the plot, and neither drawn nor counted in the ψ range.
  const byPsi = runs
    .filter((r) => hasExponent(r.psi))
    .sort((a, b) => a.psi.exponent - b.psi.exponent);
  const lo = byPsi[0];
  const hi = byPsi[byPsi.length - 1];
  // By each run's 95% interval, not its point estimate: a ψ of 2 ± 3 is not "positive".
  const signs = byPsi.map((r) => exponentSign(r.psi));
  const count = (k: (typeof signs)[number]) => signs.filter((x) => x === k).length;
  const signText =
    count('positive') === byPsi.length
      ? `ψ's 95% interval above zero in ${byPsi.length === 1 ? 'the run' : `all ${byPsi.length}`}`
      : [
          `ψ's 95% interval above zero in ${count('positive')}`,
          count('undecided') ? `including zero in ${count('undecided')}` : '',
          count('negative') ? `below zero in ${count('negative')}` : '',
        ]
          .filter(Boolean)
          .join(', ');
  const trend = noiseTrendText(noiseTrend(byPsi));
  const missing = SERIES.map((s) =>
    missingFitsNote(
      s.key,
      runs.map((r) => ({
        label: `${runLabel(r)}, ${fmtInt(r.snapshots)} snapshots`,
        fit: r[s.key],
      })),
    ),
  ).filter((t) => t !== '');
  const missingCount = (key: (typeof SERIES)[number]['key']) =>
    runs.filter((r) => !hasExponent(r[key])).length;
  const gridBs = [
    ...new Set(sweep.plan.flatMap((p) => (p.spec.kind === 'mlp' ? [p.spec.config.batchSize] : []))),
  ];
  const gridLrs = [
    ...new Set(sweep.plan.flatMap((p) => (p.spec.kind === 'mlp' ? [p.spec.config.lr] : []))),
  ];
  return (
    <FigureShell
      id="hyper-sweep"
      title="ψ and γ across batch sizes and learning rates"
      caption={
        <>
          One run per (B, α) of the grid, same network, data, seed, warm-up and window. Each point
          is a fitted exponent with its 95% interval (bars): ψ of the variance–flatness relation σ²
          ∝ F<sup>−ψ</sup> and γ of the variance spectrum σ²<sub>i</sub> ∝ i<sup>−γ</sup>. Points at
          equal B/α are drawn slightly apart. The paper reports the inverse relation (ψ &gt; 0) for
          every setting it tried.
        </>
      }
      readout={
        has
          ? (lo
              ? `ψ from ${fmtFixed(lo.psi.exponent)} (B ${lo.batchSize}, α ${lo.lr}) to ${fmtFixed(hi.psi.exponent)} (B ${hi.batchSize}, α ${hi.lr}) over ${byPsi.length} runs; ${signText}.${trend ? ` ${trend}.` : ''}`
              : 'No run has a ψ.') +
            missing.map((t) => ` ${t}`).join('') +
            (failed.length
              ? ` Failed: ${failed.map((p) => `${p.label} (${p.failed?.split(':')[0]})`).join(', ')}.`
              : '')
          : failed.length
            ? `Every run failed: ${failed.map((p) => p.label).join(', ')}.`
            : 'Run the grid to fill this figure.'
      }
      table={
        <FigureTable
          caption="ψ (95% interval) and γ for each B (rows) and α (columns)"
          header={['B', ...gridLrs.map((lr) => `α = ${lr}`)]}
          rows={gridBs.map((B) => ({
            key: String(B),
            cells: [
              B,
              ...gridLrs.map((lr) => {
                const r = runs.find((x) => x.batchSize === B && x.lr === lr);
                const f = sweep.plan.find(
                  (p) =>
                    p.failed &&
                    p.spec.kind === 'mlp' &&
                    p.spec.config.batchSize === B &&
                    p.spec.config.lr === lr,
                );
                return r
                  ? `ψ ${hasExponent(r.psi) ? `${fmtFixed(r.psi.exponent)} ${fmtInterval(r.psi.ci95)}` : 'no fit'} · γ ${hasExponent(r.gamma) ? fmtFixed(r.gamma.exponent) : 'no fit'}`
                  : f
                    ? 'failed'
                    : '—';
              }),
            ],
          }))}
        />
      }
      legend={
        <>
          {SERIES.map((s) => (
            <span className="fm-legend-item" key={s.key}>
              <Swatch color={s.color} kind={s.kind} />
              {s.label}
              {missingCount(s.key) > 0
                ? ` (none in ${missingCount(s.key)} of ${runs.length} runs: below)`
                : null}
            </span>
          ))}
          <span className="fm-legend-item">bars: 95% interval</span>
        </>
      }
      frameRef={frameRef}
      csv={
        has
          ? () => ({
              header: [
                'B',
                'lr',
                'B_over_lr',
                'psi',
                'psi_ci_lo',
                'psi_ci_hi',
                'gamma',
                'gamma_ci_lo',
                'gamma_ci_hi',
                'test_error',
              ],
              rows: runs.map((r) => [
                r.batchSize,
                r.lr,
                ratio(r),
                r.psi.exponent,
                r.psi.ci95[0],
                r.psi.ci95[1],
                r.gamma.exponent,
                r.gamma.ci95[0],
                r.gamma.ci95[1],
                r.finalTestError,
              ]),
            })
          : undefined
      }
    >
      <ChartSvg size={size} box={box} label={ariaLabel}>
        {(clip) =>
          !has ? (
            <EmptyState box={box} text="No grid runs yet" />
          ) : (
            <>
              <Axis
                scale={x}
                side="bottom"
                box={box}
                label="B/α, batch size over learning rate (log scale)"
              />
              <Axis scale={y} side="left" box={box} label="fitted exponent" />
              <g clipPath={clip}>
                <line
                  className="fm-zero-line"
                  x1={box.x0}
                  x2={box.x1}
                  y1={y(0)}
                  y2={y(0)}
                  style={{ stroke: 'var(--fm-muted-fg)', strokeDasharray: '3 3' }}
                />
                {SERIES.map((s, si) => (
                  <g key={s.key} data-series={s.key} className="fm-errbars">
                    {runs
                      .filter((r) => hasExponent(r[s.key]))
                      .map((r) => {
                        const fit = r[s.key];
                        const cx = x(ratio(r) * offset(r.lr, si));
                        const cy = y(fit.exponent);
                        const [lo, hi] = fit.ci95;
                        return (
                          <g key={`${r.batchSize}-${r.lr}`} data-b={r.batchSize} data-lr={r.lr}>
                            {Number.isFinite(lo) && Number.isFinite(hi) ? (
                              <line
                                x1={cx}
                                x2={cx}
                                y1={y(lo)}
                                y2={y(hi)}
                                style={{ stroke: s.color }}
                              />
                            ) : null}
                            {s.kind === 'point' ? (
                              <circle
                                className="fm-pt"
                                cx={cx}
                                cy={cy}
                                r={4}
                                style={{ fill: s.color }}
                              >
                                <title>{`B ${r.batchSize}, α ${r.lr} (B/α ${fmtFixed(ratio(r), 0)}): ψ = ${fmtFixed(fit.exponent)} ${fmtInterval(fit.ci95)}`}</title>
                              </circle>
                            ) : (
                              <path
                                className="fm-pt"
                                d={`M${cx},${cy - 5}L${cx + 5},${cy}L${cx},${cy + 5}L${cx - 5},${cy}Z`}
                                style={{ fill: s.color }}
                              >
                                <title>{`B ${r.batchSize}, α ${r.lr} (B/α ${fmtFixed(ratio(r), 0)}): γ = ${fmtFixed(fit.exponent)} ${fmtInterval(fit.ci95)}`}</title>
                              </path>
                            )}
                          </g>
                        );
                      })}
                  </g>
                ))}
              </g>
            </>
          )
        }
      </ChartSvg>
    </FigureShell>
  );
}
