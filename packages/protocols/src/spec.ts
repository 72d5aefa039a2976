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

const subjectFolds = z.strictObject({
  kind: z.literal('subjects'),
  /** name of a split file in packages/protocols/splits (our own seeded identity splits) */
  split: z.string(),
});

const fixedTestFolds = z.strictObject({
  kind: z.literal('fixed-test'),
  name: z.string(),
  /** test subjects; every other subject found on disk trains */
  test: z.array(z.union([z.string(), z.number()]).transform(String)).min(1),
});

export const protocolSpecSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9.-]*$/, 'lower-case letters, digits, dots and dashes'),
  description: z.string().min(1),
  reader: z.string(),
  /** whose split this is: the dataset's own lists, a split from the literature, or one we defined (ssmb) */
  origin: z.enum(['dataset', 'literature', 'ssmb']),
  reference: z.string().optional(),
  options: z.record(z.string(), z.unknown()).optional(),
  roles,
  folds: z.discriminatedUnion('kind', [listFolds, subjectFolds, fixedTestFolds]),
});

export type ProtocolSpec = z.infer<typeof protocolSpecSchema>;
export type RoleSelect = z.infer<typeof roleSelect>;

export function parseSpec(raw: unknown, source: string): ProtocolSpec {
  const r = protocolSpecSchema.safeParse(raw);
  if (!r.success) {
    const issues = r.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`).join('\n');
    throw new Error(`invalid protocol spec ${source}:\n${issues}`);
  }
  return r.data;
}
