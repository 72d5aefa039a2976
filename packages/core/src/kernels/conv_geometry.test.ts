import { describe, expect, it } from 'vitest';
import { filterGradPadAfter, phase1d } from './conv_geometry.ts';

describe('phase1d', () => {
  it('stride 1 is a single phase using the whole reversed filter', () => {
    // 3-tap filter, pad 1, dy length 5, dx length 5: full correlation needs pad k-1-p = 1 on both sides
    expect(phase1d(0, 1, 1, 3, 5, 5)).toEqual({ taps: 3, start: 0, padBefore: 1, padAfter: 1 });
  });

  it('stride 2, 3 taps, pad 1: even rows get tap 1, odd rows taps 0 and 2', () => {
    // dx row 2m (m=0..3, H=8) = dy[m]*w[1]; dx row 2m+1 = dy[m]*w[2] + dy[m+1]*w[0]
    expect(phase1d(0, 1, 2, 3, 4, 4)).toEqual({ taps: 1, start: 1, padBefore: 0, padAfter: 0 });
    // reversed filter [w2,w1,w0]: start 0 step 2 -> [w2, w0] correlated with dy[m], dy[m+1]
    expect(phase1d(1, 1, 2, 3, 4, 4)).toEqual({ taps: 2, start: 0, padBefore: 0, padAfter: 1 });
  });

  it('a 1x1 stride-2 filter reaches only phase 0', () => {
    expect(phase1d(0, 0, 2, 1, 4, 4).taps).toBe(1);
    expect(phase1d(1, 0, 2, 1, 4, 4).taps).toBe(0);
  });

  it('the trailing pad of the filter gradient can be negative (valid conv skipping the last row)', () => {
    // H = 8, k = 3, stride 2, valid: dy has 3 rows covering x rows 0..6; row 7 is never read
    expect(filterGradPadAfter(3, 2, 3, 8, 0)).toBe(-1);
    expect(filterGradPadAfter(3, 1, 8, 8, 1)).toBe(1);
  });
});
