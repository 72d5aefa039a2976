// Expert kinds of the SSMB block (docs/design.md#the-ssmb-block), registered timm-style: each kind's file
// (ssmb/experts/<kind>.ts) calls registerExpertKind once, and ssmb/experts/index.ts imports every kind
// file. That registry is the ONE list of kinds: the block, the HFR config, the trainer's config schema
// (a zod enum built from listExpertKinds()), ONNX export, the onnxruntime engine and the dashboard all
// read it, so an unknown kind fails in every one of them with the same message naming the valid kinds.
//
// A kind says what expert k computes for the samples routed to it, in both engines:
//   params      its parameter keys, shapes, initialisation and which expert owns each;
//   modulation  (dgamma, dbeta) [B,2C] of the expert that `sel` selects for each sample (tfjs);
//   emitModulation  the same as ONNX nodes (export and the onnxruntime engine share the emission: the
//               parameters come from a provider, initializers for export and graph inputs for training);
//   spatial     optionally a per-expert map on the instance-normalised feature map (x - mu) / sigma,
//               added inside the bracket: y = x + g ((x - mu) dgamma + dbeta + spatial_k(xn)).
// Every kind's output layer starts at zero, so every block starts as the identity (tested for each kind).
import type { tf } from '../tf.ts';
import type { OnnxGraphBuilder } from '../weights/onnx/onnx_graph_builder.ts';

/** The sizes of one block a kind's parameters depend on. */
export interface ExpertDims {
  channels: number; // C of the tapped map
  numExperts: number; // N
  hidden: number; // D, the hidden width (kinds without a hidden layer ignore it)
}

export type ParamInit =
  | { type: 'zeros' }
  | { type: 'normal'; std: number } // N(0, std^2)
  | { type: 'uniform'; bound: number }; // U(-bound, bound)

/** One parameter of a block. `expert`: 'stacked' = experts stacked on axis 0 (row k is expert k's),
 *  a number = the whole tensor belongs to that expert, 'router' = shared by every sample (the router). */
export interface ExpertParamSpec {
  key: string;
  shape: number[];
  init: ParamInit;
  expert: 'stacked' | 'router' | number;
}

/** Returns the ONNX value that holds parameter `key` (our layout, `shape`): an initializer for export,
 *  a graph input for the onnxruntime training engine. */
export type ParamProvider = (key: string, shape: number[]) => string;

export interface ModulationTfInput {
  s: tf.Tensor2D; // [B,2C] instance style [mu; sigma]
  sel: tf.Tensor2D; // [B,N] exact 0/1 rows: sample b uses expert argmax(sel[b])
  dims: ExpertDims;
  param(key: string): tf.Tensor;
}

export interface ModulationOnnxInput {
  b: OnnxGraphBuilder;
  s: string; // [B,2C]
  sel: string; // [B,N] float 0/1 rows
  dims: ExpertDims;
  param(key: string): string;
  /** prefix for value-name hints (the tap) */
  hint: string;
}

export interface SpatialBranch {
  /** tfjs: expert k's spatial map on xn [n,H,W,C] (only the samples routed to k) -> [n,H,W,C] */
  apply(xn: tf.Tensor4D, k: number, param: (key: string) => tf.Tensor): tf.Tensor4D;
  /** ONNX: expert k's spatial map on NCHW xn [B,C,H,W] -> [B,C,H,W] */
  emit(b: OnnxGraphBuilder, xn: string, k: number, dims: ExpertDims, param: (key: string) => string, hint: string): string;
}

export interface ExpertKindDef {
  readonly name: string;
  /** one line for listings and the docs */
  readonly description: string;
  /** whether the hidden width D (ssmb.hiddenWidth) means anything to this kind */
  readonly usesHidden: boolean;
  params(dims: ExpertDims): ExpertParamSpec[];
  /** (dgamma, dbeta) concatenated: [B,2C] */
  modulation(input: ModulationTfInput): tf.Tensor2D;
  /** same as modulation, as ONNX nodes: returns a [B,2C] value */
  emitModulation(input: ModulationOnnxInput): string;
  readonly spatial?: SpatialBranch;
}

const kinds = new Map<string, ExpertKindDef>();

export function registerExpertKind<T extends ExpertKindDef>(def: T): T {
  if (typeof def.name !== 'string' || !/^[a-z][a-z0-9+_-]*$/.test(def.name)) {
    throw new Error(`registerExpertKind: name must be lower-case letters, digits, '+', '_' or '-', received ${JSON.stringify(def.name)}`);
  }
  if (kinds.has(def.name)) throw new Error(`registerExpertKind: kind "${def.name}" is already registered`);
  for (const f of ['params', 'modulation', 'emitModulation'] as const) {
    if (typeof def[f] !== 'function') throw new Error(`registerExpertKind: kind "${def.name}" has no ${f}() function`);
  }
  kinds.set(def.name, def);
  return def;
}

/** Registered kind names, in registration order. */
export function listExpertKinds(): string[] {
  return [...kinds.keys()];
}

export function hasExpertKind(name: string): boolean {
  return kinds.has(name);
}

/** The kind called `name`; an unknown name is an error naming the registered kinds. `what` names the input. */
export function getExpertKind(name: unknown, what = 'expert kind'): ExpertKindDef {
  const def = typeof name === 'string' ? kinds.get(name) : undefined;
  if (!def) throw new Error(`${what}: unknown expert kind ${JSON.stringify(name)}; registered kinds: ${listExpertKinds().join(', ')}`);
  return def;
}

/** A kind's parameter specs, checked: unique keys, positive integer dimensions, owners in range. */
export function expertParamSpecs(def: ExpertKindDef, dims: ExpertDims): ExpertParamSpec[] {
  const specs = def.params(dims);
  const seen = new Set<string>();
  for (const p of specs) {
    if (seen.has(p.key)) throw new Error(`expert kind "${def.name}": parameter '${p.key}' declared twice`);
    seen.add(p.key);
    if (!p.shape.every((d) => Number.isInteger(d) && d > 0)) throw new Error(`expert kind "${def.name}": parameter '${p.key}' has shape [${p.shape}]; expected positive integers`);
    if (p.expert === 'stacked' && p.shape[0] !== dims.numExperts) {
      throw new Error(`expert kind "${def.name}": stacked parameter '${p.key}' has shape [${p.shape}]; expected ${dims.numExperts} experts on axis 0`);
    }
    if (typeof p.expert === 'number' && !(Number.isInteger(p.expert) && p.expert >= 0 && p.expert < dims.numExperts)) {
      throw new Error(`expert kind "${def.name}": parameter '${p.key}' belongs to expert ${p.expert}; expected 0..${dims.numExperts - 1}`);
    }
  }
  return specs;
}
