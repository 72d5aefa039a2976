// Methods (what is trained beside the frozen network, docs/design.md section 4b) as a registry, like core's
// backbones and expert kinds: one file per method declares what trains, how it changes the frozen network
// (the HFR model options it builds: the same model on tfjs and on the onnxruntime engine), its losses,
// the config keys that apply to it, and whether it needs the modality label at training and at inference.
// The config schema's `method` values, the key check and the label check read this one list.
import type { HFRConfig } from '@ssmb/core';
import { getProtocol } from '@ssmb/protocols';
import { compareModalities } from '../display_order.ts';

/** The method-specific config keys: each applies to the methods that list it; set to a value other than
 *  its default under a method that does not list it, it is an error naming the method's keys. */
export const METHOD_KEYS = [
  'ssmb.numExperts', 'ssmb.hiddenWidth', 'ssmb.positions', 'ssmb.expertKind', 'ssmb.routerInput', 'ssmb.routerJitter', 'ssmb.routing',
  'loss.margin', 'loss.lambdaTs', 'loss.alpha',
] as const;
export type MethodKey = (typeof METHOD_KEYS)[number];

/** The training objective's parts (docs/design.md#losses): cross-modal contrastive, teacher-student, load balancing. */
export type LossPart = 'cc' | 'ts' | 'lb';

export interface LabelUse {
  /** the modality label of each training image decides what the network does to it */
  training: boolean;
  /** ... and of each evaluated image: a label-aware method (tables mark it) */
  inference: boolean;
}

/** The slice of the run config a method reads (the config module imports this registry). */
export interface MethodConfig {
  dataset: { protocol: string };
  ssmb: { numExperts: number; hiddenWidth: number | null; positions: string[]; expertKind: string; routerInput: 'style' | 'mean'; routerJitter: number; routing: 'top1' | 'soft' };
  loss: { margin: number; lambdaTs: number; alpha: number };
  seed: number;
}

/** How images' modality labels become the label-selected blocks' selection rows. */
export interface LabelSelection {
  /** the modalities the model was built for (the training protocol's), VIS first */
  modalities: readonly string[];
  /** N of the rows */
  experts: number;
  /** [n,N] 0/1 rows for n images; `what` names the images in errors (a modality the model has no place for) */
  rows(modalities: readonly string[], what: string): Float32Array;
}

export interface MethodDef {
  readonly name: string;
  /** one line for listings and the docs */
  readonly description: string;
  /** false: nothing is trained (an evaluate run of the frozen network) */
  readonly trains: boolean;
  /** what trains */
  readonly trainable: string;
  /** how it changes the frozen network */
  readonly network: string;
  readonly losses: readonly LossPart[];
  /** the METHOD_KEYS that apply to it */
  readonly keys: readonly MethodKey[];
  readonly label: LabelUse;
  /** the HFR model's options (absent: the frozen backbone alone) */
  model?(config: MethodConfig): Partial<HFRConfig>;
  /** label-selected models: the selection of each image from its modality */
  selection?(config: MethodConfig): LabelSelection;
}

const methods = new Map<string, MethodDef>();

export function registerMethod(def: MethodDef): MethodDef {
  if (typeof def.name !== 'string' || !/^[a-z][a-z0-9-]*$/.test(def.name)) throw new Error(`registerMethod: name must be lower-case letters, digits or '-', received ${JSON.stringify(def.name)}`);
  if (methods.has(def.name)) throw new Error(`registerMethod: method "${def.name}" is already registered`);
  const bad = def.keys.filter((k) => !(METHOD_KEYS as readonly string[]).includes(k));
  if (bad.length) throw new Error(`registerMethod: method "${def.name}" lists unknown key(s) ${bad.join(', ')}; method keys: ${METHOD_KEYS.join(', ')}`);
  if (def.trains !== (def.model !== undefined)) throw new Error(`registerMethod: method "${def.name}": a method that trains builds a model (model()), one that does not has none`);
  if ((def.label.training || def.label.inference) !== (def.selection !== undefined)) throw new Error(`registerMethod: method "${def.name}": a method that reads the modality label defines selection(), one that does not has none`);
  methods.set(def.name, def);
  return def;
}

/** Registered method names, in registration order. */
export function listMethods(): string[] {
  return [...methods.keys()];
}

export function hasMethod(name: string): boolean {
  return methods.has(name);
}

/** The method called `name`; an unknown name is an error naming the registered ones. `what` names the input. */
export function getMethod(name: unknown, what = 'method'): MethodDef {
  const def = typeof name === 'string' ? methods.get(name) : undefined;
  if (!def) throw new Error(`${what}: unknown method ${JSON.stringify(name)}; registered methods: ${listMethods().join(', ')}`);
  return def;
}

/** Whether the method needs modality labels anywhere (tables and the runs list mark such rows). */
export function isLabelAware(def: MethodDef): boolean {
  return def.label.training || def.label.inference;
}

/** The run tag recording the method's label use. */
export const METHOD_LABEL_TAG = 'method.label';

/** What the tag says: none, training, inference, or training+inference. */
export function labelUseText(def: MethodDef): string {
  const parts = [def.label.training ? 'training' : '', def.label.inference ? 'inference' : ''].filter(Boolean);
  return parts.length ? parts.join('+') : 'none';
}

function valueAt(obj: unknown, key: string): unknown {
  return key.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), obj);
}

/** Keys of METHOD_KEYS set (to other than the default) that do not apply to the config's method. A method
 *  that trains nothing (baseline) ignores every training key (steps, optim, ssmb, loss) as it always has:
 *  a table's base or a sweep sets them for the rows that train. */
export function methodKeyProblems(config: { method: string }, defaults: unknown): string[] {
  const def = getMethod(config.method, 'config key `method`');
  if (!def.trains) return [];
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  return METHOD_KEYS.filter((k) => !def.keys.includes(k) && !same(valueAt(config, k), valueAt(defaults, k))).map((k) =>
    `config key \`${k}\`: ${JSON.stringify(valueAt(config, k))} does not apply to method ${def.name}; its keys: ${def.keys.length ? def.keys.join(', ') : 'none'}`);
}

/** The loss weights a method trains with: its parts only (a part it does not use weighs 0). */
export function methodLossWeights(def: MethodDef, loss: MethodConfig['loss']): MethodConfig['loss'] {
  return { margin: loss.margin, lambdaTs: def.losses.includes('ts') ? loss.lambdaTs : 0, alpha: def.losses.includes('lb') ? loss.alpha : 0 };
}

/** The modalities of a protocol's training images, VIS first (the modalities a label-selected model is built for). */
export function trainingModalities(protocol: string): string[] {
  return [...getProtocol(protocol).roles.train.modalities].sort(compareModalities);
}

/**
 * A label-aware method asked to evaluate a protocol: every gallery and probe modality the protocol
 * declares must be one the model was built for (its label decides what the model does to the image).
 * Returns the problem, or null.
 */
export function labelProblem(def: MethodDef, config: MethodConfig, evalProtocol: string): string | null {
  if (!def.label.inference || !def.selection) return null;
  const known = def.selection(config).modalities;
  const spec = getProtocol(evalProtocol);
  for (const role of ['gallery', 'probe'] as const) {
    const unknown = spec.roles[role].modalities.filter((m) => !known.includes(m));
    if (unknown.length) {
      return `method ${def.name} needs each image's modality label at inference and was built for ${known.join(', ')} (the training images of ${config.dataset.protocol}); protocol ${evalProtocol}'s ${role} images are ${unknown.join(', ')}, a modality it has no label for`;
    }
  }
  return null;
}
