// The code version recorded with every run: the git commit (with "+dirty" when the tree has changes)
// or, outside a checkout, the package version.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

let cached: string | undefined;

export function codeVersion(): string {
  if (cached) return cached;
  const here = import.meta.dirname;
  try {
    const commit = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: here, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no', '--', path.resolve(here, '../..')], { cwd: here, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
    cached = `git:${commit}${dirty ? '+dirty' : ''}`;
  } catch {
    const pkg = JSON.parse(readFileSync(path.resolve(here, '../../package.json'), 'utf8')) as { version: string };
    cached = `@ssmb/trainer@${pkg.version}`;
  }
  return cached;
}
