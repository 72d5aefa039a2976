// Artifact downloads: a file is served only when it lies inside one of the roots (the store's folder and
// the output roots, after resolving symlinks) and is, or lies under, a checkpoint or artifact recorded
// for that run. `requested` is the path as the store lists it: relative to the store's folder, or
// absolute for files outside it.
import { realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { apiError } from './errors.ts';
import { isInside } from './paths.ts';

function real(p: string): string | undefined {
  try {
    return realpathSync(p);
  } catch {
    return undefined;
  }
}

export function resolveArtifact(requested: string, storeDir: string, roots: string[], recorded: string[]): string {
  if (requested.includes('\0')) throw apiError('PATH_OUTSIDE_STORE', 'The path contains a NUL byte.', 'query.path');
  if (requested.split(/[\\/]/).includes('..')) throw apiError('PATH_OUTSIDE_STORE', `Received "${requested}".`, 'query.path');
  const realRoots = roots.map(real).filter((r): r is string => r !== undefined);
  const candidate = real(path.resolve(storeDir, requested));
  if (candidate === undefined) throw apiError('ARTIFACT_NOT_FOUND', `Received "${requested}".`, 'query.path');
  if (!realRoots.some((r) => isInside(candidate, r))) throw apiError('PATH_OUTSIDE_STORE', `Received "${requested}".`, 'query.path');
  const allowed = recorded.filter((p) => p !== '').map(real).filter((p): p is string => p !== undefined && realRoots.some((r) => isInside(p, r)));
  if (!allowed.some((p) => isInside(candidate, p))) throw apiError('ARTIFACT_NOT_FOUND', `"${requested}" is not recorded for this run.`, 'query.path');
  if (!statSync(candidate).isFile()) throw apiError('ARTIFACT_NOT_FOUND', `"${requested}" is a folder: pick a file inside it.`, 'query.path');
  return candidate;
}
