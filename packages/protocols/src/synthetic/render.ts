// Renders one face (identity + jitter) into per-pixel layers the modality transforms consume.
import type { Point } from '../types.ts';
import type { FaceIdentity, ImageJitter } from './identity.ts';

/** Materials: each modality maps them differently (that is what makes the modalities differ). */
export const enum Mat { Background = 0, Hair = 1, Skin = 2, Brow = 3, EyeWhite = 4, Iris = 5, Pupil = 6, Lips = 7, Beard = 8, Nostril = 9, MouthIn = 10 }

export interface FaceLayers {
  size: number;
  mat: Uint8Array; // [H*W] material id
  albedo: Float32Array; // [H*W*3] VIS colour without lighting, identity texture included
  shade: Float32Array; // [H*W] lighting factor (VIS only)
  heat: Float32Array; // [H*W] 0..1 skin-temperature pattern from geometry (thermal only)
  eyes: [Point, Point]; // eye centres in pixel coordinates of this image
}

export function allocLayers(size: number): FaceLayers {
  const n = size * size;
  return {
    size,
    mat: new Uint8Array(n),
    albedo: new Float32Array(n * 3),
    shade: new Float32Array(n),
    heat: new Float32Array(n),
    eyes: [[0, 0], [0, 0]],
  };
}

const CX = 56; // canonical face centre column (112-px frame)

export function renderFace(id: FaceIdentity, j: ImageJitter, out: FaceLayers): FaceLayers {
  const { size, mat, albedo, shade, heat } = out;
  const k = 112 / size; // canonical units per pixel
  const cos = Math.cos(j.rot), sin = Math.sin(j.rot);
  const pivotY = id.eyeY + 8;
  // image (canonical units) = pivot + scale * R (p - pivot) + t ; eyes written in pixels
  const fwd = (x: number, y: number): Point => {
    const dx = x - CX, dy = y - pivotY;
    return [(CX + j.scale * (cos * dx - sin * dy) + j.tx) / k, (pivotY + j.scale * (sin * dx + cos * dy) + j.ty) / k];
  };
  const exL = CX - id.eyeSep / 2, exR = CX + id.eyeSep / 2, ey = id.eyeY;
  out.eyes = [fwd(exL, ey), fwd(exR, ey)];

  const invS = 1 / j.scale;
  const eyeRy = id.eyeRy * j.eyeOpen;
  const browY = ey - id.browGap - j.browRaise;
  const mouthY = ey + id.mouthDy;
  const noseTipY = ey + id.noseLen;
  const headRx = id.faceRx + id.hairVolume, headRy = id.faceRy + id.hairVolume * 0.8;
  const tex = identityTexture(id);
  for (let py = 0, i = 0; py < size; py++) {
    for (let px = 0; px < size; px++, i++) {
      // inverse pose: canonical face coordinates (x, y) of this pixel
      const ix = px * k - j.tx - CX, iy = py * k - j.ty - pivotY;
      const x = CX + invS * (cos * ix + sin * iy);
      const y = pivotY + invS * (-sin * ix + cos * iy);
      const fx = (x - CX) / id.faceRx;
      const fyRaw = (y - id.faceCy) / id.faceRy;
      const narrow = fyRaw > 0 ? 1 - id.jaw * fyRaw * fyRaw : 1;
      const fxj = fx / narrow;
      const rFace = fxj * fxj + fyRaw * fyRaw;
      let m: Mat = Mat.Background;
      let r = 0, g = 0, b = 0;
      let h = 0.08; // background heat
      const hx = (x - CX) / headRx, hy = (y - (id.faceCy - 4)) / headRy;
      const inHead = hx * hx + hy * hy < 1 && y < id.faceCy + 8;
      if (rFace < 1) {
        m = Mat.Skin;
        r = id.skin[0]; g = id.skin[1]; b = id.skin[2];
        // identity texture (waves, moles, freckles), pre-rasterised in canonical space
        const tx = x < 0 ? 0 : x > 111 ? 111 : x | 0, ty = y < 0 ? 0 : y > 111 ? 111 : y | 0;
        const t = tex[ty * 112 + tx];
        r += t; g += t * 0.9; b += t * 0.8;
        // skin temperature: warm centre, cooler periphery and nose tip, warm eye corners
        const nt = ((x - CX) * (x - CX) + (y - noseTipY) * (y - noseTipY)) / 30;
        h = 0.8 - 0.3 * rFace - 0.2 * Math.exp(-nt);
        if (!id.bald && y < id.hairline + 25 * fx * fx && inHead) {
          m = Mat.Hair;
        } else if (id.beard > 0 && y > mouthY - 6 && rFace > 0.25) {
          m = Mat.Beard;
        }
      } else if (inHead && !id.bald) {
        m = Mat.Hair;
      }
      if (m === Mat.Skin || m === Mat.Beard) {
        // features, drawn over skin and beard
        const sideL = x < CX;
        const ex = sideL ? exL : exR;
        const dxE = (x - ex) / id.eyeRx, dyE = (y - ey) / Math.max(eyeRy, 0.3);
        const bSlant = (sideL ? -1 : 1) * id.browSlant * (x - ex);
        const bArch = id.browArch * (x - ex) * (x - ex);
        const mdx = (x - CX) / (id.mouthW * (1 + 0.15 * j.smile));
        const curve = -j.smile * 3 * mdx * mdx;
        const mdy = (y - mouthY - curve) / (id.lipH * (1 + j.mouthOpen));
        if (dxE * dxE + dyE * dyE < 1) {
          const d = Math.sqrt((x - ex) * (x - ex) + (y - ey) * (y - ey));
          m = d < id.irisR * 0.45 ? Mat.Pupil : d < id.irisR ? Mat.Iris : Mat.EyeWhite;
        } else if (Math.abs(x - ex) < id.browLen && Math.abs(y - browY - bSlant + bArch) < id.browThick / 2) {
          m = Mat.Brow;
        } else if (mdx * mdx + mdy * mdy < 1) {
          m = j.mouthOpen > 0 && Math.abs(y - mouthY - curve) < id.lipH * j.mouthOpen * 0.6 ? Mat.MouthIn : Mat.Lips;
        } else if (Math.abs(y - noseTipY) < 1.6 && Math.abs(Math.abs(x - CX) - id.noseW * 0.45) < 1.5) {
          m = Mat.Nostril;
        }
      }
      switch (m) {
        case Mat.Background: { const v = j.bg + j.bgGrad * (y / 112 - 0.5); r = v; g = v * 0.97; b = v * 1.03; break; }
        case Mat.Hair: r = id.hair[0]; g = id.hair[1]; b = id.hair[2]; h = 0.22; break;
        case Mat.Beard: r = r * (1 - id.beard) + id.hair[0] * id.beard; g = g * (1 - id.beard) + id.hair[1] * id.beard; b = b * (1 - id.beard) + id.hair[2] * id.beard; h = 0.5; break;
        case Mat.Brow: r = id.hair[0] * 0.8; g = id.hair[1] * 0.8; b = id.hair[2] * 0.8; h = 0.5; break;
        case Mat.EyeWhite: r = 235; g = 232; b = 225; h = 0.97; break;
        case Mat.Iris: r = id.iris[0]; g = id.iris[1]; b = id.iris[2]; h = 1; break;
        case Mat.Pupil: r = g = b = 12; h = 1; break;
        case Mat.Lips: r = id.lips[0]; g = id.lips[1]; b = id.lips[2]; h = 0.95; break;
        case Mat.MouthIn: r = 70; g = 25; b = 30; h = 0.95; break;
        case Mat.Nostril: r *= 0.55; g *= 0.5; b *= 0.5; h = 0.6; break;
        default: break;
      }
      // nose ridge shading: a soft vertical shadow line on one side
      if (m === Mat.Skin && y > ey && y < noseTipY && Math.abs(x - CX - id.noseW * 0.4) < 1) {
        r *= 0.85; g *= 0.85; b *= 0.85;
      }
      mat[i] = m;
      albedo[i * 3] = r; albedo[i * 3 + 1] = g; albedo[i * 3 + 2] = b;
      heat[i] = h;
      // Lambert-like lighting on an ellipsoid head
      const nz = m === Mat.Background ? 1 : Math.sqrt(Math.max(0, 1 - Math.min(rFace, 1)));
      shade[i] = m === Mat.Background ? j.gain : j.gain * (0.55 + 0.45 * (nz + j.lightX * fx + j.lightY * fyRaw));
    }
  }
  return out;
}

const textureCache = new WeakMap<FaceIdentity, Float32Array>();

/** The identity's skin texture on the 112x112 canonical grid, computed once per identity. */
export function identityTexture(id: FaceIdentity): Float32Array {
  let tex = textureCache.get(id);
  if (tex) return tex;
  tex = new Float32Array(112 * 112);
  const { blobs, waves } = id;
  for (let y = 0; y < 112; y++) {
    for (let x = 0; x < 112; x++) {
      let t = 0;
      for (let w = 0; w < waves.length; w += 4) t += waves[w + 3] * Math.sin(waves[w] * x + waves[w + 1] * y + waves[w + 2]);
      tex[y * 112 + x] = t;
    }
  }
  for (let q = 0; q < blobs.length; q += 4) {
    const bx = blobs[q], by = blobs[q + 1], br = blobs[q + 2], amp = blobs[q + 3];
    for (let y = Math.max(0, Math.floor(by - br)); y <= Math.min(111, Math.ceil(by + br)); y++) {
      for (let x = Math.max(0, Math.floor(bx - br)); x <= Math.min(111, Math.ceil(bx + br)); x++) {
        const d2 = (x - bx) ** 2 + (y - by) ** 2;
        if (d2 < br * br) tex[y * 112 + x] += amp * (1 - d2 / (br * br));
      }
    }
  }
  textureCache.set(id, tex);
  return tex;
}
