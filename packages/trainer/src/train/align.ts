// How a run aligns its images: into its backbone's 5-point template (InputContract.template, from the
// registry without building the model), and, with `dataset.detectFaces`, core's face detector (face-api's
// SSD MobileNet + 68 landmarks -> 5 points) as the protocols loader's landmarker for samples that carry no
// eye / landmark annotations. Protocols never imports core's detector: the trainer hands it over here.
import { backboneInfo, createFaceDetector, type FaceDetector } from '@ssmb/core';
import type { AlignOptions, AlignStats, FaceLandmarker } from '@ssmb/protocols';
import type { Config } from '../config.ts';

let detector: FaceDetector | undefined; // one per process: the networks load once

/** The landmarker over core's detector: the most confident face of the image. */
export function faceLandmarker(): FaceLandmarker {
  return async (img) => {
    detector ??= createFaceDetector();
    const faces = await detector.detect(img);
    return faces.length ? { points5: faces[0].points5, score: faces[0].score, faces: faces.length } : null;
  };
}

export function imageAlignment(config: Config): AlignOptions {
  const info = backboneInfo(config.backbone.model);
  return { template: info.input.template.points, landmarker: config.dataset.detectFaces ? faceLandmarker() : undefined };
}

/** One line for the worker log: how the images were aligned, every centre crop and detection failure named. */
export function describeAlignStats(s: AlignStats, what: string): string {
  const parts = [`eyes ${s.eyes}`, `landmarks ${s.landmarks}`, `detected ${s.detected}`, `centre-crop ${s.fallback}`];
  let line = `${what}: ${s.total} images aligned (${parts.join(', ')})`;
  if (s.detectFailed) line += `; no face detected in ${s.detectFailed} (centre-cropped): ${s.detectFailedFiles.slice(0, 5).join(', ')}${s.detectFailed > 5 ? `, ... (${s.detectFailed - 5} more)` : ''}`;
  const plain = s.fallbackFiles.filter((f) => !s.detectFailedFiles.includes(f));
  if (plain.length) line += `; no annotations, centre-cropped: ${plain.slice(0, 5).join(', ')}${plain.length > 5 ? `, ... (${plain.length - 5} more)` : ''}`;
  return line;
}
