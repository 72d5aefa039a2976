// Table configs (tables/*.yaml at the repo root): which runs make up a paper table.
// rows = methods or ablation settings (trainer config overrides), columns = protocols (x folds),
// metrics = sub-columns. Unknown keys fail loudly, like every config in this repo.
import { z } from 'zod';
import { parse as parseYaml } from 'yaml';
import { metricSpec, DEFAULT_METRICS, type MetricSpec } from './metrics.ts';
import { SlurmResourcesSchema } from '../launchers/slurm.ts';

const id = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'ids use letters, digits, "_", "." and "-"');
const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);
/** Trainer config overrides: nested objects or dotted keys, leaves are scalars or arrays of scalars. */
type Overrides = { [k: string]: z.infer<typeof scalar> | Array<z.infer<typeof scalar>> | Overrides };
const overrides: z.ZodType<Overrides> = z.lazy(() =>
  z.record(z.string(), z.union([scalar, z.array(scalar), overrides])),
);

const metricEntry = z.union([
  z.string(),
  z
    .object({
      key: z.string(),
      label: z.string().optional(),
      percent: z.boolean().optional(),
      better: z.enum(['higher', 'lower']).optional(),
      decimals: z.number().int().min(0).max(6).optional(),
    })
    .strict(),
]);

const RowSchema = z
  .object({
    id,
    label: z.string(),
    /** Trainer config overrides that define this method / setting. */
    set: overrides.default({}),
    /** A universal row: one model per fold trained on this protocol (e.g. the pooled
     *  synthetic-vis-universal) and evaluated on every column the row is in, on the same fold id
     *  (dataset.evalProtocols); absent = each column trains its own model on its protocol. */
    train: z.string().min(1).optional(),
  })
  .strict();

const ColumnSchema = z
  .object({
    id,
    label: z.string(),
    /** Key into `datasets` (which root this protocol reads). */
    dataset: id,
    /** Protocol name in the protocols registry, e.g. `casia-nir-vis-2.0-view2`. */
    protocol: z.string().min(1),
    /** `all` = every fold the protocol declares. */
    folds: z.union([z.literal('all'), z.array(z.union([z.string(), z.number()]).transform(String)).min(1)]).default('all'),
    /** Restrict this column to some rows (e.g. VIS-VIS only for the baseline); default all rows. */
    rows: z.array(id).min(1).optional(),
    /** Extra overrides for runs of this column only. */
    set: overrides.default({}),
  })
  .strict();

const DatasetSchema = z
  .object({
    /** Default root (relative to the repo root); `--root name=DIR` overrides. Null = must be given. */
    root: z.string().nullable().default(null),
    description: z.string().optional(),
  })
  .strict();

export const TableConfigSchema = z
  .object({
    name: id,
    title: z.string(),
    caption: z.string().optional(),
    /** Header of the row-label column in every export (rows may be methods, or settings such as N). */
    rowHeader: z.string().min(1).default('Method'),
    metrics: z.array(metricEntry).min(1).default([...DEFAULT_METRICS]),
    datasets: z.record(id, DatasetSchema),
    /** Pre-trained backbone weights; `--weights FILE` overrides. Null = must be given. */
    weights: z.string().nullable().default(null),
    /** Overrides applied to every run of the table. */
    base: overrides.default({}),
    rows: z.array(RowSchema).min(1),
    columns: z.array(ColumnSchema).min(1),
    /** Literature numbers file, relative to this config file. */
    references: z.string().optional(),
    /** Resources of `ssmb reproduce --launcher slurm` (partition, cpus, mem, time, gres, ...); flags override. */
    slurm: SlurmResourcesSchema.optional(),
    /** Row every other row is compared with, cell by cell: the difference and its 95% interval (bootstrap
     *  over probes within folds, paired t-test over folds); a cell whose interval excludes 0 is marked. */
    reference: id.optional(),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    const rowIds = new Set<string>();
    cfg.rows.forEach((r, i) => {
      if (rowIds.has(r.id)) ctx.addIssue({ code: 'custom', path: ['rows', i, 'id'], message: `duplicate row id "${r.id}"` });
      rowIds.add(r.id);
    });
    const colIds = new Set<string>();
    cfg.columns.forEach((c, i) => {
      if (colIds.has(c.id)) ctx.addIssue({ code: 'custom', path: ['columns', i, 'id'], message: `duplicate column id "${c.id}"` });
      colIds.add(c.id);
      if (!(c.dataset in cfg.datasets)) {
        ctx.addIssue({
          code: 'custom',
          path: ['columns', i, 'dataset'],
          message: `column "${c.id}" reads dataset "${c.dataset}" but datasets declares only: ${Object.keys(cfg.datasets).join(', ') || '(none)'}`,
        });
      }
      for (const r of c.rows ?? []) {
        if (!rowIds.has(r)) ctx.addIssue({ code: 'custom', path: ['columns', i, 'rows'], message: `column "${c.id}" names unknown row "${r}"` });
      }
    });
    if (cfg.reference !== undefined && !rowIds.has(cfg.reference)) ctx.addIssue({ code: 'custom', path: ['reference'], message: `reference names unknown row "${cfg.reference}"; rows: ${[...rowIds].join(', ')}` });
    // a universal row is one run per fold evaluated on each of its columns: they must read one dataset and
    // add no overrides of their own (one run cannot follow several)
    cfg.rows.forEach((r, i) => {
      if (r.train === undefined) return;
      const cols = cfg.columns.filter((c) => !c.rows || c.rows.includes(r.id));
      const withSet = cols.filter((c) => Object.keys(c.set).length > 0).map((c) => c.id);
      if (withSet.length) ctx.addIssue({ code: 'custom', path: ['rows', i, 'train'], message: `row "${r.id}" trains once on ${r.train} and is evaluated on each of its columns; column(s) ${withSet.join(', ')} have overrides (set) of their own, which one run cannot follow` });
      const datasets = [...new Set(cols.map((c) => c.dataset))];
      if (datasets.length > 1) ctx.addIssue({ code: 'custom', path: ['rows', i, 'train'], message: `row "${r.id}" trains once on ${r.train}; its columns read datasets ${datasets.join(', ')}, expected one` });
    });
  });

export type TableConfigInput = z.input<typeof TableConfigSchema>;
export type TableConfig = z.output<typeof TableConfigSchema>;
export type TableRow = TableConfig['rows'][number];
export type TableColumn = TableConfig['columns'][number];
export type { Overrides };

/** Render zod issues as "path: message" lines so the user sees which key is wrong. */
export function formatIssues(source: string, error: z.ZodError): string {
  const lines = error.issues.map((i) => `  ${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`);
  return `invalid table config ${source}:\n${lines.join('\n')}`;
}

/** Validate a parsed object as a table config; `source` names the file in errors. */
export function parseTableConfig(value: unknown, source = 'table config'): TableConfig {
  const res = TableConfigSchema.safeParse(value);
  if (!res.success) throw new Error(formatIssues(source, res.error));
  res.data.metrics.forEach((m) => tableMetricSpec(m)); // unknown metric keys fail here, at load time
  return res.data;
}

/** Parse YAML text as a table config. */
export function parseTableConfigYaml(text: string, source = 'table config'): TableConfig {
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (err) {
    throw new Error(`table config ${source} is not valid YAML: ${(err as Error).message}`);
  }
  return parseTableConfig(value, source);
}

export function tableMetricSpec(entry: TableConfig['metrics'][number]): MetricSpec {
  return typeof entry === 'string' ? metricSpec(entry) : metricSpec(entry.key, entry);
}

/** The protocol a row's runs train on in a column: the row's `train` (universal) or the column's. */
export function trainProtocolOf(row: TableRow, column: TableColumn): string {
  return row.train ?? column.protocol;
}

/** Rows shown in a column (its `rows` restriction, in table row order). */
export function rowsOfColumn(cfg: TableConfig, column: TableColumn): TableRow[] {
  return column.rows ? cfg.rows.filter((r) => column.rows!.includes(r.id)) : cfg.rows;
}

