// What keeps a figure's page light gives the same answers as what it replaced: the bundled
// results as gzip assets decode to the same JSON (src/state/gzipJson.ts, with the compression the
// build applies, vite.config.ts gzipAsset), the chart's own viridis is d3's, and the plain
// nearest-point scan finds the point d3-delaunay found.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { Delaunay, interpolateViridis as d3Viridis } from 'd3';
import { gzipJson } from '../../src/state/gzipJson';
import { interpolateViridis } from '../../src/views/viridis';
import { nearestIndex } from '../../src/views/nearest';
import { Rng } from '../../src/engine/data/rng';

const BUNDLES = [
  'precomputed-run',
  'noise-shaping-precomputed',
  'universality-precomputed',
  'forgetting-precomputed',
];

describe('bundled results as gzip assets', () => {
  it.each(BUNDLES)('%s.json decodes to the same JSON', async (name) => {
    const bytes = readFileSync(`src/data/${name}.json`);
    const gz = gzipSync(bytes, { level: 9 });
    expect(await gzipJson(new Uint8Array(gz), name)).toEqual(JSON.parse(bytes.toString('utf8')));
  });

  it('bytes a host already inflated (Content-Encoding: gzip) pass as they are', async () => {
    const bytes = readFileSync('src/data/noise-shaping-precomputed.json');
    expect(await gzipJson(new Uint8Array(bytes), 'x')).toEqual(JSON.parse(bytes.toString('utf8')));
  });

  it('a damaged or non-JSON file says so, naming it', async () => {
    const gz = gzipSync(Buffer.from('{"a": [1, 2, 3]}'));
    await expect(
      gzipJson(new Uint8Array(gz.subarray(0, gz.length - 6)), 'the run'),
    ).rejects.toThrow(/^the run: the compressed file is damaged/);
    await expect(
      gzipJson(new Uint8Array(gzipSync(Buffer.from('<html>'))), 'the run'),
    ).rejects.toThrow(/^the run: not JSON/);
  });
});

describe('chart helpers that replace d3 modules', () => {
  it("viridis gives d3-scale-chromatic's colour at every t, clamped outside [0, 1]", () => {
    for (let i = -10; i <= 1010; i++)
      expect(interpolateViridis(i / 1000)).toBe(d3Viridis(i / 1000));
    expect(interpolateViridis(0)).toBe('#440154');
    expect(interpolateViridis(1)).toBe('#fde725');
  });

  it('the nearest point is the one d3-delaunay finds', () => {
    const rng = new Rng(7);
    for (const n of [1, 2, 5, 300, 4000]) {
      const points = Array.from({ length: n }, () => ({
        x: 600 * rng.next(),
        y: 400 * rng.next(),
      }));
      const delaunay = Delaunay.from(
        points,
        (p) => p.x,
        (p) => p.y,
      );
      for (let k = 0; k < 200; k++) {
        const px = -50 + 700 * rng.next();
        const py = -50 + 500 * rng.next();
        const a = points[nearestIndex(points, px, py)];
        const b = points[delaunay.find(px, py)];
        expect(Math.hypot(a.x - px, a.y - py)).toBeCloseTo(Math.hypot(b.x - px, b.y - py), 9);
      }
    }
    expect(nearestIndex([], 1, 2)).toBe(-1);
  });
});
