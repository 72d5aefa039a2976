// The dashboard's one bridge to @ssmb/trainer: RunStore (writes: tags, archive, queueing runs), the
// read-only dashboard queries beside it in the trainer's store module, and the paper-table builder.
//
// @ssmb/trainer's index does not (yet) re-export store/dashboard_queries.ts nor tables/, and its package
// "exports" map blocks subpath imports, so this file alone imports those by path. Switch to
// `from '@ssmb/trainer'` once the trainer's index re-exports them.
import { RunStore } from '@ssmb/trainer';
import { createDashboardQueries, type DashboardQueries } from '../../trainer/src/store/dashboard_queries.ts';

export * from '../../trainer/src/store/dashboard_queries.ts';
export { buildTable, knownMetricKeys, meanStd, metricSpec, parseTableConfig, toCsv, toLatex, toMarkdown } from '../../trainer/src/tables/index.ts';
export type { FoldResult, MetricSpec, PaperTable } from '../../trainer/src/tables/index.ts';
export { RunStore };

export interface DashboardStore {
  store: RunStore;
  queries: DashboardQueries;
}

export function openDashboardStore(file: string): DashboardStore {
  return wrapStore(RunStore.open(file));
}

export function wrapStore(store: RunStore): DashboardStore {
  return { store, queries: createDashboardQueries(store.db) };
}
