// Builds the SPA with vite when dist/web is missing or older than any source it is built from.
// Used by the e2e tests, `npm run build` and `ssmb dashboard serve` (so a fresh checkout just works).
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

export const PACKAGE_ROOT = path.resolve(import.meta.dirname, '..');
export const WEB_SRC = path.join(PACKAGE_ROOT, 'src', 'web');
export const WEB_OUT = path.join(PACKAGE_ROOT, 'dist', 'web');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** Modules outside src/web the bundle imports at run time (pure modules, no node code). */
const WEB_RUNTIME_IMPORTS = [path.resolve(PACKAGE_ROOT, '..', 'trainer', 'src', 'flatten.ts'), path.join(PACKAGE_ROOT, 'src', 'defaults.ts')];

/** Sources the bundle depends on: the SPA, the vite config (and its precompress step) and the modules it imports. */
export function webBuildIsStale(): boolean {
  const index = path.join(WEB_OUT, 'index.html');
  if (!existsSync(index)) return true;
  const built = statSync(index).mtimeMs;
  const inputs = [newestMtime(WEB_SRC), ...['vite.config.ts', 'src/precompress.ts'].map((f) => statSync(path.join(PACKAGE_ROOT, f)).mtimeMs), ...WEB_RUNTIME_IMPORTS.map((f) => statSync(f).mtimeMs)];
  return inputs.some((t) => t > built);
}

export async function ensureWebBuild(opts: { force?: boolean } = {}): Promise<{ built: boolean; ms: number }> {
  const t0 = Date.now();
  if (!opts.force && !webBuildIsStale()) return { built: false, ms: 0 };
  // vite is a dev dependency: imported only when a build is needed.
  const { build } = await import('vite');
  // A production build whoever builds: under vitest NODE_ENV is 'test', which vite passes on to React, and the
  // app would ship React's development build (about twice the size, and slower).
  const env = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({ configFile: path.join(PACKAGE_ROOT, 'vite.config.ts'), logLevel: 'warn', mode: 'production' });
  } finally {
    if (env === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = env;
  }
  return { built: true, ms: Date.now() - t0 };
}
