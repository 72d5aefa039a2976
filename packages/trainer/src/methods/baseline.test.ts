import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../config.ts';
import { runKindFor, totalStepsOf } from '../launch.ts';
import { BASELINE } from './baseline.ts';

describe('method baseline', () => {
  it('trains nothing, builds no blocks, needs no label; its runs are evaluate runs of no steps', () => {
    expect(BASELINE).toMatchObject({ trains: false, losses: [], keys: [], label: { training: false, inference: false } });
    expect(BASELINE.model).toBeUndefined();
    const c = { ...defaultConfig(), method: 'baseline' };
    expect(runKindFor(c)).toBe('evaluate');
    expect(totalStepsOf('train', c)).toBe(0);
  });
});
