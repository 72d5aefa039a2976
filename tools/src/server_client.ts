// The CLI's side of the tracking server: `ssmb runs ... --server URL` and `ssmb launch --server URL` go
// through the same HTTP API as the dashboard and the workers, so on a cluster only the server opens
// the store (SQLite on NFS is not safe for several writers; a second login node just names the URL).
// The token comes from SSMB_TOKEN or --token-file (never argv) and travels in the Authorization header only.
import { serverBase, serverCall, ServerError } from '@ssmb/trainer';
import { readToken } from './token.ts';

export interface ServerTarget {
  url: string;
  token: string | null;
}

/** --server URL (or SSMB_SERVER) and the token (SSMB_TOKEN or --token-file); null when neither flag nor variable names a server. */
export function serverTarget(o: { server?: string; tokenFile?: string }): ServerTarget | null {
  const url = o.server ?? process.env.SSMB_SERVER;
  if (!url) return null;
  return { url: serverBase(url), token: readToken(o) };
}

/** Exactly one of --store FILE and --server URL. */
export function storeOrServer(o: { store?: string; server?: string; tokenFile?: string }, command: string): { store: string; server: null } | { store: null; server: ServerTarget } {
  const server = o.store ? null : serverTarget(o);
  if (o.store && o.server) throw new Error(`ssmb ${command}: pass --store FILE (this machine's store) or --server URL (the tracking server that owns it), not both`);
  if (o.store) return { store: o.store, server: null };
  if (server) return { store: null, server };
  throw new Error(`ssmb ${command} needs --store FILE (a store on this machine) or --server URL (the tracking server, e.g. http://login1:7077; or SSMB_SERVER)`);
}

/**
 * `fn` again while the server does not answer (a restart), with back-off, for at most `timeoutMs`; said once
 * when it stops answering and once when it answers again. Other errors pass through.
 */
export async function whileServerAnswers<T>(fn: () => Promise<T>, log: (line: string) => void, timeoutMs = 600_000): Promise<T> {
  let since: number | null = null;
  for (let attempt = 0; ; attempt++) {
    try {
      const v = await fn();
      if (since !== null) log(`the tracking server answers again after ${((Date.now() - since) / 1000).toFixed(1)} s`);
      return v;
    } catch (err) {
      if (!(err instanceof ServerError) || !err.retryable) throw err;
      if (since === null) {
        since = Date.now();
        log(`${err.message}: the runs go on; retrying for up to ${Math.round(timeoutMs / 1000)} s`);
      } else if (Date.now() - since >= timeoutMs) {
        throw new Error(`${err.message}; gave up after ${Math.round(timeoutMs / 1000)} s (the runs stay queued on the server: run the same command again once it answers)`);
      }
      await new Promise((r) => setTimeout(r, Math.min(5_000, 250 * 2 ** Math.min(attempt, 5))));
    }
  }
}

/** One API request (trainer's serverCall); an error names the URL, the status, the server's code and message, and the fix where there is one. */
export async function serverRequest<T>(t: ServerTarget, method: string, pathname: string, body?: unknown): Promise<T> {
  try {
    return await serverCall<T>(t.url, method, pathname, { body, secret: t.token });
  } catch (err) {
    if (!(err instanceof ServerError)) throw err;
    const hint = err.status === 0 ? ': is `ssmb serve` running there?' : err.status === 401 ? ' (pass the token `ssmb serve` printed in SSMB_TOKEN or a file: --token-file FILE)' : '';
    throw new ServerError(err.status, err.code, `the ${err.message}${hint}`);
  }
}
