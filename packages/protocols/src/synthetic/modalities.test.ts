import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../rng.ts';
import { sampleIdentity, sampleJitter } from './identity.ts';
import { renderModality, SYNTHETIC_MODALITIES } from './modalities.ts';
import { allocLayers, renderFace } from './render.ts';
import { encodePng } from './png.ts';
import { decodeBuffer } from '../image/decode.ts';

const face = () => {
  const rng = mulberry32(3);
  return renderFace(sampleIdentity(rng), sampleJitter(rng), allocLayers(48));
};

const meanAbs = (a: Uint8Array, b: Uint8Array) => a.reduce((s, v, i) => s + Math.abs(v - b[i]), 0) / a.length;

describe('synthetic modality transforms', () => {
  it('NIR at severity 0 is the grey VIS image; severity moves it away monotonically', () => {
    const f = face();
    const vis = renderModality('VIS', f, 0, mulberry32(1)).data;
    const grey = new Uint8Array(48 * 48).map((_, i) => Math.round(0.299 * vis[i * 3] + 0.587 * vis[i * 3 + 1] + 0.114 * vis[i * 3 + 2]));
    const d = [0, 0.5, 1].map((s) => meanAbs(renderModality('NIR', f, s, mulberry32(1)).data, grey));
    expect(d[0]).toBeLessThan(6);
    expect(d[1]).toBeGreaterThan(d[0]);
    expect(d[2]).toBeGreaterThan(d[1]);
  });

  it('every modality is deterministic for a given rng, and rejects a bad severity', () => {
    const f = face();
    for (const m of SYNTHETIC_MODALITIES) {
      expect(renderModality(m, f, 0.5, mulberry32(9)).data).toEqual(renderModality(m, f, 0.5, mulberry32(9)).data);
    }
    expect(() => renderModality('THERMAL', f, 1.5, mulberry32(1))).toThrow('severity for THERMAL must be in [0, 1], received 1.5');
  });

  it('the PNG writer round-trips through sharp, grey and RGB', async () => {
    const f = face();
    for (const m of ['VIS', 'SKETCH'] as const) {
      const img = renderModality(m, f, 1, mulberry32(2));
      const back = await decodeBuffer(encodePng(img.data, 48, 48, img.channels));
      expect(back.channels).toBe(img.channels);
      expect(Buffer.from(back.data).equals(Buffer.from(img.data))).toBe(true);
    }
  });
});
