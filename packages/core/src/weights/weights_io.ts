// Save / load a model's weights and its model config, as safetensors (see safetensors.ts for the layout).
// Tensor names: an IResNet uses its insightface keys (`conv1.weight`, `layer1.0.bn1.running_mean`, ...,
// stored in our layout: conv HWIO, fc [in,out] in NHWC flatten order); an HFRModel prefixes them
// `backbone.` and adds `ssmb.<tap>.<block key>`. All tensors are F32.
// __metadata__ (all strings): format = "ssmb-weights", format_version = "1", model_kind = "iresnet" | "hfr",
// model_config = JSON (IResNetConfig, or { backbone: IResNetConfig, ssmb: HFRConfig }), plus caller extras
// (e.g. the run config). Round trip is bit-exact: raw float32 bytes are written and read back.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tf } from '../tf.ts';
import { HFRModel, type HFRConfig } from '../models/hfr_model.ts';
import { IResNet, type IResNetOptions } from '../models/iresnet.ts';
import type { IResNetConfig } from '../models/iresnet_config.ts';
import { decodeSafetensors, encodeSafetensors, type SafeTensor } from './safetensors.ts';

export const WEIGHTS_FORMAT = 'ssmb-weights';
export const WEIGHTS_FORMAT_VERSION = '1';

export type SavableModel = IResNet | HFRModel;
export type ModelDescription =
  | { kind: 'iresnet'; config: IResNetConfig }
  | { kind: 'hfr'; config: { backbone: IResNetConfig; ssmb: HFRConfig } };

export function describeModel(model: SavableModel): ModelDescription {
  return model instanceof HFRModel
    ? { kind: 'hfr', config: { backbone: model.backbone.config, ssmb: model.config } }
    : { kind: 'iresnet', config: model.config };
}

export function serializeWeights(model: SavableModel, extraMetadata: Record<string, string> = {}): Uint8Array {
  const d = describeModel(model);
  const tensors = new Map<string, SafeTensor>();
  for (const [name, v] of model.params) tensors.set(name, { dtype: 'F32', shape: v.shape, data: v.dataSync() as Float32Array });
  for (const [k, v] of Object.entries(extraMetadata)) {
    if (typeof v !== 'string') throw new Error(`serializeWeights: metadata "${k}" must be a string, received ${typeof v}`);
  }
  return encodeSafetensors(tensors, {
    ...extraMetadata, format: WEIGHTS_FORMAT, format_version: WEIGHTS_FORMAT_VERSION, model_kind: d.kind, model_config: JSON.stringify(d.config),
  });
}

/** Writes atomically (temp file + rename) so a crash never leaves a half-written checkpoint. */
export function saveWeights(model: SavableModel, file: string, extraMetadata: Record<string, string> = {}): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, serializeWeights(model, extraMetadata));
  renameSync(tmp, file);
}

export interface WeightsFile {
  description: ModelDescription;
  metadata: Record<string, string>;
  tensors: Map<string, SafeTensor>;
}

export function parseWeights(bytes: Uint8Array, source = 'weights'): WeightsFile {
  const { tensors, metadata } = decodeSafetensors(bytes, source);
  if (metadata.format !== WEIGHTS_FORMAT) {
    throw new Error(`${source}: __metadata__.format is ${JSON.stringify(metadata.format)}; expected "${WEIGHTS_FORMAT}" (use the import command for insightface weights)`);
  }
  if (metadata.format_version !== WEIGHTS_FORMAT_VERSION) {
    throw new Error(`${source}: format_version ${JSON.stringify(metadata.format_version)} is not supported; expected "${WEIGHTS_FORMAT_VERSION}"`);
  }
  const kind = metadata.model_kind;
  if (kind !== 'iresnet' && kind !== 'hfr') throw new Error(`${source}: model_kind ${JSON.stringify(kind)}; expected "iresnet" or "hfr"`);
  let config: unknown;
  try {
    config = JSON.parse(metadata.model_config);
  } catch {
    throw new Error(`${source}: model_config is not valid JSON`);
  }
  return { description: { kind, config } as ModelDescription, metadata, tensors };
}

export function readWeightsFile(file: string): WeightsFile {
  return parseWeights(readFileSync(file), file);
}

/** Copies the file's tensors into `model`. Any mismatch (missing, unexpected, wrong shape) fails before
 *  anything is assigned, with one line per tensor. */
export function loadWeightsInto(model: SavableModel, source: string | WeightsFile): WeightsFile {
  const file = typeof source === 'string' ? readWeightsFile(source) : source;
  const name = typeof source === 'string' ? source : 'weights';
  const problems: string[] = [];
  for (const [k, v] of model.params) {
    const t = file.tensors.get(k);
    if (!t) problems.push(`${k}: missing from the file (expected shape [${v.shape}])`);
    else if (t.shape.length !== v.shape.length || t.shape.some((d, i) => d !== v.shape[i])) problems.push(`${k}: expected shape [${v.shape}], found [${t.shape}]`);
    else if (t.dtype !== 'F32') problems.push(`${k}: expected dtype F32, found ${t.dtype}`);
  }
  for (const k of file.tensors.keys()) if (!model.params.has(k)) problems.push(`${k}: in the file but not in the model`);
  if (problems.length) {
    throw new Error(`${name} does not match the model (${problems.length} tensor(s)):\n  ${problems.join('\n  ')}`);
  }
  for (const [k, v] of model.params) {
    const t = file.tensors.get(k)!;
    tf.tidy(() => v.assign(tf.tensor(t.data, t.shape, 'float32')));
  }
  return file;
}

/** Builds the model described by the file (IResNet or HFRModel) and loads its weights. */
export function loadModel(file: string, opts: IResNetOptions = {}): SavableModel {
  const wf = readWeightsFile(file);
  const d = wf.description;
  const model = d.kind === 'hfr'
    ? new HFRModel(new IResNet(d.config.backbone), d.config.ssmb)
    : new IResNet(d.config, opts);
  try {
    loadWeightsInto(model, wf);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}
