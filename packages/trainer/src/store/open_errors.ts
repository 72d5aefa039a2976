// What SQLite says when a run store cannot be opened ("file is not a database", "attempt to write a
// readonly database", ...) names neither the file nor a way out. RunStore.open passes every failure
// through here and throws a StoreError with the code and message it returns: the store path and what to do.
import path from 'node:path';

export interface OpenIntent {
  readonly?: boolean;
}

export type OpenErrorCode = 'STORE_NOT_FOUND' | 'STORE_NOT_A_STORE' | 'STORE_READONLY' | 'STORE_BAD_STATE';

/** The store error code and message for an error SQLite (or better-sqlite3) threw while opening `file`. */
export function explainOpenError(file: string, err: unknown, intent: OpenIntent = {}): { code: OpenErrorCode; message: string } {
  const e = err as { code?: string; message?: string };
  const msg = e?.message ?? String(err);
  const code = e?.code ?? '';
  const abs = path.resolve(file);
  const dir = path.dirname(abs);
  const wrap = (c: OpenErrorCode, text: string) => ({ code: c, message: text });
  if (/directory does not exist/i.test(msg)) {
    return wrap('STORE_NOT_FOUND', `cannot create run store ${abs}: the directory ${dir} does not exist; create it (mkdir -p ${dir}) or pass another --store`);
  }
  if (code === 'SQLITE_NOTADB' || /file is not a database/i.test(msg)) {
    return wrap('STORE_NOT_A_STORE', `${abs} is not an SQLite database, so not a run store; pass the run store file the trainer writes (default .ssmb/runs.sqlite)`);
  }
  if (code.startsWith('SQLITE_READONLY') || /readonly database/i.test(msg)) {
    const what = intent.readonly ? 'cannot read run store' : 'cannot write run store';
    return wrap(
      'STORE_READONLY',
      `${what} ${abs}: it or its directory is read-only for this user (SQLite also needs to create ${path.basename(abs)}-wal and ` +
        `${path.basename(abs)}-shm beside it); make both writable (chmod/chown), or copy the store to a writable place and pass that --store`,
    );
  }
  if (code.startsWith('SQLITE_CORRUPT')) {
    return wrap('STORE_BAD_STATE', `run store ${abs} is damaged (${msg}); check it with \`ssmb store check --store ${abs}\` and restore it from a copy`);
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return wrap('STORE_BAD_STATE', `run store ${abs} stayed locked by another process (${msg}); retry when the other writer is done`);
  }
  if (code.startsWith('SQLITE_CANTOPEN') || code === 'EACCES' || code === 'EISDIR') {
    return wrap('STORE_NOT_FOUND', `cannot open run store ${abs} (${msg}); --store must name an SQLite file this user can read and write`);
  }
  return wrap('STORE_BAD_STATE', `cannot open run store ${abs}: ${msg}`);
}
