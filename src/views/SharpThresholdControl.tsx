/**
 * The D_s threshold of the width figures: how F_c scales with the solution (c RMS weights,
 * a fraction c of ‖ŵ₂‖, or a fixed distance c) and c on a log slider. The paper gives neither,
 * and how D_s moves with width depends on both — this control lets a reader see that.
 */
import { useId } from 'react';
import type { SharpScale } from '../engine/landscape/effectiveDimension';
import { SHARP_C_RANGE, setSharp, useUniversality } from '../state/universalityStore';

export const SHARP_SCALE_LABEL: Record<SharpScale, string> = {
  rms: 'c × RMS weight, c·‖ŵ₂‖/h',
  norm: 'c × norm, c·‖ŵ₂‖',
  fixed: 'fixed, F_c = c',
};

const STEPS = 200;

export function SharpThresholdControl() {
  const sharp = useUniversality((s) => s.sharp);
  const id = useId();
  const [lo, hi] = SHARP_C_RANGE[sharp.scale];
  const t = Math.round((STEPS * Math.log(sharp.c / lo)) / Math.log(hi / lo));
  return (
    <>
      <label className="fm-check" htmlFor={`${id}-scale`}>
        D_s threshold
      </label>
      <select
        id={`${id}-scale`}
        value={sharp.scale}
        onChange={(e) => setSharp(e.target.value as SharpScale)}
      >
        {(Object.keys(SHARP_SCALE_LABEL) as SharpScale[]).map((s) => (
          <option key={s} value={s}>
            {SHARP_SCALE_LABEL[s]}
          </option>
        ))}
      </select>
      <label className="fm-check">
        c
        <input
          type="range"
          min={0}
          max={STEPS}
          step={1}
          value={t}
          aria-valuetext={`c = ${sharp.c.toPrecision(2)}`}
          onChange={(e) => {
            const c = lo * (hi / lo) ** (Number(e.target.value) / STEPS);
            setSharp(sharp.scale, Number(c.toPrecision(2)));
          }}
        />
        <output data-testid="sharp-c">{sharp.c.toPrecision(2)}</output>
      </label>
    </>
  );
}
