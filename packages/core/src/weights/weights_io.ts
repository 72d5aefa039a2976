// Save / load a model's weights and its model config, as safetensors (see safetensors.ts for the layout),
// and the one loader every caller uses to put a file's tensors into variables (`loadWeightsInto`).
//
// Tensor names: a backbone uses its family's own keys (IResNet: insightface keys `conv1.weight`,
// `layer1.0.bn1.running_mean`, ..., stored in our layout: conv HWIO, fc [in,out] in NHWC flatten order);
// an HFRModel prefixes them `backbone.` and adds `ssmb.<tap>.<block key>`. All tensors are F32.
// __metadata__ (all strings):
//   format = "ssmb-weights", format_version = "2",
//   model_kind = "backbone" | "hfr", model_family = the backbone's family ("iresnet", "dlib-resnet29", ...),
//   model_config = JSON: the backbone's config (with family + name), or { backbone: <that>, ssmb: HFRConfig },
//   plus caller extras (the run config; for imported weights source_package / source_version / source_license).
// Files of format_version "1" (model_kind "iresnet" | "hfr", IResNet configs without family/name) still load:
// they are read as family "iresnet". Round trip is bit-exact: raw float32 bytes are written and read back.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tf } from '../tf.ts';
import { HFRModel, type HFRConfig } from '../models/hfr_model.ts';
import type { Backbone, BackboneConfig } from '../models/backbone.ts';
import { backboneFromConfig } from '../models/registry.ts';
import { IRESNET_FAMILY } from '../models/iresnet_config.ts';
import { decodeSafetensors, decodeSafetensorsFloat32, encodeSafetensors, type SafeTensor } from './safetensors.ts';
import type { PlainTensor } from './onnx/insightface_layout.ts';

export const WEIGHTS_FORMAT = 'ssmb-weights';
export const WEIGHTS_FORMAT_VERSION = '2';
/** Versions parseWeights reads ("1": IResNet-only files written before the Backbone interface). */
export const WEIGHTS_FORMAT_VERSIONS_READ = ['1', '2'] as const;

export type SavableModel = Backbone | HFRModel;
export type ModelDescription =
  | { kind: 'backbone'; family: string; config: BackboneConfig }
  | { kind: 'hfr'; family: string; config: { backbone: BackboneConfig; ssmb: HFRConfig } };

export function describeModel(model: SavableModel): ModelDescription {
  return model instanceof HFRModel
    ? { kind: 'hfr', family: model.backbone.family, config: { backbone: model.backbone.config, ssmb: model.config } }
    : { kind: 'backbone', family: model.family, config: model.config };
}

export function serializeWeights(model: SavableModel, extraMetadata: Record<string, string> = {}): Uint8Array {
  const d = describeModel(model);
  const tensors = new Map<string, SafeTensor>();
  for (const [name, v] of model.params) tensors.set(name, { dtype: 'F32', shape: v.shape, data: v.dataSync() as Float32Array });
  for (const [k, v] of Object.entries(extraMetadata)) {
    if (typeof v !== 'string') throw new Error(`serializeWeights: metadata "${k}" must be a string, received ${typeof v}`);
  }
  return encodeSafetensors(tensors, {
    ...extraMetadata, format: WEIGHTS_FORMAT, format_version: WEIGHTS_FORMAT_VERSION, model_kind: d.kind,
    model_family: d.family, model_config: JSON.stringify(d.config),
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
  layout: 'ssmb-weights';
  source: string;
  description: ModelDescription;
  metadata: Record<string, string>;
  tensors: Map<string, SafeTensor>;
}

/** A version-1 IResNet config (no family / name) as the family's current config. */
function legacyIResNetConfig(c: unknown): BackboneConfig {
  const o = (c ?? {}) as Record<string, unknown>;
  return { ...o, family: IRESNET_FAMILY, name: String(o.arch) } as BackboneConfig;
}

/** What an ssmb-weights file holds, from its __metadata__ (every version this code reads). */
export function describeWeights(metadata: Record<string, string>, source = 'weights'): ModelDescription {
  if (metadata.format !== WEIGHTS_FORMAT) {
    throw new Error(`${source}: __metadata__.format is ${JSON.stringify(metadata.format)}; expected "${WEIGHTS_FORMAT}" (use the import command for insightface weights)`);
  }
  const version = metadata.format_version;
  if (!(WEIGHTS_FORMAT_VERSIONS_READ as readonly string[]).includes(version)) {
    throw new Error(`${source}: format_version ${JSON.stringify(version)} is not supported; expected one of ${WEIGHTS_FORMAT_VERSIONS_READ.map((v) => `"${v}"`).join(', ')}`);
  }
  let config: unknown;
  try {
    config = JSON.parse(metadata.model_config);
  } catch {
    throw new Error(`${source}: model_config is not valid JSON`);
  }
  const kind = metadata.model_kind;
  if (version === '1') {
    if (kind !== 'iresnet' && kind !== 'hfr') throw new Error(`${source}: model_kind ${JSON.stringify(kind)}; expected "iresnet" or "hfr" (format_version 1)`);
    return kind === 'hfr'
      ? { kind, family: IRESNET_FAMILY, config: { backbone: legacyIResNetConfig((config as { backbone: unknown }).backbone), ssmb: (config as { ssmb: HFRConfig }).ssmb } }
      : { kind: 'backbone', family: IRESNET_FAMILY, config: legacyIResNetConfig(config) };
  }
  if (kind !== 'backbone' && kind !== 'hfr') throw new Error(`${source}: model_kind ${JSON.stringify(kind)}; expected "backbone" or "hfr"`);
  const family = metadata.model_family;
  if (typeof family !== 'string' || !family) throw new Error(`${source}: __metadata__.model_family is missing; expected the backbone family (e.g. "iresnet")`);
  return { kind, family, config } as ModelDescription;
}

export function parseWeights(bytes: Uint8Array, source = 'weights'): WeightsFile {
  const { tensors, metadata } = decodeSafetensors(bytes, source);
  return { layout: 'ssmb-weights', source, description: describeWeights(metadata, source), metadata, tensors };
}

export function readWeightsFile(file: string): WeightsFile {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new Error(`cannot read weights file ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); expected a .safetensors file`);
  }
  return parseWeights(bytes, file);
}

/** Tensors of any weights-like file by model parameter name, plus what the file says it holds. */
export interface NamedTensors {
  layout: 'named';
  source: string;
  metadata: Record<string, string>;
  /** the model the file describes (ssmb-weights files only) */
  description?: ModelDescription;
  /** parameter name -> float32 tensor; names normalised as documented at readNamedTensors */
  tensors: Map<string, PlainTensor>;
}

/**
 * Reads model tensors from any file a model may be loaded from, by parameter name:
 *   ssmb-weights files: a backbone (family keys) or an HFR model (`backbone.<key>` -> `<key>`, `ssmb.<tap>.<key>` kept);
 *   ssmb checkpoints (and any safetensors file in their layout): the `model/<name>` tensors (optimiser state
 *   such as `adam.m/...` is not model weights and is left out);
 *   other safetensors files (foreign state dicts): every float tensor (F16/BF16/F64 widened), DataParallel's
 *   `module.` prefix dropped; integer bookkeeping (BN num_batches_tracked) skipped.
 */
export function readNamedTensors(source: string | Uint8Array, name = typeof source === 'string' ? source : 'weights'): NamedTensors {
  let bytes: Uint8Array;
  if (typeof source === 'string') {
    try {
      bytes = readFileSync(source);
    } catch (err) {
      throw new Error(`cannot read weights file ${source} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); expected a .safetensors file`);
    }
  } else bytes = source;
  const { tensors: raw, metadata } = decodeSafetensorsFloat32(bytes, `weights file ${name}`);
  const description = metadata.format === WEIGHTS_FORMAT ? describeWeights(metadata, name) : undefined;
  const checkpointLayout = [...raw.keys()].some((k) => k.startsWith('model/'));
  const tensors = new Map<string, PlainTensor>();
  for (const [k0, t] of raw) {
    if (checkpointLayout && !k0.startsWith('model/')) continue;
    let k = checkpointLayout ? k0.slice('model/'.length) : k0.replace(/^module\./, '');
    if (k.startsWith('backbone.')) k = k.slice('backbone.'.length);
    tensors.set(k, t);
  }
  return { layout: 'named', source: name, metadata, description, tensors };
}

export interface LoadWeightsOptions {
  /** what is being loaded, for messages (e.g. "backbone dlib-resnet29", "run 7's SSMB blocks") */
  what?: string;
  /** tensors in the file that no target variable takes: 'error' (default) or 'allow' (listed in the report) */
  unused?: 'error' | 'allow';
}

export interface LoadReport {
  source: string;
  metadata: Record<string, string>;
  description?: ModelDescription;
  loaded: number;
  /** file tensors no target variable took (only with unused: 'allow') */
  unused: string[];
}

const familyOfTarget = (t: SavableModel | ReadonlyMap<string, tf.Variable>): { family: string; name: string } | undefined =>
  t instanceof HFRModel ? { family: t.backbone.family, name: t.backbone.name } : t instanceof Map ? undefined : { family: (t as Backbone).family, name: (t as Backbone).name };

/**
 * The one loader: copies a file's tensors into `target` (a model, or a map of named variables such as the
 * SSMB parameters). Target names are matched with `backbone.` removed, so a backbone loads from an HFR
 * file and an HFR model from a backbone file plus SSMB tensors. A file that says which backbone family it
 * holds must hold the target's family (the error names both). Any mismatch (missing tensor, wrong shape,
 * unused tensor unless allowed) fails before anything is assigned, one line per tensor.
 */
export function loadWeightsInto(
  target: SavableModel | ReadonlyMap<string, tf.Variable>,
  source: string | WeightsFile | NamedTensors,
  opts: LoadWeightsOptions = {},
): LoadReport {
  const file: NamedTensors = typeof source === 'string' ? readNamedTensors(source) : source.layout === 'ssmb-weights' ? namedTensorsOf(source) : source;
  const what = opts.what ?? (target instanceof Map ? `${target.size} variables` : `the model`);
  const fam = familyOfTarget(target);
  if (fam && file.description && file.description.family !== fam.family) {
    const held = (file.description.kind === 'hfr' ? file.description.config.backbone : file.description.config).name;
    throw new Error(`${file.source} holds a ${file.description.family} backbone (${held}); ${what} is a ${fam.family} backbone (${fam.name}): use weights of the same family`);
  }
  const vars = target instanceof Map ? target : (target as SavableModel).params;
  const bare = (k: string) => (k.startsWith('backbone.') ? k.slice('backbone.'.length) : k);
  const problems: string[] = [];
  const taken = new Set<string>();
  for (const [k, v] of vars) {
    const t = file.tensors.get(bare(k));
    taken.add(bare(k));
    if (!t) problems.push(`${k}: missing from the file (expected shape [${v.shape}])`);
    else if (t.shape.length !== v.shape.length || t.shape.some((d, i) => d !== v.shape[i])) problems.push(`${k}: expected shape [${v.shape}], found [${t.shape}]`);
  }
  const unused = [...file.tensors.keys()].filter((k) => !taken.has(k));
  if ((opts.unused ?? 'error') === 'error') for (const k of unused) problems.push(`${k}: in the file but not in ${what}`);
  if (problems.length) {
    throw new Error(`${file.source} does not match ${what} (${problems.length} tensor(s)):\n  ${problems.slice(0, 20).join('\n  ')}${problems.length > 20 ? `\n  ... and ${problems.length - 20} more` : ''}`);
  }
  for (const [k, v] of vars) {
    const t = file.tensors.get(bare(k))!;
    tf.tidy(() => v.assign(tf.tensor(t.data, v.shape, 'float32')));
  }
  return { source: file.source, metadata: file.metadata, description: file.description, loaded: vars.size, unused: opts.unused === 'allow' ? unused : [] };
}

/** A parsed ssmb-weights file as named tensors (`backbone.` removed, like readNamedTensors). */
export function namedTensorsOf(wf: WeightsFile): NamedTensors {
  const tensors = new Map<string, PlainTensor>();
  for (const [k, t] of wf.tensors) {
    if (t.dtype !== 'F32') throw new Error(`${wf.source}: tensor ${k} is ${t.dtype}; expected F32`);
    tensors.set(k.startsWith('backbone.') ? k.slice('backbone.'.length) : k, { shape: t.shape, data: t.data as Float32Array });
  }
  return { layout: 'named', source: wf.source, metadata: wf.metadata, description: wf.description, tensors };
}

/** Builds the model described by the file (a backbone of its family, or an HFRModel) and loads its weights. */
export function loadModel(file: string, opts: { seed?: number; frozen?: boolean } = {}): SavableModel {
  const wf = readWeightsFile(file);
  const d = wf.description;
  const model: SavableModel = d.kind === 'hfr'
    ? new HFRModel(backboneFromConfig(d.config.backbone), d.config.ssmb)
    : backboneFromConfig(d.config, opts);
  try {
    loadWeightsInto(model, wf);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}
