// Parametric face identities and per-image jitter for the synthetic benchmark (all in 112-px canonical units).
import { gauss, type Rng } from '../rng.ts';

export type RGB = [number, number, number];

export interface FaceIdentity {
  eyeY: number; eyeSep: number; eyeRx: number; eyeRy: number; irisR: number; iris: RGB;
  browGap: number; browLen: number; browThick: number; browSlant: number; browArch: number;
  faceCy: number; faceRx: number; faceRy: number; jaw: number;
  noseLen: number; noseW: number;
  mouthDy: number; mouthW: number; lipH: number; lips: RGB;
  skin: RGB; hair: RGB; hairline: number; hairVolume: number; bald: boolean;
  beard: number; // 0 = none, else darkness 0..1
  blobs: Float32Array; // [x, y, r, amplitude] x K: moles, freckles, marks (identity texture)
  waves: Float32Array; // [fx, fy, phase, amplitude] x 3: low-frequency skin texture
}

export interface ImageJitter {
  rot: number; scale: number; tx: number; ty: number; // pose (similarity)
  smile: number; mouthOpen: number; eyeOpen: number; browRaise: number; // expression
  lightX: number; lightY: number; gain: number; // lighting
  bg: number; bgGrad: number;
}

const between = (rng: Rng, a: number, b: number) => a + (b - a) * rng();
const mix = (a: RGB, b: RGB, t: number): RGB => [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];

const HAIR: RGB[] = [[25, 20, 18], [60, 40, 25], [110, 75, 40], [190, 150, 90], [140, 60, 30], [150, 150, 150]];
const IRIS: RGB[] = [[70, 45, 25], [40, 30, 20], [70, 110, 150], [80, 110, 70], [110, 90, 60]];

export function sampleIdentity(rng: Rng): FaceIdentity {
  const tone = rng();
  const skin = mix([238, 205, 180], [105, 72, 52], tone).map((c, i) => c + (i === 0 ? 8 : -4) * (rng() - 0.5)) as RGB;
  const blobsK = 14;
  const blobs = new Float32Array(blobsK * 4);
  for (let k = 0; k < blobsK; k++) {
    blobs.set([between(rng, 28, 84), between(rng, 35, 100), between(rng, 1, 3.2), between(rng, -55, 20)], k * 4);
  }
  const waves = new Float32Array(12);
  for (let k = 0; k < 3; k++) waves.set([between(rng, -0.25, 0.25), between(rng, -0.25, 0.25), rng() * 6.28, between(rng, 3, 9)], k * 4);
  const eyeY = 55 + gauss(rng) * 1.5;
  return {
    eyeY,
    eyeSep: between(rng, 28, 36),
    eyeRx: between(rng, 5.5, 8),
    eyeRy: between(rng, 2.4, 3.8),
    irisR: between(rng, 2.2, 3.2),
    iris: IRIS[Math.floor(rng() * IRIS.length)],
    browGap: between(rng, 6.5, 10.5),
    browLen: between(rng, 7.5, 12),
    browThick: between(rng, 1.4, 3.6),
    browSlant: between(rng, -0.18, 0.18),
    browArch: between(rng, 0, 0.08),
    faceCy: between(rng, 59, 66),
    faceRx: between(rng, 33, 41),
    faceRy: between(rng, 44, 52),
    jaw: between(rng, 0, 0.45),
    noseLen: between(rng, 16, 25),
    noseW: between(rng, 5, 9.5),
    mouthDy: between(rng, 32, 40),
    mouthW: between(rng, 8.5, 15),
    lipH: between(rng, 1.8, 4),
    lips: mix(skin, [170, 70, 75], between(rng, 0.3, 0.7)),
    skin,
    hair: HAIR[Math.floor(rng() * HAIR.length)].map((c) => c + 12 * (rng() - 0.5)) as RGB,
    hairline: between(rng, 18, 33),
    hairVolume: between(rng, 3, 11),
    bald: rng() < 0.1,
    beard: rng() < 0.2 ? between(rng, 0.4, 1) : 0,
    blobs,
    waves,
  };
}

export function sampleJitter(rng: Rng): ImageJitter {
  return {
    rot: gauss(rng) * 0.08, // ~4.5 degrees
    scale: 1 + gauss(rng) * 0.04,
    tx: gauss(rng) * 2,
    ty: gauss(rng) * 2,
    smile: between(rng, -0.4, 1),
    mouthOpen: rng() < 0.3 ? between(rng, 0.2, 1) : 0,
    eyeOpen: between(rng, 0.55, 1.1),
    browRaise: gauss(rng) * 1.2,
    lightX: between(rng, -0.6, 0.6),
    lightY: between(rng, -0.4, 0.3),
    gain: between(rng, 0.8, 1.15),
    bg: between(rng, 40, 220),
    bgGrad: between(rng, -40, 40),
  };
}
