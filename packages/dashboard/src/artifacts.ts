// Artifact serving: a file is served only when it lies inside one of the store's own folders (after
// resolving symlinks) and is, or lies under, a checkpoint or artifact path recorded for that run.
import { realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { apiError } from './errors.ts';

const inside = (child: string, parent: string) => child === parent || child.startsWith(parent.endsWith(path.sep) ? parent : parent + path.sep);

function real(p: string): string | undefined {
  try {
    return realpathSync(p);
  } catch {
    return undefined;
  }
}

/**
 * Resolve `requested` (absolute, or relative to the first root) to a real file path, or throw
 * PATH_OUTSIDE_STORE / ARTIFACT_NOT_FOUND. `recorded` are the run's checkpoint and artifact paths.
 */
export function resolveArtifact(requested: string, roots: string[], recorded: string[]): string {
  if (requested.includes('\0')) throw apiError('PATH_OUTSIDE_STORE', 'The path contains a NUL byte.', 'query.path');
  if (requested.split(/[\\/]/).includes('..')) throw apiError('PATH_OUTSIDE_STORE', `Received "${requested}".`, 'query.path');
  const realRoots = roots.map(real).filter((r): r is string => r !== undefined);
  if (realRoots.length === 0) throw apiError('ARTIFACT_NOT_FOUND', 'The store has no artifact folder yet.');
  const base = realRoots[0];
  const candidate = real(path.isAbsolute(requested) ? requested : path.join(base, requested));
  if (candidate === undefined) throw apiError('ARTIFACT_NOT_FOUND', `Received "${requested}".`, 'query.path');
  if (!realRoots.some((r) => inside(candidate, r))) throw apiError('PATH_OUTSIDE_STORE', `Received "${requested}".`, 'query.path');
  const allowed = recorded
    .map((p) => real(path.isAbsolute(p) ? p : path.join(base, p)))
    .filter((p): p is string => p !== undefined && realRoots.some((r) => inside(p, r)));
  if (!allowed.some((p) => inside(candidate, p))) throw apiError('ARTIFACT_NOT_FOUND', `"${requested}" is not recorded for this run.`, 'query.path');
  if (!statSync(candidate).isFile()) throw apiError('ARTIFACT_NOT_FOUND', `"${requested}" is a folder: pick a file inside it.`, 'query.path');
  return candidate;
}
