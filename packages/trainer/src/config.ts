// Run configuration: typed defaults (zod) + override files (JSON/YAML) + `--set key=value`.
// Unknown keys and wrong types fail loudly, naming the dotted key and the expected type.
import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { z } from 'zod';
import { userPath } from '@ssmb/protocols';
import { getMethod, listMethods, METHOD_KEYS, methodKeyProblems } from './methods/index.ts';
import { backboneInfo, DEFAULT_FACE_PICK, DEFAULT_HFR_CONFIG, FACE_PICKS, getExpertKind, hasBackbone, listBackbones, listExpertKinds, ROUTER_INPUTS, ROUTING_MODES } from '@ssmb/core';
import { configValueAt } from './flatten.ts';

// Fold ids are strings ('1', 'view2-3'); a bare number from YAML/CLI is accepted and kept as text.
const foldId = z.preprocess((v) => (typeof v === 'number' ? String(v) : v), z.string().min(1));

const DatasetConfig = z.strictObject({
  /** Dataset root on disk (native layout). */
  root: z.string().min(1).default('data/synthetic'),
  protocol: z.string().min(1).default('synthetic-vis-nir'),
  /** One fold id, or 'all' (a sweep expands it to one run per fold; evaluation runs every fold). */
  fold: foldId.default('1'),
  /** Protocols the run is evaluated on, each on the same fold id: null = `protocol` itself. A model trained
   *  on `protocol` (e.g. the pooled synthetic-vis-universal) evaluated on others' folds (synthetic-vis-nir):
   *  the evaluated identities must not be ones the training fold trains on (checked, the overlap named). */
  evalProtocols: z.array(z.string().min(1)).min(1).nullable().default(null),
  /** Image side fed to the model; null = the backbone's inputSize. */
  imageSize: z.number().int().positive().nullable().default(null),
  /** A list entry whose file is missing: error = the run fails naming them; skip = leave them out and
   *  record how many of each role were skipped (eval metrics skipped_train/gallery/probe). */
  onMissing: z.enum(['error', 'skip']).default('error'),
  /** Samples without eye / landmark annotations: find the face (face-api's SSD MobileNet + 68 landmarks ->
   *  5 points) and align it into the backbone's template; no face = centre crop, counted and named.
   *  true = { pick: largest }; `pick` chooses among several faces: largest box, highest score, or nearest
   *  the image centre (images with several faces are counted per role). Absent = false (kept out of the
   *  defaults so stored runs keep their identity). */
  detectFaces: z.union([z.boolean(), z.strictObject({ pick: z.enum(FACE_PICKS).default(DEFAULT_FACE_PICK) })]).optional(),
});

const BackboneConfig = z.strictObject({
  /** Registered backbone name (core's backbone registry, checked by validateConfig), e.g. iresnet-synth,
   *  iresnet50, dlib-resnet29, faceres-mobilenet. */
  model: z.string().min(1).default('iresnet-synth'),
  /** Pre-trained weights (safetensors); null = random initialisation (only sensible for tests). */
  weights: z.string().min(1).nullable().default(null),
});

// The SSMB defaults are core's (DEFAULT_HFR_CONFIG): a model built without a run config is the same model.
const SsmbConfig = z.strictObject({
  numExperts: z.number().int().min(1).default(DEFAULT_HFR_CONFIG.numExperts),
  /** Expert hidden width D; null = max(16, C/2). Only for kinds with a hidden layer (style, style+spatial). */
  hiddenWidth: z.number().int().positive().nullable().default(null),
  /** Taps of the backbone where SSMB blocks sit (its `taps`, checked by validateConfig against backbone.model). */
  positions: z.array(z.string().min(1)).min(1).default(() => [...DEFAULT_HFR_CONFIG.taps]),
  /** What an expert is: core's expert-kind registry (style, style+spatial, affine, affine+spatial). */
  expertKind: z.enum(listExpertKinds() as [string, ...string[]]).default(DEFAULT_HFR_CONFIG.kind),
  /** Router input: style = [mu; sigma], mean = mu only. */
  routerInput: z.enum(ROUTER_INPUTS).default(DEFAULT_HFR_CONFIG.routerInput),
  /** Switch-style multiplicative noise U(1-e, 1+e) on the router input, training only (drawn from the run's
   *  seeded RNG); 0 = off. */
  routerJitter: z.number().min(0).lt(1).default(DEFAULT_HFR_CONFIG.routerJitter),
  /** top1 = the chosen expert, weighted by its gate; soft = every expert weighted by the router's p. */
  routing: z.enum(ROUTING_MODES).default(DEFAULT_HFR_CONFIG.routing),
});

const LossConfig = z.strictObject({
  margin: z.number().default(0),
  lambdaTs: z.number().min(0).default(1),
  alpha: z.number().min(0).default(0.01),
});

const OptimConfig = z.strictObject({
  lr: z.number().positive().default(1e-3),
  schedule: z.enum(['constant', 'cosine', 'step']).default('constant'),
  /** Linear warm-up steps. */
  warmup: z.number().int().min(0).default(0),
  /** 'step' schedule: multiply by gamma every stepSize steps. */
  stepSize: z.number().int().positive().default(1000),
  gamma: z.number().positive().default(0.1),
  /** 'cosine' schedule floor. */
  minLr: z.number().min(0).default(0),
});

const EvalConfig = z.strictObject({
  batchSize: z.number().int().positive().default(64),
  /** Write score files (reference subject, probe subject, probe path, score) next to the checkpoints. */
  scoreFiles: z.boolean().default(false),
  /** Embedding extraction: tfjs = our model on the run's tf backend; onnxruntime = core's engine graph of
   *  the model on onnxruntime-node (routing from the graph's routing outputs, threads/provider of `train`);
   *  auto = onnxruntime when it loads, else tfjs (the reason is logged and tagged). */
  engine: z.enum(['auto', 'tfjs', 'onnxruntime']).default('auto'),
  /** onnxruntime execution provider of evaluation (same values as train.provider); null = train.provider. */
  provider: z.string().min(1).nullable().default(null),
  /** precision of the frozen network in evaluation's onnxruntime graphs (same values as train.precision);
   *  null = train.precision. Tagged eval.precision with the calibration. */
  precision: z.enum(['fp32', 'int8', 'auto']).nullable().default(null),
});

const TrainConfig = z.strictObject({
  /** SSMB training and teacher embeddings: tfjs (autodiff on the run's tf backend), onnxruntime (core's
   *  forward + derived VJP graph on onnxruntime-node, Adam in tfjs), auto = onnxruntime when it loads and
   *  can express the model, else tfjs with the reason logged and recorded (run tag train.engine_fallback). */
  engine: z.enum(['auto', 'tfjs', 'onnxruntime']).default('auto'),
  /** onnxruntime intra-op threads; 0 = every core. */
  threads: z.number().int().min(0).default(0),
  /** onnxruntime execution provider: auto (a GPU provider when one has a hardware adapter, else cpu; the
   *  reason is logged and tagged train.provider_reason), cpu, webgpu (shipped; Vulkan), cuda / tensorrt where
   *  installed. Env SSMB_ORT_PROVIDER wins. */
  provider: z.string().min(1).default('auto'),
  /** precision of the frozen network (convolutions and head) in the onnxruntime graphs of training, the
   *  fixed-pair loss and the teacher embeddings: fp32, int8 (per-channel int8 weights, uint8 activations
   *  calibrated on the run's training images of every modality; SSMB blocks, losses and Adam stay fp32),
   *  auto = int8 where the backbone and provider allow it, else fp32 with the reason logged and tagged
   *  (train.precision, train.precision_reason, train.calibration). */
  precision: z.enum(['fp32', 'int8', 'auto']).default('fp32'),
  /** SSMB runs: every N steps (and at step 0, before any update, and at the last step) log the training
   *  objective on `lossPairs` FIXED pairs, forward only (metric loss/fixed + /cc /ts /lb): the per-step
   *  `loss` is over a new random batch each step, so its changes are mostly sampling noise. 0 = off. */
  lossEvery: z.number().int().min(0).default(0),
  /** Pairs of the fixed estimate, drawn once from the fold's training pairs with their own seed (derived from
   *  `seed`): the sampler's pairs, RNG state and checkpoints are the same with the estimate on or off. */
  lossPairs: z.number().int().min(2).default(32),
});

const PretrainConfig = z.strictObject({
  /** Identities to learn: the protocol's training split (its `modality` images), fold as declared. */
  protocol: z.string().min(1).default('synthetic-pretrain-vis'),
  fold: foldId.default('all'),
  // Sized for the 2-core wasm quickstart (~10-30 img/s for iresnet-synth in training mode).
  steps: z.number().int().positive().default(400),
  batchSize: z.number().int().positive().default(32),
  lr: z.number().positive().default(2e-3),
  schedule: z.enum(['constant', 'cosine', 'step']).default('cosine'),
  warmup: z.number().int().min(0).default(50),
  /** ArcFace additive angular margin m and scale s. */
  margin: z.number().min(0).default(0.5),
  scale: z.number().positive().default(32),
  weightDecay: z.number().min(0).default(5e-4),
  /** Modality whose identities the backbone learns (the FR model is a VIS model). */
  modality: z.string().default('VIS'),
  /** Weights file written at the end (safetensors); null = <checkpoint dir>/backbone.safetensors. */
  output: z.string().min(1).nullable().default(null),
  /** Random horizontal flip of training images. */
  flip: z.boolean().default(true),
});

const CheckpointConfig = z.strictObject({
  /** Checkpoints kept besides the best one: the newest N (0 = keep every checkpoint). The newest is always
   *  kept, whatever N is: a resume starts from it. */
  keepLast: z.number().int().min(0).default(3),
  /** Also keep the checkpoint with the best value of this per-step metric (e.g. eval/rank1, loss), among
   *  checkpoint steps where it was logged; null = keep only the newest keepLast. */
  keepBest: z.string().min(1).nullable().default('eval/rank1'),
  /** Which way keepBest is better; null = from the metric (losses and eer lower, other eval/ metrics higher). */
  bestMode: z.enum(['max', 'min']).nullable().default(null),
});

export const ConfigSchema = z.strictObject({
  /** A registered method (methods/: baseline, ssmb, ssmb-oracle, caim, ...): what trains beside the frozen
   *  backbone; the keys of `ssmb` and `loss` that do not apply to it must keep their defaults. */
  method: z.enum(listMethods() as [string, ...string[]]).default('ssmb'),
  dataset: DatasetConfig.prefault({}),
  backbone: BackboneConfig.prefault({}),
  ssmb: SsmbConfig.prefault({}),
  loss: LossConfig.prefault({}),
  optim: OptimConfig.prefault({}),
  eval: EvalConfig.prefault({}),
  train: TrainConfig.prefault({}),
  pretrain: PretrainConfig.prefault({}),
  /** Pairs per step (each pair = one VIS anchor + one partner image). */
  batchSize: z.number().int().positive().default(16),
  steps: z.number().int().min(0).default(300),
  /** Evaluate every N steps (0 = only at the end). */
  evalEvery: z.number().int().min(0).default(0),
  /** Checkpoint every N steps (0 = only at the end). */
  checkpointEvery: z.number().int().min(0).default(100),
  /** Which checkpoints are kept (older ones are deleted, file and store row together). */
  checkpoint: CheckpointConfig.prefault({}),
  seed: z.number().int().min(0).default(0),
  /** tf backend: auto = core's initBackend order (SSMB_BACKEND env wins). */
  engine: z.enum(['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']).default('auto'),
  /** Directory for checkpoints/score files; null = <store file dir>/artifacts. */
  outputDir: z.string().min(1).nullable().default(null),
});

export type Config = z.infer<typeof ConfigSchema>;
export type ConfigOverride = Record<string, unknown>;

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const key = issue.path.join('.');
  if (issue.code === 'unrecognized_keys') {
    const where = key ? `${key}.` : '';
    return issue.keys.map((k) => `unknown config key \`${where}${k}\``).join('; ');
  }
  if (issue.code === 'invalid_type') {
    return `config key \`${key}\`: expected ${issue.expected}, got ${issue.input === undefined ? 'nothing' : JSON.stringify(issue.input)}`;
  }
  if (issue.code === 'invalid_value') {
    return `config key \`${key}\`: expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${JSON.stringify(issue.input)}`;
  }
  return `config key \`${key}\`: ${issue.message}${'input' in issue && issue.input !== undefined ? ` (got ${JSON.stringify(issue.input)})` : ''}`;
}

/** What the schema cannot know: the backbone must be registered, the SSMB positions must be its taps,
 *  a fixed image size must be its input size. */
function backboneProblems(c: Config): string[] {
  const name = c.backbone.model;
  if (!hasBackbone(name)) return [`config key \`backbone.model\`: unknown backbone ${JSON.stringify(name)}; registered backbones: ${listBackbones().join(', ')}`];
  const info = backboneInfo(name);
  const taps = info.taps.map((t) => t.name);
  const problems: string[] = [];
  const bad = c.ssmb.positions.filter((p) => !taps.includes(p));
  if (bad.length) problems.push(`config key \`ssmb.positions\`: ${bad.map((p) => JSON.stringify(p)).join(', ')} ${bad.length === 1 ? 'is not a tap' : 'are not taps'} of backbone ${name}; its taps: ${taps.join(', ')}`);
  const dup = c.ssmb.positions.filter((p, i) => c.ssmb.positions.indexOf(p) !== i);
  if (dup.length) problems.push(`config key \`ssmb.positions\`: ${dup.map((p) => JSON.stringify(p)).join(', ')} given twice`);
  if (c.dataset.imageSize !== null && c.dataset.imageSize !== info.input.size) {
    problems.push(`config key \`dataset.imageSize\`: ${c.dataset.imageSize} does not match the input size ${info.input.size} of backbone ${name} (leave it null to use the backbone's)`);
  }
  return problems;
}

/** A hidden width means nothing to a kind without a hidden layer: refused rather than ignored. */
function expertKindProblems(c: Config): string[] {
  const kind = getExpertKind(c.ssmb.expertKind, 'config key `ssmb.expertKind`');
  if (c.ssmb.hiddenWidth !== null && !kind.usesHidden) {
    return [`config key \`ssmb.hiddenWidth\`: ${c.ssmb.hiddenWidth} is set, but expert kind ${kind.name} has no hidden layer (leave it null)`];
  }
  return [];
}

/** Validates a merged override object against the schema and the backbone registry, and fills in the defaults. */
export function validateConfig(raw: unknown): Config {
  const parsed = ConfigSchema.safeParse(raw ?? {}, { reportInput: true });
  if (!parsed.success) throw new ConfigError(`invalid config: ${parsed.error.issues.map(describeIssue).join('; ')}`);
  const problems = [...backboneProblems(parsed.data), ...expertKindProblems(parsed.data), ...methodKeyProblems(parsed.data, ConfigSchema.parse({}))];
  if (problems.length) throw new ConfigError(`invalid config: ${problems.join('; ')}`);
  return parsed.data;
}

export function defaultConfig(): Config {
  return validateConfig({});
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep merge; arrays and scalars in `over` replace those in `base`. */
export function mergeConfig<T>(base: T, over: unknown): T {
  if (!isPlainObject(base) || !isPlainObject(over)) return (over === undefined ? base : over) as T;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = k in out ? mergeConfig(out[k], v) : v;
  return out as T;
}

/** Reads an override file: .json, or YAML otherwise. */
export function loadConfigFile(file: string): ConfigOverride {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`);
  }
  let data: unknown;
  try {
    data = file.endsWith('.json') ? JSON.parse(text) : YAML.parse(text);
  } catch (err) {
    throw new ConfigError(`config file ${file} is not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message}`);
  }
  if (data == null) return {};
  if (!isPlainObject(data)) throw new ConfigError(`config file ${file} must hold a mapping of config keys, got ${Array.isArray(data) ? 'a list' : typeof data}`);
  return data;
}

/** A scalar from the command line, read as YAML (numbers, booleans, null, [lists]); otherwise the string. */
export function parseScalar(text: string): unknown {
  try {
    return YAML.parse(text);
  } catch {
    return text;
  }
}

const KEY_RE = /^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)*$/;

function splitAssignment(spec: string): [string, string] {
  const eq = spec.indexOf('=');
  const key = eq < 0 ? spec : spec.slice(0, eq).trim();
  if (eq < 0 || !KEY_RE.test(key)) throw new ConfigError(`override "${spec}" must look like dotted.key=value (e.g. ssmb.numExperts=4)`);
  return [key, spec.slice(eq + 1).trim()];
}

/** `a.b.c` + value -> { a: { b: { c: value } } } */
export function overrideFor(key: string, value: unknown): ConfigOverride {
  return key
    .split('.')
    .reverse()
    .reduce<unknown>((acc, part) => ({ [part]: acc }), value) as ConfigOverride;
}

/** `--set key=value` list -> one override object. */
export function parseSetOverrides(specs: string[]): ConfigOverride {
  return specs.reduce<ConfigOverride>((acc, spec) => {
    const [key, value] = splitAssignment(spec);
    return mergeConfig(acc, overrideFor(key, parseScalar(value)));
  }, {});
}

/**
 * defaults <- base <- files (in order) <- --set overrides, validated. With `cwd` (the command line's
 * working directory), the paths the files and --set overrides give (CONFIG_PATH_KEYS) are made absolute
 * against it, so the run records where the user meant whichever folder its worker starts in.
 */
export function resolveConfig(opts: { base?: ConfigOverride; files?: string[]; sets?: string[]; cwd?: string } = {}): Config {
  let given: ConfigOverride = {};
  for (const f of opts.files ?? []) given = mergeConfig(given, loadConfigFile(f));
  given = mergeConfig(given, parseSetOverrides(opts.sets ?? []));
  if (opts.cwd !== undefined) given = absoluteConfigPaths(given, opts.cwd);
  return validateConfig(mergeConfig(opts.base ?? {}, given));
}

/** The CONFIG_PATH_KEYS an override object sets (non-empty strings), made absolute against `cwd`. */
export function absoluteConfigPaths(over: ConfigOverride, cwd: string): ConfigOverride {
  let out = over;
  for (const key of Object.keys(CONFIG_PATH_KEYS)) {
    const v = configValueAt(over, key);
    if (typeof v === 'string' && v.trim() !== '') out = mergeConfig(out, overrideFor(key, userPath(v, cwd)));
  }
  return out;
}

/** Splits `a,b,[c,d]` on top-level commas. */
function splitValues(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of text) {
    if (ch === '[' || ch === '{') depth++;
    if (ch === ']' || ch === '}') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  out.push(cur.trim());
  return out.filter((s) => s.length > 0);
}

/**
 * Sweep grid: `['ssmb.numExperts=1,2,4,8', 'dataset.fold=all']` -> the cartesian product as a list of
 * override objects (first spec varies slowest). Every value is checked against the schema, so a bad key
 * or value fails here, naming the key. `dataset.fold=all` stays 'all'; launch expands it per fold.
 */
export function parseSweepGrid(specs: string[]): ConfigOverride[] {
  let combos: ConfigOverride[] = [{}];
  for (const axis of parseSweepAxes(specs)) combos = combos.flatMap((c) => axis.values.map((v) => mergeConfig(c, overrideFor(axis.key, v))));
  return combos;
}

/**
 * The axes of a sweep grid, each value checked against the schema, without expanding the product: the
 * size of a grid is the product of `values.length` (before `dataset.fold=all` expands per fold).
 */
export function parseSweepAxes(specs: string[]): Array<{ key: string; values: unknown[] }> {
  const axes = specs.map((spec) => {
    const [key, text] = splitAssignment(spec);
    const values = splitValues(text).map(parseScalar);
    if (values.length === 0) throw new ConfigError(`sweep axis \`${key}\` has no values (write ${key}=v1,v2,...)`);
    for (const v of values) validateConfig(overrideFor(key, v));
    return { key, values };
  });
  const seen = new Set<string>();
  for (const a of axes) {
    if (seen.has(a.key)) throw new ConfigError(`sweep axis \`${a.key}\` is given twice`);
    seen.add(a.key);
  }
  return axes;
}

export { flattenConfig, flattenConfigValues, configKeysOf, configValueAt } from './flatten.ts';

/**
 * Config keys that name files or folders, and what a run does with them. The dashboard's launcher
 * confines each kind to its roots (`ssmb dashboard --data-root/--weights-root/--output-root`); a test
 * walks the schema so a new string key must be listed here or in NON_PATH_STRING_KEYS.
 */
export const CONFIG_PATH_KEYS = {
  'dataset.root': 'data',
  'backbone.weights': 'weights',
  outputDir: 'output',
  'pretrain.output': 'output',
} as const satisfies Record<string, 'data' | 'weights' | 'output'>;
export type ConfigPathKey = keyof typeof CONFIG_PATH_KEYS;
export type ConfigPathKind = (typeof CONFIG_PATH_KEYS)[ConfigPathKey];

/** String-valued config keys that are not paths (names, enums, fold ids). */
export const NON_PATH_STRING_KEYS = [
  'method', 'dataset.protocol', 'dataset.fold', 'backbone.model', 'ssmb.positions', 'ssmb.expertKind', 'optim.schedule', 'eval.engine', 'eval.provider', 'eval.precision', 'train.engine', 'train.provider', 'train.precision',
  'pretrain.protocol', 'pretrain.fold', 'pretrain.schedule', 'pretrain.modality', 'engine', 'checkpoint.keepBest', 'checkpoint.bestMode',
] as const;

/**
 * Which runs a config key means something for, by the whole key, else its first segment: a method key
 * (`ssmb.*`, `loss.*`: methods/method.ts METHOD_KEYS) only for the methods that declare it, `pretrain.*` only for pre-training, dataset keys not for pre-training (it reads
 * `pretrain.protocol`), optimiser and loss keys only for training runs (a frozen baseline trains nothing).
 * Keys not listed apply to every run but a sweep parent (whose config is `{ base, grid }`). The dashboard
 * groups runs by a key (runs columns, ablation, tables) only where it applies; the store turns the same
 * table into SQL (`appliesSql`).
 */
export const CONFIG_KEY_SCOPES: ReadonlyArray<{ heads: readonly string[]; kinds?: readonly string[]; methods?: readonly string[] }> = [
  { heads: ['method'], kinds: ['train', 'evaluate'] },
  // each method key applies to the methods that declare it (the methods registry); loss keys to training only
  ...METHOD_KEYS.map((k) => ({ heads: [k], ...(k.startsWith('loss.') ? { kinds: ['train'] } : {}), methods: listMethods().filter((m) => getMethod(m).keys.includes(k)) })),
  { heads: ['ssmb'], methods: ['ssmb'] },
  { heads: ['pretrain'], kinds: ['pretrain'] },
  { heads: ['dataset'], kinds: ['train', 'evaluate', 'noop'] },
  { heads: ['loss', 'optim', 'batchSize', 'evalEvery'], kinds: ['train'] },
  { heads: ['steps'], kinds: ['train', 'noop'] },
  { heads: ['train.lossEvery', 'train.lossPairs'], kinds: ['train'], methods: listMethods().filter((m) => getMethod(m).trains) },
];

/** The scope rule of a dotted key (undefined = applies to every run but sweep parents). */
export function configKeyScope(key: string): (typeof CONFIG_KEY_SCOPES)[number] | undefined {
  const head = key.split('.')[0];
  return CONFIG_KEY_SCOPES.find((s) => s.heads.includes(key)) ?? CONFIG_KEY_SCOPES.find((s) => s.heads.includes(head));
}

export function configKeyApplies(key: string, run: { kind: string; method: string | null }): boolean {
  if (run.kind === 'sweep') return false;
  const scope = configKeyScope(key);
  if (!scope) return true;
  return (!scope.kinds || scope.kinds.includes(run.kind)) && (!scope.methods || (run.method !== null && scope.methods.includes(run.method)));
}
