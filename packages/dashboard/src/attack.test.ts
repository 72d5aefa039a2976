// The attack and fault families against a real tracking server (`buildServer` listening on a loopback
// port, raw HTTP requests that nothing normalises on the way): URL spellings, Host and Origin, tokens
// outside headers, launch confinement (grids over parent objects too), worker identity, uploads,
// artifacts, caps. Each family counts its probes and asserts that every one was refused (and that none
// answered 500 or put a server path in its body); the counts are printed for the record.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { launchRun, resolveConfig, RunStore } from '@ssmb/trainer';
import { buildServer, type DashboardServer } from './server.ts';
import { AuthFailures } from './access.ts';

const TOKEN = 'attack-test-token-0123';
let root: string;
let store: RunStore;
let srv: DashboardServer;
let port: number;
const counts: Record<string, { probes: number; refused: number }> = {};

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'ssmb-attack-'));
  mkdirSync(path.join(root, 'store'));
  store = RunStore.open(path.join(root, 'store', 'runs.sqlite'));
  srv = await buildServer({
    store, token: TOKEN, webRoot: path.join(root, 'no-web'), tablesDir: null, pollMs: 60_000, reapMs: 0,
    runUploadQuota: 4096, maxStreams: { perClient: 2, total: 3 },
  });
  await srv.app.listen({ host: '127.0.0.1', port: 0 });
  port = (srv.app.server.address() as { port: number }).port;
});
afterAll(async () => {
  await srv.app.close();
  store.close();
  rmSync(root, { recursive: true, force: true });
  console.log(`attack families (probes refused / sent): ${Object.entries(counts).map(([k, c]) => `${k} ${c.refused}/${c.probes}`).join(', ')}`);
});

interface Res {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
}

/** One raw request (the path is sent as written; Host defaults to the server's own). */
function request(method: string, p: string, o: { headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<Res> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { host: `127.0.0.1:${port}`, ...o.headers };
    if (o.body !== undefined) headers['content-length'] = String(Buffer.byteLength(o.body));
    const req = http.request({ host: '127.0.0.1', port, method, path: p, headers, agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end(o.body);
  });
}
const JSON_CT = { 'content-type': 'application/json' };
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

/**
 * Records a probe of `family`; refused = 4xx. Never a 5xx; no server path in the body, except where an
 * authenticated caller is told which folders it may use (launch roots, the run's folder).
 */
function probe(family: string, r: Res, what: string, expectStatus?: number, namesFolders = false): Res {
  const c = (counts[family] ??= { probes: 0, refused: 0 });
  c.probes++;
  expect(r.status, `${family}: ${what} -> ${r.status} ${r.body.slice(0, 300)}`).toBeLessThan(500);
  if (!namesFolders) expect(r.body, `${family}: ${what} leaks a server path`).not.toContain(root);
  if (r.status >= 400) c.refused++;
  if (expectStatus !== undefined) expect(r.status, `${family}: ${what}: ${r.body.slice(0, 300)}`).toBe(expectStatus);
  else expect(r.status, `${family}: ${what} was accepted: ${r.body.slice(0, 300)}`).toBeGreaterThanOrEqual(400);
  return r;
}

async function register(name: string): Promise<{ owner: string; credential: string }> {
  const r = await request('POST', '/api/worker/register', { headers: { ...JSON_CT, ...bearer(TOKEN) }, body: JSON.stringify({ name }) });
  expect(r.status, r.body).toBe(200);
  return JSON.parse(r.body);
}

/** A queued noop run claimed by worker `w` (lease `leaseMs`). */
async function claimed(w: { credential: string }, leaseMs = 600_000): Promise<{ id: number; epoch: number }> {
  const id = launchRun(store, resolveConfig({ sets: ['steps=5'] }), { experiment: 'attack', kind: 'noop' });
  const r = await request('POST', '/api/worker/claim', { headers: { ...JSON_CT, ...bearer(w.credential) }, body: JSON.stringify({ leaseMs, runId: id }) });
  expect(r.status, r.body).toBe(200);
  return { id, epoch: JSON.parse(r.body).run.leaseEpoch };
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
function upload(w: { credential: string }, run: { id: number; epoch: number }, name: string, bytes: Buffer): Promise<Res> {
  return request('PUT', `/api/worker/runs/${run.id}/files/${name}`, {
    headers: { ...bearer(w.credential), 'content-type': 'application/octet-stream', 'x-ssmb-attempt': String(run.epoch), 'x-ssmb-sha256': sha(bytes) },
    body: bytes,
  });
}

describe('attack families against a real server', () => {
  it('paths: every encoded, case-changed and dot-segment spelling of a change route is refused without the token', async () => {
    const id = launchRun(store, resolveConfig({ sets: ['steps=5'] }), { experiment: 'attack', kind: 'noop' });
    const routes = [['PUT', `/api/runs/${id}/tags`], ['POST', `/api/runs/${id}/archive`], ['POST', `/api/runs/${id}/cancel`], ['POST', '/api/launch'], ['POST', '/api/worker/register'], ['POST', '/api/worker/claim']];
    for (const [method, p] of routes) {
      const rest = p.slice(4);
      for (const v of [p, `/%61pi${rest}`, `/%41PI${rest}`, `/api%2F${rest.slice(1)}`, `//api${rest}`, `/api/${rest}`, `/API${rest}`, `${p}/`, `/api/.${rest}`, `/x/..${p}`, `/x/%2e%2e${p}`, `${p}%20`, `${p};x=1`, `${p}%00`]) {
        probe('paths', await request(method, v, { headers: JSON_CT, body: '{"key":"k","experiment":"x","archived":true,"name":"n","leaseMs":60000}' }), `${method} ${v}`);
      }
    }
    expect(store.getTags(id)).toEqual({});
    expect(store.getRun(id)!.status).toBe('queued');
  });

  it('Host and Origin: a foreign Host is refused on every route; a change from another site is refused', async () => {
    for (const host of ['rebind.evil.example', 'evil.localhost', '10.0.0.5:7077', 'localhost.evil.example', '127.0.0.1.nip.io']) {
      for (const [method, p] of [['GET', '/api/runs'], ['GET', '/api/meta'], ['GET', '/'], ['PUT', '/api/runs/1/tags']]) {
        probe('host-origin', await request(method, p, { headers: { host, ...JSON_CT, ...bearer(TOKEN) }, body: '{"key":"k"}' }), `${method} ${p} Host ${host}`, 403);
      }
    }
    for (const origin of ['http://evil.example', 'null', `http://127.0.0.1:${port + 1}`, `http://localhost:${port}`]) {
      probe('host-origin', await request('PUT', '/api/runs/1/tags', { headers: { origin, ...JSON_CT, ...bearer(TOKEN) }, body: '{"key":"k"}' }), `Origin ${origin}`, 403);
    }
  });

  it('tokens only in the Authorization header: in a query string or a cookie they are refused', async () => {
    for (const p of [`/api/launch?token=${TOKEN}`, `/api/launch?access_token=${TOKEN}`, `/api/launch?sig=x&exp=9999999999999`]) {
      probe('token-placement', await request('POST', p, { headers: JSON_CT, body: '{"experiment":"x"}' }), p);
    }
    for (const cookie of [`token=${TOKEN}`, `ssmb.token=${TOKEN}`, `authorization=Bearer ${TOKEN}`]) {
      probe('token-placement', await request('POST', '/api/launch', { headers: { cookie, ...JSON_CT }, body: '{"experiment":"x"}' }), `cookie ${cookie}`);
    }
  });

  it('launch: paths outside the roots are refused through set and through grids over the path keys or their parent objects', async () => {
    const before = store.listRuns().length;
    const bodies = [
      { set: ['outputDir=/etc/ssmb-evil'] }, { kind: 'pretrain', set: ['pretrain.output=/root/.bashrc'] }, { set: ['backbone.weights=/etc/shadow'] },
      { set: ['dataset.root=/'] }, { set: ['outputDir=../../../../tmp/escape'] },
      { set: ['pretrain={output: /root/.bashrc}'] }, { set: ['dataset={root: /etc, protocol: synthetic-vis-nir, fold: "1"}'] },
      { grid: 'outputDir=/etc/a,/tmp/b' }, { kind: 'pretrain', grid: 'pretrain={output: /root/.bashrc}' },
      { grid: 'dataset={root: /etc, protocol: synthetic-vis-nir, fold: "1"},{root: /tmp, protocol: synthetic-vis-nir, fold: "1"}' },
      { grid: 'backbone={model: iresnet-synth, weights: /etc/shadow}' }, { grid: 'dataset={root: ../../etc}' },
    ];
    for (const b of bodies) {
      probe('launch', await request('POST', '/api/launch', { headers: { ...JSON_CT, ...bearer(TOKEN) }, body: JSON.stringify({ experiment: 'attack', ...b }) }), JSON.stringify(b), 400, true);
    }
    expect(store.listRuns().length).toBe(before);
  });

  it('worker identity: the shared token is not a worker; a worker acts only as itself, never shortens or takes a lease it does not hold', async () => {
    const a = await register('worker-A');
    const v = await register('victim-V');
    expect(a.owner).toMatch(/^worker-A~[\w-]{8}$/);
    const runA = await claimed(a);
    const runV = await claimed(v, 600_000);
    const expiresV = store.getRun(runV.id)!.leaseExpiresAt!;
    const W = (t: string) => ({ ...JSON_CT, ...bearer(t) });
    const cases: Array<[string, string, Record<string, string>, unknown]> = [
      ['writes with the shared token', `/api/worker/runs/${runA.id}/writes`, W(TOKEN), { owner: a.owner, attempt: runA.epoch, ops: [{ seq: 1, type: 'tag', key: 'x', value: 'y' }] }],
      ['claim with the shared token', '/api/worker/claim', W(TOKEN), { owner: v.owner, leaseMs: 1000 }],
      ["A writes into V's run", `/api/worker/runs/${runV.id}/writes`, W(a.credential), { owner: a.owner, attempt: runV.epoch, ops: [{ seq: 1, type: 'tag', key: 'x', value: 'y' }] }],
      ['A writes naming V', `/api/worker/runs/${runV.id}/writes`, W(a.credential), { owner: v.owner, attempt: runV.epoch, ops: [{ seq: 1, type: 'tag', key: 'x', value: 'y' }] }],
      ['A claims as V with a 1 s lease', '/api/worker/claim', W(a.credential), { owner: v.owner, leaseMs: 1000 }],
      ["A claims V's run by id", '/api/worker/claim', W(a.credential), { leaseMs: 1000, runId: runV.id }],
      ["A renews V's lease", `/api/worker/runs/${runV.id}/heartbeat`, W(a.credential), { attempt: runV.epoch, leaseMs: 1000 }],
      ['a forged credential', '/api/worker/claim', W(`w1.${Buffer.from(v.owner).toString('base64url')}.${'A'.repeat(43)}`), { leaseMs: 1000 }],
      ["V's credential re-signed for A's owner", '/api/worker/claim', W(`w1.${Buffer.from(a.owner).toString('base64url')}.${v.credential.split('.')[2]}`), { leaseMs: 1000 }],
    ];
    for (const [what, p, headers, body] of cases) {
      const r = await request('POST', p, { headers, body: JSON.stringify(body) });
      // A claim by id of a run another worker holds is answered, but never with that run (A gets its own back).
      if (r.status === 200) expect(JSON.parse(r.body).run?.id, `${what}: ${r.body}`).not.toBe(runV.id);
      else probe('worker-identity', r, what);
    }
    expect(store.getTags(runA.id)).toEqual({});
    expect(store.getTags(runV.id)).toEqual({});
    expect(store.getRun(runV.id)).toMatchObject({ leaseOwner: v.owner, leaseEpoch: runV.epoch });
    expect(store.getRun(runV.id)!.leaseExpiresAt).toBeGreaterThanOrEqual(expiresV);
    // V asking again (its claim answer lost) with a shorter lease does not cut its own lease either.
    await request('POST', '/api/worker/claim', { headers: W(v.credential), body: JSON.stringify({ leaseMs: 1000 }) });
    expect(store.getRun(runV.id)!.leaseExpiresAt).toBeGreaterThanOrEqual(expiresV);
    // Lease details stay out of reads without the token (the epoch is in no read at all).
    const anon = JSON.parse((await request('GET', `/api/runs/${runV.id}`)).body).run;
    expect(anon.leaseOwner).toBeNull();
    expect(anon).not.toHaveProperty('leaseEpoch');
    const withToken = JSON.parse((await request('GET', `/api/runs/${runV.id}`, { headers: bearer(TOKEN) })).body).run;
    expect(withToken.leaseOwner).toBe(v.owner);
    expect(withToken).not.toHaveProperty('leaseEpoch');
  });

  it('wrong tokens are rate-limited per client address: 429 with Retry-After after 20 in a minute', async () => {
    let limited: Res | undefined;
    for (let i = 0; i < 25 && !limited; i++) {
      const r = await request('PUT', '/api/runs/1/tags', { headers: { ...JSON_CT, ...bearer(`wrong-${i}`) }, body: '{"key":"k"}' });
      probe('auth-rate-limit', r, `wrong token ${i}`);
      if (r.status === 429) limited = r;
    }
    expect(limited, 'no 429 after 25 wrong tokens').toBeDefined();
    expect(JSON.parse(limited!.body).error.code).toBe('AUTH_RATE_LIMITED');
    expect(Number(limited!.headers['retry-after'])).toBeGreaterThan(0);
    // Even the right token waits out the window from that address (the guess rate stays bounded).
    expect((await request('GET', '/api/meta', { headers: bearer(TOKEN) })).status).toBe(429);
    srv.policy.failures = new AuthFailures(); // the families below come from the same address
  });

  it('uploads: names that are folders, end in "/", lie under a file or leave the run folder are 4xx; no 500, no server path, no temporaries', async () => {
    const w = await register('uploader');
    const run = await claimed(w);
    const bytes = Buffer.from('checkpoint bytes');
    expect((await upload(w, run, 'checkpoints/a.ckpt', bytes)).status).toBe(200);
    expect((await upload(w, run, 'file', bytes)).status).toBe(200);
    for (const name of ['checkpoints', 'checkpoints/', 'dir/', 'file/inner.bin', 'file/x/y', '..%2F..%2Fevil', '%2Fetc%2Fpasswd', 'a//b', '.', 'checkpoints/..', 'x%00y']) {
      probe('uploads', await upload(w, run, name, bytes), name);
    }
    probe('uploads', await upload(w, run, 'big.bin', Buffer.alloc(5000)), 'over the run quota', 413);
    const dir = path.join(store.dir, 'artifacts', `run-${run.id}`);
    const left = readdirSync(dir, { recursive: true, encoding: 'utf8' });
    expect(left.filter((f) => f.includes('.upload-'))).toEqual([]);
    expect(left.sort()).toEqual(['checkpoints', path.join('checkpoints', 'a.ckpt'), 'file']);
  });

  it('artifacts: a worker cannot record the store (or anything outside the run folder); such a row is never served', async () => {
    const w = await register('recorder');
    const run = await claimed(w);
    const W = { ...JSON_CT, ...bearer(w.credential) };
    for (const p of [store.file, `${store.file}-wal`, path.join(store.dir, 'server-secrets.json'), '/etc/passwd', path.join(store.dir, 'artifacts', `run-${run.id + 1000}`, 'x'), 'relative.txt']) {
      const r = await request('POST', `/api/worker/runs/${run.id}/writes`, { headers: W, body: JSON.stringify({ owner: w.owner, attempt: run.epoch, ops: [{ seq: 1, type: 'artifact', kind: 'scores', path: p }] }) });
      probe('artifacts', r, `record ${p}`, 400, true);
    }
    store.addArtifact(run.id, 'x', store.file); // a row written by any other way
    for (const q of ['runs.sqlite', encodeURIComponent(store.file), 'server-secrets.json', '..%2Fstore%2Fruns.sqlite', `artifacts%2Frun-${run.id}%2F..%2F..%2Fruns.sqlite`]) {
      const r = await request('GET', `/api/runs/${run.id}/artifact?path=${q}`);
      probe('artifacts', r, `serve ${q}`, undefined, q === encodeURIComponent(store.file)); // that one echoes the path it was sent
      expect(r.body).not.toContain('SQLite format');
    }
  });

  it('caps: event streams per client and in all; nothing else is held open', async () => {
    const open: http.ClientRequest[] = [];
    const stream = () =>
      new Promise<number>((resolve) => {
        const req = http.get({ host: '127.0.0.1', port, path: '/api/events', agent: false, headers: { host: `127.0.0.1:${port}` } }, (res) => {
          resolve(res.statusCode ?? 0);
          if (res.statusCode !== 200) res.resume();
        });
        open.push(req);
      });
    try {
      expect(await stream()).toBe(200);
      expect(await stream()).toBe(200);
      const third = await request('GET', '/api/events');
      probe('caps', third, 'a third stream from one client', 429);
      expect(JSON.parse(third.body).error.code).toBe('TOO_MANY_STREAMS');
    } finally {
      for (const r of open) r.destroy();
    }
    await new Promise((r) => setTimeout(r, 100));
    expect(srv.feed.clientCount).toBe(0);
    expect(await stream()).toBe(200); // a closed stream frees its place
    for (const r of open) r.destroy();
  });

  it('no temporaries or files were left outside the run folders', () => {
    expect(existsSync(path.join(store.dir, 'artifacts'))).toBe(true);
    const top = readdirSync(store.dir).sort();
    expect(top.filter((f) => !['artifacts', 'runs.sqlite', 'runs.sqlite-shm', 'runs.sqlite-wal', 'server-secrets.json'].includes(f))).toEqual([]);
  });
});
