import { describe, expect, it } from 'vitest';
import {
  lossProfile,
  lossProfiles,
  measureFlatness,
  type EvalFn,
  type FlatnessMode,
  type ProfilePoint,
} from '../../src/engine/landscape/flatness';
import { inverseGaussianFit } from '../../src/engine/landscape/profileFit';

type Profile = (delta: number) => number;

/** An evalFn over analytic profiles, one per direction object; counts calls and points. */
function analytic(profiles: Profile[]): { evalFn: EvalFn; modes: FlatnessMode[]; calls: number[] } {
  const modes = profiles.map((_, i) => ({ rank: i + 1, direction: new Float64Array([i]) }));
  const byDir = new Map<ProfilePoint['direction'], Profile>();
  modes.forEach((m, i) => byDir.set(m.direction, profiles[i]));
  const calls: number[] = [];
  const evalFn: EvalFn = async (points) => {
    calls.push(points.length);
    return Float64Array.from(points, (p) => {
      const f = byDir.get(p.direction);
      if (!f) throw new Error('unknown direction');
      return f(p.delta);
    });
  };
  return { evalFn, modes, calls };
}

const invGauss =
  (L0: number, f: number, centre = 0): Profile =>
  (d) =>
    L0 * Math.exp((d - centre) ** 2 / (2 * f * f));

describe('measureFlatness', () => {
  it('inverse-Gaussian profile, factor e: F = 2√2·f within 1e-3', async () => {
    const fs = [0.013, 0.2, 1, 3.7, 40];
    const { evalFn, modes } = analytic(fs.map((f) => invGauss(0.02, f)));
    const rep = await measureFlatness(evalFn, modes, { factor: Math.E, relTol: 1e-3 });
    rep.modes.forEach((m, i) => {
      const F = 2 * Math.SQRT2 * fs[i];
      expect(Math.abs(m.flatness - F) / F).toBeLessThan(1e-3);
      expect(m.L0).toBeCloseTo(0.02, 10);
      expect(Math.abs(m.theta0)).toBeLessThan(1e-6 + 1e-3 * fs[i]);
      expect(m.leftFound && m.rightFound && m.minimumBracketed).toBe(true);
      expect(m.left).toBeLessThan(0);
      expect(m.right).toBeGreaterThan(0);
      expect(m.threshold).toBeCloseTo(Math.E * 0.02, 12);
    });
    expect(rep.evaluations).toBe(rep.modes.reduce((s, m) => s + m.evaluations, 0));
  });

  it('factor 2 gives F = 2f·√(2 ln 2)', async () => {
    const fs = [0.05, 0.7, 9];
    const { evalFn, modes } = analytic(fs.map((f) => invGauss(1.3, f)));
    const rep = await measureFlatness(evalFn, modes, { factor: 2 });
    rep.modes.forEach((m, i) => {
      const F = 2 * fs[i] * Math.sqrt(2 * Math.LN2);
      expect(Math.abs(m.flatness - F) / F).toBeLessThan(1e-3);
    });
  });

  it('bisection agrees with Brent (to the tolerance) but needs more evaluations', async () => {
    const fs = [0.3, 2];
    const a = analytic(fs.map((f) => invGauss(0.1, f)));
    const b = analytic(fs.map((f) => invGauss(0.1, f)));
    const brent = await measureFlatness(a.evalFn, a.modes);
    const bis = await measureFlatness(b.evalFn, b.modes, { method: 'bisect' });
    bis.modes.forEach((m, i) => {
      const F = 2 * Math.SQRT2 * fs[i];
      expect(Math.abs(m.flatness - F) / F).toBeLessThan(1e-3);
    });
    expect(bis.evaluations).toBeGreaterThan(brent.evaluations);
  });

  it('asymmetric profile: different widths on each side', async () => {
    // ln L = ln L0 + δ²/(2 fl²) for δ < 0, δ²/(2 fr²) for δ > 0: crossings at −√2 fl and √2 fr.
    const fl = 0.4;
    const fr = 2.5;
    const prof: Profile = (d) => 0.05 * Math.exp((d * d) / (2 * (d < 0 ? fl * fl : fr * fr)));
    const { evalFn, modes } = analytic([prof]);
    const [m] = (await measureFlatness(evalFn, modes)).modes;
    expect(Math.abs(m.left + Math.SQRT2 * fl) / (Math.SQRT2 * fl)).toBeLessThan(1e-3);
    expect(Math.abs(m.right - Math.SQRT2 * fr) / (Math.SQRT2 * fr)).toBeLessThan(1e-3);
    expect(Math.abs(m.flatness - Math.SQRT2 * (fl + fr)) / (Math.SQRT2 * (fl + fr))).toBeLessThan(
      1e-3,
    );
  });

  it('non-Gaussian shapes: quartic well and a shifted, tilted profile', async () => {
    // L = L0 (1 + (δ/s)^4): crossing where (δ/s)^4 = e − 1.
    const s = 0.8;
    const quartic: Profile = (d) => 0.01 * (1 + (d / s) ** 4);
    const { evalFn, modes } = analytic([quartic]);
    const [m] = (await measureFlatness(evalFn, modes)).modes;
    const r = s * Math.pow(Math.E - 1, 0.25);
    expect(Math.abs(m.flatness - 2 * r) / (2 * r)).toBeLessThan(1e-3);
    expect(Math.abs(m.theta0)).toBeLessThan(0.05 * s);
  });

  it('minimum off zero: L0 and θ0 are found and F is measured around them', async () => {
    const f = 0.5;
    const c = 0.3; // six initial steps away from 0
    const cases = [invGauss(0.2, f, c), invGauss(0.2, f, -c), invGauss(0.2, 10, 1.2)];
    const { evalFn, modes } = analytic(cases);
    const rep = await measureFlatness(evalFn, modes);
    const expected = [
      { c, f },
      { c: -c, f },
      { c: 1.2, f: 10 },
    ];
    rep.modes.forEach((m, i) => {
      const { c: ci, f: fi } = expected[i];
      expect(m.L0).toBeCloseTo(0.2, 6);
      expect(Math.abs(m.theta0 - ci)).toBeLessThan(0.05 * fi);
      const F = 2 * Math.SQRT2 * fi;
      expect(Math.abs(m.flatness - F) / F).toBeLessThan(1e-3);
      expect(Math.abs(m.left - (ci - F / 2)) / (F / 2)).toBeLessThan(1e-3);
      expect(Math.abs(m.right - (ci + F / 2)) / (F / 2)).toBeLessThan(1e-3);
      expect(m.minimumBracketed).toBe(true);
    });
  });

  it('lockstep: one evalFn call per iteration, carrying all unfinished modes', async () => {
    const fs = [0.01, 0.1, 1, 10, 100];
    const { evalFn, modes, calls } = analytic(fs.map((f) => invGauss(0.5, f)));
    const rep = await measureFlatness(evalFn, modes);
    expect(calls.length).toBe(rep.iterations);
    expect(calls.reduce((a, b) => a + b, 0)).toBe(rep.evaluations);
    // The first call holds the 3-point minimum bracket of every mode.
    expect(calls[0]).toBe(3 * modes.length);
    // Far fewer calls than evaluations: the modes share calls.
    expect(rep.iterations).toBeLessThan(rep.evaluations / 2);
    for (const m of rep.modes) expect(m.evaluations).toBeLessThan(40);
  });

  it('a profile that never reaches the threshold gives Infinity, flagged, and terminates', async () => {
    const plateau: Profile = (d) => 0.1 * (1 + 0.5 * (1 - Math.exp(-d * d))); // saturates at 1.5·L0 < e·L0
    const oneSided: Profile = (d) =>
      d < 0 ? 0.1 * Math.exp(d * d) : 0.1 * (1 + 0.2 * Math.tanh(d * d));
    const { evalFn, modes } = analytic([plateau, oneSided, invGauss(0.1, 1)]);
    const rep = await measureFlatness(evalFn, modes, { maxDistance: 50 });
    const [p, o, ok] = rep.modes;
    expect(p.flatness).toBe(Infinity);
    expect(p.leftFound).toBe(false);
    expect(p.rightFound).toBe(false);
    expect(p.left).toBe(-Infinity);
    expect(p.right).toBe(Infinity);
    expect(o.leftFound).toBe(true);
    expect(o.rightFound).toBe(false);
    expect(o.flatness).toBe(Infinity);
    expect(Math.abs(o.left + 1) / 1).toBeLessThan(1e-3);
    expect(Math.abs(ok.flatness - 2 * Math.SQRT2) / (2 * Math.SQRT2)).toBeLessThan(1e-3);
  });

  it('non-finite losses count as above the threshold', async () => {
    // Inverse Gaussian but NaN/Infinity beyond |δ| > 1.7 (the crossing is at √2·1 ≈ 1.414).
    const blowUp: Profile = (d) =>
      d > 1.7 ? NaN : d < -1.7 ? Infinity : 0.3 * Math.exp((d * d) / 2);
    const { evalFn, modes } = analytic([blowUp]);
    const [m] = (await measureFlatness(evalFn, modes, { initialStep: 1 })).modes;
    expect(m.nonFinite).toBeGreaterThan(0);
    expect(Math.abs(m.flatness - 2 * Math.SQRT2) / (2 * Math.SQRT2)).toBeLessThan(1e-3);
  });

  it('a non-finite loss at the centre gives NaN flatness, not a hang', async () => {
    const { evalFn, modes } = analytic([() => NaN]);
    const [m] = (await measureFlatness(evalFn, modes)).modes;
    expect(Number.isNaN(m.flatness)).toBe(true);
  });

  it('a profile that keeps falling: the minimum walk stops and is flagged', async () => {
    const { evalFn, modes } = analytic([(d) => Math.exp(-d) + 1e-3]);
    const rep = await measureFlatness(evalFn, modes, { maxDistance: 100 });
    expect(rep.modes[0].minimumBracketed).toBe(false);
    expect(rep.iterations).toBeLessThan(200);
  });

  it('a tiny initial step, far from the scale, still converges', async () => {
    const { evalFn, modes } = analytic([invGauss(0.02, 50), invGauss(0.02, 1e-4)]);
    const rep = await measureFlatness(evalFn, modes, { initialStep: 1e-3 });
    expect(Math.abs(rep.modes[0].flatness - 100 * Math.SQRT2) / (100 * Math.SQRT2)).toBeLessThan(
      1e-3,
    );
    expect(Math.abs(rep.modes[1].flatness - 2e-4 * Math.SQRT2) / (2e-4 * Math.SQRT2)).toBeLessThan(
      1e-3,
    );
  });

  it('can be cancelled', async () => {
    const { evalFn, modes } = analytic([invGauss(0.02, 1)]);
    const ac = new AbortController();
    ac.abort(new Error('stop'));
    await expect(measureFlatness(evalFn, modes, { signal: ac.signal })).rejects.toThrow('stop');
  });
});

describe('profiles and the inverse-Gaussian fit', () => {
  it('lossProfile / lossProfiles evaluate in one call, in order', async () => {
    const { evalFn, modes, calls } = analytic([invGauss(0.1, 1), invGauss(0.2, 2)]);
    const deltas = [-1, 0, 0.5];
    const one = await lossProfile(evalFn, modes[0].direction, deltas);
    expect(Array.from(one)).toEqual(deltas.map(invGauss(0.1, 1)));
    const both = await lossProfiles(
      evalFn,
      modes.map((m) => m.direction),
      deltas,
    );
    expect(Array.from(both[1])).toEqual(deltas.map(invGauss(0.2, 2)));
    expect(calls).toEqual([3, 6]);
  });

  it('recovers L0, centre, f, F exactly from an inverse-Gaussian profile', () => {
    const f = 0.7;
    const c = 0.2;
    const deltas = Array.from({ length: 21 }, (_, i) => -2 + 0.2 * i);
    const losses = deltas.map(invGauss(0.03, f, c));
    const fit = inverseGaussianFit(deltas, losses);
    expect(fit.f).toBeCloseTo(f, 9);
    expect(fit.center).toBeCloseTo(c, 9);
    expect(fit.L0).toBeCloseTo(0.03, 11);
    expect(fit.flatness).toBeCloseTo(2 * Math.SQRT2 * f, 9);
    expect(fit.r2).toBeCloseTo(1, 12);
    expect(inverseGaussianFit(deltas, losses, 2).flatness).toBeCloseTo(
      2 * f * Math.sqrt(2 * Math.LN2),
      9,
    );
    expect(fit.c).toBeCloseTo(1 / (2 * f * f), 9);
  });

  it('skips non-finite points and reports a poorer R² for a non-Gaussian profile', () => {
    const deltas = [-2, -1, -0.5, 0, 0.5, 1, 2, 3];
    const losses = deltas.map((d) => 0.01 * (1 + d ** 4));
    losses[7] = NaN;
    const fit = inverseGaussianFit(deltas, losses);
    expect(fit.n).toBe(7);
    expect(fit.r2).toBeLessThan(0.999);
    expect(fit.r2).toBeGreaterThan(0.5);
  });
});
