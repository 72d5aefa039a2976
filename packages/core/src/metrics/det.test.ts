import { describe, expect, it } from 'vitest';
import { detPoints, probit } from './det.ts';

describe('probit', () => {
  it('matches standard normal quantiles', () => {
    expect(probit(0.5)).toBeCloseTo(0, 9);
    expect(probit(0.975)).toBeCloseTo(1.959963985, 8);
    expect(probit(0.001)).toBeCloseTo(-3.090232306, 8);
    expect(probit(1e-6)).toBeCloseTo(-4.753424309, 7);
    expect(probit(0.3)).toBeCloseTo(-probit(0.7), 9);
  });

  it('is infinite at 0 and 1 and rejects values outside', () => {
    expect(probit(0)).toBe(-Infinity);
    expect(probit(1)).toBe(Infinity);
    expect(() => probit(1.2)).toThrow('received 1.2');
  });
});

describe('detPoints', () => {
  it('maps FAR and FNMR to probit axes, clipping 0 and 1', () => {
    const pts = detPoints([{ far: 0, tar: 0, threshold: Infinity }, { far: 0.5, tar: 0.975, threshold: 0.3 }], 1e-6);
    expect(pts[0].x).toBeCloseTo(-4.753424309, 7);
    expect(pts[0].y).toBeCloseTo(4.753424309, 7);
    expect(pts[1]).toMatchObject({ far: 0.5 });
    expect(pts[1].fnmr).toBeCloseTo(0.025, 12);
    expect(pts[1].x).toBeCloseTo(0, 9);
    expect(pts[1].y).toBeCloseTo(-1.959963985, 8);
  });
});
