// How a run aligns its images: into its backbone's 5-point template (InputContract.template, from the
// registry without building the model), and, with `dataset.detectFaces`, core's face detector (face-api's
// SSD MobileNet + 68 landmarks -> 5 points) as the protocols loader's landmarker for samples that carry no
// eye / landmark annotations. Protocols never imports core's detector: the trainer hands it over here.
import { backboneInfo, createFaceDetector, DEFAULT_FACE_PICK, pickFace, type FaceDetector, type FacePick } from '@ssmb/core';
import type { AlignOptions, AlignStats, FaceLandmarker } from '@ssmb/protocols';
import type { Config } from '../config.ts';

let detector: FaceDetector | undefined; // one per process: the networks load once

/** The landmarker over core's detector: of several faces, the one `pick` chooses (pickFace); how many there were is returned. */
export function faceLandmarker(pick: FacePick = DEFAULT_FACE_PICK): FaceLandmarker {
  return async (img) => {
    detector ??= createFaceDetector();
    const faces = await detector.detect(img);
    const face = pickFace(faces, pick, img);
    return face ? { points5: face.points5, score: face.score, faces: faces.length } : null;
  };
}

/** config dataset.detectFaces -> the pick rule, or null when faces are not detected. */
export function facePickOf(detectFaces: Config['dataset']['detectFaces']): FacePick | null {
  if (!detectFaces) return null;
  return detectFaces === true ? DEFAULT_FACE_PICK : detectFaces.pick;
}

export function imageAlignment(config: Config): AlignOptions {
  const info = backboneInfo(config.backbone.model);
  const pick = facePickOf(config.dataset.detectFaces);
  return { template: info.input.template.points, landmarker: pick ? faceLandmarker(pick) : undefined };
}

/** One line for the worker log: how the images were aligned, every centre crop and detection failure named. */
export function describeAlignStats(s: AlignStats, what: string): string {
  const parts = [`eyes ${s.eyes}`, `landmarks ${s.landmarks}`, `detected ${s.detected}`, `centre-crop ${s.fallback}`];
  let line = `${what}: ${s.total} images aligned (${parts.join(', ')})`;
  if (s.multiFace) line += `; several faces in ${s.multiFace} (one chosen by dataset.detectFaces.pick): ${s.multiFaceFiles.slice(0, 5).join(', ')}${s.multiFace > 5 ? `, ... (${s.multiFace - 5} more)` : ''}`;
  if (s.detectFailed) line += `; no face detected in ${s.detectFailed} (centre-cropped): ${s.detectFailedFiles.slice(0, 5).join(', ')}${s.detectFailed > 5 ? `, ... (${s.detectFailed - 5} more)` : ''}`;
  const plain = s.fallbackFiles.filter((f) => !s.detectFailedFiles.includes(f));
  if (plain.length) line += `; no annotations, centre-cropped: ${plain.slice(0, 5).join(', ')}${plain.length > 5 ? `, ... (${plain.length - 5} more)` : ''}`;
  return line;
}
