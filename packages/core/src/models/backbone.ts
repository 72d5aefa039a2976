// The one interface every face-recognition backbone implements (IResNet, dlib ResNet-29, faceres
// MobileNet, ...), and the registry of backbone factories (timm's register_model pattern).
//
// Everything outside a family's own files (HFRModel, weights I/O, ONNX export and verification, the
// trainer, evaluation) talks to a backbone only through `Backbone`:
//   - forward(x, { training?, tapHook? }): x is OUR canonical input [B,S,S,3], RGB, (v - 127.5) / 127.5;
//     the backbone converts it to its own native normalisation / channel order inside (an exact
//     per-channel affine + permutation), so one data pipeline feeds every family.
//   - taps: where SSMB blocks may sit (name, channels, spatial side), in forward order.
//   - emitOnnx: the same network as ONNX ops, with `afterTap` replacing a tap's value (SSMB insertion
//     for export and for the onnxruntime training engine).
//   - config: JSON-serialisable, with `family` and `name`; saved in weights metadata so a file rebuilds
//     its model (`backboneFromConfig`).
// Two registries: families (config -> Backbone, used to rebuild from a file whatever its name) and
// registered models (name -> factory + meta, what `backbone.model` in a run config names).
import type { tf } from '../tf.ts';
import type { OnnxGraphBuilder } from '../weights/onnx/onnx_graph_builder.ts';
import type { PlainTensor } from '../weights/onnx/insightface_layout.ts';

export interface TapInfo {
  name: string;
  channels: number;
  spatial: number; // H = W at that tap
}

export interface InputContract {
  size: number; // square side that forward() takes
  channelOrder: 'RGB' | 'BGR'; // what the network itself was trained on
  /** network-native normalisation in 0-255 space, per channel in `channelOrder`: (v - mean) / std */
  normalisation: { mean: [number, number, number]; std: [number, number, number] };
  /** 5-point alignment template (left eye, right eye, nose tip, left and right mouth corners), [x, y] at `size` */
  template: { size: number; points: [number, number][] };
}

/** Called with each tap's output; may return a replacement (e.g. an SSMB-modulated map). `keep` hands
 *  extra tensors (e.g. routing) out of forward's internal tidy into the caller's scope. */
export type TapHook = (tap: string, x: tf.Tensor4D, keep: <T extends tf.Tensor>(t: T) => T) => tf.Tensor4D | void;

export interface BackboneForwardOptions {
  /** BN batch statistics + running-stat updates + dropout (families that have them); requires a non-frozen model */
  training?: boolean;
  tapHook?: TapHook;
}

export interface EmitOnnxOptions {
  /** Called with each tap's NCHW value; returns the value the network continues with. */
  afterTap?: (tap: string, value: string, channels: number) => string;
  /** Fold conv->BN pairs into biased convs where the family has separate BN (IResNet). */
  foldBn?: boolean;
}

/** JSON-serialisable description that rebuilds the backbone: `family` + `name` + the family's own keys. */
export interface BackboneConfig {
  readonly family: string;
  readonly name: string;
}

export interface Backbone {
  readonly family: string; // 'iresnet' | 'dlib-resnet29' | 'faceres-mobilenet' | ...
  readonly name: string; // registered model name (or a free label for a custom config)
  readonly config: BackboneConfig;
  readonly input: InputContract;
  readonly embeddingSize: number;
  readonly taps: readonly TapInfo[]; // in forward order
  readonly params: Map<string, tf.Variable>; // named parameters (the family's own naming)
  readonly frozen: boolean;
  setFrozen(frozen: boolean): void;
  readonly trainableVariables: tf.Variable[];
  /** x [B,S,S,3] canonical (RGB, (v - 127.5) / 127.5) -> embedding [B,E] */
  forward(x: tf.Tensor4D, opts?: BackboneForwardOptions): tf.Tensor2D;
  /** x: NCHW canonical input value; returns the embedding value [B,E]. */
  emitOnnx(b: OnnxGraphBuilder, x: string, opts?: EmitOnnxOptions): string;
  numParams(): number;
  dispose(): void;
}

export interface CreateBackboneOptions {
  seed?: number;
  frozen?: boolean;
  /** applied over the registered config (family keys only; unknown keys fail) */
  overrides?: Record<string, unknown>;
}

/** Where a family's pre-trained weights come from (npm package files), recorded in weights metadata. */
export interface WeightsSourceInfo {
  package: string;
  version: string; // the version the converter was checked against
  /** the licence of the weights / model themselves; the package's own licence is read from its package.json
   *  and put in front of it in the weights metadata (`MIT (package); <this>`) */
  license: string;
  /** paths inside the package; the first is the tfjs JSON (weights manifest or graph model), the rest its shards */
  files: string[];
  /** other packages that ship the same files (read when `package` is not installed) */
  alternatives?: string[];
  note?: string;
}

/** The package's tensors (tfjs names, dequantised) -> the family's parameters, plus what was left out and why. */
export type PretrainedConverter = (tensors: Map<string, PlainTensor>, source: string) => {
  tensors: Map<string, PlainTensor>;
  /** package tensors that are not backbone parameters, with the reason (e.g. "age/gender head") */
  unused: { name: string; reason: string }[];
};

/** The package's OWN implementation of a pre-trained backbone, run on the same tf engine: what our
 *  re-implementation is checked against (tests, `import-weights --verify`). */
export interface PackageReference {
  /** what runs: e.g. "face-api 1.7.15 FaceRecognitionNet" */
  readonly label: string;
  /** pixels [B,S,S,3] RGB 0..255 -> descriptor [B,E] (the package's network with its own preprocessing) */
  embed(pixels: tf.Tensor4D): Promise<Float32Array>;
  dispose(): void;
}

export interface BackboneMeta {
  family: string;
  description: string;
  input: InputContract;
  embeddingSize: number;
  taps: readonly TapInfo[];
  /** pre-trained weights shipped in an npm package (import-weights --family reads them) */
  pretrained?: WeightsSourceInfo & {
    convert: PretrainedConverter;
    /** builds the package's own network from the weights file (its tfjs JSON), when the package has one */
    reference?: (json: string) => Promise<PackageReference>;
  };
  /** Large models only: config overrides (family keys) the registry property test uses for its
   *  forward / gradient / ONNX checks (the full-size model is still built and checked against this meta).
   *  Absent = every check at full size. */
  testOverrides?: Record<string, unknown>;
}

export type BackboneFactory = (opts: CreateBackboneOptions) => Backbone;

export interface BackboneFamily {
  family: string;
  /** validates a stored config (unknown keys fail) and builds the model from it */
  fromConfig(config: unknown, opts: Omit<CreateBackboneOptions, 'overrides'>): Backbone;
}

const families = new Map<string, BackboneFamily>();
const models = new Map<string, { factory: BackboneFactory; meta: BackboneMeta }>();

export function registerBackboneFamily(f: BackboneFamily): void {
  if (families.has(f.family)) throw new Error(`registerBackboneFamily: family "${f.family}" is already registered`);
  families.set(f.family, f);
}

export function listBackboneFamilies(): string[] {
  return [...families.keys()];
}

export function registerBackbone(name: string, factory: BackboneFactory, meta: BackboneMeta): void {
  if (models.has(name)) throw new Error(`registerBackbone: backbone "${name}" is already registered`);
  if (!families.has(meta.family)) {
    throw new Error(`registerBackbone: "${name}" names family "${meta.family}", which is not registered (families: ${listBackboneFamilies().join(', ')})`);
  }
  models.set(name, { factory, meta });
}

export function listBackbones(): string[] {
  return [...models.keys()];
}

export function hasBackbone(name: string): boolean {
  return models.has(name);
}

function entry(name: string) {
  const e = models.get(name);
  if (!e) throw new Error(`unknown backbone "${name}"; registered backbones: ${listBackbones().join(', ')}`);
  return e;
}

/** Family, taps, input contract, embedding size and weights source, without building any weights. */
export function backboneInfo(name: string): BackboneMeta & { name: string } {
  const { meta } = entry(name);
  return { ...meta, name, taps: meta.taps.map((t) => ({ ...t })) };
}

export function createBackbone(name: string, opts: CreateBackboneOptions = {}): Backbone {
  return entry(name).factory(opts);
}

/** Rebuilds a backbone from its saved `config` (weights metadata), by family. */
export function backboneFromConfig(config: unknown, opts: Omit<CreateBackboneOptions, 'overrides'> = {}): Backbone {
  const family = (config as { family?: unknown } | null)?.family;
  if (typeof family !== 'string') {
    throw new Error(`backbone config: expected an object with a string "family" (one of ${listBackboneFamilies().join(', ')}), received ${JSON.stringify(config)}`);
  }
  const f = families.get(family);
  if (!f) throw new Error(`backbone config: unknown family "${family}"; registered families: ${listBackboneFamilies().join(', ')}`);
  return f.fromConfig(config, opts);
}

/** The tap named `tap`, or an error listing the backbone's taps. */
export function requireTap(b: { name: string; taps: readonly TapInfo[] }, tap: string): TapInfo {
  const t = b.taps.find((x) => x.name === tap);
  if (!t) throw new Error(`backbone ${b.name} has no tap "${tap}"; its taps: ${b.taps.map((x) => x.name).join(', ')}`);
  return t;
}

/** Checks the canonical input shape at the top of a family's forward. */
export function checkBackboneInput(b: { name: string; input: InputContract }, x: tf.Tensor): void {
  const s = b.input.size;
  if (x.rank !== 4 || x.shape[1] !== s || x.shape[2] !== s || x.shape[3] !== 3) {
    throw new Error(`${b.name}.forward: x has shape [${x.shape}]; expected [B,${s},${s},3] (RGB, (v - 127.5) / 127.5)`);
  }
}
