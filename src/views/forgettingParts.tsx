/**
 * Small shared pieces of the forgetting figures (section 6): the scoring toggle (10-way output
 * versus the task's own classes) and the hook that gathers what every figure needs.
 */
import { useId, useMemo } from 'react';
import { useForgetting, type Scoring } from '../state/forgettingStore';
import { SCORING_LABEL, chosenSettings, settingStats } from '../state/forgettingData';
import './forgetting.css';

export function ScoringToggle() {
  const scoring = useForgetting((s) => s.scoring);
  const setScoring = useForgetting((s) => s.setScoring);
  const name = useId();
  return (
    <fieldset className="fm-forget-toggle">
      <legend>Errors over</legend>
      {(['all', 'own'] as Scoring[]).map((k) => (
        <label key={k}>
          <input
            type="radio"
            name={name}
            value={k}
            checked={scoring === k}
            onChange={() => setScoring(k)}
          />
          {SCORING_LABEL[k]}
        </label>
      ))}
    </fieldset>
  );
}

/** The runs' statistics under the current scoring and the settings chosen for display. */
export function useForgettingStats() {
  const runs = useForgetting((s) => s.runs);
  const scoring = useForgetting((s) => s.scoring);
  const choice = useForgetting((s) => s.choice);
  const stats = useMemo(() => settingStats(runs, scoring), [runs, scoring]);
  const chosen = useMemo(() => chosenSettings(stats, choice), [stats, choice]);
  return { runs, scoring, stats, chosen };
}

/** "3 seeds" / "1 seed" */
export function seedsText(n: number): string {
  return `${n} seed${n === 1 ? '' : 's'}`;
}
