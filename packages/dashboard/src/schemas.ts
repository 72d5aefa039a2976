// Request schemas (zod). Every query and body goes through `parse`, which turns the first issue into a
// 400 VALIDATION error naming the field (e.g. "query.limit: expected an integer <= 5000, received 9000").
// Unknown fields fail; a token in the query string is refused with a pointer to the header.
import { z } from 'zod';
import { LAUNCHABLE_KINDS, RUN_METHODS, RUN_SORT_KEYS, RUN_STATUSES } from '@ssmb/trainer';
import { apiError } from './errors.ts';

/** "a,b,c" (or repeated ?x=a&x=b) -> ['a','b','c']. */
const list = <T extends z.ZodType>(item: T) =>
  z.preprocess(
    (v) => (v === undefined || v === '' ? undefined : (Array.isArray(v) ? v : [v]).flatMap((s) => String(s).split(',')).map((s) => s.trim()).filter(Boolean)),
    z.array(item).optional(),
  );
const intParam = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const runId = intParam(1, Number.MAX_SAFE_INTEGER);
const configKey = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/, 'expected a dotted config key like ssmb.numExperts');
const metricName = z.string().regex(/^[A-Za-z0-9_@.:/-]{1,64}$/, 'expected a metric name like rank1 or tar_far_1e2');
const metricKey = z.string().min(1).max(200);
const scope = {
  experiment: runId.optional(),
  ids: list(runId),
  method: z.enum(RUN_METHODS).optional(),
  archived: z.enum(['exclude', 'include']).default('exclude'),
};

export const RunIdParams = z.object({ id: runId });
export const TagParams = z.object({ id: runId, key: z.string().min(1).max(100) });

export const RunListQuery = z
  .object({
    status: list(z.enum(RUN_STATUSES)),
    search: z.string().max(200).optional(),
    tag: z.string().max(200).optional(),
    experiment: runId.optional(),
    parent: runId.optional(),
    archived: z.enum(['exclude', 'include', 'only']).default('exclude'),
    sort: z.enum(RUN_SORT_KEYS).default('id'),
    order: z.enum(['asc', 'desc']).default('desc'),
    limit: intParam(1, 5000).default(200),
    offset: intParam(0, Number.MAX_SAFE_INTEGER).default(0),
    /** Per-step keys shown with last and best values (default: loss). */
    latest: list(metricKey),
    /** Structured filter: `ssmb.numExperts=4 method=ssmb rank1>40` (free words match like search). */
    where: z.string().max(2000).optional(),
    ids: list(runId),
    /** Config keys shown as extra columns: each row carries their values. */
    columns: list(configKey),
  })
  .strict();

/** Groups of runs equal on every config key but fold and seed (`by` absent), or on the keys `by` names. */
export const RunGroupsQuery = z
  .object({
    status: list(z.enum(RUN_STATUSES)),
    search: z.string().max(200).optional(),
    where: z.string().max(2000).optional(),
    tag: z.string().max(200).optional(),
    experiment: runId.optional(),
    archived: z.enum(['exclude', 'include', 'only']).default('exclude'),
    ids: list(runId),
    by: list(configKey),
    sort: z.enum([...RUN_SORT_KEYS, 'n']).default('id'),
    order: z.enum(['asc', 'desc']).default('desc'),
    limit: intParam(1, 5000).default(200),
    offset: intParam(0, Number.MAX_SAFE_INTEGER).default(0),
  })
  .strict();

export const CurvesQuery = z.object({ keys: list(metricKey), maxPoints: intParam(16, 20_000).default(1000) }).strict();

export const EvalCurvesQuery = z.object({ kind: z.enum(['roc', 'cmc']).optional() }).strict();

/** One fold's embedding sample: both named (GET /api/runs/:id/embeddings lists the folds that have one). */
export const EmbeddingSampleQuery = z.object({ protocol: z.string().min(1).max(200), fold: z.string().min(1).max(200) }).strict();

export const CompareQuery = z.object({ ids: list(runId), latest: list(metricKey), by: list(configKey) }).strict();

export const GroupedCurvesQuery = z
  .object({
    ids: list(runId),
    key: metricKey.default('loss'),
    /** Config key whose value groups the runs; absent = one group per run. */
    by: configKey.optional(),
    buckets: intParam(10, 2000).default(200),
  })
  .strict();

export const AblationQuery = z
  .object({
    metric: metricName.default('rank1'),
    key: configKey.default('ssmb.numExperts'),
    /** A second config key (e.g. ssmb.expertKind): one line per value of it. */
    by: configKey.optional(),
    ...scope,
  })
  .strict();

export const ParallelQuery = z
  .object({ metric: metricName.default('rank1'), keys: list(configKey), protocol: z.string().max(200).optional(), ...scope })
  .strict();

export const TableQuery = z
  .object({
    /** A shipped table config by name (its rows and columns), or `rows` = a config key to group by. */
    config: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'expected a table config name like synthetic').optional(),
    rows: z.union([z.literal('method'), configKey]).optional(),
    metrics: list(metricName),
    format: z.enum(['json', 'csv', 'md', 'latex']).default('json'),
    /** LaTeX: protocols x metrics in one table, one table per metric, or per metric when it is wide. */
    layout: z.enum(['auto', 'wide', 'per-metric']).default('auto'),
    ...scope,
  })
  .strict();

export const ArtifactQuery = z.object({ path: z.string().min(1).max(4096) }).strict();

export const LinkBody = z
  .object({ url: z.string().startsWith('/api/', 'expected a dashboard API path such as /api/tables?format=csv').max(8192) })
  .strict();

const tagKey = z.string().trim().min(1, 'tag key must not be empty').max(100).regex(/^[^=\s]+$/, 'tag keys have no spaces or "="');
export const TagBody = z.object({ key: tagKey, value: z.string().max(500).default('') }).strict();
export const ArchiveBody = z.object({ archived: z.boolean() }).strict();

const runIds = z.array(runId).min(1, 'select at least one run').max(5000);
export const BulkTagBody = z.object({ ids: runIds, key: tagKey, value: z.string().max(500).default('') }).strict();
export const BulkArchiveBody = z.object({ ids: runIds, archived: z.boolean() }).strict();

export const LaunchBody = z
  .object({
    experiment: z.string().trim().min(1, 'name the experiment the run belongs to').max(200),
    name: z.string().max(200).optional(),
    kind: z.enum(LAUNCHABLE_KINDS).default('train'),
    /** Config overrides, one "key=value" per entry (same as `ssmb launch --set`). */
    set: z.array(z.string().min(1).max(1000)).max(200).default([]),
    /** Sweep grid text, one axis per line (same as `ssmb launch --grid`); absent or empty = a single run. */
    grid: z.string().max(20_000).optional(),
    seed: z.number().int().min(0).max(2 ** 31 - 1).optional(),
    /** Check and expand everything, queue nothing: the answer lists the runs that would be queued. */
    dryRun: z.boolean().default(false),
  })
  .strict();
export type LaunchRequest = z.output<typeof LaunchBody>;

export function parse<T extends z.ZodType>(schema: T, value: unknown, where: 'query' | 'body' | 'params' | 'headers'): z.output<T> {
  const res = schema.safeParse(value ?? {});
  if (res.success) return res.data;
  const issue = res.error.issues[0];
  const field = [where, ...issue.path.map(String)].join('.');
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0];
    const hint = key === 'token' ? 'tokens are accepted only in the Authorization header ("Authorization: Bearer <token>"), never in URLs' : 'remove it';
    throw apiError('VALIDATION', `${where}.${key}: unknown field; ${hint} (unknown: ${issue.keys.join(', ')})`, `${where}.${key}`);
  }
  throw apiError('VALIDATION', `${field}: ${issue.message}`, field);
}
