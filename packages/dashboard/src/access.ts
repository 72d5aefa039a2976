// Who may call what. Every route declares its access level in its route config ({ access }); one
// onRequest hook decides on the route fastify matched (after routing, on the decoded path), never on the
// raw URL, so `/%61pi/...` gets exactly the rules of `/api/...`. A route under /api without an access
// level is refused at registration. A new route group (e.g. the workers' API) declares its routes with
// its level and gets its rules from RULES below.
//
// Before the token rules, every request passes the Host check (DNS rebinding, as Jupyter does it): a
// hostname is accepted when it is a loopback IP (any IP when the server is bound to a non-loopback
// address), `localhost`, the bound name, this machine's name (when exposed) or an --allow-host name.
// Changes (write/worker) sent by a browser must come from a page of this server (Origin = Host).
//
// Workers do not share the token: each registers once (POST /api/worker/register, with the token) and
// gets its own credential, `w1.<owner>.<signature>`, signed with the server's worker key. The workers'
// API takes only such credentials and acts as the owner it names: a worker cannot write into, renew or
// claim a run held by another one. Wrong tokens and credentials are counted per client address; past
// MAX_AUTH_FAILURES in a window the client gets 429s until the window ends.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { apiError } from './errors.ts';
import { AUTH_FAILURE_WINDOW_MS, MAX_AUTH_FAILURES, MIN_TOKEN_LENGTH, SIGNED_LINK_TTL_MS } from './defaults.ts';
import { generateToken } from './secrets.ts';

export { generateToken };

/** public: no data (the app's files); read: GET endpoints; write: users' changes; worker: the workers' API. */
export type Access = 'public' | 'read' | 'write' | 'worker';
export const ACCESS_LEVELS: readonly Access[] = ['public', 'read', 'write', 'worker'];

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
    /** GET responses reused while the store is unchanged (default true for read routes). */
    cache?: boolean;
    /** The route may be fetched with a short-lived signed link instead of the token (downloads). */
    signedLinks?: boolean;
  }
}

export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (h.startsWith('::ffff:')) return isLoopback(h.slice(7));
  return false;
}

export interface AccessPolicy {
  /** Token for writes (and for reads from other hosts when exposed); null = open (loopback without --token). */
  token: string | null;
  /** The server listens on a non-loopback address. */
  exposed: boolean;
  /** Host names (lowercase, no port) the server answers to, besides IP literals. */
  hostnames: ReadonlySet<string>;
  /** Key of the signed download links (random per server start). */
  linkKey: Buffer;
  /** Key of the worker credentials (kept in the store's folder: credentials outlive a restart). */
  workerKey: Buffer;
  /** Failed authentications per client address. */
  failures: AuthFailures;
}

export function accessPolicy(opts: { host: string; token?: string; allowHosts?: string[]; generatedToken?: string; workerKey?: Buffer }): AccessPolicy {
  if (opts.token !== undefined && opts.token.length < MIN_TOKEN_LENGTH) {
    throw new Error(`the server's token must be at least ${MIN_TOKEN_LENGTH} characters, received ${opts.token.length} (leave it out to use a generated one)`);
  }
  const exposed = !isLoopback(opts.host);
  const names = new Set(['localhost', ...(opts.allowHosts ?? []).map((h) => h.toLowerCase())]);
  const bound = opts.host.replace(/^\[|\]$/g, '').toLowerCase();
  if (!isIP(bound) && bound !== '') names.add(bound);
  if (exposed) {
    const me = hostname().toLowerCase();
    names.add(me);
    names.add(me.split('.')[0]);
  }
  const token = opts.token ?? (exposed ? (opts.generatedToken ?? generateToken()) : null);
  return { exposed, token, hostnames: names, linkKey: randomBytes(32), workerKey: opts.workerKey ?? randomBytes(32), failures: new AuthFailures() };
}

// ---- failed authentication, counted per client ----

export class AuthFailures {
  private readonly byClient = new Map<string, { since: number; count: number }>();
  constructor(
    private readonly max = MAX_AUTH_FAILURES,
    private readonly windowMs = AUTH_FAILURE_WINDOW_MS,
  ) {}

  /** Seconds until `client` may try again; 0 = not blocked. */
  blockedFor(client: string, now = Date.now()): number {
    const e = this.byClient.get(client);
    if (!e || now - e.since >= this.windowMs) return 0;
    return e.count >= this.max ? Math.ceil((e.since + this.windowMs - now) / 1000) : 0;
  }

  record(client: string, now = Date.now()): void {
    const e = this.byClient.get(client);
    if (!e || now - e.since >= this.windowMs) {
      // bounded: forget windows that ended (an address sweep cannot grow this without end)
      if (this.byClient.size >= 10_000) for (const [k, v] of this.byClient) if (now - v.since >= this.windowMs) this.byClient.delete(k);
      this.byClient.set(client, { since: now, count: 1 });
    } else e.count++;
  }
}

// ---- worker credentials ----

const workerSig = (policy: AccessPolicy, owner: string) => createHmac('sha256', policy.workerKey).update(`worker\n${owner}`).digest('base64url');

/** The credential of worker `owner` (issued by POST /api/worker/register). */
export function workerCredential(policy: AccessPolicy, owner: string): string {
  return `w1.${Buffer.from(owner).toString('base64url')}.${workerSig(policy, owner)}`;
}

/** The owner a worker credential was issued for; null when `presented` is not a valid one. */
export function workerOwnerOf(policy: AccessPolicy, presented: string | undefined): string | null {
  const m = /^w1\.([\w-]+)\.([\w-]+)$/.exec(presented ?? '');
  if (!m) return null;
  const owner = Buffer.from(m[1], 'base64url').toString();
  return same(workerSig(policy, owner), m[2]) ? owner : null;
}

/** The hostname of a Host header value (`[::1]:7077` -> `::1`, `Example.org:80` -> `example.org`). */
export function hostnameOf(hostHeader: string): string {
  const m = /^(\[[^\]]*\]|[^:]*)(?::\d*)?$/.exec(hostHeader.trim());
  return (m ? m[1] : hostHeader).replace(/^\[|\]$/g, '').toLowerCase();
}

export function hostAllowed(policy: AccessPolicy, hostHeader: string | undefined): boolean {
  if (!hostHeader) return false;
  const h = hostnameOf(hostHeader);
  if (isIP(h)) return policy.exposed || isLoopback(h);
  return policy.hostnames.has(h);
}

function presentedToken(req: FastifyRequest): string | undefined {
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice(7).trim();
  const header = req.headers['x-ssmb-token'];
  return typeof header === 'string' ? header : undefined;
}

function same(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

// ---- signed links: a download (artifact, table export) the browser opens as a plain URL ----

const linkSig = (policy: AccessPolicy, exp: number, url: string) => createHmac('sha256', policy.linkKey).update(`${exp}\n${url}`).digest('base64url');

/** `url` (path + query, as the client will send it) with `exp` and `sig` appended; valid for ttlMs. */
export function signLink(policy: AccessPolicy, url: string, now = Date.now(), ttlMs = SIGNED_LINK_TTL_MS): { url: string; expires: number } {
  const exp = now + ttlMs;
  return { url: `${url}${url.includes('?') ? '&' : '?'}exp=${exp}&sig=${linkSig(policy, exp, url)}`, expires: exp };
}

/** 'none' = no link parameters; 'ok' = valid and unexpired; 'bad' = present but expired or altered. */
function checkLink(policy: AccessPolicy, rawUrl: string, now = Date.now()): 'none' | 'ok' | 'bad' {
  const m = /^(.*)[?&]exp=(\d+)&sig=([\w-]+)$/.exec(rawUrl);
  if (!m) return /[?&](exp|sig)=/.test(rawUrl) ? 'bad' : 'none';
  const exp = Number(m[2]);
  return exp >= now && same(linkSig(policy, exp, m[1]), m[3]) ? 'ok' : 'bad';
}

// ---- the rules ----

interface RequestFacts {
  policy: AccessPolicy;
  /** The client connects from this machine. */
  localClient: boolean;
  token: string | undefined;
  link: 'none' | 'ok' | 'bad';
  signedLinks: boolean;
}

/** A rule throws when the request may not pass; the worker rule returns the worker's owner. */
type Rule = (f: RequestFacts) => string | void;

const needToken = (f: RequestFacts) => {
  if (f.token === undefined) throw apiError('TOKEN_REQUIRED');
  if (!same(f.policy.token!, f.token)) throw apiError('TOKEN_INVALID');
};

/** What each access level requires once the Host (and, for changes, the Origin) passed. */
export const RULES: Record<Access, Rule> = {
  public: () => {},
  read: (f) => {
    if (f.link === 'bad') throw apiError('LINK_INVALID');
    if (f.policy.token === null || !f.policy.exposed || f.localClient) return;
    if (f.link === 'ok' && f.token === undefined) return;
    needToken(f);
  },
  write: (f) => {
    if (f.policy.token !== null) needToken(f);
  },
  // The workers' API: a worker credential, whatever the server's token (a loopback server without one
  // too: leases are bound to the worker that holds them).
  worker: (f) => {
    if (f.token === undefined) throw apiError('WORKER_CREDENTIAL_REQUIRED');
    const owner = workerOwnerOf(f.policy, f.token);
    if (owner !== null) return owner;
    if (f.policy.token !== null && same(f.policy.token, f.token)) throw apiError('WORKER_CREDENTIAL_REQUIRED', 'Received the server\'s token.');
    throw apiError('TOKEN_INVALID', 'Received a worker credential this server did not issue (or its secrets file was replaced): register again.');
  },
};

declare module 'fastify' {
  interface FastifyRequest {
    /** The worker a worker-API request acts as (from its credential); null elsewhere. */
    workerOwner: string | null;
  }
}

/** The owner of the worker credential a worker-API request passed with. */
export function callerWorker(req: FastifyRequest): string {
  if (!req.workerOwner) throw new Error(`internal: ${req.method} ${req.url} is not a worker route`);
  return req.workerOwner;
}

/** The request presented the server's token (reads that show lease details need it on a server with one). */
export function hasToken(policy: AccessPolicy, req: FastifyRequest): boolean {
  if (policy.token === null) return true;
  const t = presentedToken(req);
  return t !== undefined && same(policy.token, t);
}

/** Install the access rules: route registration checks, and the per-request decision. */
export function registerAccessControl(app: FastifyInstance, policy: AccessPolicy): void {
  app.addHook('onRoute', (route) => {
    const access = route.config?.access;
    if (access !== undefined && !ACCESS_LEVELS.includes(access)) throw new Error(`route ${route.url}: access must be one of ${ACCESS_LEVELS.join(', ')}, got ${access}`);
    if (access === undefined) {
      // Only the static app files (registered by @fastify/static) may omit it; they hold no data.
      if (route.url.startsWith('/api')) throw new Error(`route ${String(route.method)} ${route.url} declares no access level (config: { access })`);
      route.config = { ...route.config, access: 'public' };
    }
  });

  app.decorateRequest('workerOwner', null);
  app.addHook('onRequest', async (req, reply) => {
    if (!hostAllowed(policy, req.headers.host)) throw apiError('HOST_NOT_ALLOWED', `Received Host "${req.headers.host ?? ''}".`);
    const client = req.socket.remoteAddress ?? req.ip;
    const wait = policy.failures.blockedFor(client);
    if (wait > 0) {
      reply.header('retry-after', String(wait));
      throw apiError('AUTH_RATE_LIMITED', `Retry in ${wait} s.`);
    }
    // A request no route matched gets the not-found answer (or the app's index.html): no data.
    const access: Access = req.routeOptions.config?.access ?? (req.is404 ? 'public' : 'write');
    if (access === 'write' || access === 'worker') {
      const origin = req.headers.origin;
      if (origin !== undefined) {
        let host: string | undefined;
        try {
          host = new URL(origin).host;
        } catch {
          host = undefined;
        }
        if (host === undefined || host !== req.headers.host) throw apiError('ORIGIN_NOT_ALLOWED', `Received Origin "${origin}" for Host "${req.headers.host}".`);
      }
    }
    const signedLinks = req.routeOptions.config?.signedLinks === true;
    const link = signedLinks ? checkLink(policy, req.url) : 'none';
    let owner: string | void;
    try {
      owner = RULES[access]({ policy, localClient: isLoopback(client), token: presentedToken(req), link, signedLinks });
    } catch (err) {
      // Only wrong credentials count (a missing one guesses nothing).
      if ((err as { code?: string }).code === 'TOKEN_INVALID') policy.failures.record(client);
      throw err;
    }
    if (typeof owner === 'string') req.workerOwner = owner;
    // The link parameters are credentials, not part of the route's query.
    if (link === 'ok') {
      const q = req.query as Record<string, unknown>;
      delete q.exp;
      delete q.sig;
    }
  });
}
