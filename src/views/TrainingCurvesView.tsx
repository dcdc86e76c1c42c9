/**
 * Training curves, live: train/test loss (log y) and train/test error (%) per epoch, the
 * decimated minibatch loss (faint), the start of the exploration phase and the PCA windows.
 */
import { useId, useMemo, useRef, useState, type PointerEvent as ReactPointerEvent } from 'react';
import { bisector, line, scaleLinear, scaleLog } from 'd3';
import type { EpochRecord } from '../engine/experiments/training';
import { useRun } from '../state/runStore';
import {
  fmt,
  fmtInt,
  fmtPercent,
  isPos,
  logExtent,
  safeId,
  svgPointer,
  useSize,
  type Box,
  type Margin,
} from './chart';
import { Axis, EmptyState, FigureShell, Swatch } from './ChartParts';
import './curves.css';

const M: Margin = { top: 24, right: 16, bottom: 46, left: 62 };
const GAP = 14;
const TRAIN = 'var(--fm-sgd)';
const TEST = 'var(--fm-test)';

const byEpochX = bisector<{ x: number }, number>((d) => d.x).center;
const byStep = bisector<{ step: number }, number>((d) => d.step).center;

export function TrainingCurvesView({ stepsPerEpoch }: { stepsPerEpoch?: number }) {
  const epochs = useRun((s) => s.epochs);
  const minibatch = useRun((s) => s.minibatch);
  const exploration = useRun((s) => s.exploration);
  const windows = useRun((s) => s.windows);
  // The run's planned length in steps (the trainer's fraction is step / planned steps), so the
  // x axis is fixed for the whole run instead of stretching with every epoch.
  const planned = useRun((s) =>
    s.runState === 'training' && s.progress && s.progress.fraction > 0 && s.progress.step > 0
      ? Math.round(s.progress.step / s.progress.fraction)
      : 0,
  );
  const [frameRef, size] = useSize<HTMLDivElement>(0.72);
  const svgRef = useRef<SVGSVGElement>(null);
  const [hoverX, setHoverX] = useState<number | null>(null);
  const clipId = safeId(useId(), 'clip');

  const spe =
    stepsPerEpoch && stepsPerEpoch > 0
      ? stepsPerEpoch
      : epochs.length >= 2 && epochs[1].step > epochs[0].step
        ? (epochs[1].step - epochs[0].step) / (epochs[1].epoch - epochs[0].epoch || 1)
        : exploration && exploration.epoch > 0
          ? exploration.step / exploration.epoch
          : null;
  const inEpochs = spe !== null;
  const toX = (step: number) => (spe ? step / spe : step);

  const hTotal = size.height - M.top - M.bottom - GAP;
  const top: Box = {
    x0: M.left,
    x1: size.width - M.right,
    y0: M.top,
    y1: M.top + Math.round(hTotal * 0.6),
  };
  const bottom: Box = { x0: top.x0, x1: top.x1, y0: top.y1 + GAP, y1: size.height - M.bottom };
  const all: Box = { x0: top.x0, x1: top.x1, y0: top.y0, y1: bottom.y1 };

  const pts = useMemo(
    () => epochs.map((r) => ({ x: inEpochs ? r.epoch : r.step, r })),
    [epochs, inEpochs],
  );
  const lastStep = Math.max(
    epochs.length ? epochs[epochs.length - 1].step : 0,
    minibatch.length ? minibatch[minibatch.length - 1].step : 0,
  );
  const spans = windows.map((w) => ({
    run: w.run,
    x0: toX(w.startStep),
    x1: toX(w.endStep ?? lastStep),
    open: w.endStep === null,
  }));
  const xMax = Math.max(
    1,
    pts.length ? pts[pts.length - 1].x : 0,
    toX(lastStep),
    toX(planned),
    ...spans.map((s) => s.x1),
  );

  const { x, yLoss, yErr } = useMemo(() => {
    const losses: number[] = [];
    for (const p of pts) losses.push(p.r.trainLoss, p.r.testLoss);
    for (const m of minibatch) losses.push(m.loss);
    let maxErr = 0;
    for (const p of pts) maxErr = Math.max(maxErr, p.r.trainError, p.r.testError);
    return {
      x: scaleLinear().domain([0, xMax]).range([top.x0, top.x1]),
      yLoss: scaleLog()
        .domain(logExtent(losses, 1.3) ?? [0.01, 3])
        .range([top.y1, top.y0]),
      yErr: scaleLinear()
        .domain([0, Math.max(1, maxErr * 100 * 1.05)])
        .nice()
        .range([bottom.y1, bottom.y0]),
    };
  }, [pts, minibatch, xMax, top.x0, top.x1, top.y0, top.y1, bottom.y0, bottom.y1]);

  const paths = useMemo(() => {
    const mk = (f: (r: EpochRecord) => number, scale: (v: number) => number, log: boolean) =>
      line<{ x: number; r: EpochRecord }>()
        .defined((p) => (log ? isPos(f(p.r)) : Number.isFinite(f(p.r))))
        .x((p) => x(p.x))
        .y((p) => scale(log ? f(p.r) : f(p.r) * 100))(pts) ?? '';
    const mb =
      line<{ step: number; loss: number }>()
        .defined((m) => isPos(m.loss))
        .x((m) => x(spe ? m.step / spe : m.step))
        .y((m) => yLoss(m.loss))(minibatch) ?? '';
    return {
      trainLoss: mk((r) => r.trainLoss, yLoss, true),
      testLoss: mk((r) => r.testLoss, yLoss, true),
      trainErr: mk((r) => r.trainError, yErr, false),
      testErr: mk((r) => r.testError, yErr, false),
      minibatch: mb,
    };
  }, [pts, minibatch, x, yLoss, yErr, spe]);

  const has = epochs.length > 0 || minibatch.length > 0;
  const onMove = (e: ReactPointerEvent<SVGRectElement>) => {
    const p = svgPointer(e, svgRef.current);
    setHoverX(p ? x.invert(p[0]) : null);
  };
  const hi = hoverX !== null && pts.length ? pts[byEpochX(pts, hoverX)] : undefined;
  const mbHover =
    hoverX !== null && minibatch.length
      ? minibatch[byStep(minibatch, spe ? hoverX * spe : hoverX)]
      : undefined;

  const last = epochs.length ? epochs[epochs.length - 1] : undefined;
  const readout = hi
    ? `Epoch ${hi.r.epoch} (step ${fmtInt(hi.r.step)}): train loss ${fmt(hi.r.trainLoss)}, test loss ${fmt(hi.r.testLoss)}; train error ${fmtPercent(hi.r.trainError, 2)}, test error ${fmtPercent(hi.r.testError, 2)}${mbHover ? `; minibatch loss ${fmt(mbHover.loss)} at step ${fmtInt(mbHover.step)}` : ''}`
    : 'Hover the plot to read the losses and errors of an epoch.';
  const explorationText = exploration
    ? ` The exploration phase starts at epoch ${exploration.epoch} (${exploration.reason}).`
    : '';
  const caption = last ? (
    <>
      Loss (log scale) and error of the network per epoch, train and test, with the noisy minibatch
      loss behind. Latest, epoch {last.epoch}: train error {fmtPercent(last.trainError, 2)}, test
      error {fmtPercent(last.testError, 2)}, train loss {fmt(last.trainLoss)}.{explorationText}
      {windows.length ? ' Shaded: the PCA window(s).' : ''}
    </>
  ) : (
    <>
      Loss (log scale) and error of the network per epoch, train and test, with the noisy minibatch
      loss behind; the latest errors appear after the first epoch.
    </>
  );
  const ariaLabel = last
    ? `Training curves: epoch ${last.epoch}, train error ${fmtPercent(last.trainError, 2)}, test error ${fmtPercent(last.testError, 2)}, train loss ${fmt(last.trainLoss)}.${explorationText}`
    : 'Training curves: waiting for the first epoch.';
  const xExpl = exploration ? x(toX(exploration.step)) : NaN;

  return (
    <FigureShell
      id="training"
      title="Training"
      csv={
        has
          ? () => ({
              header: [
                'series',
                'epoch',
                'step',
                'train_loss',
                'test_loss',
                'train_error_fraction',
                'test_error_fraction',
                'minibatch_loss',
              ],
              rows: [
                ...epochs.map((r) => [
                  'epoch',
                  r.epoch,
                  r.step,
                  r.trainLoss,
                  r.testLoss,
                  r.trainError,
                  r.testError,
                  null,
                ]),
                ...minibatch.map((m) => [
                  'minibatch',
                  spe ? m.step / spe : null,
                  m.step,
                  null,
                  null,
                  null,
                  null,
                  m.loss,
                ]),
              ],
            })
          : undefined
      }
      caption={caption}
      readout={readout}
      frameRef={frameRef}
      legend={
        <>
          <span className="fm-legend-item">
            <Swatch color={TRAIN} kind="line" /> train
          </span>
          <span className="fm-legend-item">
            <Swatch color={TEST} kind="line" /> test
          </span>
          <span className="fm-legend-item fm-faint-swatch">
            <Swatch color={TRAIN} kind="line" /> minibatch loss
          </span>
          <span className="fm-legend-item">
            <span className="fm-window-swatch" aria-hidden="true" /> PCA window
          </span>
        </>
      }
    >
      <svg
        ref={svgRef}
        className="fm-svg"
        width={size.width}
        height={size.height}
        viewBox={`0 0 ${size.width} ${size.height}`}
        role="img"
        aria-label={ariaLabel}
      >
        <defs>
          <clipPath id={clipId}>
            <rect
              x={all.x0}
              y={all.y0 - 20}
              width={all.x1 - all.x0}
              height={all.y1 - all.y0 + 20}
            />
          </clipPath>
        </defs>
        {!has ? (
          <EmptyState box={all} text="Waiting for the first epoch…" />
        ) : (
          <>
            <Axis scale={x} side="bottom" box={top} label="" format={() => ''} />
            <Axis scale={yLoss} side="left" box={top} label="loss (log scale)" spacing={40} />
            <Axis
              scale={x}
              side="bottom"
              box={bottom}
              label={inEpochs ? 'epoch' : 'minibatch step'}
            />
            <Axis scale={yErr} side="left" box={bottom} label="error (%)" spacing={30} />
            <g clipPath={`url(#${clipId})`} pointerEvents="none">
              {spans.map((s, k) => {
                const a = x(s.x0);
                const b = x(s.x1);
                return (
                  <g key={k} className={`fm-window fm-window-${s.run}`}>
                    <rect x={a} y={all.y0} width={Math.max(1, b - a)} height={all.y1 - all.y0} />
                    <text className="fm-annot" x={a + 4} y={top.y1 - 6}>
                      {s.run === 'sgd' ? 'PCA window' : 'Langevin window'}
                      {s.open ? '…' : ''}
                    </text>
                  </g>
                );
              })}
              <path className="fm-minibatch" d={paths.minibatch} style={{ stroke: TRAIN }} />
              <path className="fm-curve" d={paths.trainLoss} style={{ stroke: TRAIN }} />
              <path className="fm-curve" d={paths.testLoss} style={{ stroke: TEST }} />
              <path className="fm-curve" d={paths.trainErr} style={{ stroke: TRAIN }} />
              <path className="fm-curve" d={paths.testErr} style={{ stroke: TEST }} />
              {Number.isFinite(xExpl) ? (
                <g className="fm-exploration">
                  <line x1={xExpl} x2={xExpl} y1={all.y0 - 4} y2={all.y1} />
                  {/* Past the middle (a narrow plot) the label reads leftwards, inside the plot. */}
                  {xExpl > (all.x0 + all.x1) / 2 ? (
                    <text className="fm-annot" x={xExpl - 4} y={all.y0 - 8} textAnchor="end">
                      exploration phase →
                    </text>
                  ) : (
                    <text className="fm-annot" x={xExpl + 4} y={all.y0 - 8}>
                      exploration phase →
                    </text>
                  )}
                </g>
              ) : null}
              {hi ? (
                <g className="fm-guide">
                  <line x1={x(hi.x)} x2={x(hi.x)} y1={all.y0} y2={all.y1} />
                  {isPos(hi.r.trainLoss) ? (
                    <circle cx={x(hi.x)} cy={yLoss(hi.r.trainLoss)} r={4} style={{ fill: TRAIN }} />
                  ) : null}
                  {isPos(hi.r.testLoss) ? (
                    <circle cx={x(hi.x)} cy={yLoss(hi.r.testLoss)} r={4} style={{ fill: TEST }} />
                  ) : null}
                  <circle
                    cx={x(hi.x)}
                    cy={yErr(hi.r.trainError * 100)}
                    r={4}
                    style={{ fill: TRAIN }}
                  />
                  <circle
                    cx={x(hi.x)}
                    cy={yErr(hi.r.testError * 100)}
                    r={4}
                    style={{ fill: TEST }}
                  />
                </g>
              ) : null}
            </g>
            <rect
              className="fm-overlay"
              x={all.x0}
              y={all.y0}
              width={all.x1 - all.x0}
              height={all.y1 - all.y0}
              onPointerMove={onMove}
              onPointerLeave={() => setHoverX(null)}
            />
          </>
        )}
      </svg>
    </FigureShell>
  );
}
