// One request to the tracking server (`ssmb serve`), for every client of its HTTP API: remote workers
// (HttpStore), and the CLI's `--server` commands (runs, launch, reproduce). The URL check, the network
// failure's reason, the error body's catalogue code and the wording of both kinds of failure are here once.

/** An answer from the server other than 2xx, or no answer at all (`status` 0). */
export class ServerError extends Error {
  constructor(
    readonly status: number,
    /** The catalogue code of the server's error body (LEASE_LOST, TOKEN_INVALID, ...), or the network error code. */
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ServerError';
  }
  /** No answer, or an answer that says "try again later": retry with back-off. */
  get retryable(): boolean {
    return this.status === 0 || this.status >= 500 || this.status === 429 || this.status === 408;
  }
}

/** A server URL as given (`--server`, SSMB_SERVER) -> its base without a trailing slash; a clear error otherwise. */
export function serverBase(url: string, what = '--server'): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`${what} must be a URL like http://login1:7077, received "${url}"`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`${what} must be an http:// or https:// URL, received "${url}"`);
  return u.origin + u.pathname.replace(/\/+$/, '');
}

/** Why a request got no answer: the network error's code (ECONNREFUSED, ...) and its text. */
export function networkReason(err: unknown): { code: string; text: string } {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return { code: 'ETIMEDOUT', text: 'no answer within the request timeout' };
  const code = e.cause?.code ?? 'ENETWORK';
  return { code, text: `${code}${e.cause?.message && !e.cause.message.includes(code) ? ` ${e.cause.message}` : ''}` };
}

export interface ServerCallOptions {
  body?: unknown;
  /** Sent as Authorization: Bearer (the server's token, or a worker's credential). */
  secret?: string | null;
  timeoutMs?: number;
  /** JSON.stringify's replacer for the body (the worker ops' non-finite numbers). */
  replacer?: (key: string, value: unknown) => unknown;
}

/**
 * One request; the parsed JSON answer, or a ServerError: "tracking server URL does not answer (ECONNREFUSED)"
 * (status 0) or "tracking server URL answered POST /api/x with 409 RUN_STATE: <the server's message>".
 */
export async function serverCall<T>(base: string, method: string, pathname: string, opts: ServerCallOptions = {}): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`${base}${pathname}`, {
      method,
      headers: { ...(opts.secret ? { authorization: `Bearer ${opts.secret}` } : {}), ...(opts.body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body, opts.replacer as never),
      signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000),
    });
  } catch (err) {
    const r = networkReason(err);
    throw new ServerError(0, r.code, `tracking server ${base} does not answer (${r.text})`);
  }
  return readAnswer<T>(base, res, method, pathname);
}

/** A response of the server (from serverCall, or a streamed upload or download): its JSON, or a ServerError. */
export async function readAnswer<T>(base: string, res: Response, method: string, pathname: string): Promise<T> {
  const text = await res.text().catch(() => '');
  if (res.ok) return (text ? JSON.parse(text) : {}) as T;
  let code = `HTTP_${res.status}`;
  let message = text.slice(0, 500);
  try {
    const e = (JSON.parse(text) as { error?: { code?: string; message?: string } }).error;
    if (e?.code) code = e.code;
    if (e?.message) message = e.message;
  } catch {
    // not a JSON error body (a proxy's page): keep the text
  }
  throw new ServerError(res.status, code, `tracking server ${base} answered ${method} ${pathname.split('?')[0]} with ${res.status} ${code}: ${message}`);
}
