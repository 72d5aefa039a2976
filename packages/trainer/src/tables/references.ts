// Literature numbers printed beside ours. Values are in display units (percent, as papers print them).
// A reference with `row` sits beside that row's cell; one without `row` becomes its own
// "reported" row labelled by `method`. Never invent numbers: an empty list is valid.
import { z } from 'zod';
import { parse as parseYaml } from 'yaml';
import { formatIssues } from './config.ts';

export const ReferenceSchema = z
  .object({
    method: z.string().min(1),
    row: z.string().optional(),
    column: z.string().min(1),
    metric: z.string().min(1),
    mean: z.number(),
    std: z.number().nonnegative().optional(),
    /** Paper and table/figure the number is copied from. */
    source: z.string().min(1),
  })
  .strict();

export const ReferencesFileSchema = z
  .object({
    description: z.string().optional(),
    references: z.array(ReferenceSchema).nullable().default([]).transform((r) => r ?? []),
  })
  .strict();

export type Reference = z.infer<typeof ReferenceSchema>;

export function parseReferences(value: unknown, source = 'references'): Reference[] {
  if (value === null || value === undefined) return [];
  const res = ReferencesFileSchema.safeParse(value);
  if (!res.success) throw new Error(formatIssues(source, res.error).replace('table config', 'references file'));
  return res.data.references;
}

export function parseReferencesYaml(text: string, source = 'references'): Reference[] {
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (err) {
    throw new Error(`references file ${source} is not valid YAML: ${(err as Error).message}`);
  }
  return parseReferences(value, source);
}
