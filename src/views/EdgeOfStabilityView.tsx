/**
 * The edge of stability (issue 16; Cohen et al. 2021): the largest Hessian eigenvalue λ_max of W2
 * along training — SGD at the run's checkpoints, and full-batch gradient descent on W2 from the
 * first checkpoint after epoch 1 — against GD's stability limit 2/α (dashed).
 */
import { useMemo, useRef } from 'react';
import { line, scaleLinear, scaleLog } from 'd3';
import { useRun } from '../state/runStore';
import {
  RUN_COLOR,
  WAITING_PCA,
  fmt,
  fmtFixed,
  linExtent,
  logExtent,
  plotBox,
  useSize,
} from './chart';
import { Axis, ChartSvg, EmptyState, FigureShell, Swatch } from './ChartParts';

const GD_COLOR = 'var(--fm-accent, #d95f02)';

export function EdgeOfStabilityView() {
  const edge = useRun((s) => s.results.sgd?.curvature?.edgeOfStability ?? null);
  const [frameRef, size] = useSize<HTMLDivElement>(0.62);
  const svgRef = useRef<SVGSVGElement>(null);
  const box = plotBox(size);

  // One axis of steps: SGD minibatch steps since initialisation; GD steps after its warm start.
  const sgd = useMemo(
    () => (edge?.sgd ?? []).map((p) => ({ x: p.step, y: p.lambdaMax, epoch: p.epoch })),
    [edge],
  );
  const gd = useMemo(
    () =>
      (edge?.gd ?? []).map((p) => ({ x: (edge?.warmStart.step ?? 0) + p.step, y: p.lambdaMax })),
    [edge],
  );
  const has = sgd.length + gd.length > 0 && edge !== null;
  const scales = useMemo(() => {
    const xs = [...sgd, ...gd].map((p) => p.x).filter((v) => v > 0);
    const xe = logExtent(xs, 1.3) ?? [1, 1e4];
    const ye = linExtent(
      [0, ...sgd.map((p) => p.y), ...gd.map((p) => p.y), edge?.twoOverLr ?? 1],
      0.08,
    ) ?? [0, 1];
    return {
      x: scaleLog().domain(xe).range([box.x0, box.x1]),
      y: scaleLinear().domain([0, ye[1]]).range([box.y1, box.y0]).nice(),
    };
  }, [sgd, gd, edge, box.x0, box.x1, box.y0, box.y1]);
  const { x, y } = scales;
  const path = (pts: { x: number; y: number }[]) =>
    line<{ x: number; y: number }>()
      .defined((p) => Number.isFinite(p.x) && Number.isFinite(p.y))
      .x((p) => x(Math.max(p.x, x.domain()[0])))
      .y((p) => y(p.y))(pts) ?? '';

  const sgdMax = sgd.reduce((m, p) => Math.max(m, p.y), 0);
  const gdMax = gd.reduce((m, p) => Math.max(m, p.y), 0);
  const gdLast = gd[gd.length - 1];
  const gdSteps = edge?.gd[edge.gd.length - 1]?.step ?? 0;
  const caption = edge ? (
    <>
      The sharpness λ<sub>max</sub> of W2 (the top Hessian eigenvalue, {edge.lanczosIterations}{' '}
      Lanczos steps) along training, against 2/α = {fmt(edge.twoOverLr)}, where plain gradient
      descent turns unstable. SGD at {sgd.length} checkpoints: λ<sub>max</sub> at most{' '}
      <strong data-testid="edge-sgd" data-value={sgdMax}>
        {fmt(sgdMax)}
      </strong>{' '}
      ({fmtFixed((100 * sgdMax) / edge.twoOverLr, 0)}% of 2/α). Full-batch GD on W2 (W1 and W3
      fixed) from the checkpoint of epoch {edge.warmStart.epoch}, same α, {gdSteps} steps: λ
      <sub>max</sub> from {fmt(gd[0]?.y ?? NaN)} to {fmt(gdLast?.y ?? NaN)}, at most{' '}
      <strong data-testid="edge-gd" data-value={gdMax}>
        {fmt(gdMax)}
      </strong>{' '}
      ({fmtFixed((100 * gdMax) / edge.twoOverLr, 0)}% of 2/α)
      {gdMax >= 0.9 * edge.twoOverLr
        ? ': GD sharpens up to the edge of stability.'
        : gdMax > (gd[0]?.y ?? Infinity) * 1.2
          ? ': GD sharpens, but has not reached the edge within these steps.'
          : ': within these steps GD does not sharpen towards the edge.'}
    </>
  ) : (
    <>
      The sharpness λ<sub>max</sub> along training for SGD and for full-batch GD, against 2/α; it
      appears after the SGD window&rsquo;s curvature (it needs the run&rsquo;s checkpoints).
    </>
  );

  return (
    <FigureShell
      id="edge-of-stability"
      title="Sharpness along training: the edge of stability"
      csv={
        edge
          ? () => ({
              header: ['dynamics', 'epoch', 'step', 'lambda_max', 'loss', 'two_over_lr'],
              rows: [
                ...edge.sgd.map((p) => [
                  'sgd',
                  p.epoch,
                  p.step,
                  p.lambdaMax,
                  p.loss,
                  edge.twoOverLr,
                ]),
                ...edge.gd.map((p) => [
                  'gd',
                  edge.warmStart.epoch,
                  edge.warmStart.step + p.step,
                  p.lambdaMax,
                  p.loss,
                  edge.twoOverLr,
                ]),
              ],
            })
          : undefined
      }
      caption={caption}
      readout={
        has ? `2/α = ${fmt(edge.twoOverLr)}; SGD λmax ${sgd.map((p) => fmt(p.y)).join(', ')}` : ''
      }
      frameRef={frameRef}
      legend={
        <>
          <span className="fm-legend-item">
            <Swatch color={RUN_COLOR.sgd} kind="point" /> SGD (checkpoints)
          </span>
          <span className="fm-legend-item">
            <Swatch color={GD_COLOR} kind="point" /> full-batch GD on W2
          </span>
          <span className="fm-legend-item">
            <Swatch color="var(--fm-fg)" kind="dash" /> 2/α
          </span>
        </>
      }
    >
      <ChartSvg
        size={size}
        box={box}
        svgRef={svgRef}
        label={
          edge
            ? `Sharpness along training: SGD at most ${fmt(sgdMax)}, GD at most ${fmt(gdMax)}, against 2/α = ${fmt(edge.twoOverLr)}.`
            : 'Sharpness along training: waiting for the analysis.'
        }
      >
        {(clip) =>
          !has ? (
            <EmptyState box={box} text={WAITING_PCA} />
          ) : (
            <>
              <Axis
                scale={x}
                side="bottom"
                box={box}
                label="training step (log; GD: warm start + full-batch steps)"
              />
              <Axis scale={y} side="left" box={box} label="λmax of the W2 Hessian" />
              <g clipPath={clip}>
                <line
                  className="fm-reference"
                  x1={box.x0}
                  x2={box.x1}
                  y1={y(edge.twoOverLr)}
                  y2={y(edge.twoOverLr)}
                  style={{ stroke: 'var(--fm-fg)', strokeDasharray: '4 3' }}
                />
                <path className="fm-curve" d={path(sgd)} style={{ stroke: RUN_COLOR.sgd }} />
                <path className="fm-curve" d={path(gd)} style={{ stroke: GD_COLOR }} />
                {sgd.map((p) => (
                  <circle
                    key={`s${p.x}`}
                    cx={x(Math.max(p.x, x.domain()[0]))}
                    cy={y(p.y)}
                    r={3.5}
                    style={{ fill: RUN_COLOR.sgd }}
                  >
                    <title>{`SGD epoch ${p.epoch}: λmax ${fmt(p.y)}`}</title>
                  </circle>
                ))}
                {gd.map((p) => (
                  <circle
                    key={`g${p.x}`}
                    cx={x(p.x)}
                    cy={y(p.y)}
                    r={2.5}
                    style={{ fill: GD_COLOR }}
                  >
                    <title>{`GD step ${p.x - (edge.warmStart.step ?? 0)}: λmax ${fmt(p.y)}`}</title>
                  </circle>
                ))}
              </g>
            </>
          )
        }
      </ChartSvg>
    </FigureShell>
  );
}
