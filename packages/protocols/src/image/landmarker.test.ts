// The loader's landmarker hook and template option: detected points are aligned like landmarks into the
// given template; a sample without a detected face is centre-cropped and counted with its file.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Point, Sample } from '../types.ts';
import { loadAlignedBatch } from './load.ts';
import type { FaceLandmarker } from './landmarker.ts';

let dir: string;
const S = 48;
// a 96x80 grey image with bright dots at five "landmarks"; elsewhere dark
const DOTS: Point[] = [[30, 30], [60, 32], [45, 45], [33, 60], [57, 61]];
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ssmb-landmarker-'));
  const w = 96, h = 80;
  const px = new Uint8Array(w * h).fill(10);
  for (const [x, y] of DOTS) for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) px[(y + dy) * w + x + dx] = 250;
  await sharp(Buffer.from(px), { raw: { width: w, height: h, channels: 1 } }).png().toFile(path.join(dir, 'face.png'));
  fs.copyFileSync(path.join(dir, 'face.png'), path.join(dir, 'noface.png'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** finds a face in face.png only; counts its calls */
const calls: string[] = [];
const landmarker: FaceLandmarker = async (img, sample) => {
  calls.push(path.basename(sample.path));
  expect(img.width).toBe(96);
  return sample.path.endsWith('noface.png') ? null : { points5: DOTS, score: 0.99, faces: 1 };
};

describe('loadAlignedBatch with a landmarker and a template', () => {
  it('aligns detected points onto the template, counts detection failures with their files, records every method', async () => {
    const template: Point[] = [[14, 16], [34, 16], [24, 26], [16, 36], [32, 36]]; // at S = 48
    const s = { subject: '1', modality: 'NIR' };
    const samples: Sample[] = [
      { ...s, path: path.join(dir, 'face.png') },
      { ...s, path: path.join(dir, 'noface.png') },
      { ...s, path: path.join(dir, 'face.png'), eyes: [[30, 30], [60, 32]] }, // annotated: no detection
    ];
    const { data, stats } = await loadAlignedBatch(samples, S, { template, landmarker, concurrency: 1 });
    expect(calls).toEqual(['face.png', 'noface.png']);
    expect(stats).toMatchObject({
      total: 3, detected: 1, eyes: 1, landmarks: 0, fallback: 1, fallbackFiles: [samples[1].path],
      detectFailed: 1, detectFailedFiles: [samples[1].path], methods: ['detected', 'detect-failed', 'eyes'],
    });
    // the dots land near the template points in the aligned crop (least squares: within 2 px)
    const at = (img: number, x: number, y: number) => data[((img * S + y) * S + x) * 3];
    for (const [x, y] of template) {
      let best = -Infinity;
      for (let dy = -2; dy <= 2; dy++) for (let dx = -2; dx <= 2; dx++) best = Math.max(best, at(0, Math.round(x) + dx, Math.round(y) + dy));
      expect(best, `template point ${x},${y}`).toBeGreaterThan(0);
    }
    // the eye-annotated sample maps its eyes onto the template's eye points (a non-insightface template)
    expect(Math.max(at(2, 14, 16), at(2, 34, 16))).toBeGreaterThan(0);
  });

  it('an image in which the landmarker found several faces is counted, with its file, as multi-face', async () => {
    const several: FaceLandmarker = async () => ({ points5: DOTS, score: 0.8, faces: 3 });
    const s = { subject: '1', modality: 'VIS' };
    const samples: Sample[] = [{ ...s, path: path.join(dir, 'face.png') }, { ...s, path: path.join(dir, 'noface.png') }];
    const { stats } = await loadAlignedBatch(samples, S, { landmarker: async (img, x) => (x.path.endsWith('noface.png') ? landmarker(img, x) : several(img, x)), concurrency: 1 });
    expect(stats).toMatchObject({ detected: 1, detectFailed: 1, multiFace: 1, multiFaceFiles: [samples[0].path] });
  });

  it('rejects a template that is not 5 points', async () => {
    await expect(loadAlignedBatch([{ subject: '1', modality: 'VIS', path: path.join(dir, 'face.png') }], S, { template: [[1, 2]] })).rejects.toThrow(/align.template: expected 5 points, received 1/);
  });
});
