/**
 * The two tasks' digits: a few training images of each digit group, from the bytes the trainer
 * worker sends ('forgettingSamples': the data set lives in the worker). Each group is drawn on a
 * <canvas> and shown as an image inside the figure's SVG, so the SVG and PNG exports carry it.
 */
import { useMemo } from 'react';
import { useForgetting } from '../state/forgettingStore';
import type { TaskSamples } from '../protocol/messages';
import { useSize, type Box } from './chart';
import { EmptyState, FigureShell } from './ChartParts';
import './forgetting.css';

const SIDE = 28;
const GAP = 2;
export const SAMPLES_PER_TASK = 8;
/** One strip of SAMPLES_PER_TASK digits, in image pixels. */
const STRIP = SAMPLES_PER_TASK * SIDE + (SAMPLES_PER_TASK - 1) * GAP;
/** The figure in image pixels: two strips side by side with their labels above. */
const LABEL = 14;
const BETWEEN = 16;
const VIEW = { width: 2 * STRIP + BETWEEN, height: LABEL + SIDE + 2 };

/** A PNG data URL of a group's images, dark ink on white, drawn on a canvas. */
function stripImage(g: TaskSamples): string | null {
  if (typeof document === 'undefined' || g.count === 0) return null;
  const c = document.createElement('canvas');
  c.width = STRIP;
  c.height = SIDE;
  const ctx = c.getContext('2d');
  if (!ctx) return null;
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, c.width, c.height);
  const img = ctx.createImageData(SIDE, SIDE);
  for (let k = 0; k < Math.min(SAMPLES_PER_TASK, g.count); k++) {
    for (let p = 0; p < SIDE * SIDE; p++) {
      const v = 255 - g.images[k * SIDE * SIDE + p];
      img.data[4 * p] = v;
      img.data[4 * p + 1] = v;
      img.data[4 * p + 2] = v;
      img.data[4 * p + 3] = 255;
    }
    ctx.putImageData(img, k * (SIDE + GAP), 0);
  }
  return c.toDataURL('image/png');
}

export function TaskDigitsView() {
  const samples = useForgetting((s) => s.samples);
  const [frameRef, size] = useSize<HTMLDivElement>(VIEW.height / VIEW.width);
  const urls = useMemo(() => (samples ?? []).slice(0, 2).map(stripImage), [samples]);
  const has = urls.length === 2 && urls.every((u) => u !== null);
  const k = size.width / VIEW.width;
  const name = (t: TaskSamples | undefined, i: number) =>
    `Task ${i}${t && t.digits.length ? `: digits ${t.digits.join(', ')}` : ''}`;
  const box: Box = { x0: 0, x1: size.width, y0: 0, y1: size.height };
  const ariaLabel = has
    ? `${name(samples?.[0], 1)} and ${name(samples?.[1], 2)}: ${SAMPLES_PER_TASK} training images each.`
    : 'The two tasks’ digits: waiting for the data.';

  return (
    <FigureShell
      id="forgetting-digits"
      title="The two tasks"
      csv={
        samples && has
          ? () => ({
              header: ['task', 'label', ...Array.from({ length: SIDE * SIDE }, (_, p) => `px${p}`)],
              rows: samples.flatMap((g, t) =>
                Array.from({ length: g.count }, (_, j) => [
                  t + 1,
                  g.labels[j],
                  ...Array.from(g.images.subarray(j * SIDE * SIDE, (j + 1) * SIDE * SIDE)),
                ]),
              ),
            })
          : undefined
      }
      caption={
        <>
          Training images of the two digit groups, from the loaded data set (28 × 28 pixels), taken
          in turn from each digit of the group. The network keeps all ten outputs for both tasks:
          task 2 never shows a task-1 digit.
        </>
      }
      readout={
        has
          ? `${SAMPLES_PER_TASK} images per task; change the digits in the fields above.`
          : 'The images come from the training worker once the digits are loaded.'
      }
      frameRef={frameRef}
    >
      <svg
        className="fm-svg"
        width={size.width}
        height={size.height}
        viewBox={`0 0 ${size.width} ${size.height}`}
        role="img"
        aria-label={ariaLabel}
      >
        {!has ? (
          <EmptyState box={box} text="Waiting for the digits…" />
        ) : (
          urls.map((u, i) => {
            const x0 = i * (STRIP + BETWEEN) * k;
            return (
              <g key={i} data-task={i + 1}>
                <text className="fm-annot" x={x0} y={LABEL * k - 4} style={{ fontSize: 12 }}>
                  {name(samples?.[i], i + 1)}
                </text>
                <rect
                  x={x0}
                  y={LABEL * k}
                  width={STRIP * k}
                  height={SIDE * k}
                  style={{ fill: '#ffffff', stroke: 'var(--fm-grid)' }}
                />
                <image
                  href={u ?? undefined}
                  x={x0}
                  y={LABEL * k}
                  width={STRIP * k}
                  height={SIDE * k}
                  preserveAspectRatio="none"
                  style={{ imageRendering: 'pixelated' }}
                />
              </g>
            );
          })
        )}
      </svg>
    </FigureShell>
  );
}
