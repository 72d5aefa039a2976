// The dashboard's one bridge to @ssmb/trainer: RunStore (writes: tags, archive, queueing runs), the
// read-only dashboard queries of the trainer's store module, and the paper-table builder.
import { RunStore, createDashboardQueries, type DashboardQueries } from '@ssmb/trainer';

export {
  RUN_CONFIG_COLUMNS, RUN_LIST_METRICS, RUN_SORT_KEYS, configKeyPath, createDashboardQueries,
  buildTable, knownMetricKeys, meanStd, metricSpec, parseTableConfig, toCsv, toLatex, toMarkdown,
} from '@ssmb/trainer';
export type {
  AblationPoint, ActiveRunState, CurveRow, DashboardQueries, EvalByKeyRow, EvalRow, EvalScope, FileRow, MetricKeyInfo,
  MetricPointRow, RoutingRow, RunConfigColumn, RunDetail, RunListQuery, RunSortKey, RunSummary,
  FoldResult, MetricSpec, PaperTable,
} from '@ssmb/trainer';
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
