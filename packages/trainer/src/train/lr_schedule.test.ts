import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../config.ts';
import { learningRate } from './lr_schedule.ts';

const optim = defaultConfig().optim;

describe('learningRate', () => {
  it('warms up linearly then follows the schedule', () => {
    const o = { ...optim, lr: 0.1, warmup: 10 };
    expect(learningRate(o, 0, 100)).toBeCloseTo(0.01);
    expect(learningRate(o, 9, 100)).toBeCloseTo(0.1);
    expect(learningRate(o, 50, 100)).toBe(0.1);
    const cos = { ...o, schedule: 'cosine' as const, minLr: 0.001 };
    expect(learningRate(cos, 10, 110)).toBeCloseTo(0.1);
    expect(learningRate(cos, 60, 110)).toBeCloseTo(0.0505);
    expect(learningRate(cos, 110, 110)).toBeCloseTo(0.001);
    const st = { ...optim, lr: 1, schedule: 'step' as const, stepSize: 5, gamma: 0.5 };
    expect([0, 4, 5, 10].map((s) => learningRate(st, s, 100))).toEqual([1, 1, 0.5, 0.25]);
  });
});
