/**
 * The bar of a section-7 figure's embed (`?embed=` a sweep's figure): its own module, so the
 * other embeds load none of the sweep plans and controls.
 */
import { shareUrl, useConfig } from '../state/configStore';
import { sweepPlan } from '../state/universalityPlans';
import type { UniversalityMode } from '../protocol/messages';
import { SweepControls } from './SweepControls';
import { usePrecomputedUniversality } from './usePrecomputedUniversality';

/** The bar of a section-7 figure's embed: its sweep's controls (the precomputed runs until then). */
export function SweepEmbedBar({ mode }: { mode: UniversalityMode }) {
  usePrecomputedUniversality();
  const config = useConfig((s) => s.config);
  const state = useConfig.getState();
  const full = shareUrl({ ...state, embed: null, hide: [] });
  const plan = sweepPlan(mode, config);
  return (
    <div className="embed-bar embed-sweep">
      <SweepControls
        mode={mode}
        startLabel={plan.startLabel}
        plan={() => plan.items}
        append={plan.append}
      />
      <a className="embed-open" href={`${full}#universality`} target="_blank" rel="noopener">
        Open in Flat Minima Lab
      </a>
    </div>
  );
}
