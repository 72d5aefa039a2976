// The repository's files as the repo checks read them: a walk from the root, sorted, that skips what
// `skip` names (dependencies, build output, caches) and keeps the files `accept` takes.
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/** Folders no check reads: dependencies, build output, caches, the run store and test reports. */
export const NOT_OURS = new Set(['node_modules', 'dist', '.git', '.ssmb', '.nx', 'coverage', '.test-results']);

/** Files under `root` (paths relative to it, sorted); `skip` sees every entry's name, `accept` each file's. */
export function repoFiles(root: string, opts: { skip: (name: string) => boolean; accept: (name: string, rel: string) => boolean }): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const name of readdirSync(path.join(root, rel)).sort()) {
      if (opts.skip(name)) continue;
      const r = rel ? `${rel}/${name}` : name;
      if (statSync(path.join(root, r)).isDirectory()) walk(r);
      else if (opts.accept(name, rel)) out.push(r);
    }
  };
  walk('');
  return out;
}
