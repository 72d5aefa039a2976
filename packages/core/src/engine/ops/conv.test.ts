import { describe, expect, it } from 'vitest';
import { gradCheck, normalData } from '../grad_check.ts';

interface Case { label: string; x: number[]; w: number[]; attrs: Record<string, number[] | number>; bias?: boolean; constW?: boolean }

const cases: Case[] = [
  { label: '3x3 stride 1 pad 1 (dx, dW, dB)', x: [2, 3, 5, 5], w: [4, 3, 3, 3], attrs: { pads: [1, 1, 1, 1] }, bias: true },
  { label: '3x3 stride 1, frozen filter (dx as a conv with the flipped transposed filter)', x: [2, 3, 5, 6], w: [4, 3, 3, 3], attrs: { pads: [1, 1, 1, 1] }, constW: true },
  { label: '3x3 stride 2 pad 1, even side, frozen filter', x: [2, 3, 6, 6], w: [4, 3, 3, 3], attrs: { pads: [1, 1, 1, 1], strides: [2, 2] }, constW: true },
  { label: '3x3 stride 2 pad 1, odd side, frozen filter', x: [1, 2, 7, 5], w: [3, 2, 3, 3], attrs: { pads: [1, 1, 1, 1], strides: [2, 2] }, constW: true },
  { label: '1x1 stride 2 (IResNet downsample), frozen filter', x: [2, 3, 6, 6], w: [5, 3, 1, 1], attrs: { strides: [2, 2] }, constW: true },
  { label: '3x3 stride 2, trainable filter (dW with strides as dilations)', x: [2, 2, 7, 7], w: [3, 2, 3, 3], attrs: { pads: [1, 1, 1, 1], strides: [2, 2] }, bias: true },
  { label: 'depthwise 3x3 (group = C), trainable filter', x: [2, 4, 5, 5], w: [4, 1, 3, 3], attrs: { pads: [1, 1, 1, 1], group: 4 } },
  { label: 'depthwise 3x3 stride 2 with multiplier 2, trainable filter', x: [2, 3, 6, 6], w: [6, 1, 3, 3], attrs: { pads: [1, 1, 1, 1], strides: [2, 2], group: 3 } },
  { label: 'depthwise 3x3, frozen filter', x: [2, 4, 5, 5], w: [4, 1, 3, 3], attrs: { pads: [1, 1, 1, 1], group: 4 }, constW: true },
  { label: 'pointwise 1x1, trainable filter', x: [2, 4, 3, 3], w: [5, 4, 1, 1], attrs: {} },
  { label: 'dilation 2, asymmetric pads', x: [1, 2, 7, 7], w: [2, 2, 3, 3], attrs: { pads: [2, 1, 2, 3], dilations: [2, 2] } },
  { label: 'group 2 (dx only: frozen filter)', x: [2, 4, 5, 5], w: [6, 2, 3, 3], attrs: { pads: [1, 1, 1, 1], group: 2 }, constW: true },
];

describe('Conv gradient', () => {
  for (const c of cases) {
    const forms = c.attrs.strides ? (['subpixel', 'convtranspose'] as const) : (['subpixel'] as const);
    for (const form of forms) {
      it(`${c.label}${c.attrs.strides ? `, ${form}` : ''}: matches finite differences`, async () => {
        const r = await gradCheck({
          inputs: [
            { name: 'x', shape: c.x },
            { name: 'w', shape: c.w, constant: c.constW, data: normalData(c.w.reduce((a, b) => a * b, 1), 11, 0.5) },
            ...(c.bias ? [{ name: 'bias', shape: [c.w[0]] }] : []),
          ],
          build: (b, v) => b.op1('Conv', c.bias ? [v.x, v.w, v.bias] : [v.x, v.w], { kernel_shape: [c.w[2], c.w[3]], ...c.attrs }),
          options: { stridedConv: form },
        });
        expect(r.maxError).toBeLessThan(2e-3);
        expect(Object.keys(r.errors)).toEqual(['x', ...(c.constW ? [] : ['w']), ...(c.bias ? ['bias'] : [])]);
      });
    }
  }
  it('names what it cannot differentiate: filters of a grouped (not depthwise) convolution', async () => {
    await expect(gradCheck({
      inputs: [{ name: 'x', shape: [1, 4, 3, 3] }, { name: 'w', shape: [4, 2, 1, 1] }],
      build: (b, v) => b.op1('Conv', [v.x, v.w], { group: 2 }),
    })).rejects.toThrow(/group-1 and depthwise convolutions only \(group 2, 4 channels\)/);
  });
});
