// End to end on the real photos that ship with face-api (demo/sample1-6.jpg, group photos): faces are
// detected, aligned into each pre-trained backbone's template, and embedded; our re-implementations give
// the packages' own descriptors on those crops. Every photo holds several faces: the one aligned is chosen
// by the documented rule (dataset.detectFaces.pick: largest box by default, score, center), never silently
// the detector's first, and such images are counted per role by `protocols check` and by a run.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  backboneInfo, cosineSimilarity, createFaceDetector, createPackageReference, importPretrained, initBackend, listPretrainedBackbones,
  packageFile, pickFace, tf, type DetectedFace, type PixelImage,
} from '@ssmb/core';
import { checkProtocol, decodeImage, formatCheckReport, loadAlignedBatch, similarityFromPoints, type Point, type Sample } from '@ssmb/protocols';
import { greyPng, put, tempRoot } from '@ssmb/protocols/testing';
import { resolveConfig } from '../config.ts';
import { dataAccountMetrics } from '../eval/evaluate_fold.ts';
import { describeAlignStats, faceLandmarker, facePickOf } from './align.ts';

const PHOTOS = [1, 2, 3, 4, 5, 6].map((i) => packageFile('@vladmandic/face-api', `demo/sample${i}.jpg`));
const sample = (p: string): Sample => ({ path: p, subject: path.basename(p, '.jpg'), modality: 'VIS' });
const detector = () => createFaceDetector();
const confident = new Map<string, DetectedFace>(); // photo -> most confident face
const best = new Map<string, DetectedFace>(); // photo -> the face the landmarker aligns (every photo holds several: the largest)
const all = new Map<string, { img: PixelImage; faces: DetectedFace[] }>();
const root = tempRoot('multi-face');
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

beforeAll(async () => {
  expect(await initBackend({ prefer: 'wasm' })).toBe('wasm');
  for (const p of PHOTOS) {
    const img = await decodeImage(p);
    const faces = await detector().detect(img);
    expect(faces.length, p).toBeGreaterThan(1);
    confident.set(p, faces[0]);
    best.set(p, pickFace(faces, 'largest', img)!);
    all.set(p, { img, faces });
  }
}, 120_000);

const apply = (m: number[], [x, y]: Point): Point => [m[0] * x + m[1] * y + m[2], m[3] * x + m[4] * y + m[5]];
const dist = (a: Point, b: Point) => Math.hypot(a[0] - b[0], a[1] - b[1]);

describe('face detection + alignment + embedding on the face-api sample photos', () => {
  it('detects several faces in every photo, the most confident above 0.9; the chosen (largest) face has 68 landmarks; 5 points are eye centres, nose tip, mouth corners', () => {
    for (const p of PHOTOS) {
      expect(confident.get(p)!.score, p).toBeGreaterThan(0.9);
      const f = best.get(p)!;
      expect(f.score, p).toBeGreaterThan(0.6);
      expect(f.landmarks68).toHaveLength(68);
      const [le, re, nose, lm, rm] = f.points5;
      expect(le[0]).toBeLessThan(re[0]); // left-in-image eye first
      expect(lm[0]).toBeLessThan(rm[0]);
      expect(nose[1]).toBeGreaterThan((le[1] + re[1]) / 2); // nose below the eyes, mouth below the nose
      expect((lm[1] + rm[1]) / 2).toBeGreaterThan(nose[1]);
    }
  });

  describe.each(listPretrainedBackbones())('%s template', (name) => {
    const t = backboneInfo(name).input.template;
    const iod = dist(t.points[0], t.points[1]);

    it('aligns every photo by detection; eyes land on the template eyes; the crop is where the transform says (re-detected within 2 px at 112 scale)', async () => {
      const { stats } = await loadAlignedBatch(PHOTOS.map(sample), t.size, { template: t.points, landmarker: faceLandmarker(), concurrency: 1 });
      expect(stats).toMatchObject({ total: 6, detected: 6, detectFailed: 0, fallback: 0, multiFace: 6, methods: Array(6).fill('detected') });
      expect(describeAlignStats(stats, 'photos')).toBe(
        `photos: 6 images aligned (eyes 0, landmarks 0, detected 6, centre-crop 0); several faces in 6 (one chosen by dataset.detectFaces.pick): ${PHOTOS.slice(0, 5).join(', ')}, ... (1 more)`,
      );
      // warp into a canvas 3x the crop with the template in its middle, so the detector sees context
      const K = 3, off = t.size;
      const big = t.points.map(([x, y]) => [x + off, y + off] as Point);
      const { data } = await loadAlignedBatch(PHOTOS.map(sample), t.size * K, { template: big, landmarker: faceLandmarker(), concurrency: 1 });
      const per = (t.size * K) ** 2 * 3;
      for (let i = 0; i < PHOTOS.length; i++) {
        const f = best.get(PHOTOS[i])!;
        const m = similarityFromPoints(f.points5, t.points);
        const moved = f.points5.map((q) => apply(m, q));
        // least squares: the centroids coincide; the eyes land within 10% of the template's eye distance
        const c = (ps: Point[]) => [0, 1].map((k) => ps.reduce((s, q) => s + q[k], 0) / 5);
        expect(dist(c(moved) as Point, c(t.points) as Point)).toBeLessThan(1e-6);
        for (const k of [0, 1]) expect(dist(moved[k], t.points[k]) / iod, `${PHOTOS[i]} eye ${k}`).toBeLessThan(0.1);
        // the warped pixels: the detector finds that face (nearest the canvas centre) where the transform put it
        const u8 = Uint8Array.from(data.subarray(i * per, (i + 1) * per), (v) => Math.max(0, Math.min(255, Math.round(v * 127.5 + 127.5))));
        const again = await detector().detect({ data: u8, width: t.size * K, height: t.size * K, channels: 3 });
        const centre = (g: DetectedFace) => dist([g.box.x + g.box.width / 2, g.box.y + g.box.height / 2], [off + t.size / 2, off + t.size / 2]);
        const g = again.sort((a, b) => centre(a) - centre(b))[0];
        expect(g, PHOTOS[i]).toBeDefined();
        const err = g.points5.reduce((s, q, k) => s + dist([q[0] - off, q[1] - off], moved[k]), 0) / 5;
        expect(err * (112 / t.size), `${PHOTOS[i]}: mean re-detection error in 112-px units`).toBeLessThan(2);
      }
    }, 120_000);

    it('embeds the aligned faces end to end: the package\'s own model agrees (cosine >= 0.9999); a face matches itself best', async () => {
      const S = t.size;
      const landmarker = faceLandmarker();
      const { data } = await loadAlignedBatch(PHOTOS.map(sample), S, { template: t.points, landmarker, concurrency: 1 });
      // the same faces aligned 1.5 px off (a second "capture")
      const shifted = t.points.map(([x, y]) => [x + 1.5, y - 1] as Point);
      const { data: data2 } = await loadAlignedBatch(PHOTOS.map(sample), S, { template: shifted, landmarker, concurrency: 1 });
      const imp = importPretrained(name);
      const ref = await createPackageReference(name);
      const B = PHOTOS.length, E = imp.model.embeddingSize;
      try {
        const embed = (d: Float32Array) => tf.tidy(() => imp.model.forward(tf.tensor4d(d, [B, S, S, 3])).dataSync() as Float32Array);
        const ours = embed(data), ours2 = embed(data2);
        const px = tf.tensor4d(data.map((v) => v * 127.5 + 127.5), [B, S, S, 3]);
        const theirs = await ref.embed(px);
        px.dispose();
        const row = (a: Float32Array, i: number) => a.subarray(i * E, (i + 1) * E);
        for (let i = 0; i < B; i++) {
          expect(cosineSimilarity(row(ours, i), row(theirs, i)), `${PHOTOS[i]} vs package`).toBeGreaterThanOrEqual(0.9999);
          const self = cosineSimilarity(row(ours, i), row(ours2, i));
          for (let j = 0; j < B; j++) if (j !== i) expect(self, `${PHOTOS[i]}: itself vs ${PHOTOS[j]}`).toBeGreaterThan(cosineSimilarity(row(ours, i), row(ours2, j)));
        }
      } finally {
        ref.dispose();
        imp.model.dispose();
      }
    }, 120_000);
  });
});

const inside = (p: [number, number], f: DetectedFace) => p[0] > f.box.x && p[0] < f.box.x + f.box.width && p[1] > f.box.y && p[1] < f.box.y + f.box.height;
const area = (f: DetectedFace) => f.box.width * f.box.height;

describe('several faces in one photo (sample1.jpg: three people)', () => {
  const PHOTO = PHOTOS[0];
  let img: PixelImage;
  let faces: DetectedFace[];
  beforeAll(() => ({ img, faces } = all.get(PHOTO)!));

  it('pickFace: largest box, highest score or nearest the centre; the three rules choose three different people here', () => {
    expect(faces.length).toBe(3);
    const largest = pickFace(faces, 'largest', img)!;
    const score = pickFace(faces, 'score', img)!;
    const center = pickFace(faces, 'center', img)!;
    expect(area(largest)).toBe(Math.max(...faces.map(area)));
    expect(score.score).toBe(Math.max(...faces.map((f) => f.score)));
    const d = (f: DetectedFace) => Math.hypot(f.box.x + f.box.width / 2 - img.width / 2, f.box.y + f.box.height / 2 - img.height / 2);
    expect(d(center)).toBe(Math.min(...faces.map(d)));
    expect(new Set([largest, score, center]).size).toBe(3);
    expect(pickFace([], 'largest', img)).toBeUndefined();
    expect(() => pickFace(faces, 'first' as never, img)).toThrow('face pick must be one of largest, score, center, received "first"');
  });

  it('the landmarker aligns the chosen face and says how many there were; the batch counts the image as multi-face', async () => {
    for (const pick of [undefined, 'center'] as const) {
      const r = (await faceLandmarker(pick)(img, { path: PHOTO, subject: '1', modality: 'VIS' }))!;
      expect(r.faces).toBe(3);
      expect(r.points5.every((p) => inside(p as [number, number], pickFace(faces, pick ?? 'largest', img)!)), pick).toBe(true); // default: largest
    }
    const sample: Sample = { path: PHOTO, subject: '1', modality: 'VIS' };
    const { stats } = await loadAlignedBatch([sample], 112, { landmarker: faceLandmarker() });
    expect(stats).toMatchObject({ detected: 1, multiFace: 1, multiFaceFiles: [PHOTO] });
    expect(describeAlignStats(stats, 'gallery')).toBe(
      `gallery: 1 images aligned (eyes 0, landmarks 0, detected 1, centre-crop 0); several faces in 1 (one chosen by dataset.detectFaces.pick): ${PHOTO}`,
    );
  }, 120_000);

  it('`protocols check` with face detection counts per role the images with several faces and with none', async () => {
    put(root, 'TD_RGB_E_Set1/1/TD_RGB_E_1.jpg', fs.readFileSync(PHOTO));
    put(root, 'TD_IR_E_Set2/1/TD_IR_E_1.png', await greyPng(64, 64, () => 90)); // a flat image: no face
    const r = await checkProtocol('tufts-vis-thermal-90-22', root, { detectFaces: { landmarker: faceLandmarker('largest'), pick: 'largest' } });
    const f = r.folds[0];
    expect(f.faces).toEqual({
      train: { checked: 0, noFace: 0, multiFace: 0, multiFaceExamples: [] },
      gallery: { checked: 1, noFace: 0, multiFace: 1, multiFaceExamples: [path.join(root, 'TD_RGB_E_Set1/1/TD_RGB_E_1.jpg')] },
      probe: { checked: 1, noFace: 1, multiFace: 0, multiFaceExamples: [] },
    });
    const text = formatCheckReport(r);
    expect(text).toContain(`  faces   gallery: detector ran on 1 unannotated image, no face in 0, several faces in 1 (pick largest chooses one; e.g. ${path.join(root, 'TD_RGB_E_Set1/1/TD_RGB_E_1.jpg')})`);
    expect(text).toContain('  faces   probe: detector ran on 1 unannotated image, no face in 1\n');
  }, 120_000);

  it('dataset.detectFaces: true is the largest-box rule; a rule by name; a wrong name fails naming the choices; the run records the counts per role', () => {
    expect(facePickOf(resolveConfig({ sets: ['dataset.detectFaces=true'] }).dataset.detectFaces)).toBe('largest');
    expect(facePickOf(resolveConfig({ sets: ['dataset.detectFaces.pick=center'] }).dataset.detectFaces)).toBe('center');
    expect(facePickOf(resolveConfig({}).dataset.detectFaces)).toBeNull();
    expect(() => resolveConfig({ sets: ['dataset.detectFaces.pick=first'] })).toThrow(/dataset\.detectFaces/);
    const m = dataAccountMetrics({ skipped: null, bitDepthMismatch: 0, centreCropped: 0, noFace: 0, multiFace: { train: 2, gallery: 0, probe: 3 }, warnings: [] });
    expect(m).toEqual({ align_multi_face_train: { value: 2, count: 2 }, align_multi_face_probe: { value: 3, count: 3 } });
  });
});
