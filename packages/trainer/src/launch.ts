// Creating queued runs: one run, or a sweep (parent + one child per grid point, `dataset.fold=all`
// expanded to every fold of the child's protocol). Configs are validated before anything is written.
import { ConfigError, flattenConfig, mergeConfig, parseSweepGrid, validateConfig, type Config, type ConfigOverride } from './config.ts';
import { bestModeOf } from './checkpoint/retention.ts';
import type { RunKind, RunStore } from './store/run_store.ts';
import { getMethod } from './methods/index.ts';
import { evalProtocolProblems } from './eval/eval_protocols.ts';

export type FoldsOf = (protocol: string) => string[] | Promise<string[]>;

export interface LaunchOptions {
  experiment: string;
  kind?: Exclude<RunKind, 'sweep'>;
  name?: string;
  maxAttempts?: number;
  initFrom?: string | null;
}

/** Steps a run of this kind will take (for progress and the dashboard). */
export function totalStepsOf(kind: RunKind, c: Config): number | null {
  if (kind === 'pretrain') return c.pretrain.steps;
  if (kind === 'train' || kind === 'noop') return getMethod(c.method).trains ? c.steps : 0;
  return null;
}

function kindFor(opts: Pick<LaunchOptions, 'kind'>, c: Config): Exclude<RunKind, 'sweep'> {
  return opts.kind ?? (getMethod(c.method).trains ? 'train' : 'evaluate');
}

/** What the method needs of the config that the schema cannot see (its training protocol's modalities
 *  for a label-selected model): checked before anything is queued. */
export function methodProblems(c: Config): string[] {
  const method = getMethod(c.method, 'config key `method`');
  try {
    method.model?.(c);
    method.selection?.(c);
  } catch (err) {
    return [`method ${method.name}: ${(err as Error).message}`];
  }
  return evalProtocolProblems(c);
}

/** The kind a run gets when launched with `kind` (default: train, or evaluate for a method that trains nothing). */
export function runKindFor(c: Config, kind?: Exclude<RunKind, 'sweep'>): Exclude<RunKind, 'sweep'> {
  return kindFor({ kind }, c);
}

function label(c: ConfigOverride): string {
  return Object.entries(flattenConfig(c))
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}

/** Queues one run with a fully resolved config. */
export function launchRun(store: RunStore, config: Config, opts: LaunchOptions): number {
  const c = validateConfig(config);
  bestModeOf(c.checkpoint); // an unknown keepBest direction fails now, not after the first checkpoints
  if (c.dataset.fold === 'all' && kindFor(opts, c) === 'train') {
    throw new ConfigError('config key `dataset.fold`: a training run needs one fold; use a sweep (--grid dataset.fold=all) to train every fold');
  }
  const kind = kindFor(opts, c);
  if (kind === 'train' || kind === 'evaluate') {
    const problems = methodProblems(c);
    if (problems.length) throw new ConfigError(`invalid config: ${problems.join('; ')}`);
  }
  const id = store.createRun({
    experiment: opts.experiment,
    kind,
    method: kind === 'pretrain' || kind === 'noop' ? null : c.method,
    config: c,
    seed: c.seed,
    name: opts.name ?? '',
    maxAttempts: opts.maxAttempts,
    initFrom: opts.initFrom ?? null,
    totalSteps: totalStepsOf(kind, c),
  });
  store.logParams(id, flattenConfig(c));
  return id;
}

/** Resolves the grid into child configs (validated), expanding fold 'all' with `foldsOf`. */
export async function planSweep(base: Config, grid: string[], foldsOf: FoldsOf): Promise<{ override: ConfigOverride; config: Config }[]> {
  const points = parseSweepGrid(grid);
  const out: { override: ConfigOverride; config: Config }[] = [];
  for (const override of points) {
    const c = validateConfig(mergeConfig(base, override));
    if (c.dataset.fold !== 'all') {
      out.push({ override, config: c });
      continue;
    }
    const folds = await foldsOf(c.dataset.protocol);
    if (folds.length === 0) throw new ConfigError(`config key \`dataset.protocol\`: protocol ${c.dataset.protocol} declares no folds`);
    for (const fold of folds) {
      const o = mergeConfig(override, { dataset: { fold } });
      out.push({ override: o, config: validateConfig(mergeConfig(base, o)) });
    }
  }
  return out;
}

/** Queues a sweep: a parent run (kind 'sweep') holding the base config and grid, and its children. */
export async function launchSweep(
  store: RunStore,
  base: Config,
  grid: string[],
  foldsOf: FoldsOf,
  opts: LaunchOptions,
): Promise<{ parentId: number; childIds: number[] }> {
  const plan = await planSweep(base, grid, foldsOf);
  for (const p of plan) bestModeOf(p.config.checkpoint);
  const res = store.createSweep(
    { experiment: opts.experiment, config: { base, grid }, seed: base.seed, name: opts.name ?? `sweep ${grid.join(' ')}`, method: null },
    plan.map((p) => {
      const kind = kindFor(opts, p.config);
      return {
        kind,
        method: kind === 'noop' || kind === 'pretrain' ? null : p.config.method,
        config: p.config,
        seed: p.config.seed,
        name: label(p.override),
        maxAttempts: opts.maxAttempts,
        initFrom: opts.initFrom ?? null,
        totalSteps: totalStepsOf(kind, p.config),
      };
    }),
  );
  store.transaction(() => res.childIds.forEach((id, i) => store.logParams(id, flattenConfig(plan[i].config))));
  return res;
}
