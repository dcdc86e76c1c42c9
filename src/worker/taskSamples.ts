/**
 * The digits a forgetting task shows (section 6's task panel), picked from the training split
 * without TensorFlow.js: the page asks for them before any sweep runs.
 */
import type { Dataset } from '../engine/data/dataset';
import { checkDigitGroup } from '../engine/forgetting/tasks';
import type { TaskSamples } from '../protocol/messages';

const PIXELS = 28 * 28;

/**
 * `perGroup` training images of each digit group, taking the group's digits in turn (for
 * {2,3} and 8 images: 2, 3, 2, 3, …), each the next example of that digit in the training
 * split. Groups that are not valid digit sets come back empty.
 */
export function taskSamples(data: Dataset, groups: number[][], perGroup: number): TaskSamples[] {
  const { images, labels, count } = data.train;
  return groups.map((g) => {
    let digits: number[];
    try {
      digits = checkDigitGroup(g);
    } catch {
      return { digits: [], images: new Uint8Array(0), labels: new Uint8Array(0), count: 0 };
    }
    const next = new Map<number, number>(digits.map((d) => [d, 0]));
    const outImages = new Uint8Array(perGroup * PIXELS);
    const outLabels = new Uint8Array(perGroup);
    let n = 0;
    for (let k = 0; k < perGroup * digits.length && n < perGroup; k++) {
      const d = digits[k % digits.length];
      let i = next.get(d) ?? count;
      while (i < count && labels[i] !== d) i++;
      next.set(d, i + 1);
      if (i >= count) continue;
      outImages.set(images.subarray(i * PIXELS, (i + 1) * PIXELS), n * PIXELS);
      outLabels[n] = d;
      n++;
    }
    return {
      digits,
      images: outImages.slice(0, n * PIXELS),
      labels: outLabels.slice(0, n),
      count: n,
    };
  });
}
