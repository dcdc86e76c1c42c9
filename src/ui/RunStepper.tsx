/**
 * The run's stages in one row — train → PCA → flatness → fits → theory — with the one now under
 * way marked, so a reader sees how far along the whole run is, not only the current phase.
 */
import { useRun, type RunStoreState } from '../state/runStore';

export const STAGES = ['train', 'PCA', 'flatness', 'fits', 'theory'] as const;

/** Stage index by analysis phase (later phases, e.g. curvature, count as theory). */
const PHASE_STAGE: Record<string, number> = { pca: 1, flatness: 2, fits: 3, theory: 4 };

/** The index of the stage under way; STAGES.length when the run is done; −1 when none runs. */
export function currentStage(
  s: Pick<RunStoreState, 'runState' | 'analysisProgress' | 'source'>,
): number {
  if (s.runState === 'done') return STAGES.length;
  if (s.runState !== 'training' && s.runState !== 'analyzing') return -1;
  const a = s.analysisProgress;
  // The SGD window's analysis may overlap the Langevin run's training: the run is as far as
  // its furthest stage.
  if (a && a.phase !== 'window') return PHASE_STAGE[a.phase] ?? STAGES.length - 1;
  return 0;
}

export function RunStepper() {
  const stage = useRun(currentStage);
  if (stage < 0) return null;
  return (
    <ol className="run-stepper" aria-label="Run stages" data-testid="run-stepper">
      {STAGES.map((name, i) => (
        <li
          key={name}
          data-state={i < stage ? 'done' : i === stage ? 'current' : 'todo'}
          aria-current={i === stage ? 'step' : undefined}
        >
          {name}
        </li>
      ))}
    </ol>
  );
}
