// Types of scripts/bench-goals.mjs for the TypeScript half of the benchmark.
export interface Goal {
  below?: number;
  above?: number;
}
export interface GoalResult {
  name: string;
  value: number;
  unit: string;
  goal: string;
  met: boolean;
}
export function goalText(goal: Goal): string;
export function checkGoal(name: string, value: number, unit: string, goal: Goal): GoalResult;
export function formatGoal(r: GoalResult): string;
export function printGoals(title: string, results: GoalResult[]): string[];
