// A synthetic heterogeneous face benchmark for the int8 accuracy guards (tests, bench): face-like
// generated identities (geometry, shading and skin texture seeded per identity), two captures each
// (shifted, their own sensor noise), seen as VIS, NIR-like (grey, gamma) and thermal-like (grey, low contrast): a frozen VIS network still
// tells the identities apart across them, so the verification AUC measures something.
import { seededValues } from '../../kernels/test_utils.ts';

const MODALITIES = ['VIS', 'NIR', 'TH'] as const;

/** `ids` identities x 2 captures x 3 modalities, NHWC scaled to [-1, 1]: a face-like ellipse with eyes and
 *  mouth whose geometry and shading depend on the identity, capture noise, and per-modality transforms
 *  (NIR-like: grey with gamma; thermal-like: grey at low contrast). Returns the images grouped by
 *  modality and each image's identity. */
export function syntheticHfr(ids: number, S: number, seed: number): { sets: { modality: string; images: Float32Array }[]; identity: number[]; all: Float32Array } {
  const per = S * S * 3;
  const geom = seededValues(ids * 6, seed);
  const sets = MODALITIES.map((modality) => ({ modality, images: new Float32Array(ids * 2 * per) }));
  const identity: number[] = [];
  for (let id = 0; id < ids; id++) for (let cap = 0; cap < 2; cap++) {
    const texture = seededValues(per, seed * 1000 + id * 10); // the identity's skin texture
    const noise = seededValues(per, seed * 1000 + id * 10 + cap + 1); // the capture's sensor noise
    const [ex, ey, mw, sk, fw, fh] = Array.from(geom.subarray(id * 6, id * 6 + 6), (g) => 0.5 + 0.25 * g);
    const k = id * 2 + cap;
    identity.push(id);
    for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) {
      const u = x / S - 0.5 + 0.01 * cap, v = y / S - 0.5;
      const face = (u * u) / (0.08 + 0.04 * fw) + (v * v) / (0.14 + 0.04 * fh) < 1 ? 1 : 0;
      const eye = (cx: number) => ((u - cx) ** 2 + (v + 0.05 + 0.06 * ey) ** 2 < 0.002 + 0.002 * sk ? 1 : 0);
      const eyes = eye(-0.1 - 0.08 * ex) + eye(0.1 + 0.08 * ex);
      const mouth = Math.abs(v - 0.18) < 0.02 && Math.abs(u) < 0.05 + 0.06 * mw ? 1 : 0;
      const rgb = [0, 1, 2].map((c) => {
        const base = 50 + 140 * face * (0.7 + 0.15 * c * sk) - 100 * eyes - 60 * mouth + 30 * Math.sin((x * (1 + fw)) / 7 + c + id);
        return Math.min(255, Math.max(0, base + 45 * texture[(y * S + x) * 3 + c] + 8 * noise[(y * S + x) * 3 + c]));
      });
      const grey = (rgb[0] + rgb[1] + rgb[2]) / 3;
      const views = [rgb, [0, 0, 0].map(() => 255 * (grey / 255) ** 0.7), [0, 0, 0].map(() => 40 + 0.6 * grey)];
      views.forEach((px, m) => { for (let c = 0; c < 3; c++) sets[m].images[k * per + (y * S + x) * 3 + c] = (px[c] - 127.5) / 127.5; });
    }
  }
  const all = new Float32Array(3 * ids * 2 * per);
  sets.forEach((s, m) => all.set(s.images, m * ids * 2 * per));
  return { sets, identity: [...identity, ...identity, ...identity], all };
}

