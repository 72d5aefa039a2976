// Queue a run or a sweep from the Launch form, with the trainer's own config resolution and sweep grid
// parser (`parseSweepGrid`), so the form accepts exactly what `ssmb launch --set` / `ssmb sweep` accept.
import { ConfigError, mergeConfig, parseSetOverrides, parseSweepGrid, resolveConfig, type Config, type RunStore } from '@ssmb/trainer';
import { apiError } from './errors.ts';
import type { Launcher } from './routes_write.ts';
import type { LaunchRequest } from './schemas.ts';

/** Grid text: one `key=v1,v2` axis per line; blank lines and `#` comments are ignored. */
export function gridLines(text: string | undefined): string[] {
  return (text ?? '')
    .split(/\r?\n/)
    .map((l) => l.replace(/#.*$/, '').trim())
    .filter(Boolean);
}

const runName = (req: LaunchRequest, cfg: Config) =>
  req.name?.trim() || `${cfg.method} ${cfg.backbone.model} N=${cfg.ssmb.numExperts} ${cfg.dataset.protocol}/${cfg.dataset.fold}`;

export function storeLauncher(store: RunStore): Launcher {
  return (req) => {
    const lines = gridLines(req.grid);
    const base = configErrors('UNKNOWN_CONFIG_KEY', 'body.set', () =>
      mergeConfig(parseSetOverrides(req.set), req.seed !== undefined ? { seed: req.seed } : {}),
    );
    const combos = lines.length ? configErrors('BAD_SWEEP_GRID', 'body.grid', () => parseSweepGrid(lines)) : null;
    const resolve = (over: unknown, field: string) =>
      configErrors('UNKNOWN_CONFIG_KEY', field, () => resolveConfig({ base: mergeConfig(base, over) as Record<string, unknown> }));
    const parentCfg = resolve({}, 'body.set');
    if (!combos) {
      const id = store.createRun({
        experiment: req.experiment, kind: req.kind, method: parentCfg.method, config: parentCfg, seed: parentCfg.seed,
        name: runName(req, parentCfg), totalSteps: parentCfg.steps,
      });
      return { runIds: [id] };
    }
    const children = combos.map((c) => {
      const cfg = resolve(c, 'body.grid');
      return { kind: req.kind, method: cfg.method, config: cfg, seed: cfg.seed, name: runName({ ...req, name: undefined }, cfg), totalSteps: cfg.steps };
    });
    const { parentId, childIds } = store.createSweep(
      { experiment: req.experiment, method: parentCfg.method, config: parentCfg, seed: parentCfg.seed, name: req.name?.trim() || `sweep ${lines.join(' x ')}` },
      children,
    );
    store.setTag(parentId, 'sweep.grid', lines.join('; '));
    return { runIds: childIds, sweepId: parentId };
  };
}

/** Run fn, turning the trainer's ConfigError into a 400 that names the form field. */
function configErrors<T>(code: 'UNKNOWN_CONFIG_KEY' | 'BAD_SWEEP_GRID', field: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ConfigError) throw apiError(code, err.message, field);
    throw err;
  }
}
