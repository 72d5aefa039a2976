import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { RunStore, StoreError } from './run_store.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'store-open-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function openError(file: string, opts = {}): StoreError {
  try {
    RunStore.open(file, opts).close();
  } catch (err) {
    return err as StoreError;
  }
  throw new Error(`RunStore.open(${file}) succeeded; expected an error`);
}

describe('RunStore.open errors name the store file and what to do', () => {
  it('"file is not a database"', () => {
    const file = path.join(dir, 'README.md');
    writeFileSync(file, '# not a store\n'.repeat(100));
    for (const opts of [{}, { readonly: true }]) {
      const e = openError(file, opts);
      expect(e).toBeInstanceOf(StoreError);
      expect(e.code).toBe('STORE_NOT_A_STORE');
      expect(e.message).toContain(`${file} is not an SQLite database, so not a run store`);
    }
    expect(() => RunStore.migrate(file)).toThrow(`${file} is not an SQLite database`);
  });

  it('"Cannot open database because the directory does not exist"', () => {
    const file = path.join(dir, 'no', 'such', 'runs.sqlite');
    const e = openError(file);
    expect(e.code).toBe('STORE_NOT_FOUND');
    expect(e.message).toBe(`cannot create run store ${file}: the directory ${path.dirname(file)} does not exist; create it (mkdir -p ${path.dirname(file)}) or pass another --store`);
  });

  it('a store that must exist (read commands) is never created', () => {
    const file = path.join(dir, 'typo.sqlite');
    for (const opts of [{ readonly: true }, { mustExist: true }]) {
      expect(openError(file, opts).message).toContain(`run store ${file} does not exist`);
      expect(existsSync(file)).toBe(false);
    }
  });

  it('"attempt to write a readonly database": a store this user cannot write', () => {
    const roDir = path.join(dir, 'ro');
    mkdirSync(roDir);
    const file = path.join(roDir, 'runs.sqlite');
    RunStore.open(file).close();
    chmodSync(file, 0o444);
    chmodSync(roDir, 0o555);
    chmodSync(dir, 0o755);
    try {
      // root ignores file modes: open it as an unprivileged user in a child process
      const url = pathToFileURL(path.join(import.meta.dirname, 'run_store.ts')).href;
      const script = `const { RunStore } = await import(${JSON.stringify(url)});
        try { RunStore.open(${JSON.stringify(file)}).close(); console.log('opened'); } catch (e) { console.log(e.code + ': ' + e.message); }`;
      const asUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
      const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', ...asUser, cwd: import.meta.dirname });
      expect(r.stderr).toBe('');
      expect(r.stdout.trim()).toBe(
        `STORE_READONLY: cannot write run store ${file}: it or its directory is read-only for this user (SQLite also needs to create ` +
          'runs.sqlite-wal and runs.sqlite-shm beside it); make both writable (chmod/chown), or copy the store to a writable place and pass that --store',
      );
    } finally {
      chmodSync(roDir, 0o755);
    }
  });
});
