// Import cycles among the repository's TypeScript sources, found with madge. Type-only and dynamic
// (`await import()`) imports count: a type cycle still ties two modules' designs together, and a lazy
// import only postpones the cycle to the first call. Imports of other workspace packages (@ssmb/*) are
// not followed: the package dependency direction (tools -> dashboard, trainer -> protocols, core) is
// what keeps those acyclic.
import madge from 'madge';
import path from 'node:path';

export const REPO_ROOT = path.resolve(import.meta.dirname, '..', '..', '..');

/** The source trees checked, relative to the repository root (the dashboard's web app included). */
export const SOURCE_DIRS = ['packages/core/src', 'packages/protocols/src', 'packages/trainer/src', 'packages/dashboard/src', 'tools/src'] as const;

export interface CycleReport {
  /** each cycle as the files on it (relative to `baseDir`), in import order */
  cycles: string[][];
  /** files madge read */
  files: number;
}

export async function findImportCycles(dirs: readonly string[], baseDir = REPO_ROOT): Promise<CycleReport> {
  if (dirs.length === 0) throw new Error('findImportCycles: dirs is empty; expected at least one source directory');
  const res = await madge(dirs.map((d) => path.resolve(baseDir, d)), {
    baseDir,
    fileExtensions: ['ts', 'tsx'],
    tsConfig: path.join(REPO_ROOT, 'tsconfig.base.json'),
    excludeRegExp: [/node_modules/, /\.d\.ts$/, /[\\/]dist[\\/]/],
    detectiveOptions: {
      ts: { skipTypeImports: false, skipAsyncImports: false },
      tsx: { skipTypeImports: false, skipAsyncImports: false },
    },
  });
  return { cycles: res.circular(), files: Object.keys(res.obj()).length };
}

/** `a.ts -> b.ts -> a.ts` */
export function formatCycle(cycle: string[]): string {
  return [...cycle, cycle[0]].join(' -> ');
}
