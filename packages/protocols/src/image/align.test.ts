import { describe, expect, it } from 'vitest';
import { applyAffine, arcfaceEyes, centreCropAffine, similarityFromPoints, warpAffineNormalized, insightfaceTemplate } from './align.ts';
import type { DecodedImage } from './decode.ts';
import type { Point } from '../types.ts';

/** Grey image with two bright 3x3 dots at the given eye positions. */
function dots(width: number, height: number, pts: Point[]): DecodedImage {
  const data = new Uint8Array(width * height);
  for (const [x, y] of pts) {
    for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) data[(y + dy) * width + x + dx] = 255;
  }
  return { data, width, height, channels: 1 };
}

/** Intensity-weighted centroids of the bright pixels in the left and right halves of an aligned image. */
function centroids(out: Float32Array, size: number): Point[] {
  const acc = [[0, 0, 0], [0, 0, 0]];
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const v = out[(y * size + x) * 3] + 1; // back to >= 0
      if (v <= 0.05) continue;
      const side = x < size / 2 ? 0 : 1;
      acc[side][0] += v * x; acc[side][1] += v * y; acc[side][2] += v;
    }
  }
  return acc.map(([sx, sy, s]) => [sx / s, sy / s] as Point);
}

describe('similarity alignment', () => {
  it('puts tilted, off-centre eyes on the ArcFace positions (55,40) and (55,72) to one pixel', () => {
    for (const size of [112, 64]) {
      const eyes: [Point, Point] = [[70, 90], [130, 110]]; // tilted ~18 degrees, IOD ~63 px
      const img = dots(200, 220, eyes);
      const m = similarityFromPoints(eyes, arcfaceEyes(size));
      const out = new Float32Array(size * size * 3);
      warpAffineNormalized(img, m, size, out);
      const [l, r] = centroids(out, size);
      const [el, er] = arcfaceEyes(size);
      expect(Math.hypot(l[0] - el[0], l[1] - el[1])).toBeLessThan(1);
      expect(Math.hypot(r[0] - er[0], r[1] - er[1])).toBeLessThan(1);
      // all three channels equal for a single-channel source
      expect(out[1]).toBe(out[0]);
      expect(out[2]).toBe(out[0]);
    }
  });

  it('fits 5 landmarks to the insightface template exactly when they are a similarity image of it', () => {
    const tpl = insightfaceTemplate(112);
    const th = 0.3, s = 1.7;
    const src: Point[] = tpl.map(([x, y]) => [s * (Math.cos(th) * x - Math.sin(th) * y) + 20, s * (Math.sin(th) * x + Math.cos(th) * y) - 5]);
    const m = similarityFromPoints(src, tpl);
    src.forEach((p, i) => {
      const q = applyAffine(m, p);
      expect(q[0]).toBeCloseTo(tpl[i][0], 6);
      expect(q[1]).toBeCloseTo(tpl[i][1], 6);
    });
  });

  it('centre crop maps the central square onto the output', () => {
    const m = centreCropAffine(200, 100, 50);
    expect(applyAffine(m, [50 - 0.5, -0.5])).toEqual([-0.5, -0.5]);
    const q = applyAffine(m, [150 - 0.5, 100 - 0.5]);
    expect(q[0]).toBeCloseTo(49.5, 9);
    expect(q[1]).toBeCloseTo(49.5, 9);
  });

  it('rejects degenerate input with a message naming it', () => {
    expect(() => similarityFromPoints([[1, 1], [1, 1]], arcfaceEyes(112))).toThrow(/coincide/);
    expect(() => similarityFromPoints([[1, 1]], [[2, 2]])).toThrow(/>= 2 matching points/);
  });
});
