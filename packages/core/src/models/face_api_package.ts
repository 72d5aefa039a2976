// face-api's bundle for Node with @tensorflow/tfjs + the wasm backend as external packages (ours): the
// package's own recognition network (dlib-resnet29's reference) and its detector and landmarks.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export interface FaceApiNet {
  loadFromWeightMap(m: Record<string, unknown>): void;
  forwardInput(input: unknown): unknown;
  dispose(): void;
}

export function faceApi(): { FaceRecognitionNet: new () => FaceApiNet; toNetInput(x: unknown): Promise<unknown>; version: string; [k: string]: unknown } {
  return require('@vladmandic/face-api/dist/face-api.node-wasm.js');
}
