/**
 * Section 7b (Fig. 6a, b): for each hidden width of the sweep, the rank-ordered flatness
 * spectrum (sharpest first, interpolated between the measured modes, with that width's D_s
 * threshold dashed) or the PCA variance spectrum. The spectra are what D_s and D_L count.
 */
import { useMemo, useState } from 'react';
import { line, scaleLog } from 'd3';
import { sharpAt, useUniversality } from '../state/universalityStore';
import { SHARP_SCALE_LABEL } from './SharpThresholdControl';
import { CATEGORY_COLORS, fmtInt, isPos, logExtent, plotBox, useSize } from './chart';
import { Axis, ChartSvg, EmptyState, FigureShell, Swatch } from './ChartParts';
import './profiles.css';

type Spectrum = 'flatness' | 'variance';

/** At most this many points per curve: the variance spectrum has one per snapshot. */
const MAX_POINTS = 300;

function thin(points: [number, number][]): [number, number][] {
  if (points.length <= MAX_POINTS) return points;
  // Log-spaced picks keep the low ranks, where the spectra bend.
  const out: [number, number][] = [];
  const n = points.length;
  let last = -1;
  for (let k = 0; k < MAX_POINTS; k++) {
    const i = Math.min(n - 1, Math.round(Math.exp((Math.log(n) * k) / (MAX_POINTS - 1))) - 1);
    if (i > last) out.push(points[(last = i)]);
  }
  return out;
}

export function WidthSpectraView() {
  const runs = useUniversality((s) => s.widths.runs);
  const sharp = useUniversality((s) => s.sharp);
  const [spectrum, setSpectrum] = useState<Spectrum>('flatness');
  const [frameRef, size] = useSize<HTMLDivElement>(0.55);
  const box = plotBox(size);
  const sorted = useMemo(() => [...runs].sort((a, b) => a.hidden - b.hidden), [runs]);
  const curves = useMemo(
    () =>
      sorted.map((r) =>
        thin(
          spectrum === 'flatness'
            ? Array.from(r.flatnessSpectrum, (f, j) => [j + 1, f] as [number, number])
            : r.variance.map((v, i) => [i + 1, v] as [number, number]),
        ).filter(([, v]) => isPos(v)),
      ),
    [sorted, spectrum],
  );
  const has = curves.some((c) => c.length > 0);
  const ds = useMemo(() => sorted.map((r) => sharpAt(r, sharp)), [sorted, sharp]);
  const values = curves.flat().map(([, v]) => v);
  if (spectrum === 'flatness') values.push(...ds.map((d) => d.threshold));
  const xd = logExtent(
    curves.flat().map(([i]) => i),
    1.1,
  ) ?? [1, 100];
  const yd = logExtent(values) ?? [0.01, 10];
  const x = scaleLog().domain(xd).range([box.x0, box.x1]);
  const y = scaleLog().domain(yd).range([box.y1, box.y0]);
  const path = line<[number, number]>()
    .x(([i]) => x(i))
    .y(([, v]) => y(v));
  const what = spectrum === 'flatness' ? 'flatness' : 'variance';
  return (
    <FigureShell
      id="width-spectra"
      title={`The ${what} spectrum at each width`}
      caption={
        spectrum === 'flatness' ? (
          <>
            Each width&rsquo;s flatness values F sorted from sharpest to flattest (interpolated over
            rank between the measured modes, mode 2 on). The dashed line in the same colour is that
            width&rsquo;s threshold F<sub>c</sub> ({SHARP_SCALE_LABEL[sharp.scale]}, c = {sharp.c},
            as set for the D_s figure); D_s counts the directions below it.
          </>
        ) : (
          <>
            Each width&rsquo;s PCA variances σ²<sub>i</sub> by rank i. D_L counts the modes from
            mode 2 holding 90% or 95% of the variance beyond the drift mode.
          </>
        )
      }
      controls={
        <span className="fm-radio" role="radiogroup" aria-label="spectrum">
          {(['flatness', 'variance'] as const).map((s) => (
            <label key={s} className="fm-check">
              <input
                type="radio"
                name="width-spectrum"
                value={s}
                checked={spectrum === s}
                onChange={() => setSpectrum(s)}
              />{' '}
              {s === 'flatness' ? 'flatness F' : 'variance σ²'}
            </label>
          ))}
        </span>
      }
      readout={
        has
          ? sorted
              .map((r, i) =>
                spectrum === 'flatness'
                  ? `h ${r.hidden}: ${r.flatnessSpectrum.length} directions, D_s ${ds[i].Ds} below ${ds[i].threshold.toPrecision(3)}`
                  : `h ${r.hidden}: ${fmtInt(r.variance.length)} modes, D_L90 ${r.dims.DL90}`,
              )
              .join(' · ')
          : 'Run the width sweep to fill this figure.'
      }
      legend={
        has ? (
          <>
            {sorted.map((r, i) => (
              <span className="fm-legend-item" key={r.hidden} data-hidden={r.hidden}>
                <Swatch color={CATEGORY_COLORS[i % CATEGORY_COLORS.length]} kind="line" />h ={' '}
                {r.hidden} ({fmtInt(r.dim)} weights in W2)
              </span>
            ))}
          </>
        ) : null
      }
      frameRef={frameRef}
      csv={
        has
          ? () => ({
              header: [
                'hidden',
                'order',
                spectrum === 'flatness' ? 'flatness_F' : 'variance_sigma2',
              ],
              rows: sorted.flatMap((r) =>
                (spectrum === 'flatness' ? Array.from(r.flatnessSpectrum) : r.variance).map(
                  (v, i) => [r.hidden, i + 1, v],
                ),
              ),
            })
          : undefined
      }
    >
      <ChartSvg
        size={size}
        box={box}
        label={
          has
            ? `${what} spectra for widths ${sorted.map((r) => r.hidden).join(', ')}`
            : `${what} spectra: no widths run yet`
        }
      >
        {(clip) =>
          !has ? (
            <EmptyState box={box} text="No widths run yet" />
          ) : (
            <>
              <Axis
                scale={x}
                side="bottom"
                box={box}
                label={
                  spectrum === 'flatness'
                    ? 'order j, sharpest first (log scale)'
                    : 'PCA rank i (log scale)'
                }
              />
              <Axis
                scale={y}
                side="left"
                box={box}
                label={
                  spectrum === 'flatness' ? 'flatness F (log scale)' : 'variance σ² (log scale)'
                }
              />
              <g clipPath={clip}>
                {sorted.map((r, i) => {
                  const color = CATEGORY_COLORS[i % CATEGORY_COLORS.length];
                  return (
                    <g key={r.hidden} data-hidden={r.hidden}>
                      <path
                        className="fm-curve"
                        d={path(curves[i]) ?? ''}
                        style={{ stroke: color }}
                      />
                      {spectrum === 'flatness' && isPos(ds[i].threshold) ? (
                        <line
                          className="fm-threshold"
                          x1={box.x0}
                          x2={box.x1}
                          y1={y(ds[i].threshold)}
                          y2={y(ds[i].threshold)}
                          style={{ stroke: color, strokeDasharray: '4 3', strokeWidth: 1.2 }}
                        />
                      ) : null}
                    </g>
                  );
                })}
              </g>
            </>
          )
        }
      </ChartSvg>
    </FigureShell>
  );
}
