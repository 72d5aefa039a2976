import { describe, expect, it } from 'vitest';
import { TAP_NAMES } from '@ssmb/core/taps';
import { MODALITY_ORDER } from '@ssmb/protocols/modalities';
import { TAP_NAMES as CORE_TAPS } from '@ssmb/core';
import { compareBlocks, compareModalities } from './display_order.ts';

describe('display order', () => {
  it('blocks in network order, a suffixed block with its tap, unknown names last alphabetically', () => {
    expect(['layer4', 'zeta', 'layer2.1', 'stem', 'alpha', 'layer1', 'layer2'].sort(compareBlocks))
      .toEqual(['stem', 'layer1', 'layer2', 'layer2.1', 'layer4', 'alpha', 'zeta']);
  });

  it('modalities as the readers name them, VIS first, user modalities after', () => {
    expect(['UV', 'SKETCH', 'DEPTH', 'VIS', 'NIR', 'AUDIO'].sort(compareModalities)).toEqual(['VIS', 'NIR', 'SKETCH', 'DEPTH', 'AUDIO', 'UV']);
  });

  it('is the models\' own tap list (one source)', () => {
    expect(TAP_NAMES).toBe(CORE_TAPS);
    expect([...TAP_NAMES].sort(compareBlocks)).toEqual([...TAP_NAMES]);
    expect([...MODALITY_ORDER].reverse().sort(compareModalities)).toEqual([...MODALITY_ORDER]);
  });
});
