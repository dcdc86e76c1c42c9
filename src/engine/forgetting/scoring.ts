/**
 * Scoring a task two ways (SCIENCE.md):
 *  - class-incremental: the prediction is the argmax over all 10 outputs;
 *  - task-incremental: the argmax over the task's own classes only.
 * Much of the measured forgetting of the first kind can be the shared output head favouring the
 * newest classes rather than lost features; the second kind isolates the features.
 */
import type * as tf from '@tensorflow/tfjs';
import { CLASSES } from '../nets/mlp';
import type { DataSplit } from '../data/dataset';
import type { Task } from './tasks';
import { hiddenLayer, type W2Trainer, type FrozenLayers } from './w2Trainer';

export interface TaskErrors {
  /** Error over the 10-way output (class-incremental). */
  eps: number;
  /** Error restricted to the task's own classes (task-incremental). */
  epsOwn: number;
}

/** Both error rates of `count` samples from their logits (count × classes, row-major). */
export function taskErrors(
  logits: ArrayLike<number>,
  labels: ArrayLike<number>,
  count: number,
  own: readonly number[],
  classes = CLASSES,
): TaskErrors {
  if (count === 0) return { eps: NaN, epsOwn: NaN };
  let wrong = 0;
  let wrongOwn = 0;
  for (let s = 0; s < count; s++) {
    const o = s * classes;
    const y = labels[s];
    let arg = 0;
    for (let c = 1; c < classes; c++) if (logits[o + c] > logits[o + arg]) arg = c;
    if (arg !== y) wrong++;
    let argOwn = own[0];
    for (let k = 1; k < own.length; k++)
      if (logits[o + own[k]] > logits[o + argOwn]) argOwn = own[k];
    if (argOwn !== y) wrongOwn++;
  }
  return { eps: wrong / count, epsOwn: wrongOwn / count };
}

/**
 * One evaluation set per task (the test sets by default, or the held-out validation sets) with
 * their H1 resident on the backend.
 */
export class TaskScorer {
  private readonly h1: tf.Tensor2D[];
  private readonly sets: { classes: number[]; split: DataSplit }[];

  constructor(
    tasks: readonly (Task & { validation?: DataSplit })[],
    frozen: FrozenLayers,
    which: 'test' | 'validation' = 'test',
  ) {
    this.sets = tasks.map((t) => {
      const split = which === 'test' ? t.test : t.validation;
      if (!split) throw new Error(`task ${t.classes.join(',')} has no validation set`);
      return { classes: t.classes, split };
    });
    this.h1 = this.sets.map((s) => hiddenLayer(s.split, frozen.W1, frozen.hidden));
  }

  /** Errors of every task on its set at the trainer's current W2. */
  async score(trainer: W2Trainer): Promise<TaskErrors[]> {
    const out: TaskErrors[] = [];
    for (let i = 0; i < this.sets.length; i++) {
      const s = this.sets[i];
      const z = await trainer.logits(this.h1[i]);
      out.push(taskErrors(z, s.split.labels, s.split.count, s.classes));
    }
    return out;
  }

  dispose(): void {
    this.h1.forEach((t) => t.dispose());
  }
}
