// Skip-completed logic: a grid entry is "the same run" as a stored run when their resolved configs
// agree (ignoring keys that do not change results, like where checkpoints go). Completed entries are
// skipped, queued/running ones are left to the workers (a killed run's lease expires and it resumes
// from its checkpoint), missing/failed/cancelled ones are (re-)queued.
import { DEFAULT_ROUTER_OPTIONS } from '@ssmb/core';
import { configValueAt } from '../flatten.ts';
import { resolveConfig, type Config } from '../config.ts';
import type { RunRecord, RunStatus } from '../store/run_store.ts';
import type { GridEntry } from './grid.ts';

/** Config keys that do not change a run's result: they never make two runs different. */
export const NON_IDENTITY_KEYS = [
  'outputDir', 'checkpointEvery', 'checkpoint', 'evalEvery', 'eval.batchSize', 'eval.scoreFiles', 'eval.engine', 'eval.provider', 'engine',
  'train.engine', 'train.threads', 'train.provider', 'train.lossEvery', 'train.lossPairs', // the fixed-pair estimate only observes
] as const;

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical((value as Record<string, unknown>)[k])]));
  }
  return value;
}

function without(obj: unknown, dotted: string): unknown {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return obj;
  const [head, ...rest] = dotted.split('.');
  if (!(head in obj)) return obj;
  const copy = { ...(obj as Record<string, unknown>) };
  if (rest.length === 0) delete copy[head];
  else copy[head] = without(copy[head], rest.join('.'));
  return copy;
}

/** Keys added after stores existed whose default is what runs did before them: at the default they are left
 *  out of the identity, so a stored run without the key still matches (dataset.onMissing: skip does not).
 *  The router options: style input, no jitter, top-1 routing is what every SSMB computed before them; fp32
 *  (eval.precision null: as training) is what every run computed before int8 existed. */
export const DEFAULTED_IDENTITY_KEYS: Record<string, unknown> = {
  'dataset.onMissing': 'error', 'dataset.evalProtocols': null, 'train.precision': 'fp32', 'eval.precision': null,
  'ssmb.routerInput': DEFAULT_ROUTER_OPTIONS.routerInput, 'ssmb.routerJitter': DEFAULT_ROUTER_OPTIONS.routerJitter, 'ssmb.routing': DEFAULT_ROUTER_OPTIONS.routing,
};


/** Canonical JSON of the result-defining part of a config. */
export function runIdentity(config: unknown): string {
  const defaulted = Object.entries(DEFAULTED_IDENTITY_KEYS).filter(([k, v]) => configValueAt(config, k) === v).map(([k]) => k);
  const stripped = [...NON_IDENTITY_KEYS, ...defaulted].reduce<unknown>((c, k) => without(c, k), config);
  return JSON.stringify(canonical(stripped));
}

export type EntryState = 'completed' | 'pending' | 'todo';

export interface PlannedEntry {
  entry: GridEntry;
  config: Config;
  state: EntryState;
  /** The stored run this entry maps to (the completed one, else the live one, else the last failed one). */
  run?: RunRecord;
}

const RANK: Record<RunStatus, number> = { completed: 4, running: 3, queued: 2, failed: 1, cancelled: 0 };

/**
 * Map each grid entry to its best stored run. `runs` may be any runs (other tables, other configs):
 * only identical configs count. Deleted (archived) runs should not be passed.
 */
export function planGrid(entries: GridEntry[], runs: RunRecord[], resolve: (o: GridEntry['overrides']) => Config = (o) => resolveConfig({ base: o })): PlannedEntry[] {
  const byIdentity = new Map<string, RunRecord>();
  for (const run of runs) {
    if (run.kind === 'sweep' || run.kind === 'pretrain') continue;
    const key = runIdentity(run.config);
    const prev = byIdentity.get(key);
    const better = !prev || RANK[run.status] > RANK[prev.status] || (RANK[run.status] === RANK[prev.status] && run.id > prev.id);
    if (better) byIdentity.set(key, run);
  }
  return entries.map((entry) => {
    const config = resolve(entry.overrides);
    const run = byIdentity.get(runIdentity(config));
    const state: EntryState = !run ? 'todo' : run.status === 'completed' ? 'completed' : run.status === 'running' || run.status === 'queued' ? 'pending' : 'todo';
    return { entry, config, state, ...(run ? { run } : {}) };
  });
}

export function summarisePlan(plan: Array<Pick<PlannedEntry, 'state'>>): { total: number; completed: number; pending: number; todo: number } {
  return {
    total: plan.length,
    completed: plan.filter((p) => p.state === 'completed').length,
    pending: plan.filter((p) => p.state === 'pending').length,
    todo: plan.filter((p) => p.state === 'todo').length,
  };
}
