// A run's files: what a worker may record for a run, and what the server serves for it. A file belongs
// to a run when it lies in the run's own folder (<store>/artifacts/run-<id>, or <outputDir>/run-<id>
// when the run writes elsewhere) or is a file the run's config names as an output (pretrain.output);
// never the store's own files (the SQLite file, its journal, the server's secrets). Checked when a path
// is recorded (the workers' API) and again when a file is served (after resolving symlinks), so a row
// written by any other route, or a symlink swapped in later, still serves nothing outside the run.
import { realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { CONFIG_PATH_KEYS, configValueAt } from '@ssmb/trainer';
import { apiError } from './errors.ts';
import { isInside, realLocation } from './paths.ts';

function real(p: string): string | undefined {
  try {
    return realpathSync(p);
  } catch {
    return undefined;
  }
}


/** The run's own folder(s) and output files (absolute; relative config paths are the store folder's). */
export function runPlaces(run: { id: number; config: unknown }, storeDir: string): string[] {
  const places = [path.join(storeDir, 'artifacts', `run-${run.id}`)];
  const outputDir = configValueAt(run.config, 'outputDir');
  if (typeof outputDir === 'string') places.push(path.resolve(storeDir, outputDir, `run-${run.id}`));
  for (const [key, kind] of Object.entries(CONFIG_PATH_KEYS)) {
    const v = configValueAt(run.config, key);
    if (kind === 'output' && key !== 'outputDir' && typeof v === 'string') places.push(path.resolve(storeDir, v));
  }
  return places;
}

/** The store's own files: never recorded or served as a run's file, whatever a config or row says. */
export function isStoreFile(p: string, storeFiles: readonly string[]): boolean {
  const r = realLocation(p);
  return storeFiles.some((f) => r === realLocation(f) || r.startsWith(`${realLocation(f)}-`));
}

/** Throws unless `file` (absolute, as a worker recorded it) is one of the run's own files. */
export function checkRecordedPath(file: string, places: string[], storeFiles: readonly string[], field: string): void {
  const where = realLocation(file);
  if (!path.isAbsolute(file) || isStoreFile(file, storeFiles) || !places.some((p) => isInside(where, realLocation(p)))) {
    throw apiError('PATH_OUTSIDE_RUN', `${field}: received "${file}"; expected a file under ${places.join(' or ')} (or send it with PUT /api/worker/runs/:id/files/NAME).`, field);
  }
}

export function resolveArtifact(requested: string, storeDir: string, places: string[], storeFiles: readonly string[], recorded: string[]): string {
  if (requested.includes('\0')) throw apiError('PATH_OUTSIDE_STORE', 'The path contains a NUL byte.', 'query.path');
  if (requested.split(/[\\/]/).includes('..')) throw apiError('PATH_OUTSIDE_STORE', `Received "${requested}".`, 'query.path');
  const realPlaces = places.map(real).filter((r): r is string => r !== undefined);
  const candidate = real(path.resolve(storeDir, requested));
  if (candidate === undefined) throw apiError('ARTIFACT_NOT_FOUND', `Received "${requested}".`, 'query.path');
  if (isStoreFile(candidate, storeFiles) || !realPlaces.some((r) => isInside(candidate, r))) throw apiError('PATH_OUTSIDE_STORE', `Received "${requested}".`, 'query.path');
  const allowed = recorded.filter((p) => p !== '').map(real).filter((p): p is string => p !== undefined && realPlaces.some((r) => isInside(p, r)));
  if (!allowed.some((p) => isInside(candidate, p))) throw apiError('ARTIFACT_NOT_FOUND', `"${requested}" is not recorded for this run.`, 'query.path');
  if (!statSync(candidate).isFile()) throw apiError('ARTIFACT_NOT_FOUND', `"${requested}" is a folder: pick a file inside it.`, 'query.path');
  return candidate;
}
