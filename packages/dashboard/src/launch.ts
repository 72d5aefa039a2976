// Queue a run or a sweep from the Launch form through the trainer's own launchRun / launchSweep, so the
// form accepts exactly what `ssmb launch --set` and `ssmb sweep --grid` accept (parseSweepGrid syntax).
import { ConfigError, launchRun, launchSweep, mergeConfig, parseSetOverrides, protocolFoldNames, validateConfig, type FoldsOf, type RunStore } from '@ssmb/trainer';
import { apiError } from './errors.ts';
import type { Launcher } from './routes_write.ts';

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

/**
 * `foldsOf` lists a protocol's folds for `dataset.fold=all` (default: the protocols registry, as the CLI
 * does); an unknown protocol becomes a 400 naming it.
 */
export function storeLauncher(store: RunStore, foldsOf: FoldsOf = protocolFoldNames): Launcher {
  const folds: FoldsOf = async (p) => {
    try {
      return await foldsOf(p);
    } catch (err) {
      throw err instanceof ConfigError ? err : new ConfigError(`config key \`dataset.protocol\`: ${(err as Error).message}`);
    }
  };
  return async (req) => {
    const base = await configErrors('UNKNOWN_CONFIG_KEY', 'body.set', () =>
      validateConfig(mergeConfig(parseSetOverrides(req.set), req.seed !== undefined ? { seed: req.seed } : {})),
    );
    const lines = gridLines(req.grid);
    const opts = { experiment: req.experiment, kind: req.kind, ...(req.name?.trim() ? { name: req.name.trim() } : {}) };
    if (lines.length === 0) {
      const id = await configErrors('UNKNOWN_CONFIG_KEY', 'body.set', () => launchRun(store, base, opts));
      return { runIds: [id] };
    }
    const { parentId, childIds } = await configErrors('BAD_SWEEP_GRID', 'body.grid', () => launchSweep(store, base, lines, folds, opts));
    return { runIds: childIds, sweepId: parentId };
  };
}
