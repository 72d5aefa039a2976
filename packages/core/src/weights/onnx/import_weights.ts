// `import-weights`: an insightface IResNet from ONNX or safetensors -> our IResNet (+ its config), and the
// verification that our embeddings match onnxruntime's on the same images.
import { readFileSync } from 'node:fs';
import { tf } from '../../tf.ts';
import { IResNet } from '../../models/iresnet.ts';
import type { IResNetConfig } from '../../models/iresnet_config.ts';
import { iresnetConfig, listIResNets } from '../../models/registry.ts';
import { decodeOnnxModel } from './onnx_proto.ts';
import { importOnnxGraph } from './import_onnx_graph.ts';
import { readSafetensorsStateDict } from './safetensors_file.ts';
import { detectIResNetShape, insightfaceToOurs } from './insightface_convert.ts';
import { archName, type IResNetShape, type StateDict } from './insightface_layout.ts';
import { iresnetOnnxBytes } from './iresnet_onnx_graph.ts';
import { createOnnxEmbedder } from './onnx_embedder.ts';
import { createTfjsEmbedder } from './tfjs_embedder.ts';
import { cosine } from './nchw.ts';

export type WeightsSource = { onnx: string } | { safetensors: string };

export interface ImportedBackbone {
  model: IResNet;
  config: IResNetConfig;
  format: 'onnx' | 'safetensors';
  file: string;
  /** convs carried their BN (bias, no BatchNormalization) */
  folded: boolean;
  /** an ONNX file the reference engine runs: the user's file, or (safetensors) the PyTorch-layout tensors
   *  written as an insightface graph, so the check exercises our layout conversion */
  reference: Uint8Array;
  numTensors: number;
}

function readBytes(file: string, what: string): Uint8Array {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new Error(`${what} '${file}' cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

/** The config of detected tensors; named after a registered model with the same shape when there is one. */
export function iresnetConfigFromShape(shape: IResNetShape): IResNetConfig {
  const same = (c: IResNetConfig) => c.depths.join() === shape.depths.join() && c.widths.join() === shape.widths.join()
    && c.stemWidth === shape.stemWidth && c.inputSize === shape.inputSize && c.embeddingSize === shape.embeddingSize;
  const registered = listIResNets().find((name) => same(iresnetConfig(name)));
  return { arch: registered ?? archName(shape), ...shape, dropout: 0 };
}

/** Builds our (frozen) IResNet from PyTorch-layout insightface tensors. */
export function iresnetFromStateDict(sd: StateDict, shape: IResNetShape, source: string): IResNet {
  const ours = insightfaceToOurs(sd, shape, source);
  const model = new IResNet(iresnetConfigFromShape(shape), { frozen: true });
  for (const [name, t] of ours) {
    const v = model.params.get(name);
    if (!v) throw new Error(`${source}: our IResNet has no parameter '${name}'`);
    tf.tidy(() => v.assign(tf.tensor(t.data, v.shape)));
  }
  return model;
}

export function importInsightfaceBackbone(src: WeightsSource): ImportedBackbone {
  if ('onnx' in src) {
    const bytes = readBytes(src.onnx, 'ONNX file');
    const imp = importOnnxGraph(decodeOnnxModel(bytes, src.onnx), src.onnx);
    const model = iresnetFromStateDict(imp.stateDict, imp.shape, src.onnx);
    return { model, config: model.config, format: 'onnx', file: src.onnx, folded: imp.folded, reference: bytes, numTensors: imp.stateDict.size };
  }
  const bytes = readBytes(src.safetensors, 'safetensors file');
  const { stateDict } = readSafetensorsStateDict(bytes, src.safetensors);
  const shape = detectIResNetShape(stateDict, src.safetensors);
  const model = iresnetFromStateDict(stateDict, shape, src.safetensors);
  const folded = [...stateDict.keys()].some((k) => /conv\d?\.bias$|downsample\.0\.bias$/.test(k));
  // written from the PyTorch-layout tensors as they are (folded convs stay biased convs): independent of our conversion
  const reference = iresnetOnnxBytes(stateDict, shape);
  return { model, config: model.config, format: 'safetensors', file: src.safetensors, folded, reference, numTensors: stateDict.size };
}

export interface VerifyResult {
  cosines: number[];
  min: number;
  passed: boolean;
  threshold: number;
}

/** Our embeddings (tfjs, active backend) vs onnxruntime's on the same NHWC scaled images. */
export async function verifyAgainstOnnxRuntime(imported: Pick<ImportedBackbone, 'model' | 'reference'>, images: Float32Array, threshold = 0.9999): Promise<VerifyResult> {
  const { model } = imported;
  const c = model.config;
  const ort = await createOnnxEmbedder(imported.reference);
  try {
    const ours = await createTfjsEmbedder({ inputSize: c.inputSize, embeddingSize: c.embeddingSize, forward: (x) => model.forward(x) }).embed(images);
    const ref = await ort.embed(images);
    const e = c.embeddingSize;
    const cosines = Array.from({ length: ours.length / e }, (_, i) => cosine(ours.subarray(i * e, (i + 1) * e), ref.subarray(i * e, (i + 1) * e)));
    const min = Math.min(...cosines);
    return { cosines, min, passed: min >= threshold, threshold };
  } finally {
    await ort.dispose();
  }
}
