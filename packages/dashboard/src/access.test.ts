// Security rules, tested on every registered route: access is decided on the route fastify matched, so
// encoded, double-slash, case-changed, dot-segment and trailing-slash spellings of a URL either reach
// the route with its own rules or reach nothing; Host and Origin checks (DNS rebinding, cross-site
// writes); tokens only in headers; signed download links; a copied store still serves its files.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Fastify from 'fastify';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { RunStore } from '@ssmb/trainer';
import { buildServer, type DashboardServer } from './server.ts';
import { registerAccessControl, accessPolicy, signLink } from './access.ts';
import { seedStore, type SeededStore } from './testing/seed.ts';

let root: string;
let seeded: SeededStore;
let open: DashboardServer; // loopback, no token: changes open, but Host/Origin still checked
let tokened: DashboardServer; // loopback with --token: changes need it
let exposed: DashboardServer; // bound to 0.0.0.0: token for changes and for reads from other hosts
const TOKEN = 'sekret-token-for-tests';

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'ssmb-dash-access-'));
  seeded = seedStore(path.join(root, 'store'));
  const common = { store: seeded.store, webRoot: path.join(root, 'no-web'), tablesDir: null, pollMs: 60_000 };
  open = await buildServer({ ...common, host: '127.0.0.1', allowHosts: ['proxy.lab.example'] });
  tokened = await buildServer({ ...common, host: '127.0.0.1', token: TOKEN });
  exposed = await buildServer({ ...common, host: '0.0.0.0', token: TOKEN });
});
afterAll(async () => {
  for (const s of [open, tokened, exposed]) await s?.app.close();
  seeded.store.close();
  rmSync(root, { recursive: true, force: true });
});

const json = (r: { body: string }) => JSON.parse(r.body);

/** Every route of the server as [method, concrete path, body] (from GET /api, the server's own list). */
async function routes(srv: DashboardServer): Promise<Array<{ method: string; path: string; access: 'read' | 'write'; body?: unknown }>> {
  const id = seeded.runs.get('1/synthetic-vis-nir/1')!;
  const endpoints = json(await srv.app.inject({ url: '/api' })).endpoints as string[];
  expect(endpoints.length).toBeGreaterThan(15);
  return endpoints.flatMap((e) => {
    const [methods, url] = e.split(' ');
    return methods.split('|').map((method) => ({
      method,
      path: url.replace(':id', String(id)).replace(':key', 'paper'),
      access: method === 'GET' || url === '/api/links' ? ('read' as const) : ('write' as const),
      body: method === 'GET' || method === 'DELETE' ? undefined : {},
    }));
  });
}

/** Spellings of the same path that a raw-URL check would get wrong. */
function variants(p: string): string[] {
  const rest = p.slice('/api'.length);
  return [
    p,
    `/%61pi${rest}`,
    `/%41PI${rest}`,
    `/api${rest.replace(/\/([a-z])/, (_, c: string) => `/%${c.charCodeAt(0).toString(16)}`)}`,
    `/api%2F${rest.slice(1)}`,
    `//api${rest}`,
    `/api/${rest}`,
    `/API${rest}`,
    `/Api${rest.toUpperCase()}`,
    `${p}/`,
    `/api/.${rest}`,
    `/x/..${p}`,
    `${p}%20`,
    `${p};x=1`,
  ];
}

describe('access is decided on the matched route', () => {
  it('every change route, in every spelling, refuses a request without the token (and changes nothing)', async () => {
    const before = { runs: seeded.store.listRuns({ archived: 'include' }).length, tags: JSON.stringify(seeded.store.getTags(seeded.runs.get('1/synthetic-vis-nir/1')!)) };
    const writes = (await routes(tokened)).filter((r) => r.access === 'write');
    expect(writes.map((w) => `${w.method} ${w.path.replace(/\d+/, ':id')}`)).toEqual(
      expect.arrayContaining(['PUT /api/runs/:id/tags', 'DELETE /api/runs/:id/tags/paper', 'POST /api/runs/:id/archive', 'POST /api/runs/:id/cancel', 'POST /api/launch', 'POST /api/runs/bulk/tags', 'POST /api/runs/bulk/archive']),
    );
    let client = 0; // wrong tokens from one address are rate-limited (see below): one address each here
    for (const w of writes) {
      for (const url of variants(w.path)) {
        const r = await tokened.app.inject({ method: w.method as 'POST', url, payload: w.body as object });
        expect([401, 404], `${w.method} ${url} -> ${r.statusCode} ${r.body}`).toContain(r.statusCode);
        client++;
        const remoteAddress = `10.9.${client >> 8}.${client & 255}`;
        const wrong = await tokened.app.inject({ method: w.method as 'POST', url, payload: w.body as object, headers: { authorization: 'Bearer wrong' }, remoteAddress });
        expect([401, 404], `${w.method} ${url} (wrong token) -> ${wrong.statusCode}`).toContain(wrong.statusCode);
      }
    }
    expect(seeded.store.listRuns({ archived: 'include' }).length).toBe(before.runs);
    expect(JSON.stringify(seeded.store.getTags(seeded.runs.get('1/synthetic-vis-nir/1')!))).toBe(before.tags);
    // The issue's reproducers, spelled out.
    const id = seeded.runs.get('2/synthetic-vis-nir/1')!;
    expect((await tokened.app.inject({ method: 'PUT', url: `/%61pi/runs/${id}/tags`, payload: { key: 'x' } })).statusCode).toBe(401);
    expect((await tokened.app.inject({ method: 'POST', url: '/%61pi/launch', payload: { experiment: 'x' } })).statusCode).toBe(401);
    const ok = await tokened.app.inject({ method: 'PUT', url: `/%61pi/runs/${id}/tags`, payload: { key: 'x' }, headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.statusCode).toBe(200);
    seeded.store.deleteTag(id, 'x');
  });

  it('every read route, in every spelling, refuses a client on another host without the token', async () => {
    const reads = (await routes(exposed)).filter((r) => r.access === 'read');
    for (const r of reads) {
      for (const url of variants(r.path)) {
        const res = await exposed.app.inject({ method: r.method as 'GET', url, payload: r.body as object, remoteAddress: '10.1.2.3' });
        expect([401, 404], `${r.method} ${url} -> ${res.statusCode} ${res.body.slice(0, 200)}`).toContain(res.statusCode);
      }
      if (r.path === '/api/events') continue; // an event stream never ends: its refusals are checked above
      if (r.path.startsWith('/api/worker/')) continue; // takes a worker's credential, not the token (worker_api.test.ts)
      const withToken = await exposed.app.inject({ method: r.method as 'GET', url: r.path, payload: r.body as object, remoteAddress: '10.1.2.3', headers: { authorization: `Bearer ${TOKEN}` } });
      expect([401, 403], `${r.method} ${r.path} with the token`).not.toContain(withToken.statusCode);
    }
    expect((await exposed.app.inject({ url: '/%61pi/runs', remoteAddress: '10.1.2.3' })).statusCode).toBe(401);
  });

  it('over a real socket, raw request lines are not normalised on the way', async () => {
    const address = await tokened.app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = new URL(address);
    const raw = (line: string, withHost = true) =>
      new Promise<string>((resolve, reject) => {
        const s = net.connect(Number(port), '127.0.0.1', () => s.write(`${line}\r\n${withHost ? `Host: 127.0.0.1:${port}\r\n` : ''}Content-Type: application/json\r\nContent-Length: 11\r\nConnection: close\r\n\r\n{"key":"k"}`));
        let out = '';
        s.on('data', (d) => (out += d));
        s.on('end', () => resolve(out.split('\r\n')[0]));
        s.on('error', reject);
      });
    const id = seeded.runs.get('2/synthetic-vis-nir/1')!;
    for (const p of [`/%61pi/runs/${id}/tags`, `//api/runs/${id}/tags`, `/api/runs/${id}/tags/`, `/API/runs/${id}/tags`, `/x/../api/runs/${id}/tags`]) {
      expect(await raw(`PUT ${p} HTTP/1.1`), p).toMatch(/^HTTP\/1\.1 (401|404)/);
    }
    expect(seeded.store.getTags(id)).not.toHaveProperty('k');
    // HTTP/1.0 without a Host header: refused like an unknown host.
    expect(await raw('GET /api/runs HTTP/1.0', false)).toMatch(/^HTTP\/1\.\d 403/);
  });

  it('a route under /api that declares no access level cannot be registered', async () => {
    const app = Fastify();
    registerAccessControl(app, accessPolicy({ host: '127.0.0.1' }));
    expect(() => app.get('/api/forgot', async () => ({}))).toThrow(/declares no access level/);
    expect(() => app.get('/api/typo', { config: { access: 'reed' as 'read' } }, async () => ({}))).toThrow(/access must be one of/);
    await app.close();
  });
});

describe('Host and Origin (DNS rebinding, cross-site changes)', () => {
  it('refuses a Host the server does not answer to, on reads, changes and the app alike', async () => {
    for (const [method, url] of [['GET', '/api/runs'], ['GET', '/'], ['PUT', `/api/runs/${seeded.failedId}/tags`], ['GET', '/api/nope']] as const) {
      const r = await open.app.inject({ method, url, headers: { host: 'rebind.evil.example:7077' }, payload: method === 'PUT' ? { key: 'k' } : undefined });
      expect(r.statusCode, `${method} ${url}`).toBe(403);
      expect(json(r).error.code).toBe('HOST_NOT_ALLOWED');
      expect(json(r).error.message).toContain('ssmb dashboard --allow-host NAME');
    }
    expect(seeded.store.getTags(seeded.failedId)).not.toHaveProperty('k');
  });

  it('accepts loopback addresses, localhost and --allow-host names; other IPs only when exposed', async () => {
    const status = (srv: DashboardServer, host: string) => srv.app.inject({ url: '/api/meta', headers: { host } }).then((r) => r.statusCode);
    for (const host of ['127.0.0.1:7077', 'localhost:7077', 'LOCALHOST', '[::1]:7077', '127.1.2.3', 'proxy.lab.example']) expect(await status(open, host), host).toBe(200);
    for (const host of ['10.0.0.5:7077', 'evil.localhost', 'proxy.lab.example.evil.com']) expect(await status(open, host), host).toBe(403);
    expect(await status(exposed, '10.0.0.5:7077')).toBe(200);
    expect(await status(exposed, `${hostname()}:7077`)).toBe(200);
    expect(await status(exposed, 'rebind.evil.example')).toBe(403);
  });

  it('changes from a browser must come from a page of this server (Origin = Host)', async () => {
    const id = seeded.failedId;
    const put = (origin: string | undefined) =>
      open.app.inject({ method: 'PUT', url: `/api/runs/${id}/tags`, payload: { key: 'o', value: '1' }, headers: { host: '127.0.0.1:7077', ...(origin ? { origin } : {}) } });
    for (const origin of ['http://evil.example', 'null', 'http://127.0.0.1:9999', 'http://localhost:7077']) {
      const r = await put(origin);
      expect(r.statusCode, origin).toBe(403);
      expect(json(r).error.code).toBe('ORIGIN_NOT_ALLOWED');
    }
    expect(seeded.store.getTags(id)).not.toHaveProperty('o');
    expect((await put('http://127.0.0.1:7077')).statusCode).toBe(200);
    expect((await put(undefined)).statusCode).toBe(200); // curl and scripts send no Origin; the token rules still apply
    seeded.store.deleteTag(id, 'o');
  });
});

describe('signed download links', () => {
  const remote = { remoteAddress: '10.1.2.3' };
  const auth = { authorization: `Bearer ${TOKEN}` };

  it('a download link works without the token for a minute, for that URL only', async () => {
    const url = '/api/tables?rows=method&metrics=rank1&format=csv';
    const link = await exposed.app.inject({ method: 'POST', url: '/api/links', payload: { url }, headers: auth, ...remote });
    expect(link.statusCode).toBe(200);
    const { url: signed, expires } = json(link);
    expect(expires - Date.now()).toBeGreaterThan(50_000);
    expect(signed).not.toContain(TOKEN);
    const got = await exposed.app.inject({ url: signed, ...remote });
    expect(got.statusCode).toBe(200);
    expect(got.body.split('\n')[0]).toMatch(/^table,row,row_label/);
    const altered = await exposed.app.inject({ url: signed.replace('rank1', 'eer'), ...remote });
    expect(json(altered).error.code).toBe('LINK_INVALID');
    const expired = signLink(exposed.policy, url, Date.now() - 120_000).url;
    expect(json(await exposed.app.inject({ url: expired, ...remote })).error.code).toBe('LINK_INVALID');
    // Another server's key does not sign for this one.
    expect((await exposed.app.inject({ url: signLink(tokened.policy, url).url, ...remote })).statusCode).toBe(403);
  });

  it('links are only for downloads; a signature never unlocks another route', async () => {
    const refuse = await exposed.app.inject({ method: 'POST', url: '/api/links', payload: { url: '/api/runs' }, headers: auth, ...remote });
    expect(json(refuse).error).toMatchObject({ code: 'VALIDATION', field: 'body.url' });
    const signed = signLink(exposed.policy, '/api/runs').url;
    expect((await exposed.app.inject({ url: signed, ...remote })).statusCode).toBe(401);
    expect((await exposed.app.inject({ method: 'POST', url: '/api/links', payload: { url: '/api/tables' }, ...remote })).statusCode).toBe(401);
    const id = seeded.runs.get('1/synthetic-vis-nir/1')!;
    const file = `/api/runs/${id}/artifact?path=${encodeURIComponent(path.join('artifacts', `run-${id}`, 'scores.txt'))}`;
    const art = json(await exposed.app.inject({ method: 'POST', url: '/api/links', payload: { url: file }, headers: auth, ...remote }));
    expect((await exposed.app.inject({ url: art.url, ...remote })).body).toContain('s001 s001');
  });
});

describe('a copied store', () => {
  it('still serves its artifacts (paths are stored relative to the store)', async () => {
    const copy = mkdtempSync(path.join(tmpdir(), 'ssmb-dash-copy-'));
    cpSync(seeded.dir, copy, { recursive: true });
    const store = RunStore.open(path.join(copy, 'runs.sqlite'));
    const srv = await buildServer({ store, webRoot: path.join(root, 'no-web'), tablesDir: null });
    const id = seeded.runs.get('1/synthetic-vis-nir/1')!;
    const files = json(await srv.app.inject({ url: `/api/runs/${id}/artifacts` })).files as Array<{ kind: string; storedPath: string }>;
    for (const f of files) {
      const r = await srv.app.inject({ url: `/api/runs/${id}/artifact?path=${encodeURIComponent(f.storedPath)}` });
      expect(r.statusCode, f.storedPath).toBe(200);
    }
    await srv.app.close();
    store.close();
    rmSync(copy, { recursive: true, force: true });
  });
});
