// Runs as researchers think of them: structured filters (`ssmb.numExperts=4 method=ssmb rank1>40`) and
// groups of runs that differ only in fold and seed, each with mean ± std (n) over its runs. Pure: the
// routes read the runs, these helpers filter and group them.
import { CONFIG_PATH_KEYS, RUN_LIST_METRICS, configKeyApplies, flattenConfigValues, metricSpec, type RunRecord, type RunScan, type RunScanRow } from '@ssmb/trainer';
import { apiError } from './errors.ts';
import { stats } from './analysis.ts';

/** Keys that tell runs of one group apart: they are what is averaged over. */
export const OVER_KEYS = ['dataset.fold', 'seed'] as const;

/** Output folders: they tell runs apart but say where, not what (never a default group key). */
const OUTPUT_KEYS = Object.entries(CONFIG_PATH_KEYS).filter(([, kind]) => kind === 'output').map(([k]) => k);

/** What the store's scan takes out of the shared configs: fold, seed and outputs, unless grouped by. */
export const apartKeys = (by: readonly string[] | undefined): string[] => [...OVER_KEYS, ...OUTPUT_KEYS].filter((k) => !by?.includes(k));

/** The run fields filters and group rows read (a RunSummary or the store's scan row). */
type RunFields = Pick<RunScanRow, 'id' | 'experimentName' | 'name' | 'kind' | 'method' | 'status' | 'backbone' | 'numExperts' | 'protocol' | 'fold' | 'metrics' | 'tags'>;

/** Run fields a filter can name besides config keys and metrics. */
const RUN_FIELDS: Record<string, (r: RunFields) => unknown> = {
  id: (r) => r.id,
  name: (r) => r.name,
  status: (r) => r.status,
  kind: (r) => r.kind,
  experiment: (r) => r.experimentName,
  protocol: (r) => r.protocol,
  fold: (r) => r.fold,
  backbone: (r) => r.backbone,
  N: (r) => r.numExperts,
};

const OPS = ['<=', '>=', '!=', '=', '<', '>', '~'] as const;
type Op = (typeof OPS)[number];
export interface FilterTerm { key: string; op: Op; value: string; text: string }
export interface ParsedFilter { terms: FilterTerm[]; text: string[] }

/**
 * `ssmb.numExperts=4 method=ssmb rank1>40 thermal` -> three terms and one free word (a substring of the
 * name, experiment, protocol...). Spaces around an operator are allowed (`rank1 > 40`).
 */
export function parseFilter(input: string): ParsedFilter {
  const terms: FilterTerm[] = [];
  const text: string[] = [];
  const normalised = input.replace(/\s*(<=|>=|!=|=|<|>|~)\s*/g, '$1').trim();
  for (const token of normalised ? normalised.split(/\s+/) : []) {
    const m = /^([A-Za-z_][\w.@/-]*?)(<=|>=|!=|=|<|>|~)(.*)$/.exec(token);
    if (!m) {
      if (/^(<=|>=|!=|=|<|>|~)/.test(token)) throw apiError('BAD_FILTER', `Received "${token}" in "${input}": a term starts with a key (rank1>40).`, 'query.where');
      text.push(token);
      continue;
    }
    const [, key, op, value] = m;
    if (value === '') throw apiError('BAD_FILTER', `Received "${token}" in "${input}": give a value after ${op} (e.g. ${key}${op}4).`, 'query.where');
    terms.push({ key, op: op as Op, value, text: token });
  }
  return { terms, text };
}

/**
 * A run as the filters and groups see it: its fields (metrics, tags) and flat config (null = n/a). The
 * config may be shared by the runs of one configuration; `apart` holds the keys it leaves out (fold, seed).
 */
export interface GroupableRun { summary: RunFields; config: Record<string, unknown>; apart: Record<string, unknown> }

/** The value of a config key on a run (null: absent or not applicable). */
export const configOf = (r: GroupableRun, key: string): unknown => (key in r.apart ? r.apart[key] : r.config[key]) ?? null;

/** Whether a key applies depends on the run's kind and method only: decided once per pair (20,000 runs). */
function applicability() {
  const byKind = new Map<string, Map<string | null, Map<string, boolean>>>();
  return (k: string, run: { kind: string; method: string | null }) => {
    let byMethod = byKind.get(run.kind);
    if (!byMethod) byKind.set(run.kind, (byMethod = new Map()));
    let applies = byMethod.get(run.method);
    if (!applies) byMethod.set(run.method, (applies = new Map()));
    let a = applies.get(k);
    if (a === undefined) applies.set(k, (a = configKeyApplies(k, run)));
    return a;
  };
}

/** A flat config with null where a key does not apply: a frozen baseline has no number of experts. */
function applicable(flat: Record<string, unknown>, run: { kind: string; method: string | null }, applyOf: ReturnType<typeof applicability>) {
  for (const k in flat) if (!applyOf(k, run)) flat[k] = null;
  return flat;
}

/** Runs from full records and their summaries (a few runs: Compare, a page's columns). */
export function groupable(records: RunRecord[], summaries: RunFields[]): GroupableRun[] {
  const byId = new Map(records.map((r) => [r.id, r]));
  const applyOf = applicability();
  return summaries.flatMap((s) => {
    const rec = byId.get(s.id);
    return rec ? [{ summary: s, config: applicable(flattenConfigValues(rec.config), rec, applyOf), apart: {} }] : [];
  });
}

/** Runs from the store's scan: each distinct configuration flattened once per kind and method, shared by its runs. */
export function groupableScan(scan: RunScan): GroupableRun[] {
  const applyOf = applicability();
  const shared = new Map<string, Record<string, unknown>>();
  return scan.runs.map((r) => {
    const id = `${r.config}\0${r.kind}\0${r.method}`;
    let config = shared.get(id);
    if (!config) shared.set(id, (config = applicable(flattenConfigValues(scan.configs[r.config]), r, applyOf)));
    return { summary: r, config, apart: applicable(r.apart, r, applyOf) }; // the scan's apart object is the run's own
  });
}

/** Each distinct config object once (runs of one configuration share theirs). */
const distinctConfigs = (runs: GroupableRun[]) => new Set(runs.map((r) => r.config));

const isMetric = (key: string) => (RUN_LIST_METRICS as readonly string[]).includes(key);

/** The value a filter key names on a run; metrics in the unit shown (percent for Rank-1, TAR, EER). */
function valueOf(r: GroupableRun, key: string): unknown {
  if (isMetric(key)) {
    const v = r.summary.metrics[key];
    return v === null || v === undefined ? null : metricSpec(key).percent ? v * 100 : v;
  }
  if (key.startsWith('tag.')) return r.summary.tags[key.slice(4)] ?? null;
  if (key in RUN_FIELDS) return RUN_FIELDS[key](r.summary);
  return configOf(r, key);
}

function matches(v: unknown, op: Op, want: string): boolean {
  if (v === null || v === undefined) return op === '!=' ? want !== 'null' : op === '=' && want === 'null';
  const num = Number(want);
  const isNum = typeof v === 'number' && want.trim() !== '' && Number.isFinite(num);
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  switch (op) {
    case '=': return isNum ? v === num : s.toLowerCase() === want.toLowerCase();
    case '!=': return isNum ? v !== num : s.toLowerCase() !== want.toLowerCase();
    case '~': return s.toLowerCase().includes(want.toLowerCase());
    default: {
      if (!isNum) return false;
      const x = v as number;
      return op === '<' ? x < num : op === '<=' ? x <= num : op === '>' ? x > num : x >= num;
    }
  }
}

/** The keys a filter or grouping may name, for the error that lists them. */
export function knownKeys(runs: GroupableRun[]): { fields: string[]; metrics: string[]; config: string[] } {
  return { fields: [...Object.keys(RUN_FIELDS), 'tag.<key>'], metrics: [...RUN_LIST_METRICS], config: [...new Set([...[...distinctConfigs(runs)].flatMap((c) => Object.keys(c)), ...runs.flatMap((r) => Object.keys(r.apart))])].sort() };
}

/** Fails with BAD_FILTER naming the key when no run in scope has it (a typo would otherwise match nothing). */
export function checkKeys(keys: string[], runs: GroupableRun[], field: string, what: string): void {
  if (keys.length === 0) return;
  const known = knownKeys(runs);
  for (const key of keys) {
    if (isMetric(key) || key in RUN_FIELDS || key.startsWith('tag.') || known.config.includes(key)) continue;
    if (runs.length === 0) continue; // nothing in scope: nothing to check against, nothing matches
    const near = known.config.filter((k) => k.toLowerCase().includes(key.toLowerCase().split('.').at(-1)!)).slice(0, 5);
    throw apiError(
      'BAD_FILTER',
      `Received ${what} "${key}": no run in scope has it. Use a config key${near.length ? ` (did you mean ${near.join(', ')}?)` : ' (GET /api/config-keys)'}, a metric (${known.metrics.join(', ')}) or a run field (${known.fields.join(', ')}).`,
      field,
    );
  }
}

export function applyFilter(runs: GroupableRun[], f: ParsedFilter): GroupableRun[] {
  checkKeys(f.terms.map((t) => t.key), runs, 'query.where', 'filter key');
  return runs.filter((r) => f.terms.every((t) => matches(valueOf(r, t.key), t.op, t.value)));
}

export interface MetricStat { mean: number | null; std: number | null; n: number }
export interface RunGroup {
  /** Stable id: the group's key values as JSON. */
  key: string;
  /** The values of the keys that differ between the groups shown, e.g. `method=ssmb ssmb.numExperts=4`. */
  label: string;
  values: Record<string, unknown>;
  runIds: number[];
  /** Folds and seeds the group covers. */
  folds: string[];
  seeds: number[];
  statuses: Record<string, number>;
  protocol: string | null;
  method: string | null;
  backbone: string | null;
  numExperts: number | null;
  experiments: string[];
  /** Per list metric: mean ± sample std over the group's evaluated runs, and how many there are. */
  metrics: Record<string, MetricStat>;
  latestId: number;
}

/** The default grouping: every config key but fold, seed and output folders (they say where, not what). */
export function defaultGroupKeys(runs: GroupableRun[]): string[] {
  const skip = new Set<string>([...OVER_KEYS, ...OUTPUT_KEYS]);
  const keys = new Set<string>();
  for (const c of distinctConfigs(runs)) for (const k in c) keys.add(k);
  return [...keys].filter((k) => !skip.has(k)).sort();
}

// The knobs first; the protocol (a column of its own in the runs table) last.
const LABEL_FIRST = ['ssmb.numExperts', 'ssmb.expertKind', 'backbone.model'];
const labelRank = (k: string) => (k === 'dataset.protocol' ? 99 : LABEL_FIRST.includes(k) ? LABEL_FIRST.indexOf(k) : LABEL_FIRST.length);
const short = (k: string) => (k === 'ssmb.numExperts' ? 'N' : k.split('.').at(-1)!);
const show = (v: unknown) => (v === null || v === undefined ? 'n/a' : typeof v === 'string' ? v : JSON.stringify(v));

/** Groups of runs equal on `keys` (and in kind), in first-seen order of the runs given. */
export function groupRuns(runs: GroupableRun[], keys: string[]): RunGroup[] {
  const groups = new Map<string, GroupableRun[]>();
  // A run's key: its kind and values on `keys`. Runs sharing a config object share the part read from it,
  // computed once (20,000 runs of a few hundred configurations); keys held apart are read per run.
  const fromConfig = new Map<Record<string, unknown>, string>();
  const keySet = new Set(keys);
  const readsApart = (r: GroupableRun) => {
    for (const k in r.apart) if (keySet.has(k)) return true;
    return false;
  };
  for (const r of runs) {
    const perRun = readsApart(r);
    let k = perRun ? undefined : fromConfig.get(r.config);
    if (k === undefined) {
      k = JSON.stringify([r.summary.kind, ...keys.map((key) => configOf(r, key))]);
      if (!perRun) fromConfig.set(r.config, k);
    }
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k)!.push(r);
  }
  // A label names only the keys whose values differ between groups of the same kind and method (a dozen
  // shared keys say nothing; a pre-training run's keys say nothing about SSMB runs), the usual ones first.
  // Compared over one run of each group (its members share these keys), not over every run.
  const cluster = (r: GroupableRun) => `${r.summary.kind}\0${r.summary.method}`;
  const firsts = [...groups.values()].map((m) => m[0]);
  const differing = new Map<string, string[]>();
  for (const c of new Set(firsts.map(cluster))) {
    const inC = firsts.filter((r) => cluster(r) === c);
    // Paths (data root, weights) tell groups apart but say where, not what: in the group's values, not its label.
    const keysC = keys.filter((key) => !(key in CONFIG_PATH_KEYS) && new Set(inC.map((r) => JSON.stringify(configOf(r, key)))).size > 1);
    differing.set(c, keysC.sort((a, b) => labelRank(a) - labelRank(b) || a.localeCompare(b)));
  }
  return [...groups].map(([key, members]) => {
    const first = members[0];
    const values = Object.fromEntries(keys.map((k) => [k, configOf(first, k)]));
    const metrics: Record<string, MetricStat> = {};
    for (const m of RUN_LIST_METRICS) {
      const s = stats(members.map((r) => r.summary.metrics[m]).filter((v): v is number => v !== null && v !== undefined));
      metrics[m] = { mean: s?.mean ?? null, std: s && s.n > 1 ? s.std : null, n: s?.n ?? 0 };
    }
    const statuses: Record<string, number> = {};
    for (const r of members) statuses[r.summary.status] = (statuses[r.summary.status] ?? 0) + 1;
    const labelParts = differing.get(cluster(first))!.filter((k) => configOf(first, k) !== null).map((k) => `${short(k)}=${show(configOf(first, k))}`);
    return {
      key,
      label: [first.summary.method ?? first.summary.kind, ...labelParts.filter((p) => !p.startsWith('method='))].join(' · '),
      values,
      runIds: members.map((r) => r.summary.id),
      folds: [...new Set(members.map((r) => r.summary.fold).filter((f): f is string => f !== null))].sort(),
      seeds: [...new Set(members.map((r) => Number(configOf(r, 'seed') ?? 0)))].sort((a, b) => a - b),
      statuses,
      protocol: first.summary.protocol,
      method: first.summary.method,
      backbone: first.summary.backbone,
      numExperts: first.summary.numExperts,
      experiments: [...new Set(members.map((r) => r.summary.experimentName))],
      metrics,
      latestId: Math.max(...members.map((r) => r.summary.id)),
    };
  });
}

/** Sort groups by a list metric's mean (nulls last), or by label, size or newest run. */
export function sortGroups(groups: RunGroup[], sort: string, order: 'asc' | 'desc'): RunGroup[] {
  const dir = order === 'asc' ? 1 : -1;
  const keyOf = (g: RunGroup): number | string | null =>
    isMetric(sort) ? g.metrics[sort].mean : sort === 'name' ? g.label : sort === 'n' ? g.runIds.length : sort === 'protocol' ? g.protocol : sort === 'numExperts' ? g.numExperts : g.latestId;
  return [...groups].sort((a, b) => {
    const x = keyOf(a);
    const y = keyOf(b);
    if (x === null || y === null) return x === y ? b.latestId - a.latestId : x === null ? 1 : -1;
    const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
    return c * dir || b.latestId - a.latestId;
  });
}
