// Speed goals of `npm run bench`: each measured figure that has one is printed with its goal
// beside it and a mark, and recorded (bench-results/*.json, `goals`). Speed is checked here and
// never in `npm test`, whose results must not depend on how busy the machine is.

/**
 * @typedef {{ below?: number, above?: number }} Goal
 * @typedef {{ name: string, value: number, unit: string, goal: string, met: boolean }} GoalResult
 */

const num = (x) =>
  Math.abs(x) >= 100
    ? Math.round(x).toLocaleString('en-US')
    : x.toLocaleString('en-US', { maximumSignificantDigits: 3 });

/** "< 0.5" or "> 20,000". */
export function goalText(goal) {
  return goal.below !== undefined ? `< ${num(goal.below)}` : `> ${num(goal.above)}`;
}

/** The figure against its goal. */
export function checkGoal(name, value, unit, goal) {
  const met =
    Number.isFinite(value) &&
    (goal.below === undefined || value < goal.below) &&
    (goal.above === undefined || value > goal.above);
  return { name, value, unit, goal: goalText(goal), met };
}

/** "snapshot ingest 31,000 snapshots/s (goal > 20,000) ✔" */
export function formatGoal(r) {
  const v = Number.isFinite(r.value) ? num(r.value) : String(r.value);
  return `${r.name} ${v} ${r.unit} (goal ${r.goal} ${r.unit}) ${r.met ? '✔' : '✘'}`;
}

/** Prints every goal and how many were met; returns the lines. */
export function printGoals(title, results) {
  const lines = results.map(formatGoal);
  console.log(`\n${title}: ${results.filter((r) => r.met).length} of ${results.length} met`);
  for (const l of lines) console.log(`  ${l}`);
  return lines;
}
