// Queue a run or a sweep from the Launch page through the trainer's own launchRun / launchSweep, so the
// page accepts what `ssmb launch --set/--grid` accepts, with three limits a server reachable from a
// browser needs: every path a run writes (CONFIG_PATH_KEYS 'output') stays inside the store's folder or
// an --output-root; every path it reads (datasets, weights) inside the store's folder or a
// --data-root / --weights-root; a sweep queues at most --max-sweep-runs runs. Relative paths are
// resolved against the store's folder (the server's working directory means nothing to a browser user)
// and stored absolute, so the worker reads exactly the path that was checked.
import path from 'node:path';
import {
  CONFIG_PATH_KEYS, ConfigError, flattenConfigValues, launchRun, launchSweep, mergeConfig, overrideFor, parseSetOverrides, parseSweepAxes, planSweep, protocolFoldNames,
  validateConfig, type Config, type ConfigPathKind, type FoldsOf, type RunStore,
  configValueAt,
} from '@ssmb/trainer';
import { apiError } from './errors.ts';
import { rootHolding } from './paths.ts';
import { DEFAULT_MAX_SWEEP_RUNS } from './defaults.ts';
import type { LaunchRequest } from './schemas.ts';

export interface LaunchResult {
  /** Queued runs (the sweep's children for a sweep). */
  runIds: number[];
  /** The sweep's parent run, for a sweep. */
  sweepId?: number;
  /** A dry run: what each run would set beyond the form's overrides (one entry per run), nothing queued. */
  planned?: Array<Record<string, unknown>>;
}

/** Queues a run or a sweep; throws ApiError for bad overrides, grids or paths. */
export type Launcher = (req: LaunchRequest) => Promise<LaunchResult>;

/** Folders (absolute) a launched run may use, by what it does with the path. */
export type LaunchRoots = Record<ConfigPathKind, string[]>;

/** The store's folder plus the roots given at start (`--output-root`, `--data-root`, `--weights-root`). */
export function launchRoots(storeDir: string, extra: Partial<LaunchRoots> = {}): LaunchRoots {
  const abs = (l?: string[]) => (l ?? []).map((p) => path.resolve(p));
  return { output: [storeDir, ...abs(extra.output)], data: [storeDir, ...abs(extra.data)], weights: [storeDir, ...abs(extra.weights)] };
}

const KIND_WORDS: Record<ConfigPathKind, string> = {
  output: 'folders runs may write to (--output-root)',
  data: 'dataset roots (--data-root)',
  weights: 'weights roots (--weights-root)',
};

/** Grid text: one `key=v1,v2` axis per line; blank lines and `#` comments are ignored. */
export function gridLines(text: string | undefined): string[] {
  return (text ?? '')
    .split(/\r?\n/)
    .map((l) => l.replace(/#.*$/, '').trim())
    .filter(Boolean);
}

/** Run fn, turning the trainer's ConfigError into a 400 that names the form field. */
async function configErrors<T>(code: 'UNKNOWN_CONFIG_KEY' | 'BAD_SWEEP_GRID', field: string, fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ConfigError) throw apiError(code, err.message, field);
    throw err;
  }
}


function checkPath(key: string, value: string, kind: ConfigPathKind, roots: LaunchRoots, base: string, field: string): string {
  const abs = path.resolve(base, value);
  if (!rootHolding(abs, roots[kind])) {
    throw apiError('PATH_NOT_ALLOWED', `config key ${key}: "${value}" is ${abs}, outside the ${KIND_WORDS[kind]}: ${roots[kind].join(', ')}.`, field);
  }
  return abs;
}

/**
 * A sweep child's config: every path key is absolute (the grid is text; a relative path would mean the
 * worker's working directory) and inside its roots. Keys the base set were made absolute by confine().
 */
function confineChild(config: Config, roots: LaunchRoots, storeDir: string): void {
  for (const [key, kind] of Object.entries(CONFIG_PATH_KEYS) as Array<[keyof typeof CONFIG_PATH_KEYS, ConfigPathKind]>) {
    const v = configValueAt(config, key);
    if (typeof v !== 'string') continue;
    if (!path.isAbsolute(v)) {
      throw apiError('PATH_NOT_ALLOWED', `config key ${key}: a sweep over a path takes absolute paths, received ${JSON.stringify(v)}.`, 'body.grid');
    }
    checkPath(key, v, kind, roots, storeDir, 'body.grid');
  }
}

/** The config with every path key checked against its roots and made absolute (`field` names the request field). */
export function confine(config: Config, roots: LaunchRoots, base: string, field = 'body.set'): Config {
  let out = config;
  for (const [key, kind] of Object.entries(CONFIG_PATH_KEYS) as Array<[keyof typeof CONFIG_PATH_KEYS, ConfigPathKind]>) {
    const v = configValueAt(config, key);
    if (typeof v !== 'string') continue; // null = none (e.g. random init, default output folder)
    out = mergeConfig(out, overrideFor(key, checkPath(key, v, kind, roots, base, field)));
  }
  return out;
}

export interface StoreLauncherOptions {
  /** Lists a protocol's folds for `dataset.fold=all` (default: the protocols registry, as the CLI does). */
  foldsOf?: FoldsOf;
  roots?: LaunchRoots;
  maxSweepRuns?: number;
}

export function storeLauncher(store: RunStore, o: StoreLauncherOptions = {}): Launcher {
  const roots = o.roots ?? launchRoots(store.dir);
  const max = o.maxSweepRuns ?? DEFAULT_MAX_SWEEP_RUNS;
  const foldsOf = o.foldsOf ?? protocolFoldNames;
  const folds: FoldsOf = async (p) => {
    try {
      return await foldsOf(p);
    } catch (err) {
      throw err instanceof ConfigError ? err : new ConfigError(`config key \`dataset.protocol\`: ${(err as Error).message}`);
    }
  };
  const tooLarge = (n: number, what: string) => apiError('SWEEP_TOO_LARGE', `${what} ${n} runs; this server's limit is ${max}.`, 'body.grid');
  return async (req) => {
    const resolved = await configErrors('UNKNOWN_CONFIG_KEY', 'body.set', () =>
      validateConfig(mergeConfig(parseSetOverrides(req.set), req.seed !== undefined ? { seed: req.seed } : {})),
    );
    const base = confine(resolved, roots, store.dir);
    const lines = gridLines(req.grid);
    const opts = { experiment: req.experiment, kind: req.kind, ...(req.name?.trim() ? { name: req.name.trim() } : {}) };
    if (lines.length === 0) {
      if (req.dryRun) return { runIds: [], planned: [{}] };
      const id = await configErrors('UNKNOWN_CONFIG_KEY', 'body.set', () => launchRun(store, base, opts));
      return { runIds: [id] };
    }
    // Size the grid from its axes before expanding it (a 10-axis grid must not be built to be refused).
    const axes = await configErrors('BAD_SWEEP_GRID', 'body.grid', () => parseSweepAxes(lines));
    const product = axes.reduce((n, a) => n * a.values.length, 1);
    if (product > max) throw tooLarge(product, 'The grid expands to');
    // Every child's resolved config is checked, not the axes: an axis over a parent object
    // (`dataset={root: ...}`, `pretrain={output: ...}`) sets path keys too.
    const plan = await configErrors('BAD_SWEEP_GRID', 'body.grid', () => planSweep(base, lines, folds));
    if (plan.length > max) throw tooLarge(plan.length, 'With every fold of dataset.fold=all the grid expands to');
    for (const child of plan) confineChild(child.config, roots, store.dir);
    if (req.dryRun) return { runIds: [], planned: plan.map((p) => flattenConfigValues(p.override)) };
    const { parentId, childIds } = await configErrors('BAD_SWEEP_GRID', 'body.grid', () => launchSweep(store, base, lines, folds, opts));
    return { runIds: childIds, sweepId: parentId };
  };
}
