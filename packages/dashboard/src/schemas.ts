// Request schemas (zod). Every query and body goes through `parse`, which turns the first issue into a
// 400 VALIDATION error naming the field (e.g. "query.limit: expected an integer <= 5000, received 9000").
import { z } from 'zod';
import { RUN_SORT_KEYS } from './store.ts';
import { apiError } from './errors.ts';

const STATUSES = ['queued', 'running', 'completed', 'failed', 'cancelled'] as const;

/** "a,b,c" (or repeated ?x=a&x=b) -> ['a','b','c']. */
const list = <T extends z.ZodType>(item: T) =>
  z.preprocess(
    (v) => (v === undefined || v === '' ? undefined : (Array.isArray(v) ? v : [v]).flatMap((s) => String(s).split(',')).map((s) => s.trim()).filter(Boolean)),
    z.array(item).optional(),
  );
const intParam = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const configKey = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/, 'expected a dotted config key like ssmb.numExperts');
const metricName = z.string().regex(/^[A-Za-z0-9_@.:/-]{1,64}$/, 'expected a metric name like rank1 or tar_far_1e2');
const token = z.string().optional();

export const RunIdParams = z.object({ id: intParam(1, Number.MAX_SAFE_INTEGER) });

export const RunListQuery = z
  .object({
    status: list(z.enum(STATUSES)),
    search: z.string().max(200).optional(),
    tag: z.string().max(200).optional(),
    experiment: intParam(1, Number.MAX_SAFE_INTEGER).optional(),
    parent: intParam(1, Number.MAX_SAFE_INTEGER).optional(),
    archived: z.enum(['exclude', 'include', 'only']).default('exclude'),
    sort: z.enum(RUN_SORT_KEYS).default('id'),
    order: z.enum(['asc', 'desc']).default('desc'),
    limit: intParam(1, 5000).default(200),
    offset: intParam(0, Number.MAX_SAFE_INTEGER).default(0),
    token,
  })
  .strict();

export const CurvesQuery = z
  .object({
    keys: list(z.string().min(1).max(200)),
    maxPoints: intParam(16, 20_000).default(1000),
    token,
  })
  .strict();

export const EvalCurvesQuery = z.object({ kind: z.enum(['roc', 'cmc']).optional(), token }).strict();

export const CompareQuery = z
  .object({ ids: list(intParam(1, Number.MAX_SAFE_INTEGER)), token })
  .strict();

export const AblationQuery = z
  .object({
    metric: metricName.default('rank1'),
    key: configKey.default('ssmb.numExperts'),
    experiment: intParam(1, Number.MAX_SAFE_INTEGER).optional(),
    ids: list(intParam(1, Number.MAX_SAFE_INTEGER)),
    method: z.enum(['ssmb', 'baseline']).optional(),
    archived: z.enum(['exclude', 'include']).default('exclude'),
    token,
  })
  .strict();

export const TableQuery = z
  .object({
    metrics: list(metricName),
    /** Config key whose value names a row (method or ablation setting); `method` = the run's method. */
    rows: z.union([z.literal('method'), configKey]).default('method'),
    experiment: intParam(1, Number.MAX_SAFE_INTEGER).optional(),
    ids: list(intParam(1, Number.MAX_SAFE_INTEGER)),
    archived: z.enum(['exclude', 'include']).default('exclude'),
    method: z.enum(['ssmb', 'baseline']).optional(),
    format: z.enum(['json', 'csv', 'md', 'latex']).default('json'),
    token,
  })
  .strict();

export const ArtifactQuery = z.object({ path: z.string().min(1).max(4096), token }).strict();

export const TagBody = z
  .object({
    key: z.string().trim().min(1, 'tag key must not be empty').max(100).regex(/^[^=\s]+$/, 'tag keys have no spaces or "="'),
    value: z.string().max(500).default(''),
  })
  .strict();
export const TagParams = z.object({ id: intParam(1, Number.MAX_SAFE_INTEGER), key: z.string().min(1).max(100) });

export const ArchiveBody = z.object({ archived: z.boolean() }).strict();

export const LaunchBody = z
  .object({
    experiment: z.string().trim().min(1, 'name the experiment the run belongs to').max(200),
    name: z.string().max(200).optional(),
    kind: z.enum(['train', 'pretrain', 'evaluate', 'noop']).default('train'),
    /** Config overrides, one "key=value" per entry (same as `--set`). */
    set: z.array(z.string().min(1).max(1000)).max(200).default([]),
    /** Sweep grid text (same syntax as `ssmb sweep`); absent or empty = a single run. */
    grid: z.string().max(20_000).optional(),
    seed: z.number().int().min(0).max(2 ** 31 - 1).optional(),
  })
  .strict();
export type LaunchRequest = z.output<typeof LaunchBody>;

export function parse<T extends z.ZodType>(schema: T, value: unknown, where: 'query' | 'body' | 'params'): z.output<T> {
  const res = schema.safeParse(value ?? {});
  if (res.success) return res.data;
  const issue = res.error.issues[0];
  const field = [where, ...issue.path.map(String)].join('.');
  let detail = `${field}: ${issue.message}`;
  if (issue.code === 'unrecognized_keys') detail = `${where}.${issue.keys[0]}: unknown field; remove it (unknown: ${issue.keys.join(', ')})`;
  throw apiError('VALIDATION', detail, issue.code === 'unrecognized_keys' ? `${where}.${issue.keys[0]}` : field);
}
