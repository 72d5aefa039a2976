// Compare groups of runs (one group = the runs of one configuration over folds and seeds): per protocol
// and metric each group's mean ± std over folds, and which group is best only when it is significantly
// best (the trainer's significance module: paired t-test over folds, bootstrap over probes within folds).
import { metricSpec, rankGroups, type EvalRow, type FoldValue, type GroupDifference } from '@ssmb/trainer';
import { FEW_FALSE_ACCEPTS, falseAcceptsAt, stats } from './analysis.ts';
import type { RunGroup } from './run_groups.ts';

/** Metrics a group can be best on, with their direction; counts (genuine, skipped...) are not ranked. */
const RANKED = ['rank1', 'rank5', 'tar_far_1e2', 'tar_far_1e3', 'tar_far_1e4', 'eer', 'auc'];

export interface GroupSummary {
  group: string;
  protocol: string;
  metric: string;
  mean: number | null;
  std: number | null;
  /** Folds (after averaging seeds within a fold). */
  n: number;
  runs: number;
  folds: Record<string, number>;
  falseAccepts: number | null;
  fewFalseAccepts: boolean;
}

export interface GroupRanking {
  protocol: string;
  metric: string;
  /** The significantly best group, or null when the best is tied with others (see `tied`). */
  best: string | null;
  tied: string[];
  /** Per other group: its difference from the leading group (leader minus it), with the tests. */
  differences: Record<string, (GroupDifference & { leader: string }) | null>;
}

export function compareGroups(groups: Array<Pick<RunGroup, 'key' | 'runIds'>>, evals: EvalRow[]): { summary: GroupSummary[]; ranking: GroupRanking[] } {
  const groupOf = new Map(groups.flatMap((g) => g.runIds.map((id) => [id, g.key] as const)));
  // Trials behind a proportion: probes for Rank-k (the row's count), genuine pairs for TAR.
  const genuine = new Map(evals.filter((r) => r.metric === 'genuine').map((r) => [`${r.runId}\0${r.protocol}\0${r.fold}`, r.value]));
  const cells = new Map<string, { group: string; protocol: string; metric: string; byFold: Map<string, { values: number[]; trials?: number; fa: number | null }>; runs: Set<number> }>();
  for (const r of evals) {
    const g = groupOf.get(r.runId);
    if (g === undefined || !Number.isFinite(r.value)) continue;
    const k = `${g}\0${r.protocol}\0${r.metric}`;
    if (!cells.has(k)) cells.set(k, { group: g, protocol: r.protocol, metric: r.metric, byFold: new Map(), runs: new Set() });
    const cell = cells.get(k)!;
    cell.runs.add(r.runId);
    const trials = r.metric.startsWith('rank') ? (r.count ?? undefined) : r.metric.startsWith('tar_far_') ? genuine.get(`${r.runId}\0${r.protocol}\0${r.fold}`) : undefined;
    const f = cell.byFold.get(r.fold) ?? { values: [], trials, fa: falseAcceptsAt(r.metric, r.count) };
    f.values.push(r.value);
    cell.byFold.set(r.fold, f);
  }
  const summary: GroupSummary[] = [];
  const foldValues = new Map<string, FoldValue[]>();
  for (const [k, c] of cells) {
    const folds = [...c.byFold].map(([fold, f]) => ({ fold, value: f.values.reduce((a, b) => a + b, 0) / f.values.length, trials: f.trials }));
    foldValues.set(k, folds);
    const s = stats(folds.map((f) => f.value));
    const fas = [...c.byFold.values()].map((f) => f.fa).filter((x): x is number => x !== null);
    const falseAccepts = fas.length ? Math.min(...fas) : null;
    summary.push({
      group: c.group, protocol: c.protocol, metric: c.metric, mean: s?.mean ?? null, std: s && s.n > 1 ? s.std : null, n: folds.length, runs: c.runs.size,
      folds: Object.fromEntries(folds.map((f) => [f.fold, f.value])), falseAccepts, fewFalseAccepts: falseAccepts !== null && falseAccepts < FEW_FALSE_ACCEPTS,
    });
  }
  const ranking: GroupRanking[] = [];
  const pairs = new Set(summary.filter((s) => RANKED.includes(s.metric)).map((s) => `${s.protocol}\0${s.metric}`));
  for (const pm of pairs) {
    const [protocol, metric] = pm.split('\0');
    const entries = groups.flatMap((g) => (foldValues.has(`${g.key}\0${pm}`) ? [{ id: g.key, folds: foldValues.get(`${g.key}\0${pm}`)! }] : []));
    if (entries.length < 2) continue;
    const r = rankGroups(entries, metricSpec(metric).better, { seed: 1 });
    const leader = r.best ?? r.tied[0];
    ranking.push({
      protocol, metric, best: r.best, tied: r.tied,
      differences: Object.fromEntries(Object.entries(r.differences).map(([id, d]) => [id, d ? { ...d, leader } : null])),
    });
  }
  return { summary, ranking };
}
