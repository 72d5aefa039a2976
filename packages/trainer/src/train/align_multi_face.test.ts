// A photo with several faces (face-api's demo/sample1.jpg: three people) is aligned on the face the
// documented rule chooses (dataset.detectFaces.pick: largest box by default, score, center), never
// silently on the detector's first; such images are counted per role by `protocols check` and a run.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFaceDetector, initBackend, packageFile, pickFace, type DetectedFace, type PixelImage } from '@ssmb/core';
import { checkProtocol, decodeImage, formatCheckReport, loadAlignedBatch, type Sample } from '@ssmb/protocols';
import { greyPng, put, tempRoot } from '@ssmb/protocols/testing';
import { resolveConfig } from '../config.ts';
import { dataAccountMetrics } from '../eval/evaluate_fold.ts';
import { describeAlignStats, faceLandmarker, facePickOf } from './align.ts';

const PHOTO = packageFile('@vladmandic/face-api', 'demo/sample1.jpg');
let img: PixelImage;
let faces: DetectedFace[];
const root = tempRoot('multi-face');
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

beforeAll(async () => {
  expect(await initBackend({ prefer: 'wasm' })).toBe('wasm');
  img = await decodeImage(PHOTO);
  faces = await createFaceDetector().detect(img);
}, 120_000);

const inside = (p: [number, number], f: DetectedFace) => p[0] > f.box.x && p[0] < f.box.x + f.box.width && p[1] > f.box.y && p[1] < f.box.y + f.box.height;
const area = (f: DetectedFace) => f.box.width * f.box.height;

describe('several faces in one photo', () => {
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
