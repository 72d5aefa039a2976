import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../config.ts';
import { CAIM } from './caim.ts';

describe('method caim', () => {
  it('one modulator per block (N = 1, label-selected): target images get row 1, VIS images row 0 (unchanged)', () => {
    const c = resolveConfig({ base: { method: 'caim', dataset: { protocol: 'synthetic-vis-universal' }, ssmb: { positions: ['stem', 'layer1'], hiddenWidth: 16 } } });
    expect(CAIM.model!(c)).toMatchObject({ taps: ['stem', 'layer1'], numExperts: 1, hidden: 16, selection: 'label' });
    const sel = CAIM.selection!(c);
    expect(sel.experts).toBe(1);
    expect(sel.modalities).toEqual(['VIS', 'NIR', 'THERMAL', 'SKETCH']);
    expect(Array.from(sel.rows(['VIS', 'NIR', 'SKETCH', 'VIS'], 'pairs'))).toEqual([0, 1, 1, 0]);
    expect(CAIM).toMatchObject({ label: { training: true, inference: true }, losses: ['cc', 'ts'] });
  });

  it('a modality that is neither VIS nor one of its targets is an error naming both', () => {
    const c = resolveConfig({ base: { method: 'caim', dataset: { protocol: 'synthetic-vis-nir' } } });
    expect(() => CAIM.selection!(c).rows(['NIR', 'SKETCH'], 'probes')).toThrow(
      'probes: image 1 is "SKETCH"; method caim modulates NIR (the target images of synthetic-vis-nir) and passes VIS unchanged');
  });
});
