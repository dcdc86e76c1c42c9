/**
 * A fingerprint of a training split (32-bit FNV-1a over its count, every label and every
 * pixel): two workers that each loaded a copy can tell whether they hold the same examples
 * before one measures a loss for the other. Not cryptographic — it catches another data set,
 * not a forged one.
 */
import type { DataSplit } from './dataset';

export function splitFingerprint(split: Pick<DataSplit, 'images' | 'labels' | 'count'>): number {
  let h = 0x811c9dc5;
  const mix = (byte: number) => {
    h ^= byte;
    h = Math.imul(h, 0x01000193);
  };
  for (let k = 0; k < 4; k++) mix((split.count >>> (8 * k)) & 0xff);
  const pixels = split.images.length / Math.max(1, split.labels.length);
  for (let i = 0; i < split.count; i++) mix(split.labels[i]);
  const n = split.count * pixels;
  for (let i = 0; i < n; i++) mix(split.images[i]);
  return h >>> 0;
}
