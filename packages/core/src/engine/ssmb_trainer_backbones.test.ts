// The engine parity suite (ssmb_trainer.test.ts explains the comparison and its float32 floors) on every
// registered backbone.
import { describe, it } from 'vitest';
import { backboneInfo, listBackbones } from '../models/registry.ts';
import type { ExpertKind } from '../ssmb/ssmb_block.ts';
import { compare, useParitySuite, type TapName } from './parity_compare.ts';

useParitySuite();

describe('onnxruntime SSMB step = tfjs autodiff', () => {
  // Every registered backbone through the Backbone interface (emitOnnx): the first tap and a deep one,
  // both expert kinds; large IResNets at the registry's testOverrides (the same ops as IResNet-18).
  describe('every registered backbone', () => {
    for (const name of listBackbones()) {
      const info = backboneInfo(name);
      const taps = info.taps.map((t) => t.name);
      const cases: [ExpertKind, TapName[]][] = [['style', [taps[0], taps[taps.length - 2]]], ['style+spatial', [taps[1]]]];
      for (const [kind, at] of cases) {
        it(`${name} (${info.family}${info.testOverrides ? ', testOverrides' : ''}) N=2 ${kind} at ${at.join('+')}`, async () => {
          await compare(name, 2, kind, at, 2, 3, false, info.testOverrides);
        });
      }
    }
  });
});
