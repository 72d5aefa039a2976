// The workers' API end to end: a real server on a loopback port, the trainer's HttpStore as the worker,
// the SQLite store behind the server. Lost answers come from a real proxy that drops them; an outage is
// the server closed and started again on the same port.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { HttpStore, launchRun, resolveConfig, RunStore } from '@ssmb/trainer';
import { buildServer, type DashboardServer } from './server.ts';

const TOKEN = 'worker-test-token';
let root: string;
let store: RunStore;
let srv: DashboardServer | null = null;
let url: string;
let port: number;
let logs: string[];

async function startServer(opts: { port?: number; staleGraceMs?: number; reapMs?: number } = {}): Promise<void> {
  srv = await buildServer({ store, token: TOKEN, webRoot: path.join(root, 'no-web'), pollMs: 60_000, staleGraceMs: opts.staleGraceMs ?? 0, reapMs: opts.reapMs ?? 0 });
  await srv.app.listen({ host: '127.0.0.1', port: opts.port ?? 0 });
  port = (srv.app.server.address() as AddressInfo).port;
  url = `http://127.0.0.1:${port}`;
}
async function stopServer(): Promise<void> {
  await srv?.app.close();
  srv = null;
}

beforeAll(() => {
  root = mkdtempSync(path.join(tmpdir(), 'ssmb-worker-api-'));
  mkdirSync(path.join(root, 'store'));
  store = RunStore.open(path.join(root, 'store', 'runs.sqlite'));
});
afterAll(() => {
  store.close();
  rmSync(root, { recursive: true, force: true });
});
beforeEach(async () => {
  logs = [];
  await startServer();
});
afterEach(stopServer);

const queue = (steps = 10) => launchRun(store, resolveConfig({ sets: [`steps=${steps}`] }), { experiment: 'worker-api', kind: 'noop' });
let n = 0;
const worker = (extra: Partial<ConstructorParameters<typeof HttpStore>[0]> = {}) =>
  new HttpStore({ url, token: TOKEN, bufferDir: path.join(root, `buffer-${++n}`), retryMinMs: 20, retryMaxMs: 200, log: (l) => logs.push(l), ...extra });
const points = (from: number, count: number) => Array.from({ length: count }, (_, i) => ({ key: 'loss', step: from + i, value: from + i === 1 ? Number.NaN : 1 / (from + i) }));
const rows = (id: number) => store.getMetricHistory(id, 'loss');
/** The owner id and credential a worker registered with (kept in its buffer folder). */
const identityOf = (w: HttpStore) => JSON.parse(readFileSync(path.join(path.dirname(w.runFilesDir), 'worker-identity.json'), 'utf8')) as { owner: string; credential: string };

describe('workers API over HTTP', () => {
  it('claims with a lease, writes metrics, evaluations and files, releases; another node resumes from the uploaded checkpoint', async () => {
    const id = queue();
    const a = worker();
    const run = (await a.claimRun('node-a:1', 60_000, { runId: id, executor: { launcher: 'slurm', job: '4242', task: '3' } }))!;
    expect(run).toMatchObject({ id, status: 'running', leaseOwner: expect.stringMatching(/^node-a:1~[\w-]{8}$/), leaseEpoch: 1 });
    await a.setRunEnvironment(id, { codeVersion: 'abc123' });
    await a.logMetrics(id, points(1, 1000));
    const ckpt = path.join(a.runFilesDir, `run-${id}`, 'checkpoints', 'step-00000010.ckpt');
    mkdirSync(path.dirname(ckpt), { recursive: true });
    const bytes = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7) % 251));
    writeFileSync(ckpt, bytes);
    await a.addCheckpoint(id, 10, ckpt);
    const shared = path.join(store.dir, 'artifacts', `run-${id}`, 'shared', 'scores.txt'); // outside the worker's upload folder: referenced
    mkdirSync(path.dirname(shared), { recursive: true });
    writeFileSync(shared, '# scores\n');
    await a.addArtifact(id, 'scores', shared);
    await a.recordEvaluation(id, {
      protocol: 'p', fold: '1',
      metrics: { rank1: { value: 0.5, count: 10 }, eer: { value: Number.NaN } },
      curves: { roc: { x: [0, 0.5, 1], y: [0, 0.7, 1], thr: [Number.POSITIVE_INFINITY, 0.3, Number.NEGATIVE_INFINITY] } },
      routing: [{ block: 'stem', modality: 'NIR', expert: 1, count: 5 }],
      scores: { lo: -1, hi: 1, genuine: [0, 10], impostor: [80, 9], outside: { genuine: 0, impostor: 1 } },
      embeddings: { dim: 2, total: { gallery: 4, probe: 6, subjects: 2 }, points: [{ role: 'gallery', subject: 's1', modality: 'VIS' }, { role: 'probe', subject: 's1', modality: 'NIR' }], vectors: [0.25, Number.NaN, -1, 2] },
    });
    await a.setTag(id, 'eval.engine', 'tfjs-cpu');
    expect(await a.heartbeat(id, 'node-a:1', 60_000, 10)).toBe(true);
    expect(await a.releaseRun(id, 'node-a:1')).toBe(true);
    a.close();

    expect(rows(id)).toHaveLength(1000);
    expect(Number.isNaN(rows(id)[0].value)).toBe(true);
    const r = store.getRun(id)!;
    expect(r).toMatchObject({ status: 'queued', codeVersion: 'abc123', launcher: 'slurm', launcherJob: '4242', launcherTask: '3' });
    const [stored] = store.listCheckpoints(id);
    expect(stored.path).toBe(path.join(store.dir, 'artifacts', `run-${id}`, 'checkpoints', 'step-00000010.ckpt'));
    expect(readFileSync(stored.path).equals(bytes)).toBe(true);
    expect(store.listArtifacts(id).map((x) => x.path)).toEqual([shared]);
    const ev = store.getEvalMetrics(id);
    expect(ev.find((m) => m.metric === 'rank1')).toMatchObject({ value: 0.5, count: 10 });
    expect(Number.isNaN(ev.find((m) => m.metric === 'eer')!.value)).toBe(true);
    expect(store.getCurves(id)[0].curve.thr).toEqual([Number.POSITIVE_INFINITY, 0.3, Number.NEGATIVE_INFINITY]);
    expect(store.getRouting(id)).toHaveLength(1);
    expect(store.getScoreHistograms(id)).toEqual([{ protocol: 'p', fold: '1', lo: -1, hi: 1, genuine: [0, 10], impostor: [80, 9], outside: { genuine: 0, impostor: 1 } }]);
    const sample = store.getEmbeddingSample(id, 'p', '1')!;
    expect(sample.points.map((p) => p.role)).toEqual(['gallery', 'probe']);
    expect(sample.vectors[0]).toBe(0.25);
    expect(Number.isNaN(sample.vectors[1])).toBe(true);
    expect(store.getTags(id)).toEqual({ 'eval.engine': 'tfjs-cpu' });
    // What the dashboard shows: the Slurm job and task on the run page and in the runs list.
    const page = (await (await fetch(`${url}/api/runs/${id}`)).json()) as { run: Record<string, unknown> };
    expect(page.run).toMatchObject({ launcher: 'slurm', launcherJob: '4242', launcherTask: '3' });
    const list = (await (await fetch(`${url}/api/runs?limit=5000`)).json()) as { runs: Array<Record<string, unknown>> };
    expect(list.runs.find((x) => x.id === id)).toMatchObject({ launcher: 'slurm', launcherJob: '4242', launcherTask: '3' });

    // Another node (its own folder) takes the run and gets the checkpoint downloaded from the store.
    const b = worker();
    const again = (await b.claimRun('node-b:1', 60_000, { runId: id }))!;
    expect(again).toMatchObject({ id, leaseEpoch: 2 });
    const latest = (await b.latestCheckpoint(id))!;
    expect(latest.step).toBe(10);
    expect(latest.path.startsWith(b.runFilesDir)).toBe(true);
    expect(readFileSync(latest.path).equals(bytes)).toBe(true);
    expect((await b.getEvalMetrics(id)).map((m) => m.metric).sort()).toEqual(['eer', 'rank1']);
    await b.truncateMetricsAfter(id, 10);
    await b.logMetrics(id, points(11, 5));
    expect((await b.getMetricHistory(id, 'loss')).map((p) => p.step)).toEqual([...Array.from({ length: 15 }, (_, i) => i + 1)]);
    await b.completeRun(id);
    b.close();
    expect(store.getRun(id)!.status).toBe('completed');
  });

  it('NaN, Infinity and -Infinity come back exactly to a resumed remote run (history and evaluations)', async () => {
    const id = queue();
    const a = worker();
    await a.claimRun('inf-a', 60_000, { runId: id });
    const values = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0.5];
    await a.logMetrics(id, values.map((value, i) => ({ key: 'loss', step: i + 1, value })));
    await a.recordEvaluation(id, { protocol: 'p', fold: '1', metrics: { eer: { value: Number.POSITIVE_INFINITY }, far: { value: Number.NEGATIVE_INFINITY } } });
    await a.releaseRun(id, 'inf-a');
    a.close();
    const b = worker();
    await b.claimRun('inf-b', 60_000, { runId: id });
    expect((await b.getMetricHistory(id, 'loss')).map((p) => p.value)).toEqual(values); // toEqual tells NaN, Infinity and -Infinity apart
    const ev = Object.fromEntries((await b.getEvalMetrics(id)).map((m) => [m.metric, m.value]));
    expect(ev).toEqual({ eer: Number.POSITIVE_INFINITY, far: Number.NEGATIVE_INFINITY });
    await b.completeRun(id);
    b.close();
  });

  it('a large metrics op is applied in slices: reads are answered between them, and an op cut between slices is completed once', async () => {
    const id = queue();
    const w = worker();
    await w.claimRun('big', 60_000, { runId: id });
    const me = identityOf(w);
    const epoch = store.getRun(id)!.leaseEpoch;
    const N = 20_000;
    const op = { seq: 1, type: 'metrics' as const, keys: ['loss'], k: new Array(N).fill(0), s: Array.from({ length: N }, (_, i) => i), v: new Array(N).fill(0.5), t: new Array(N).fill(1) };
    const send = (o: typeof op) =>
      fetch(`${url}/api/worker/runs/${id}/writes`, {
        method: 'POST', headers: { authorization: `Bearer ${me.credential}`, 'content-type': 'application/json' },
        body: JSON.stringify({ owner: me.owner, attempt: epoch, ops: [o] }),
      });
    // The server is in this process: a read answered while the op is part-way stored saw a slice boundary.
    let done = false;
    const posted = send(op).then(async (r) => ((done = true), (await r.json()) as { applied: number }));
    const between: number[] = [];
    while (!done) {
      const meta = await fetch(`${url}/api/meta`);
      expect(meta.status).toBe(200);
      const stored = store.getLatestMetrics(id).loss?.points ?? 0;
      if (stored > 0 && stored < N) between.push(stored);
    }
    expect(await posted).toEqual({ applied: 1, duplicates: 0 });
    expect(between.length).toBeGreaterThan(0);
    expect(rows(id)).toHaveLength(N);
    // Sent again (its answer lost): a duplicate, nothing stored twice.
    expect(await (await send(op)).json()).toEqual({ applied: 0, duplicates: 1 });
    // An op cut after its first slice (the server died): sent again, only the rest is stored.
    const op2 = { ...op, seq: 2, keys: ['acc'] };
    store.applyMetricsSlice(id, { owner: me.owner, epoch }, op2, 0, 1024);
    expect(store.getMetricHistory(id, 'acc')).toHaveLength(1024);
    expect(await (await send(op2)).json()).toEqual({ applied: 1, duplicates: 0 });
    expect(store.getMetricHistory(id, 'acc')).toHaveLength(N);
    await w.completeRun(id);
    w.close();
  });

  it('another process holding the write lock: reads are answered, a write waits briefly and answers 503 (the worker retries)', async () => {
    const id = queue();
    const w = worker();
    await w.claimRun('locked', 60_000, { runId: id });
    const me = identityOf(w);
    const other = new Database(store.file); // another connection: the lock is the file's, as another process's would be
    other.exec('BEGIN IMMEDIATE');
    try {
      const t0 = Date.now();
      const write = await fetch(`${url}/api/worker/runs/${id}/writes`, {
        method: 'POST', headers: { authorization: `Bearer ${me.credential}`, 'content-type': 'application/json' },
        body: JSON.stringify({ owner: me.owner, attempt: store.getRun(id)!.leaseEpoch, ops: [{ seq: 1, type: 'progress', step: 3 }] }),
      });
      expect(write.status).toBe(503);
      expect(((await write.json()) as { error: { code: string } }).error.code).toBe('STORE_UNAVAILABLE');
      expect(Date.now() - t0).toBeLessThan(5_000); // not the 10 s busy timeout of other store users
      const read = await fetch(`${url}/api/runs/${id}`);
      expect(read.status).toBe(200);
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    await w.setProgress(id, 3);
    await w.completeRun(id);
    w.close();
    expect(store.getRun(id)).toMatchObject({ status: 'completed' });
  });

  it('a batch whose answer is lost is sent again and stored once (rows counted)', async () => {
    const id = queue();
    // A proxy that forwards every request but cuts the connection instead of relaying the first answer to a writes batch.
    let cut = 0;
    const proxy = http.createServer((req, res) => {
      const up = http.request({ host: '127.0.0.1', port, path: req.url, method: req.method, headers: req.headers }, (ur) => {
        if (req.url?.endsWith('/writes') && cut === 0) {
          cut++;
          ur.resume();
          ur.on('end', () => req.socket.destroy()); // the server applied the batch; the worker never hears so
          return;
        }
        res.writeHead(ur.statusCode ?? 502, ur.headers);
        ur.pipe(res);
      });
      req.pipe(up);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
    const w = worker({ url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}` });
    await w.claimRun('flaky:1', 60_000, { runId: id });
    await w.logMetrics(id, points(1, 500));
    await w.drain();
    await w.logMetrics(id, points(501, 500));
    await w.completeRun(id);
    w.close();
    await new Promise((r) => proxy.close(r));
    expect(cut).toBe(1);
    expect(rows(id)).toHaveLength(1000);
    expect(new Set(rows(id).map((p) => p.step)).size).toBe(1000);
    expect(store.getLatestMetrics(id).loss.points).toBe(999); // step 1 is NaN
    expect(logs.join('\n')).toMatch(/does not answer/);
  });

  it('a worker whose lease was taken over is told so (LEASE_LOST), stops, and says what it discarded', async () => {
    await stopServer();
    await startServer({ reapMs: 50 });
    const id = queue();
    const a = worker();
    await a.claimRun('slow:1', 1_000, { runId: id });
    await a.logMetrics(id, points(1, 10));
    await a.drain();
    await new Promise((r) => setTimeout(r, 1_300)); // the lease expires; the server's reaper re-queues the run
    const b = worker();
    expect((await b.claimRun('fast:1', 60_000, { runId: id }))!.id).toBe(id);
    expect(await a.heartbeat(id, 'slow:1', 1_000)).toBe(false);
    await a.logMetrics(id, points(11, 10));
    await expect(a.completeRun(id)).rejects.toMatchObject({ code: 'STORE_LEASE_LOST' });
    expect(logs.join('\n')).toMatch(/no longer holds|discard/);
    await b.completeRun(id);
    a.close();
    b.close();
    expect(store.getRun(id)).toMatchObject({ status: 'completed', leaseEpoch: 2 });
    expect(rows(id)).toHaveLength(10); // the lost attempt's late points were not stored
  });

  it('a wrong token is a 401 with a message; the worker names the server and the fix', async () => {
    queue();
    const res = await fetch(`${url}/api/worker/claim`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer nope' }, body: JSON.stringify({ owner: 'x', leaseMs: 60_000 }) });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string; message: string } }).error).toMatchObject({ code: 'TOKEN_INVALID', message: expect.stringMatching(/token does not match/) });
    const none = await fetch(`${url}/api/worker/claim`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(none.status).toBe(401);
    const w = worker({ token: 'nope' });
    await expect(w.claimRun('x', 60_000)).rejects.toThrow(new RegExp(`${url}.* 401 TOKEN_INVALID: .*SSMB_TOKEN environment variable or a file: --token-file`));
    expect(logs.filter((l) => /401 TOKEN_INVALID.*retrying \(\d of 5\)/.test(l))).toHaveLength(5); // bounded, saying why
    w.close();
  });

  it('a server that does not answer: the claim names the URL and gives up after --server-timeout', async () => {
    await stopServer();
    const w = worker({ serverTimeoutMs: 300 });
    await expect(w.claimRun('x', 60_000)).rejects.toThrow(new RegExp(`tracking server ${url} does not answer \\(ECONNREFUSED.*gave up claiming a run after`));
    expect(logs.join('\n')).toContain(url);
    w.close();
    await startServer({ port });
  });

  it('server down mid-run: the worker goes on, buffers on disk up to its bound (pausing, never dropping), and flushes when the server is back', async () => {
    const id = queue();
    const w = worker({ maxBufferBytes: 256 * 1024 });
    await w.claimRun('outage:1', 60_000, { runId: id });
    await w.logMetrics(id, points(1, 100));
    await w.drain();
    const samePort = port;
    await stopServer();
    let logged = 0;
    const writer = (async () => {
      for (let s = 101; s <= 20_100; s += 100) {
        await w.logMetrics(id, points(s, 100));
        logged += 100;
      }
    })();
    await new Promise((r) => setTimeout(r, 1_500));
    const text = () => logs.join('\n');
    expect(text()).toMatch(new RegExp(`tracking server ${url} does not answer .*: runs go on; \\d+ writes \\(\\d+ metric points`));
    expect(text()).toMatch(/worker buffer .* is full .*training is paused until the server takes them; nothing is dropped/);
    expect(logged).toBeLessThan(20_000); // paused at the bound
    expect(w.buffered.bytes).toBeLessThanOrEqual(256 * 1024);
    await startServer({ port: samePort });
    await writer;
    await w.completeRun(id);
    w.close();
    expect(text()).toMatch(new RegExp(`tracking server ${url} answers again after`));
    expect(rows(id)).toHaveLength(20_100);
    expect(new Set(rows(id).map((p) => p.step)).size).toBe(20_100);
  });

  it('uploads are checked: the holder only, a relative name, the SHA-256 the worker sent', async () => {
    const id = queue();
    const w = worker();
    const run = (await w.claimRun('up:1', 60_000, { runId: id }))!;
    const me = identityOf(w);
    const put = (name: string, body: Buffer, headers: Record<string, string>) =>
      fetch(`${url}/api/worker/runs/${id}/files/${name}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${me.credential}`, 'content-type': 'application/octet-stream', 'x-ssmb-owner': me.owner, 'x-ssmb-attempt': String(run.leaseEpoch), ...headers },
        body: new Uint8Array(body),
      });
    const body = Buffer.from('checkpoint bytes');
    const sha = createHash('sha256').update(body).digest('hex');
    const ok = await put('checkpoints/a.ckpt', body, { 'x-ssmb-sha256': sha });
    expect(ok.status).toBe(200);
    const bad = await put('checkpoints/b.ckpt', body, { 'x-ssmb-sha256': 'f'.repeat(64) });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toMatch(/the upload was cut/);
    const traversal = await put('..%2F..%2Fevil', body, { 'x-ssmb-sha256': sha });
    expect(traversal.status).toBe(400);
    const stranger = await put('checkpoints/c.ckpt', body, { 'x-ssmb-sha256': sha, 'x-ssmb-owner': 'someone-else' });
    expect(stranger.status).toBe(403);
    expect(((await stranger.json()) as { error: { code: string } }).error.code).toBe('WORKER_NOT_OWNER');
    // A row naming an upload that never arrived is refused, naming the route to send it to.
    const writes = await fetch(`${url}/api/worker/runs/${id}/writes`, {
      method: 'POST',
      headers: { authorization: `Bearer ${me.credential}`, 'content-type': 'application/json' },
      body: JSON.stringify({ owner: me.owner, attempt: run.leaseEpoch, ops: [{ seq: 1, type: 'checkpoint', step: 1, upload: 'checkpoints/never.ckpt' }] }),
    });
    expect(writes.status).toBe(400);
    expect(await writes.text()).toMatch(/PUT \/api\/worker\/runs\/\d+\/files\/checkpoints\/never\.ckpt/);
    await w.completeRun(id);
    w.close();
  });

  it('stale runs are re-queued by the server after its start-up grace, not during it', async () => {
    await stopServer();
    const id = queue();
    store.claimRun('crashed:1', 50, { runId: id });
    await startServer({ reapMs: 30, staleGraceMs: 400 });
    await new Promise((r) => setTimeout(r, 200));
    expect(store.getRun(id)!.status).toBe('running'); // within the grace: its worker may be reconnecting
    const page = (await (await fetch(`${url}/api/runs?status=running`)).json()) as { runs: Array<{ id: number; stale: boolean }> };
    expect(page.runs.find((r) => r.id === id)?.stale).toBe(true);
    await new Promise((r) => setTimeout(r, 500));
    expect(store.getRun(id)).toMatchObject({ status: 'queued', leaseOwner: null });
  });

  it('cancelling a run a Slurm task executes signals that task (scancel --batch --signal=USR1), then the pending tasks when nothing is left', async () => {
    await stopServer();
    const calls: Array<{ target: string; opts: unknown }> = [];
    srv = await buildServer({
      store, token: TOKEN, webRoot: path.join(root, 'no-web'), pollMs: 60_000, reapMs: 0,
      scancel: async (target, opts) => (calls.push({ target, opts }), { ok: true, message: `scancel ${target}` }),
    });
    await srv.app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(srv.app.server.address() as AddressInfo).port}`;
    for (const r of store.listRuns({ status: 'queued' })) store.cancelRun(r.id); // leftovers of earlier tests
    const id = queue();
    store.setRunLauncher([id], 'slurm', '777');
    const w = worker();
    await w.claimRun('task:1', 60_000, { runId: id, executor: { launcher: 'slurm', job: '777', task: '5' } });
    const res = await fetch(`${url}/api/runs/${id}/cancel`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { outcome: string; launcher: Array<{ target: string; ok: boolean }> };
    expect(body.outcome).toBe('requested');
    expect(calls).toEqual([
      { target: '777_5', opts: { signal: 'USR1', batchOnly: true } },
      { target: '777', opts: { pendingOnly: true } },
    ]);
    expect(body.launcher.map((l) => l.target)).toEqual(['777_5', '777']);
    // The worker learns of it on its heartbeat, stops the run and marks it cancelled.
    expect(await w.heartbeat(id, 'task:1', 60_000)).toBe(true);
    expect(await w.cancelRequested(id)).toBe(true);
    await w.cancelRun(id);
    w.close();
    expect(store.getRun(id)!.status).toBe('cancelled');
  });

  it('checkpoints a remote worker prunes: rows forgotten, the server deletes its copies (not a file a run starts from)', async () => {
    const id = queue();
    const w = worker();
    await w.claimRun('prune:1', 60_000, { runId: id });
    const files = [1, 2, 3].map((step) => {
      const f = path.join(w.runFilesDir, `run-${id}`, 'checkpoints', `step-${step}.ckpt`);
      mkdirSync(path.dirname(f), { recursive: true });
      writeFileSync(f, `checkpoint ${step}`);
      return f;
    });
    for (const [i, f] of files.entries()) await w.addCheckpoint(id, i + 1, f);
    await w.drain();
    const stored = store.listCheckpoints(id).map((c) => c.path);
    expect(stored).toHaveLength(3);
    launchRun(store, resolveConfig({ sets: ['steps=1'] }), { experiment: 'worker-api', kind: 'noop', initFrom: stored[1] }); // a run starts from step 2
    store.cancelRun(store.listRuns({ status: 'queued' }).at(0)!.id);
    await w.removeCheckpoints(id, [1, 2]);
    await w.drain();
    expect(store.listCheckpoints(id).map((c) => c.step)).toEqual([3]);
    expect(existsSync(stored[0])).toBe(false); // deleted by the server
    expect(existsSync(stored[1])).toBe(true); // another run starts from it
    expect((await w.listCheckpoints(id)).map((c) => c.step)).toEqual([3]);
    await w.completeRun(id);
    w.close();
  });
});
