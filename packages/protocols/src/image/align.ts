// Similarity alignment to the ArcFace crop and a bilinear affine warp in one tight typed-array loop.
import type { Point } from '../types.ts';
import type { DecodedImage } from './decode.ts';

/** Affine map [a, b, tx, c, d, ty]: x' = a x + b y + tx ; y' = c x + d y + ty. */
export type Affine = [number, number, number, number, number, number];

/** ArcFace 112x112 eye centres, (row, col) (55, 40) and (55, 72), as [x, y] scaled to `size`. */
export function arcfaceEyes(size: number): [Point, Point] {
  const s = size / 112;
  return [
    [40 * s, 55 * s],
    [72 * s, 55 * s],
  ];
}

/** insightface 5-landmark template for 112x112 (left eye, right eye, nose, left mouth, right mouth), [x, y]. */
export const INSIGHTFACE_TEMPLATE_112: Point[] = [
  [38.2946, 51.6963],
  [73.5318, 51.5014],
  [56.0252, 71.7366],
  [41.5493, 92.3655],
  [70.7299, 92.2041],
];

export function insightfaceTemplate(size: number): Point[] {
  const s = size / 112;
  return INSIGHTFACE_TEMPLATE_112.map(([x, y]) => [x * s, y * s]);
}

/**
 * Least-squares similarity (rotation + uniform scale + translation, no reflection) taking src onto dst.
 * Closed form of Umeyama's method in complex numbers; exact for two points.
 */
export function similarityFromPoints(src: Point[], dst: Point[]): Affine {
  if (src.length !== dst.length || src.length < 2) {
    throw new Error(`similarityFromPoints: need >= 2 matching points, received ${src.length} src and ${dst.length} dst`);
  }
  const n = src.length;
  let sx = 0, sy = 0, dx = 0, dy = 0;
  for (let i = 0; i < n; i++) {
    sx += src[i][0]; sy += src[i][1]; dx += dst[i][0]; dy += dst[i][1];
  }
  sx /= n; sy /= n; dx /= n; dy /= n;
  let num1 = 0, num2 = 0, den = 0;
  for (let i = 0; i < n; i++) {
    const ux = src[i][0] - sx, uy = src[i][1] - sy;
    const vx = dst[i][0] - dx, vy = dst[i][1] - dy;
    num1 += ux * vx + uy * vy;
    num2 += ux * vy - uy * vx;
    den += ux * ux + uy * uy;
  }
  if (den < 1e-9) throw new Error('similarityFromPoints: source points coincide');
  const a = num1 / den, b = num2 / den;
  return [a, -b, dx - (a * sx - b * sy), b, a, dy - (b * sx + a * sy)];
}

/** Largest central square scaled to size x size: the documented fallback when a sample has no annotation. */
export function centreCropAffine(width: number, height: number, size: number): Affine {
  const side = Math.min(width, height);
  const s = size / side;
  // pixel centres: x' + 0.5 = s (x + 0.5 - x0)
  const x0 = (width - side) / 2, y0 = (height - side) / 2;
  return [s, 0, s * (0.5 - x0) - 0.5, 0, s, s * (0.5 - y0) - 0.5];
}

export function invertAffine(m: Affine): Affine {
  const [a, b, tx, c, d, ty] = m;
  const det = a * d - b * c;
  if (Math.abs(det) < 1e-12) throw new Error('invertAffine: transform is singular');
  const ia = d / det, ib = -b / det, ic = -c / det, id = a / det;
  return [ia, ib, -(ia * tx + ib * ty), ic, id, -(ic * tx + id * ty)];
}

export function applyAffine(m: Affine, [x, y]: Point): Point {
  return [m[0] * x + m[1] * y + m[2], m[3] * x + m[4] * y + m[5]];
}

/**
 * Warp `img` by `m` (source -> output pixel coordinates) into a size x size x 3 NHWC slot of `out`
 * starting at `offset`, bilinear, zero outside the source, scaled (x - 127.5) / 127.5.
 * Single-channel images are repeated to 3 channels.
 */
export function warpAffineNormalized(img: DecodedImage, m: Affine, size: number, out: Float32Array, offset = 0): void {
  const [ia, ib, itx, ic, id, ity] = invertAffine(m);
  const { data, width: w, height: h, channels: ch } = img;
  const k = 1 / 127.5;
  let o = offset;
  for (let v = 0; v < size; v++) {
    let x = ib * v + itx; // source coords of (u=0, v)
    let y = id * v + ity;
    for (let u = 0; u < size; u++, x += ia, y += ic, o += 3) {
      const x0 = Math.floor(x), y0 = Math.floor(y);
      if (x0 < -1 || y0 < -1 || x0 >= w || y0 >= h) {
        out[o] = out[o + 1] = out[o + 2] = -1;
        continue;
      }
      const fx = x - x0, fy = y - y0;
      const w00 = (1 - fx) * (1 - fy), w01 = fx * (1 - fy), w10 = (1 - fx) * fy, w11 = fx * fy;
      const p00 = (y0 * w + x0) * ch, p01 = p00 + ch, p10 = p00 + w * ch, p11 = p10 + ch;
      if (x0 >= 0 && y0 >= 0 && x0 + 1 < w && y0 + 1 < h) {
        // interior: all four neighbours exist (nearly every pixel of a face crop)
        if (ch === 3) {
          out[o] = (w00 * data[p00] + w01 * data[p01] + w10 * data[p10] + w11 * data[p11]) * k - 1;
          out[o + 1] = (w00 * data[p00 + 1] + w01 * data[p01 + 1] + w10 * data[p10 + 1] + w11 * data[p11 + 1]) * k - 1;
          out[o + 2] = (w00 * data[p00 + 2] + w01 * data[p01 + 2] + w10 * data[p10 + 2] + w11 * data[p11 + 2]) * k - 1;
        } else {
          out[o] = out[o + 1] = out[o + 2] = (w00 * data[p00] + w01 * data[p01] + w10 * data[p10] + w11 * data[p11]) * k - 1;
        }
        continue;
      }
      // border: zero padding, out-of-range neighbours contribute nothing
      const in0 = y0 >= 0, in1 = y0 + 1 < h, ix0 = x0 >= 0, ix1 = x0 + 1 < w;
      for (let c = 0; c < 3; c++) {
        const cc = ch === 1 ? 0 : c;
        let s = 0;
        if (in0 && ix0) s += w00 * data[p00 + cc];
        if (in0 && ix1) s += w01 * data[p01 + cc];
        if (in1 && ix0) s += w10 * data[p10 + cc];
        if (in1 && ix1) s += w11 * data[p11 + cc];
        out[o + c] = s * k - 1;
      }
    }
  }
}
