// The packages' OWN implementations of the pre-trained backbones, run on the same tf engine: the reference
// our re-implementations are checked against (tests, `import-weights --verify`). dlib-resnet29: face-api's
// FaceRecognitionNet (its node-wasm bundle, which uses our @tensorflow/tfjs); faceres-mobilenet: the tfjs
// graph model itself (tfjs-converter), fed upstream HSE_FaceRec_tf's preprocessing (BGR minus the Caffe mean),
// as our model is. The Human library feeds that graph RGB x 255 instead, which verifies worse on real faces:
// agreement with this reference is agreement with the graph, not with Human's own descriptors.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { tf, loadGraphModel } from '../tf.ts';
import { DLIB_FAMILY } from '../models/dlib_resnet29.ts';
import { FACERES_FAMILY, FACERES_INPUT } from '../models/faceres_mobilenet.ts';
import { backboneInfo } from '../models/registry.ts';
import { pretrainedFiles } from './pretrained.ts';
import { readTfjsWeights } from './tfjs_weights.ts';

const require = createRequire(import.meta.url);

export interface PackageReference {
  /** what runs: e.g. "face-api 1.7.15 FaceRecognitionNet" */
  readonly label: string;
  /** pixels [B,S,S,3] RGB 0..255 -> descriptor [B,E] (the package's network; face-api's own preprocessing,
   *  for faceres upstream's rather than Human's: see the file header) */
  embed(pixels: tf.Tensor4D): Promise<Float32Array>;
  dispose(): void;
}

interface FaceApiNet {
  loadFromWeightMap(m: Record<string, tf.Tensor>): void;
  forwardInput(input: unknown): tf.Tensor2D;
  dispose(): void;
}

/** face-api's bundle for Node with @tensorflow/tfjs + the wasm backend as external packages (ours). */
export function faceApi(): { FaceRecognitionNet: new () => FaceApiNet; toNetInput(x: unknown): Promise<unknown>; version: string; [k: string]: unknown } {
  return require('@vladmandic/face-api/dist/face-api.node-wasm.js');
}

export async function createPackageReference(name: string, opts: { file?: string } = {}): Promise<PackageReference> {
  const family = backboneInfo(name).family;
  const { json } = pretrainedFiles(name, opts.file);
  if (family === DLIB_FAMILY) {
    const api = faceApi();
    const { tensors } = readTfjsWeights(json);
    const net = new api.FaceRecognitionNet();
    net.loadFromWeightMap(Object.fromEntries([...tensors].map(([k, t]) => [k, tf.tensor(t.data, t.shape)])));
    return {
      label: `face-api ${api.version} FaceRecognitionNet`,
      async embed(pixels) {
        const images = tf.unstack(pixels); // face-api takes a list of [S,S,3] images
        try {
          const input = await api.toNetInput(images);
          const y = tf.tidy(() => net.forwardInput(input)); // [B,128]
          const out = (await y.data()) as Float32Array;
          y.dispose();
          return out;
        } finally {
          tf.dispose(images);
        }
      },
      dispose: () => net.dispose(),
    };
  }
  if (family === FACERES_FAMILY) {
    const model = JSON.parse(readFileSync(json, 'utf8'));
    const shards = model.weightsManifest.flatMap((g: { paths: string[] }) => g.paths).map((p: string) => readFileSync(path.join(path.dirname(json), p)));
    const bin = Buffer.concat(shards);
    const g = await loadGraphModel(tf.io.fromMemory({
      modelTopology: model.modelTopology, weightSpecs: model.weightsManifest.flatMap((w: { weights: unknown[] }) => w.weights),
      weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.length),
    }));
    const mean = FACERES_INPUT.normalisation.mean; // BGR
    return {
      label: `tfjs graph model ${path.basename(json)} (global_pooling/Mean)`,
      async embed(pixels) {
        const y = tf.tidy(() => g.execute(tf.sub(tf.reverse(pixels, -1), tf.tensor1d(mean)), 'global_pooling/Mean') as tf.Tensor2D); // [B,1024]
        const out = (await y.data()) as Float32Array;
        y.dispose();
        return out;
      },
      dispose: () => g.dispose(),
    };
  }
  throw new Error(`backbone ${name} (family ${family}) has no package reference implementation`);
}
