import { describe, expect, it } from 'vitest';
import { eer } from './eer.ts';

describe('eer', () => {
  it('is 0 for separated scores', () => {
    expect(eer([0.8, 0.9], [0.1, 0.2])).toEqual({ eer: 0, threshold: 0.8, fmr: 0, fnmr: 0 });
  });

  it('finds the threshold where FMR equals FNMR', () => {
    // at 0.6: impostors >= 0.6 -> {0.7} = 1/4; genuine < 0.6 -> {0.3} = 1/4
    expect(eer([0.3, 0.6, 0.8, 0.9], [0.1, 0.4, 0.5, 0.7])).toEqual({ eer: 0.25, threshold: 0.6, fmr: 0.25, fnmr: 0.25 });
  });

  it('averages FMR and FNMR where they are closest but never equal', () => {
    // 0.6: FMR 2/3, FNMR 1/2 (gap 1/6); 0.7: FMR 1/3, FNMR 1/2 (gap 1/6, not smaller: first kept)
    const r = eer([0.5, 0.9], [0.1, 0.6, 0.7]);
    expect(r.threshold).toBe(0.6);
    expect(r.eer).toBeCloseTo(7 / 12, 12);
  });

  it('handles all-tied scores (EER 0.5)', () => {
    expect(eer([0.5, 0.5], [0.5, 0.5])).toEqual({ eer: 0.5, threshold: 0.5, fmr: 1, fnmr: 0 });
  });

  it('rejects empty inputs', () => {
    expect(() => eer([0.1], [])).toThrow('impostor is empty');
  });
});
