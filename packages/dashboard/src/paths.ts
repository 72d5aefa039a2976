// Folder containment that symlinks cannot fool: a path is inside a root when its real location (the
// deepest existing ancestor resolved with realpath, plus the rest of the path) lies under the root's real
// location. Used for artifact downloads and for the paths a launched run reads and writes.
import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';

export const isInside = (child: string, parent: string) => child === parent || child.startsWith(parent.endsWith(path.sep) ? parent : parent + path.sep);

/** The real location of `p` even when it does not exist yet (`..` segments already resolved by path.resolve). */
export function realLocation(p: string): string {
  const abs = path.resolve(p);
  let existing = abs;
  const rest: string[] = [];
  while (!existsSync(existing)) {
    const parent = path.dirname(existing);
    if (parent === existing) break;
    rest.unshift(path.basename(existing));
    existing = parent;
  }
  let real: string;
  try {
    real = realpathSync(existing);
  } catch {
    real = existing;
  }
  return path.join(real, ...rest);
}

/** The first root (by real location) that holds `p`, or undefined. */
export function rootHolding(p: string, roots: readonly string[]): string | undefined {
  const real = realLocation(p);
  return roots.find((r) => isInside(real, realLocation(r)));
}
