// The dashboard's fastify server: JSON API over the run store, live events, downloads and the built SPA.
// Route groups (routes/*.ts) declare each route's access level in its config; access.ts decides every
// request on the route fastify matched. A new group (e.g. the workers' API) is one more register call.
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import fastifyStatic from '@fastify/static';
import { createReadStream, existsSync } from 'node:fs';
import path from 'node:path';
import { StoreError } from '@ssmb/trainer';
import { ApiError, apiError } from './errors.ts';
import { accessPolicy, hasToken, registerAccessControl, signLink, type AccessPolicy } from './access.ts';
import { ChangeFeed } from './events.ts';
import { LruCache } from './cache.ts';
import { launchRoots, storeLauncher, type Launcher, type LaunchRoots } from './launch.ts';
import { registerReadRoutes } from './routes/read.ts';
import { registerWriteRoutes } from './routes/write.ts';
import { registerWorkerRoutes, workerStoreOf } from './routes/worker.ts';
import { registerGridRoutes } from './routes/grids.ts';
import { LinkBody, parse } from './schemas.ts';
import { DEFAULT_TABLES_DIR } from './table_configs.ts';
import {
  BODY_LIMIT, DEFAULT_HOST, DEFAULT_MAX_SWEEP_RUNS, MAX_STREAMS, MAX_STREAMS_PER_CLIENT, REAP_EVERY_MS, RUN_UPLOAD_QUOTA, SERVER_BUSY_TIMEOUT_MS, STALE_GRACE_MS,
} from './defaults.ts';
import { serverSecrets } from './secrets.ts';
import type { DashboardStore } from './store.ts';
import type { RouteDeps } from './routes/deps.ts';
import { cancelRunEverywhere, WORKER_BUFFERS_FILE, type RunStore, type scancel } from '@ssmb/trainer';

export interface ServerOptions {
  store: DashboardStore;
  /** Address the server will listen on (decides whether a token is required). Default 127.0.0.1. */
  host?: string;
  /** Token for writes; generated when the host is not loopback and none is given. */
  token?: string;
  /** Extra Host names the server answers to (besides loopback IPs, localhost and the bound name). */
  allowHosts?: string[];
  /** Extra folders launched runs may write to / read datasets and weights from (the store's folder always). */
  roots?: Partial<LaunchRoots>;
  /** Largest sweep POST /api/launch queues. */
  maxSweepRuns?: number;
  /** Table configs folder (default: the repository's tables/); null = none. */
  tablesDir?: string | null;
  /** Built SPA folder (index.html); default dist/web of this package; skipped when missing. */
  webRoot?: string;
  pollMs?: number;
  /** Log every request (info); by default only warnings and errors (every 5xx, with its reference). */
  logger?: boolean;
  /** Where the log goes (default stdout). */
  logStream?: { write(line: string): void };
  /** How long a store statement waits for another process's lock (default SERVER_BUSY_TIMEOUT_MS). */
  busyTimeoutMs?: number;
  /** Bytes one run's uploads may hold (default RUN_UPLOAD_QUOTA). */
  runUploadQuota?: number;
  /** Open /api/events streams per client address and in total (defaults MAX_STREAMS_PER_CLIENT, MAX_STREAMS). */
  maxStreams?: { perClient: number; total: number };
  /** Queues runs and sweeps (POST /api/launch); default: the trainer's launcher over `store` (a RunStore). */
  launcher?: Launcher | null;
  /** Reuse GET responses while the store is unchanged (default true; the benchmark measures both). */
  cache?: boolean;
  /** Re-queue runs whose lease expired every this many ms (stale runs; 0 = never). */
  reapMs?: number;
  /** ...but not during this long after start: workers reconnect within a lease after the server was down. */
  staleGraceMs?: number;
  /** Cancelling a run a Slurm task executes signals the task (tests inject their own). */
  scancel?: typeof scancel;
}

export interface DashboardServer {
  app: FastifyInstance;
  policy: AccessPolicy;
  feed: ChangeFeed;
  roots: LaunchRoots;
}

export const DEFAULT_WEB_ROOT = path.resolve(import.meta.dirname, '..', 'dist', 'web');

const isRunStore = (s: DashboardStore): s is DashboardStore & RunStore => typeof (s as Partial<RunStore>).transaction === 'function';

export async function buildServer(opts: ServerOptions): Promise<DashboardServer> {
  const store = opts.store;
  // A write that waits for another process's lock waits synchronously (better-sqlite3): on the server
  // that would stall every read, so it waits briefly and answers STORE_UNAVAILABLE (503; workers retry).
  if (isRunStore(store)) store.setBusyTimeout(opts.busyTimeoutMs ?? SERVER_BUSY_TIMEOUT_MS);
  // The generated token and the worker key live in the store's folder: a restart keeps both.
  const secrets = serverSecrets(store.dir);
  const policy = accessPolicy({ host: opts.host ?? DEFAULT_HOST, token: opts.token, allowHosts: opts.allowHosts, generatedToken: secrets.token, workerKey: secrets.workerKey });
  const roots = launchRoots(store.dir, opts.roots);
  const maxSweepRuns = opts.maxSweepRuns ?? DEFAULT_MAX_SWEEP_RUNS;
  // Strict routing on purpose (case-sensitive, no trailing-slash or duplicate-slash folding): one URL
  // per endpoint, and access is decided on the route that matched.
  const app = Fastify({ logger: { level: opts.logger ? 'info' : 'warn', ...(opts.logStream ? { stream: opts.logStream } : {}) }, bodyLimit: BODY_LIMIT });
  // Bodies are JSON only: a text/plain POST is what a cross-site form can send without a preflight.
  app.removeContentTypeParser('text/plain');
  const feed = new ChangeFeed(store, opts.pollMs ?? 1000, opts.maxStreams ?? { perClient: MAX_STREAMS_PER_CLIENT, total: MAX_STREAMS });
  const endpoints: string[] = [];
  const signable: RegExp[] = [];
  app.addHook('onRoute', (r) => {
    if (r.url.startsWith('/api') && r.method !== 'HEAD') endpoints.push(`${([] as string[]).concat(r.method).join('|')} ${r.url}`);
    if (r.config?.signedLinks) signable.push(new RegExp(`^${r.url.replace(/:[A-Za-z]+/g, '[^/]+')}$`));
  });

  app.setErrorHandler((err: unknown, req: FastifyRequest, reply: FastifyReply) => {
    const send = (e: ApiError) => {
      // Every 5xx is logged (503s as warnings: the store was busy, or no launcher), with its request id.
      if (e.statusCode >= 500 && e.code !== 'INTERNAL') req.log.warn({ reference: req.id, code: e.code, url: req.url.split('?')[0] }, e.message);
      return reply.status(e.statusCode).send(e.toJSON());
    };
    if (err instanceof ApiError) return send(err);
    if (err instanceof StoreError) {
      if (err.code === 'STORE_NOT_FOUND') return send(apiError('RUN_NOT_FOUND', err.message));
      if (err.code === 'STORE_BAD_STATE') return send(apiError('RUN_STATE', err.message));
      if (err.code === 'STORE_LEASE_LOST') return send(apiError('LEASE_LOST', err.message));
    }
    const e = err as { code?: string; statusCode?: number; message?: string };
    if (e.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || e.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || (e.statusCode === 400 && /JSON/i.test(e.message ?? ''))) {
      return send(apiError('BAD_JSON', e.message));
    }
    if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return send(apiError('UNSUPPORTED_MEDIA_TYPE', e.message));
    if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return send(apiError('BODY_TOO_LARGE'));
    if (e.code === 'SQLITE_BUSY' || e.code === 'SQLITE_LOCKED' || e.code === 'SQLITE_CANTOPEN') return send(apiError('STORE_UNAVAILABLE', e.message));
    // Logged with the request id; the answer names only the id (messages of unexpected errors hold
    // server paths and internals).
    req.log.error({ err, reference: req.id, url: req.url.split('?')[0] }, 'request failed');
    return send(apiError('INTERNAL', `Reference ${req.id}.`));
  });

  registerAccessControl(app, policy);
  if (opts.cache !== false) registerResponseCache(app, () => store.dataVersion(), (req) => (hasToken(policy, req) ? 't' : '-'));

  const launcher = opts.launcher === null ? undefined : (opts.launcher ?? (isRunStore(store) ? storeLauncher(store, { roots, maxSweepRuns }) : undefined));
  const deps: RouteDeps = {
    store, feed, policy, roots, maxSweepRuns, launcher,
    storeFiles: [store.location, secrets.file, path.join(store.dir, WORKER_BUFFERS_FILE)],
    runUploadQuota: opts.runUploadQuota ?? RUN_UPLOAD_QUOTA,
    tablesDir: opts.tablesDir === undefined ? DEFAULT_TABLES_DIR : opts.tablesDir,
    endpoints: () => [...endpoints].sort(),
  };
  registerReadRoutes(app, deps);
  registerWriteRoutes(app, deps, { cancel: (id) => cancelRunEverywhere(store, id, { scancel: opts.scancel }) });
  // Paper-table grids from clients without the store (`ssmb reproduce --server`): planned and queued here.
  if (isRunStore(store)) registerGridRoutes(app, deps, store);
  // The workers' API and the stale-run reaper need the store's worker methods (the SQLite RunStore).
  const reapAfter = Date.now() + (opts.staleGraceMs ?? STALE_GRACE_MS);
  let reaper: NodeJS.Timeout | undefined;
  const ws = workerStoreOf(store);
  if (ws) {
    registerWorkerRoutes(app, deps, ws, { reapAfter });
    const reapMs = opts.reapMs ?? REAP_EVERY_MS;
    if (reapMs > 0) {
      reaper = setInterval(() => {
        if (Date.now() < reapAfter) return;
        try {
          const r = ws.requeueExpired();
          const ids = [...r.requeued, ...r.failed, ...r.cancelled];
          if (ids.length) {
            for (const run of ws.runStates(ids)) feed.publish({ type: 'run-updated', run });
            app.log.info({ requeued: r.requeued, failed: r.failed, cancelled: r.cancelled }, 'stale runs (lease expired) handled');
          }
        } catch (err) {
          app.log.warn(err, 'could not re-queue stale runs (the store is busy); trying again');
        }
      }, reapMs);
      reaper.unref();
    }
  }
  // A download link the browser can open without headers: needs read access, valid for a minute, for
  // routes that allow it (artifact files, table exports; the link is checked again on the route it hits).
  app.post('/api/links', { config: { access: 'read' } }, async (req) => {
    const { url } = parse(LinkBody, req.body, 'body');
    const pathname = url.split('?')[0];
    if (!signable.some((re) => re.test(pathname))) {
      throw apiError('VALIDATION', `body.url: only downloads (artifact files, table exports) get links, received ${pathname}`, 'body.url');
    }
    return signLink(policy, url);
  });

  const webRoot = opts.webRoot ?? DEFAULT_WEB_ROOT;
  const hasWeb = existsSync(path.join(webRoot, 'index.html'));
  if (hasWeb) await app.register(fastifyStatic, { root: webRoot, wildcard: false, maxAge: '1h', index: false, preCompressed: true });
  app.setNotFoundHandler((req, reply) => {
    if (req.method !== 'GET' || req.url.startsWith('/api')) throw apiError('NOT_FOUND', `Received ${req.method} ${req.url.split('?')[0]}.`);
    if (!hasWeb) throw apiError('NOT_FOUND', 'The dashboard app is not built: run `npm run build -w @ssmb/dashboard`, then reload (the API is under /api).');
    // The SPA routes by hash, but serve index.html for any other path too (bookmarks, reloads).
    return reply.type('text/html').header('cache-control', 'no-cache').send(createReadStream(path.join(webRoot, 'index.html')));
  });

  app.addHook('onClose', async () => {
    clearInterval(reaper);
    feed.close();
  });
  return { app, policy, feed, roots };
}

/** GET responses of read routes are cached per URL and store version (see cache.ts). */
function registerResponseCache(app: FastifyInstance, version: () => string | Promise<string>, audience: (req: FastifyRequest) => string): void {
  const cache = new LruCache<{ version: string; type: string; body: string }>(256);
  const versions = new WeakMap<FastifyRequest, string>();
  app.addHook('preHandler', async (req, reply) => {
    const cfg = req.routeOptions.config;
    if (req.method !== 'GET' || cfg?.access !== 'read' || cfg.cache === false) return;
    const v = await version();
    versions.set(req, v);
    const hit = cache.get(`${audience(req)} ${req.url}`);
    if (hit && hit.version === v) return reply.header('x-cache', 'hit').type(hit.type).send(hit.body);
  });
  app.addHook('onSend', async (req, reply, payload) => {
    const v = versions.get(req);
    if (v !== undefined && reply.statusCode === 200 && typeof payload === 'string' && reply.getHeader('x-cache') !== 'hit') {
      cache.set(`${audience(req)} ${req.url}`, { version: v, type: String(reply.getHeader('content-type') ?? 'application/json'), body: payload });
    }
    return payload;
  });
}
