// The engine parity suite (ssmb_trainer.test.ts explains the comparison and its float32 floors) on
// full-size IResNet-18.
import { describe, it } from 'vitest';
import type { ExpertKind } from '../ssmb/ssmb_block.ts';
import { compare, useParitySuite, type TapName } from './parity_compare.ts';

useParitySuite();

describe('onnxruntime SSMB step = tfjs autodiff', () => {
  describe('IResNet-18 (112x112, 2 pairs; N = 1 and the other placements are covered on iresnet-synth)', () => {
    const cases: [number, ExpertKind, TapName[]][] = [
      [4, 'style', ['stem', 'layer1', 'layer2']],
      [2, 'style', ['layer3', 'layer4']],
      [4, 'style+spatial', ['stem']],
    ];
    for (const [N, kind, taps] of cases) {
      it(`N=${N} ${kind} at ${taps.join('+')}`, async () => {
        await compare('iresnet18', N, kind, taps, 2, 5);
      });
    }
  });
});
