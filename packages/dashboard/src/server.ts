// The dashboard's fastify server: JSON API over the run store, live events, artifacts and the built SPA.
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import fastifyStatic from '@fastify/static';
import { createReadStream, existsSync } from 'node:fs';
import path from 'node:path';
import { ApiError, apiError } from './errors.ts';
import { authPolicy, checkAuth, type AuthPolicy } from './auth.ts';
import { ChangeFeed } from './events.ts';
import { LruCache } from './cache.ts';
import { registerReadRoutes } from './routes_read.ts';
import { registerWriteRoutes, type Launcher } from './routes_write.ts';
import type { DashboardStore } from './store.ts';

export interface ServerOptions {
  data: DashboardStore;
  /** Address the server will listen on (decides whether a token is required). Default 127.0.0.1. */
  host?: string;
  /** Token for writes; generated when the host is not loopback and none is given. */
  token?: string;
  /** Folders artifacts may be served from; default: the store file's folder. */
  artifactRoots?: string[];
  /** Built SPA folder (index.html); default dist/web of this package; skipped when missing. */
  webRoot?: string;
  pollMs?: number;
  logger?: boolean;
  /** Queues runs and sweeps (POST /api/launch); default uses the trainer's config and sweep grid. */
  launcher?: Launcher;
  /** Reuse GET responses while the store is unchanged (default true; the benchmark measures both). */
  cache?: boolean;
}

export interface DashboardServer {
  app: FastifyInstance;
  policy: AuthPolicy;
  feed: ChangeFeed;
}

export const DEFAULT_WEB_ROOT = path.resolve(import.meta.dirname, '..', 'dist', 'web');

export async function buildServer(opts: ServerOptions): Promise<DashboardServer> {
  const policy = authPolicy(opts.host ?? '127.0.0.1', opts.token);
  const app = Fastify({ logger: opts.logger ?? false, bodyLimit: 1 << 20 });
  const feed = new ChangeFeed(opts.data.queries, opts.pollMs ?? 1000);
  const artifactRoots = opts.artifactRoots ?? [path.dirname(path.resolve(opts.data.store.file))];

  app.setErrorHandler((err: unknown, req: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof ApiError) return reply.status(err.statusCode).send(err.toJSON());
    const e = err as { code?: string; statusCode?: number; message?: string; validation?: unknown };
    if (e.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || e.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || (e.statusCode === 400 && /JSON/i.test(e.message ?? ''))) {
      return reply.status(400).send(apiError('BAD_JSON', e.message).toJSON());
    }
    if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return reply.status(415).send({ error: { code: 'BAD_JSON', message: `${apiError('BAD_JSON').message} ${e.message}` } });
    if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return reply.status(413).send({ error: { code: 'VALIDATION', message: 'The request body is larger than 1 MiB: send fewer overrides or a smaller grid.' } });
    if (e.code === 'SQLITE_BUSY' || e.code === 'SQLITE_CANTOPEN') return reply.status(503).send(apiError('STORE_UNAVAILABLE', e.message).toJSON());
    req.log.error(err);
    return reply.status(500).send(apiError('INTERNAL', e.message).toJSON());
  });

  // Auth runs before every API route: writes (non-GET) need the token whenever one is configured.
  app.addHook('onRequest', async (req) => {
    if (!req.url.startsWith('/api')) return;
    checkAuth(policy, req, req.method !== 'GET' && req.method !== 'HEAD');
  });

  if (opts.cache !== false) registerResponseCache(app, () => opts.data.queries.dataVersion());

  registerReadRoutes(app, { data: opts.data, feed, artifactRoots, policy });
  registerWriteRoutes(app, { data: opts.data, feed, launcher: opts.launcher });

  const webRoot = opts.webRoot ?? DEFAULT_WEB_ROOT;
  const hasWeb = existsSync(path.join(webRoot, 'index.html'));
  if (hasWeb) await app.register(fastifyStatic, { root: webRoot, wildcard: false, maxAge: '1h', index: false });
  app.setNotFoundHandler((req, reply) => {
    if (req.url.startsWith('/api') || req.method !== 'GET') return reply.status(404).send(apiError('NOT_FOUND', `${req.method} ${req.url.split('?')[0]}`).toJSON());
    if (!hasWeb) {
      return reply.status(404).type('text/plain').send('The dashboard app is not built: run `npm run build -w @ssmb/dashboard`, then reload. The API is under /api.');
    }
    // The SPA routes by hash, but serve index.html for any other path too (bookmarks, reloads).
    return reply.type('text/html').header('cache-control', 'no-cache').send(createReadStream(path.join(webRoot, 'index.html')));
  });

  app.addHook('onClose', async () => feed.close());
  return { app, policy, feed };
}

const UNCACHED = /^\/api\/(events|runs\/\d+\/artifact)(\?|$)/;

/** GET /api responses are cached per URL and store version (see cache.ts). */
function registerResponseCache(app: FastifyInstance, version: () => string): void {
  const cache = new LruCache<{ version: string; type: string; body: string }>(256);
  const versions = new WeakMap<FastifyRequest, string>();
  app.addHook('preHandler', async (req, reply) => {
    if (req.method !== 'GET' || !req.url.startsWith('/api/') || UNCACHED.test(req.url)) return;
    const v = version();
    versions.set(req, v);
    const hit = cache.get(req.url);
    if (hit && hit.version === v) return reply.header('x-cache', 'hit').type(hit.type).send(hit.body);
  });
  app.addHook('onSend', async (req, reply, payload) => {
    const v = versions.get(req);
    if (v !== undefined && reply.statusCode === 200 && typeof payload === 'string' && reply.getHeader('x-cache') !== 'hit') {
      cache.set(req.url, { version: v, type: String(reply.getHeader('content-type') ?? 'application/json'), body: payload });
    }
    return payload;
  });
}
