// Where `ssmb reproduce` finds and queues the grid's runs: the store file on this machine, or the tracking
// server that owns it (--server URL: the cluster path; this process then never opens the store, the server
// plans and queues the grid, re-queues stale runs, and answers the runs' states and results over HTTP).
import {
  cancelStaleQueued, enqueuePlan, planGrid, reclaimDeadLeases, summarisePlan,
  type Config, type EntryState, type EvalRow, type GridEntry, type PlannedEntry, type QueueRun, type RoutingRow, type RunRecord, type RunStore,
} from '@ssmb/trainer';
import { serverRequest, whileServerAnswers, type ServerTarget } from './server_client.ts';

/** One grid entry with the run it maps to now (null before one exists). */
export interface GridRow {
  entry: GridEntry;
  config: Config;
  state: EntryState;
  run: GridRun | null;
}

export type GridRun = QueueRun & Pick<RunRecord, 'launcher' | 'launcherJob' | 'launcherTask'>;

/** What the table reads of the completed runs. */
export type ResultsReader = { getEvalMetrics(id: number): Omit<EvalRow, 'runId'>[]; getRouting(id: number): RoutingRow[] };

export interface QueueOutcome {
  rows: GridRow[];
  before: { total: number; completed: number; pending: number; todo: number };
  launched: number[];
  requeued: number[];
  /** Queued runs of an earlier version of the table, cancelled (our workers would drain them). */
  cancelled: number[];
  /** Runs of dead local workers handed back to the queue (the store only; the server re-queues stale runs itself). */
  reclaimed: number[];
}

export interface GridSource {
  /** The store file, or the server's URL: said in messages. */
  readonly where: string;
  /** The store on this machine (null through the server). */
  readonly store: RunStore | null;
  /** Plans the grid against the stored runs; unless dryRun, queues what is missing and re-queues failed runs. */
  queue(grid: GridEntry[], configs: Config[], experiment: string, dryRun: boolean): Promise<QueueOutcome>;
  /** The grid's rows as they stand now. */
  current(grid: GridEntry[], configs: Config[], experiment: string): Promise<GridRow[]>;
  readRuns(ids: number[]): Promise<GridRun[]>;
  /** The evaluations and routing counts of these runs. */
  results(ids: number[]): Promise<ResultsReader>;
}

const rowsOf = (plan: PlannedEntry[]): GridRow[] => plan.map((p) => ({ entry: p.entry, config: p.config, state: p.state, run: p.run ?? null }));

/** The store file on this machine (the local launcher; the quickstart). */
export function storeSource(store: RunStore, file: string, dryRun: boolean): GridSource {
  const plan = (grid: GridEntry[], configs: Config[]) => {
    const configOf = new Map(grid.map((g, i) => [g.overrides, configs[i]]));
    return planGrid(grid, store.listRuns(), (o) => configOf.get(o)!);
  };
  return {
    where: file,
    store,
    async queue(grid, configs, experiment) {
      // Runs of dead workers on this machine resume at once.
      const reclaimed = dryRun ? [] : reclaimDeadLeases(store);
      const p = plan(grid, configs);
      const before = summarisePlan(p);
      if (dryRun) return { rows: rowsOf(p), before, launched: [], requeued: [], cancelled: [], reclaimed };
      const { launched, requeued } = enqueuePlan(store, p, experiment);
      const cancelled = cancelStaleQueued(store, experiment, p.map((x) => x.run!.id));
      return { rows: rowsOf(p), before, launched, requeued, cancelled, reclaimed };
    },
    async current(grid, configs) {
      return rowsOf(plan(grid, configs));
    },
    async readRuns(ids) {
      return ids.map((id) => store.requireRun(id));
    },
    async results() {
      return store;
    },
  };
}

/** The tracking server that owns the store (its /api/grids routes). Reads ride out a server restart. */
export function serverSource(t: ServerTarget, log: (line: string) => void): GridSource {
  const post = (grid: GridEntry[], configs: Config[], experiment: string, dryRun: boolean) =>
    serverRequest<{ before: QueueOutcome['before']; runs: Array<{ runId: number | null; state: EntryState }>; launched: number[]; requeued: number[]; cancelled: number[] }>(
      t, 'POST', '/api/grids', { experiment, dryRun, entries: grid.map((g, i) => ({ label: g.label, config: configs[i] })) },
    );
  const readRuns = async (ids: number[]): Promise<GridRun[]> => {
    if (ids.length === 0) return [];
    const out: GridRun[] = [];
    for (let i = 0; i < ids.length; i += 500) {
      const page = await whileServerAnswers(() => serverRequest<{ runs: GridRun[] }>(t, 'GET', `/api/grids/runs?ids=${ids.slice(i, i + 500).join(',')}`), log);
      out.push(...page.runs);
    }
    return out;
  };
  const rows = async (grid: GridEntry[], configs: Config[], planned: Array<{ runId: number | null; state: EntryState }>): Promise<GridRow[]> => {
    const runs = new Map((await readRuns(planned.flatMap((p) => (p.runId === null ? [] : [p.runId])))).map((r) => [r.id, r]));
    return grid.map((entry, i) => ({ entry, config: configs[i], state: planned[i].state, run: planned[i].runId === null ? null : runs.get(planned[i].runId!)! }));
  };
  return {
    where: t.url,
    store: null,
    async queue(grid, configs, experiment, dryRun) {
      const r = await post(grid, configs, experiment, dryRun);
      return { rows: await rows(grid, configs, r.runs), before: r.before, launched: r.launched, requeued: r.requeued, cancelled: r.cancelled, reclaimed: [] };
    },
    async current(grid, configs, experiment) {
      return rows(grid, configs, (await whileServerAnswers(() => post(grid, configs, experiment, true), log)).runs);
    },
    readRuns,
    async results(ids) {
      const evals = new Map<number, Omit<EvalRow, 'runId'>[]>();
      const routing = new Map<number, RoutingRow[]>();
      for (let i = 0; i < ids.length; i += 500) {
        const res = await whileServerAnswers(() => serverRequest<{ runs: Array<{ id: number; evaluations: Array<Omit<EvalRow, 'runId' | 'value'> & { value: number | string }>; routing: RoutingRow[] }> }>(
          t, 'GET', `/api/grids/results?ids=${ids.slice(i, i + 500).join(',')}`,
        ), log);
        for (const r of res.runs) {
          evals.set(r.id, r.evaluations.map((e) => ({ ...e, value: Number(e.value) }))); // "NaN" / "Infinity" back to numbers
          routing.set(r.id, r.routing);
        }
      }
      return { getEvalMetrics: (id) => evals.get(id) ?? [], getRouting: (id) => routing.get(id) ?? [] };
    },
  };
}
