// IResNet configuration: typed, validated (unknown keys fail loudly), with the derived sizes.
import type { InputContract, TapInfo } from './backbone.ts';
import { TAP_NAMES, type TapName } from './taps.ts';

export { TAP_NAMES, type TapName };

/** The family's shape parameters (what a caller or an importer gives). */
export interface IResNetConfig {
  arch: string; // registry name or a free label for custom configs
  depths: number[]; // 4 stages: IBasicBlocks per stage
  widths: number[]; // 4 stages: output channels per stage
  stemWidth: number; // channels of the stem conv3x3 (64 in insightface)
  inputSize: number; // square input side (112 for aligned faces)
  embeddingSize: number; // fc / features width (512 in insightface)
  dropout: number; // dropout rate before fc (training only)
}

/** The validated config an IResNet carries (its Backbone config): the shape plus family and name (= arch). */
export type IResNetBackboneConfig = IResNetConfig & { family: typeof IRESNET_FAMILY; name: string };

export const IRESNET_FAMILY = 'iresnet';

const KEYS: (keyof IResNetConfig)[] = ['arch', 'depths', 'widths', 'stemWidth', 'inputSize', 'embeddingSize', 'dropout'];
// Stored with every config (weights metadata); optional on input, checked when present.
const IDENTITY_KEYS = ['family', 'name'] as const;

const isPosInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0;

/** Checks a config object; throws naming each offending key with what was received and what was expected.
 *  `family` (must be "iresnet") and `name` (must equal `arch`) may be given; the result always has both. */
export function validateIResNetConfig(cfg: unknown): IResNetBackboneConfig {
  if (typeof cfg !== 'object' || cfg === null) throw new Error(`IResNet config: expected an object, received ${String(cfg)}`);
  const c = cfg as Record<string, unknown>;
  const errors: string[] = [];
  for (const k of Object.keys(c)) {
    if (!KEYS.includes(k as keyof IResNetConfig) && !(IDENTITY_KEYS as readonly string[]).includes(k)) errors.push(`unknown key "${k}" (known: ${[...KEYS, ...IDENTITY_KEYS].join(', ')})`);
  }
  if ('family' in c && c.family !== IRESNET_FAMILY) errors.push(`family: expected "${IRESNET_FAMILY}", received ${JSON.stringify(c.family)}`);
  if ('name' in c && c.name !== c.arch) errors.push(`name: expected the arch ${JSON.stringify(c.arch)}, received ${JSON.stringify(c.name)}`);
  for (const k of KEYS) if (!(k in c)) errors.push(`missing key "${k}"`);
  if ('arch' in c && typeof c.arch !== 'string') errors.push(`arch: expected a string, received ${JSON.stringify(c.arch)}`);
  for (const k of ['depths', 'widths'] as const) {
    if (k in c && !(Array.isArray(c[k]) && c[k].length === 4 && c[k].every(isPosInt))) {
      errors.push(`${k}: expected 4 positive integers, received ${JSON.stringify(c[k])}`);
    }
  }
  for (const k of ['stemWidth', 'inputSize', 'embeddingSize'] as const) {
    if (k in c && !isPosInt(c[k])) errors.push(`${k}: expected a positive integer, received ${JSON.stringify(c[k])}`);
  }
  if ('dropout' in c && !(typeof c.dropout === 'number' && c.dropout >= 0 && c.dropout < 1)) {
    errors.push(`dropout: expected a number in [0, 1), received ${JSON.stringify(c.dropout)}`);
  }
  if (errors.length) throw new Error(`IResNet config is invalid:\n  ${errors.join('\n  ')}`);
  const v = c as unknown as IResNetConfig;
  return { family: IRESNET_FAMILY, name: v.arch, arch: v.arch, depths: [...v.depths], widths: [...v.widths], stemWidth: v.stemWidth, inputSize: v.inputSize, embeddingSize: v.embeddingSize, dropout: v.dropout };
}

/** Spatial side after a stride-2 conv3x3 with padding 1 (and the matching 1x1 shortcut): ceil(n / 2). */
export const halve = (n: number): number => Math.floor((n - 1) / 2) + 1;

/** Spatial side at each tap: stem keeps the input size, every stage halves it (112 -> 56/28/14/7). */
export function tapSpatial(cfg: IResNetConfig, tap: TapName): number {
  let s = cfg.inputSize;
  for (let i = 0; i < TAP_NAMES.indexOf(tap); i++) s = halve(s);
  return s;
}

export function tapChannels(cfg: IResNetConfig, tap: TapName): number {
  const i = TAP_NAMES.indexOf(tap);
  return i === 0 ? cfg.stemWidth : cfg.widths[i - 1];
}

/** Every tap with its channels and spatial side, in forward order. */
export function iresnetTaps(cfg: IResNetConfig): TapInfo[] {
  return TAP_NAMES.map((name) => ({ name, channels: tapChannels(cfg, name), spatial: tapSpatial(cfg, name) }));
}

/** insightface 5-landmark template for 112x112 (left eye, right eye, nose, left mouth, right mouth), [x, y]
 *  (arcface_torch / insightface `norm_crop`); protocols' INSIGHTFACE_TEMPLATE_112 holds the same numbers. */
export const ARCFACE_TEMPLATE_112: [number, number][] = [
  [38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041],
];

/** Canonical input = native input for IResNet: RGB, (v - 127.5) / 127.5, the ArcFace crop scaled to the size. */
export function iresnetInput(cfg: IResNetConfig): InputContract {
  const k = cfg.inputSize / 112;
  return {
    size: cfg.inputSize,
    channelOrder: 'RGB',
    normalisation: { mean: [127.5, 127.5, 127.5], std: [127.5, 127.5, 127.5] },
    template: { size: cfg.inputSize, points: ARCFACE_TEMPLATE_112.map(([x, y]) => [x * k, y * k]) },
  };
}
