import { describe, expect, it } from 'vitest';
import { activationQuant, quantizeBias, quantizeWeightPerChannel } from './quant_params.ts';

describe('int8 quantization parameters', () => {
  it('weights: symmetric per output channel, each channel at its own scale, error at most half a step', () => {
    // channel 0 small, channel 1 large, channel 2 all zero: one shared scale would flatten channel 0
    const w = Float32Array.from([0.01, -0.02, 0.005, 0.015, 3, -1.5, 0.7, -2.9, 0, 0, 0, 0]);
    const { q, scale } = quantizeWeightPerChannel(w, 3);
    expect(Array.from(scale)).toEqual([Math.fround(0.02 / 127), Math.fround(3 / 127), 1]);
    expect(q[1]).toBe(-127);
    expect(q[4]).toBe(127);
    for (let i = 0; i < w.length; i++) expect(Math.abs(q[i] * scale[Math.floor(i / 4)] - w[i])).toBeLessThanOrEqual((scale[Math.floor(i / 4)] / 2) * (1 + 1e-5));
    expect(() => quantizeWeightPerChannel(w, 5)).toThrow('12 values do not split into 5 output channels');
  });

  it('activations: uint8 over the range widened to 0, so zero (the conv padding) is exact', () => {
    const a = activationQuant(0.5, 2.55); // all positive: widened to [0, 2.55]
    expect(a.zeroPoint).toBe(0);
    expect(a.scale).toBeCloseTo(0.01, 8);
    const b = activationQuant(-1, 3);
    expect(b.zeroPoint).toBe(Math.round(1 / (4 / 255)));
    expect(b.scale * (0 - b.zeroPoint) + b.scale * b.zeroPoint).toBe(0);
    expect(activationQuant(0, 0).scale).toBeGreaterThan(0); // a constant map still quantizes
    expect(() => activationQuant(2, 1)).toThrow('[2, 1] is not a finite range');
    expect(() => activationQuant(NaN, 1)).toThrow('not a finite range');
  });

  it('biases: int32 at x_scale * w_scale[c]', () => {
    const q = quantizeBias(Float32Array.of(0.5, -0.25), 0.01, Float32Array.of(0.5, 0.25));
    expect(Array.from(q)).toEqual([100, -100]);
    expect(() => quantizeBias(Float32Array.of(1), 1, Float32Array.of(1, 2))).toThrow('1 biases for 2 weight scales');
  });
});
