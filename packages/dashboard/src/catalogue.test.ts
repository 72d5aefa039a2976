// The error catalogue kept in step with the code (fastify style): every code the server code can send is
// in ERRORS; every entry is reachable, with the status the catalogue gives it; every error response has
// that shape and status; the routes the messages name exist; docs/architecture.md lists the same codes
// with the same statuses. (That the `ssmb` commands and flags the messages name exist is checked in
// tools/src/commands/dashboard.test.ts, which can load the CLI.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildServer, type DashboardServer } from './server.ts';
import { ERRORS, type ErrorCode } from './errors.ts';
import { signLink } from './access.ts';
import { seedStore, type SeededStore } from './testing/seed.ts';
import type { DashboardStore } from './store.ts';

let root: string;
let seeded: SeededStore;
let srv: DashboardServer;
let tokened: DashboardServer;
let exposed: DashboardServer;
let small: DashboardServer;
let noLauncher: DashboardServer;
let busy: DashboardServer;
let broken: DashboardServer;

/** The seeded store with one method made to fail the way a locked SQLite file or a bug would. */
function failing(store: SeededStore['store'], method: keyof DashboardStore, error: Error): DashboardStore {
  return new Proxy(store, {
    get(target, key) {
      if (key === method) return () => { throw error; };
      const v = Reflect.get(target, key, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  }) as DashboardStore;
}

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'ssmb-dash-cat-'));
  seeded = seedStore(path.join(root, 'store'));
  const common = { store: seeded.store, webRoot: path.join(root, 'no-web'), pollMs: 60_000 };
  srv = await buildServer(common);
  tokened = await buildServer({ ...common, token: 'sekret' });
  exposed = await buildServer({ ...common, host: '0.0.0.0', token: 'sekret' });
  small = await buildServer({ ...common, maxSweepRuns: 2 });
  noLauncher = await buildServer({ ...common, launcher: null });
  busy = await buildServer({ ...common, store: failing(seeded.store, 'queryRuns', Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' })) });
  broken = await buildServer({ ...common, store: failing(seeded.store, 'queryRuns', new TypeError('x is not a function')) });
});
afterAll(async () => {
  for (const s of [srv, tokened, exposed, small, noLauncher, busy, broken]) await s?.app.close();
  seeded.store.close();
  rmSync(root, { recursive: true, force: true });
});

type Res = { statusCode: number; body: string };
const post = (s: DashboardServer, url: string, payload: unknown, headers: Record<string, string> = {}) =>
  s.app.inject({ method: 'POST', url, payload: payload as string, headers: { 'content-type': 'application/json', ...headers } });
const launch = (s: DashboardServer, body: Record<string, unknown>) => post(s, '/api/launch', { experiment: 'cat', ...body });

/** One request that makes the server answer with each code. The Record type makes the list complete. */
const TRIGGERS: Record<ErrorCode, () => Promise<Res>> = {
  VALIDATION: () => srv.app.inject({ url: '/api/runs?limit=abc' }),
  BAD_JSON: () => post(srv, '/api/launch', '{"experiment": '),
  UNSUPPORTED_MEDIA_TYPE: () => srv.app.inject({ method: 'POST', url: '/api/launch', payload: 'experiment=x', headers: { 'content-type': 'text/plain' } }),
  BODY_TOO_LARGE: () => post(srv, '/api/launch', JSON.stringify({ experiment: 'x', grid: 'a'.repeat(2 << 20) })),
  UNKNOWN_CONFIG_KEY: () => launch(srv, { set: ['ssmb.nExperts=2'] }),
  BAD_SWEEP_GRID: () => launch(srv, { grid: 'optim.lr=0.1,abc' }),
  SWEEP_TOO_LARGE: () => launch(small, { kind: 'noop', grid: 'seed=1,2,3' }),
  PATH_NOT_ALLOWED: () => launch(srv, { set: ['outputDir=/etc/ssmb-evil'] }),
  TOKEN_REQUIRED: () => tokened.app.inject({ method: 'PUT', url: `/api/runs/${seeded.failedId}/tags`, payload: { key: 'k' } }),
  TOKEN_INVALID: () => tokened.app.inject({ method: 'PUT', url: `/api/runs/${seeded.failedId}/tags`, payload: { key: 'k' }, headers: { authorization: 'Bearer nope' } }),
  HOST_NOT_ALLOWED: () => srv.app.inject({ url: '/api/runs', headers: { host: 'rebind.evil.example' } }),
  ORIGIN_NOT_ALLOWED: () => srv.app.inject({ method: 'PUT', url: `/api/runs/${seeded.failedId}/tags`, payload: { key: 'k' }, headers: { origin: 'http://evil.example' } }),
  LINK_INVALID: () => exposed.app.inject({ url: signLink(exposed.policy, '/api/tables?format=csv', Date.now() - 3_600_000).url, remoteAddress: '10.0.0.9' }),
  RUN_NOT_FOUND: () => srv.app.inject({ url: '/api/runs/99999' }),
  LEASE_LOST: () => post(srv, `/api/worker/runs/${seeded.failedId}/heartbeat`, { owner: 'gone', attempt: 1, leaseMs: 60_000 }),
  RUN_STATE: () => post(srv, `/api/runs/${seeded.runs.get('1/synthetic-vis-nir/1')}/cancel`, {}),
  ARTIFACT_NOT_FOUND: () => srv.app.inject({ url: `/api/runs/${seeded.runs.get('1/synthetic-vis-nir/1')}/artifact?path=runs.sqlite` }),
  PATH_OUTSIDE_STORE: () => srv.app.inject({ url: `/api/runs/${seeded.runs.get('1/synthetic-vis-nir/1')}/artifact?path=..%2Fsecret` }),
  NOT_FOUND: () => srv.app.inject({ url: '/api/nope' }),
  NO_RESULTS: () => srv.app.inject({ url: '/api/tables?experiment=999&rows=method&format=csv' }),
  BAD_FILTER: () => srv.app.inject({ url: '/api/runs?where=ssmb.nExperts%3D4' }),
  TOO_FEW_RUNS: () => srv.app.inject({ url: '/api/compare?ids=1' }),
  TABLE_NOT_FOUND: () => srv.app.inject({ url: '/api/tables?config=no-such-table' }),
  LAUNCH_UNAVAILABLE: () => launch(noLauncher, {}),
  STORE_UNAVAILABLE: () => busy.app.inject({ url: '/api/runs' }),
  INTERNAL: () => broken.app.inject({ url: '/api/runs' }),
};

const SRC = import.meta.dirname;
const sources = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'web' || e.name === 'testing' ? [] : sources(p);
    return /\.ts$/.test(e.name) && !/\.test\.ts$/.test(e.name) ? [p] : [];
  });

describe('error catalogue', () => {
  it('every code the server code sends is in the catalogue, and errors are built only through it', () => {
    const used = new Set<string>();
    for (const file of sources(SRC)) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/(?:apiError|new ApiError)\(\s*'([A-Z_]+)'/g)) used.add(m[1]);
      if (!file.endsWith('errors.ts')) expect(text, `${path.relative(SRC, file)} builds an error body by hand`).not.toMatch(/error:\s*\{\s*code/);
    }
    expect([...used].filter((c) => !(c in ERRORS))).toEqual([]);
    expect(used.size).toBeGreaterThan(10);
  });

  it('every catalogue entry is reachable, and sent with its catalogue status', async () => {
    for (const code of Object.keys(ERRORS) as ErrorCode[]) {
      const res = await TRIGGERS[code]();
      const body = JSON.parse(res.body);
      expect(body.error?.code, `${code}: ${res.body.slice(0, 300)}`).toBe(code);
      expect(res.statusCode, code).toBe(ERRORS[code].status);
      expect(body.error.message.startsWith(ERRORS[code].message), code).toBe(true);
    }
  });

  it('every error response on every route has the catalogue shape and status', async () => {
    const endpoints = JSON.parse((await srv.app.inject({ url: '/api' })).body).endpoints as string[];
    const id = seeded.runs.get('2/synthetic-vis-nir/1')!;
    let checked = 0;
    for (const e of endpoints) {
      const [methods, url] = e.split(' ');
      const concrete = url.replace(':id', String(id)).replace(':key', 'nope');
      for (const method of methods.split('|')) {
        if (url === '/api/events') continue;
        const attempts = [
          srv.app.inject({ method: method as 'GET', url: `${concrete}?unknown=1` }),
          srv.app.inject({ method: method as 'POST', url: concrete, payload: '{"broken"', headers: { 'content-type': 'application/json' } }),
          srv.app.inject({ method: method as 'POST', url: concrete, payload: 'x', headers: { 'content-type': 'application/xml' } }),
          srv.app.inject({ method: method as 'POST', url: concrete.replace(String(id), 'abc') }),
          srv.app.inject({ method: method as 'POST', url: concrete, payload: { ids: [], key: '', archived: 'x', url: 'x', experiment: '' } }),
        ];
        for (const res of await Promise.all(attempts)) {
          if (res.statusCode < 400) continue;
          checked++;
          const err = JSON.parse(res.body).error as { code: ErrorCode };
          expect(err.code in ERRORS, `${method} ${concrete}: ${res.body}`).toBe(true);
          expect(res.statusCode, `${method} ${concrete} ${err.code}`).toBe(ERRORS[err.code].status);
        }
      }
    }
    expect(checked).toBeGreaterThan(50);
  });

  it('the routes the messages name exist', () => {
    const named = Object.values(ERRORS).flatMap((e) => [...e.message.matchAll(/\b(GET|POST|PUT|DELETE) (\/api[^\s,;)]*)/g)].map((m) => [m[1], m[2].replace(/[.:]$/, '')] as const));
    expect(named.length).toBeGreaterThan(3);
    for (const [method, url] of named) expect(srv.app.hasRoute({ method, url }), `${method} ${url}`).toBe(true);
  });

  it('docs/architecture.md lists every code with its status, and no other', () => {
    const doc = readFileSync(path.resolve(SRC, '..', '..', '..', 'docs', 'architecture.md'), 'utf8');
    const listed = Object.fromEntries([...doc.matchAll(/^\s*\| `([A-Z_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1], Number(m[2])]));
    expect(listed).toEqual(Object.fromEntries(Object.entries(ERRORS).map(([k, v]) => [k, v.status])));
  });
});
