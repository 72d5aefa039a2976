import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../config.ts';
import { SSMB_ORACLE } from './ssmb_oracle.ts';

describe('method ssmb-oracle', () => {
  it('one expert per modality of the training protocol (VIS first), chosen by the label; no router', () => {
    const pair = resolveConfig({ base: { method: 'ssmb-oracle', dataset: { protocol: 'synthetic-vis-nir' }, ssmb: { positions: ['stem'] } } });
    expect(SSMB_ORACLE.model!(pair)).toMatchObject({ taps: ['stem'], numExperts: 2, selection: 'label', kind: 'style' });
    const uni = resolveConfig({ base: { method: 'ssmb-oracle', dataset: { protocol: 'synthetic-vis-universal' } } });
    const sel = SSMB_ORACLE.selection!(uni);
    expect(sel.modalities).toEqual(['VIS', 'NIR', 'THERMAL', 'SKETCH']);
    expect(sel.experts).toBe(4);
    expect(Array.from(sel.rows(['SKETCH', 'VIS', 'NIR'], 'probes'))).toEqual([0, 0, 0, 1, 1, 0, 0, 0, 0, 1, 0, 0]);
    expect(SSMB_ORACLE).toMatchObject({ label: { training: true, inference: true }, losses: ['cc', 'ts'] });
  });

  it('an image of a modality it has no expert for is an error naming the image, the experts and the protocol', () => {
    const pair = resolveConfig({ base: { method: 'ssmb-oracle', dataset: { protocol: 'synthetic-vis-nir' } } });
    expect(() => SSMB_ORACLE.selection!(pair).rows(['VIS', 'THERMAL'], 'probes')).toThrow(
      'probes: image 1 is "THERMAL"; method ssmb-oracle has one expert for each of VIS, NIR (the training images of synthetic-vis-nir)');
  });
});
