/**
 * What the run experiments write: the JSON document (schema in the README) and, next to it, CSVs
 * of the spectrum, the modes and the training curves.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { modesJson } from '../../engine/experiments/runDocument';

export function csv(rows: (string | number)[][]): string {
  return rows.map((r) => r.join(',')).join('\n') + '\n';
}

/** Writes `text` to `file`, making its folder first. */
export function writeText(file: string, text: string): void {
  mkdirSync(dirname(resolve(file)), { recursive: true });
  writeFileSync(file, text);
}

/** Writes the JSON document and its spectrum, modes and training CSVs; returns the files. */
export function writeRunOutputs(out: Record<string, unknown>, file: string): string[] {
  writeText(file, JSON.stringify(out, null, 1));
  const base = file.replace(/\.json$/i, '');
  const spectrum = (out.spectrum as { variance: number[] }).variance;
  const modes = out.modes as ReturnType<typeof modesJson>;
  const t = out.training as Record<string, number[]>;
  const files = [`${base}.spectrum.csv`, `${base}.modes.csv`, `${base}.training.csv`];
  writeFileSync(files[0], csv([['rank', 'variance'], ...spectrum.map((v, i) => [i + 1, v])]));
  writeFileSync(
    files[1],
    csv([
      ['rank', 'variance', 'flatness', 'left', 'right', 'L0'],
      ...modes.map((m) => [m.rank, m.variance, m.flatness, m.left, m.right, m.L0]),
    ]),
  );
  writeFileSync(
    files[2],
    csv([
      ['epoch', 'step', 'trainLoss', 'trainError', 'testLoss', 'testError'],
      ...t.epoch.map((e, i) => [
        e,
        t.step[i],
        t.trainLoss[i],
        t.trainError[i],
        t.testLoss[i],
        t.testError[i],
      ]),
    ]),
  );
  return [file, ...files];
}
