// The CLI's side of the tracking server: `ssmb runs ... --server URL` and `ssmb launch --server URL` go
// through the same HTTP API as the dashboard and the workers, so on a cluster only the server opens
// the store (SQLite on NFS is not safe for several writers; a second login node just names the URL).
// The token comes from SSMB_TOKEN or --token-file (never argv) and travels in the Authorization header only.
import { readToken } from './token.ts';

export interface ServerTarget {
  url: string;
  token: string | null;
}

/** --server URL (or SSMB_SERVER) and the token (SSMB_TOKEN or --token-file); null when neither flag nor variable names a server. */
export function serverTarget(o: { server?: string; tokenFile?: string }): ServerTarget | null {
  const url = o.server ?? process.env.SSMB_SERVER;
  if (!url) return null;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`--server must be a URL like http://login1:7077, received "${url}"`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`--server must be an http:// or https:// URL, received "${url}"`);
  return { url: url.replace(/\/+$/, ''), token: readToken(o) };
}

/** Exactly one of --store FILE and --server URL. */
export function storeOrServer(o: { store?: string; server?: string; tokenFile?: string }, command: string): { store: string; server: null } | { store: null; server: ServerTarget } {
  const server = o.store ? null : serverTarget(o);
  if (o.store && o.server) throw new Error(`ssmb ${command}: pass --store FILE (this machine's store) or --server URL (the tracking server that owns it), not both`);
  if (o.store) return { store: o.store, server: null };
  if (server) return { store: null, server };
  throw new Error(`ssmb ${command} needs --store FILE (a store on this machine) or --server URL (the tracking server, e.g. http://login1:7077; or SSMB_SERVER)`);
}

/** A request the server did not answer (status 0), or answered with an error. */
export class ServerRequestError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'ServerRequestError';
  }
  /** No answer, or "try again later" (a restart, a busy store): worth retrying. */
  get retryable(): boolean {
    return this.status === 0 || this.status >= 500 || this.status === 429;
  }
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
      if (!(err instanceof ServerRequestError) || !err.retryable) throw err;
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

/** One API request; an error names the URL, the status and the server's error code and message. */
export async function serverRequest<T>(t: ServerTarget, method: string, pathname: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`${t.url}${pathname}`, {
      method,
      headers: { ...(t.token ? { authorization: `Bearer ${t.token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const code = cause?.code ?? cause?.message ?? (err as Error).message;
    throw new ServerRequestError(`the tracking server ${t.url} does not answer (${code}): is \`ssmb serve\` running there?`, 0);
  }
  const text = await res.text();
  let json: unknown = {};
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    json = { error: { message: text.slice(0, 300) } };
  }
  if (!res.ok) {
    const e = (json as { error?: { code?: string; message?: string } }).error;
    const hint = res.status === 401 ? ' (pass the token `ssmb serve` printed in SSMB_TOKEN or a file: --token-file FILE)' : '';
    throw new ServerRequestError(`the tracking server ${t.url} answered ${method} ${pathname.split('?')[0]} with ${res.status} ${e?.code ?? ''}: ${e?.message ?? ''}${hint}`, res.status);
  }
  return json as T;
}
