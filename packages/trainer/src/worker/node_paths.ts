// A run reads its dataset root and backbone weights at the absolute paths its config holds, which the
// submitting host resolved (`reproduce` even resolves symlinks there). On a cluster the worker may run on
// another node: a path that does not exist there is a clear error naming the node and the path, checked
// before the run starts, instead of a crash deep in a data loader.
import { configValueAt } from '../flatten.ts';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { CONFIG_PATH_KEYS, type Config } from '../config.ts';
import type { RunKind } from '../store/types.ts';


/** The input paths (datasets, weights) of `config` that do not exist on this machine, as messages. */
export function missingInputsHere(config: Config, kind: RunKind): string[] {
  if (kind === 'noop' || kind === 'sweep') return []; // read nothing
  const out: string[] = [];
  for (const [key, what] of Object.entries(CONFIG_PATH_KEYS)) {
    if (what === 'output') continue; // created by the run
    const v = configValueAt(config, key);
    if (typeof v !== 'string' || v === '') continue;
    const abs = path.resolve(v);
    if (!existsSync(abs)) out.push(`${key} ${abs}`);
  }
  return out;
}

/** Throws when an input path of the run is missing on this node. */
export function checkInputsHere(runId: number, config: Config, kind: RunKind): void {
  const missing = missingInputsHere(config, kind);
  if (missing.length === 0) return;
  throw new Error(
    `run ${runId}: on host ${hostname()}, ${missing.join(' and ')} ${missing.length === 1 ? 'does' : 'do'} not exist; ` +
      'a run reads its datasets and weights at the absolute paths resolved where it was queued: put them on storage every node mounts at the same path',
  );
}
