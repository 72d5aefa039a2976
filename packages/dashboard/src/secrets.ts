// The server's secrets, kept in the store's folder so a restart keeps them (mode 0600, like ~/.ssh
// keys): the token it generated (workers and open pages keep working across a restart) and the key the
// per-worker credentials are signed with. A file other users can read is refused, not used.
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { MIN_TOKEN_LENGTH, SECRETS_FILE } from './defaults.ts';

export interface ServerSecrets {
  /** The token generated for this store (used when no fixed token is given and one is needed). */
  token: string;
  /** Signs worker credentials. */
  workerKey: Buffer;
  file: string;
}

export function generateToken(): string {
  return randomBytes(24).toString('base64url');
}

/** Throws unless `file` exists and only its owner can read it (`what` names it in the message). */
export function checkPrivate(file: string, what: string): void {
  const mode = statSync(file).mode & 0o777;
  if (mode & 0o077) {
    throw new Error(`${what} ${file} has mode ${mode.toString(8).padStart(4, '0')}: other users can read it; expected 0600 (chmod 600 ${file})`);
  }
}

/** The store folder's secrets, created on first use. */
export function serverSecrets(storeDir: string): ServerSecrets {
  const file = path.join(storeDir, SECRETS_FILE);
  if (!existsSync(file)) {
    const fresh = { token: generateToken(), workerKey: randomBytes(32).toString('base64url') };
    try {
      writeFileSync(file, `${JSON.stringify(fresh)}\n`, { mode: 0o600, flag: 'wx' });
      chmodSync(file, 0o600); // the umask cannot widen it, but be explicit
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err; // another server on this store wrote it first
    }
  }
  checkPrivate(file, 'the server secrets file');
  let parsed: { token?: unknown; workerKey?: unknown };
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`the server secrets file ${file} is not valid JSON (${(err as Error).message}): delete it and restart (a new token is generated)`);
  }
  if (typeof parsed.token !== 'string' || parsed.token.length < MIN_TOKEN_LENGTH || typeof parsed.workerKey !== 'string' || parsed.workerKey.length < 32) {
    throw new Error(`the server secrets file ${file} lacks a token or workerKey: delete it and restart (a new token is generated)`);
  }
  return { token: parsed.token, workerKey: Buffer.from(parsed.workerKey, 'base64url'), file };
}

/** A fixed token from a file (`--token-file`): readable only by its owner, one line, long enough. */
export function readTokenFile(file: string): string {
  if (!existsSync(file)) throw new Error(`--token-file ${file} does not exist`);
  checkPrivate(file, '--token-file');
  return readFileSync(file, 'utf8').trim();
}
