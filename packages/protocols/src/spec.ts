// The declarative protocol spec (one YAML/JSON file per protocol under specs/): validated, unknown keys fail.
import { z } from 'zod';

const roleSelect = z.strictObject({
  modalities: z.array(z.string()).min(1),
  /** attribute -> accepted values (e.g. sensor: [TD_RGB_E]); samples without the attribute are rejected */
  where: z.record(z.string(), z.array(z.string()).min(1)).optional(),
  /** keep only the first N samples of each subject (sorted by path), e.g. one gallery image */
  perSubject: z.number().int().positive().optional(),
});

const roles = z.strictObject({ train: roleSelect, gallery: roleSelect, probe: roleSelect });

const listFolds = z.strictObject({
  kind: z.literal('lists'),
  names: z.array(z.string()).min(1),
  /** list files relative to the dataset root; `<fold>` is replaced by the fold name */
  lists: z.strictObject({ train: z.array(z.string()), gallery: z.array(z.string()).min(1), probe: z.array(z.string()).min(1) }),
});

const subjectId = z.union([z.string().min(1), z.number().int()]).transform(String);

/** Subject ids of a split: an explicit list, or a numeric range with exceptions (Tufts has no 47). */
const subjectList = z.union([
  z.array(subjectId).min(2),
  z.strictObject({ from: z.number().int(), to: z.number().int(), except: z.array(z.number().int()).optional() }),
]);

/** How `ssmb protocols splits <spec>` makes the split file (see splits.ts: makeIdentitySplits). */
const splitDefinition = z.strictObject({
  seed: z.number().int().min(0),
  subjects: subjectList,
  folds: z.number().int().min(1),
  /** subjects per fold that train; the rest are test */
  train: z.number().int().min(1),
});

const subjectFolds = z.strictObject({
  kind: z.literal('subjects'),
  /** name of a split file: `<split>.json` next to the spec, else in packages/protocols/splits (ours) */
  split: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'a file name without folders or extension'),
  /** user protocols: the split's definition, from which `ssmb protocols splits <spec>` writes the file */
  definition: splitDefinition.optional(),
});

const fixedTestFolds = z.strictObject({
  kind: z.literal('fixed-test'),
  name: z.string(),
  /** test subjects; every other subject found on disk trains */
  test: z.array(z.union([z.string(), z.number()]).transform(String)).min(1),
});

const depth = z.union([z.literal(8), z.literal(16)]);

export const protocolSpecSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9.-]*$/, 'lower-case letters, digits, dots and dashes'),
  description: z.string().min(1),
  /** a registered reader name (`tufts-face`), or a reader module file relative to the spec (`./my_reader.mjs`) */
  reader: z.string().min(1),
  /** whose split this is: the dataset's own lists, a split from the literature, or one we defined (ssmb) */
  origin: z.enum(['dataset', 'literature', 'ssmb']),
  reference: z.string().optional(),
  options: z.record(z.string(), z.unknown()).optional(),
  /**
   * Bits per channel of the dataset's images: one value, or per modality (unlisted modalities: 8).
   * 16-bit images are stretched min..max per image to 0..255; an image whose depth differs from this
   * is counted and reported (protocols check warns; runs record `bitdepth_mismatch`).
   */
  bitDepth: z.union([depth, z.record(z.string(), depth)]).default(8),
  roles,
  folds: z.discriminatedUnion('kind', [listFolds, subjectFolds, fixedTestFolds]),
});

export type ProtocolSpec = z.infer<typeof protocolSpecSchema>;
export type RoleSelect = z.infer<typeof roleSelect>;
export type SplitDefinitionSpec = z.infer<typeof splitDefinition>;

export function parseSpec(raw: unknown, source: string): ProtocolSpec {
  const r = protocolSpecSchema.safeParse(raw);
  if (!r.success) {
    const issues = r.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`).join('\n');
    throw new Error(`invalid protocol spec ${source}:\n${issues}`);
  }
  return r.data;
}

/** A spec's reader names a module file (rather than a registered reader) when it looks like a path. */
export function isReaderModule(reader: string): boolean {
  return /^\.{1,2}[\\/]|^\//.test(reader) || /\.(m?js|cjs|m?ts)$/i.test(reader);
}

/** Declared bit depth of one modality's images. */
export function bitDepthOf(spec: ProtocolSpec, modality: string): 8 | 16 {
  return typeof spec.bitDepth === 'number' ? spec.bitDepth : (spec.bitDepth[modality] ?? 8);
}
