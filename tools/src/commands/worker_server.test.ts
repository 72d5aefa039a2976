// Remote workers as real processes (`ssmb worker --server URL`) against a real tracking server; stale
// runs on one machine. Rows are counted in the store: nothing lost, nothing stored twice.
import { afterAll, describe, expect, it, vi } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { HttpStore, launchRun, readWorkerBuffers, resolveConfig, RunStore, runQueue, WORKER_BUFFERS_FILE } from '@ssmb/trainer';
import { buildServer, type DashboardServer } from '@ssmb/dashboard';
import { CLI, REPO_ROOT } from './reproduce.ts';
import * as runs from './runs.ts';
import * as worker from './worker.ts';

const TOKEN = 'restart-test-token';
const dir = mkdtempSync(path.join(tmpdir(), 'ssmb-worker-server-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Proc {
  child: ChildProcess;
  stderr: () => string;
  exit: Promise<number | null>;
}
function ssmbProcess(args: string[], env: Record<string, string> = {}): Proc {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  child.stdout!.on('data', (d) => (err += d));
  return { child, stderr: () => err, exit: new Promise((r) => child.on('exit', (code) => r(code))) };
}

async function until(what: string, fn: () => boolean, timeoutMs: number, more: () => string = () => ''): Promise<void> {
  const t0 = Date.now();
  while (!fn()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${more()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** `ssmb runs list --store FILE` (or `--server URL` when `file` is a URL) in this process. */
async function listRuns(file: string): Promise<string> {
  const out: string[] = [];
  const spy = vi.spyOn(console, 'log').mockImplementation((...a) => void out.push(a.join(' ')));
  try {
    const program = new Command('ssmb').exitOverride();
    runs.register(program);
    await program.parseAsync(['runs', 'list', file.startsWith('http') ? '--server' : '--store', file], { from: 'user' });
  } finally {
    spy.mockRestore();
  }
  return out.join('\n');
}

const noop = (steps: number, every: number) => resolveConfig({ sets: [`steps=${steps}`, `checkpointEvery=${every}`] });
const logged = (store: RunStore, id: number) => store.getLatestMetrics(id)['noop/value']?.step ?? 0;

describe('ssmb worker --server', () => {
  it('server restart mid-run: the workers buffer, flush when it is back, and every metric is stored exactly once', async () => {
    const file = path.join(dir, 'restart', 'runs.sqlite');
    mkdirSync(path.dirname(file), { recursive: true });
    const store = RunStore.open(file);
    const STEPS = 3000;
    const ids = [1, 2].map((seed) => launchRun(store, resolveConfig({ sets: [`steps=${STEPS}`, 'checkpointEvery=500', `seed=${seed}`] }), { experiment: 'restart', kind: 'noop' }));
    const start = (port = 0) => startServer(store, port);
    let srv = await start();
    const port = (srv.app.server.address() as AddressInfo).port;
    const url = `http://127.0.0.1:${port}`;
    const workers = [0, 1].map(() => ssmbProcess(['worker', '--server', url, '--until-empty', '--quiet', '--lease-seconds', '30'], { SSMB_TOKEN: TOKEN }));
    const logs = () => workers.map((w, i) => `--- worker ${i}\n${w.stderr()}`).join('\n');
    try {
      await until('both runs past step 300', () => ids.every((id) => logged(store, id) >= 300), 60_000, logs);
      await srv.app.close();
      const down = ids.map((id) => logged(store, id));
      await new Promise((r) => setTimeout(r, 2_500)); // the workers keep training meanwhile
      srv = await start(port);
      const codes = await Promise.all(workers.map((w) => w.exit));
      expect(codes, logs()).toEqual([0, 0]);
      for (const id of ids) {
        expect(store.getRun(id)).toMatchObject({ status: 'completed', leaseEpoch: 1 }); // never taken over
        const hist = store.getMetricHistory(id, 'noop/value').map((p) => p.step);
        expect(hist).toHaveLength(STEPS);
        expect(new Set(hist).size).toBe(STEPS);
        expect(store.getLatestMetrics(id)['noop/value'].points).toBe(STEPS);
      }
      expect(ids.some((id, i) => down[i] < STEPS)).toBe(true); // the outage happened mid-run
      expect(logs()).toMatch(new RegExp(`tracking server ${url} does not answer \\(ECONNREFUSED[^)]*\\): runs go on; \\d+ writes \\(\\d+ metric points, [\\d.]+ MiB\\) wait in `));
      expect(logs()).toMatch(new RegExp(`tracking server ${url} answers again after [\\d.]+ s: delivering \\d+ buffered writes`));
      expect(logs()).toMatch(/completed 1, failed 0, released 0, lost 0/);
      // Coming back, each worker told the server its backlog, then that it was delivered: none is listed.
      expect(existsSync(path.join(path.dirname(file), WORKER_BUFFERS_FILE))).toBe(true);
      expect(readWorkerBuffers(path.dirname(file))).toEqual([]);
    } finally {
      for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
      await srv.app.close();
      store.close();
    }
  });

  it('a server URL that does not answer: the worker names it and gives up claiming after --server-timeout; a wrong token is refused with the fix', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const w = ssmbProcess(['worker', '--server', `http://127.0.0.1:${port}`, '--until-empty', '--server-timeout', '1']);
    expect(await w.exit).toBe(1);
    expect(w.stderr()).toMatch(new RegExp(`tracking server http://127\\.0\\.0\\.1:${port} does not answer \\(ECONNREFUSED.*gave up claiming a run after \\d+ s \\(--server-timeout\\)`));

    const file = path.join(dir, 'token', 'runs.sqlite');
    mkdirSync(path.dirname(file), { recursive: true });
    const store = RunStore.open(file);
    launchRun(store, noop(5, 0), { experiment: 't', kind: 'noop' });
    const srv = await buildServer({ store, token: TOKEN, webRoot: path.join(dir, 'no-web'), pollMs: 60_000 });
    await srv.app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const server = `http://127.0.0.1:${(srv.app.server.address() as AddressInfo).port}`;
      const bad = ssmbProcess(['worker', '--server', server, '--until-empty', '--server-timeout', '1'], { SSMB_TOKEN: 'wrong' });
      expect(await bad.exit).toBe(1);
      expect(bad.stderr()).toMatch(/401 TOKEN_INVALID: The token does not match.*SSMB_TOKEN environment variable or a file: --token-file FILE/);
      expect(bad.stderr()).toMatch(/401 TOKEN_INVALID.*retrying \(1 of 5\); if the server was restarted with another token/); // bounded (--server-timeout here), saying why
      expect(store.listRuns()[0].status).toBe('queued'); // nothing was claimed
    } finally {
      await srv.app.close();
      store.close();
    }
  });
});

/** `ssmb worker --replay DIR` in this process; resolves with what it printed (stdout and stderr). */
async function replay(url: string, buffer: string): Promise<string> {
  const out: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a) => void out.push(a.join(' ')));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => (out.push(String(chunk)), true));
  try {
    const program = new Command('ssmb').exitOverride();
    worker.register(program);
    vi.stubEnv('SSMB_TOKEN', TOKEN);
    await program.parseAsync(['worker', '--server', url, '--replay', buffer], { from: 'user' });
  } finally {
    vi.unstubAllEnvs();
    log.mockRestore();
    err.mockRestore();
  }
  return out.join('\n');
}

/** A tracking server on `store`; a restart passes the port it had. */
async function startServer(store: RunStore, port = 0): Promise<DashboardServer> {
  const srv = await buildServer({ store, token: TOKEN, webRoot: path.join(dir, 'no-web'), pollMs: 60_000, staleGraceMs: 60_000 });
  await srv.app.listen({ host: '127.0.0.1', port });
  return srv;
}

describe('a worker that died with writes in its buffer', () => {
  it('`ssmb worker --replay DIR` delivers them under their own lease (every step once); a second replay finds nothing; a folder a live worker uses is refused', async () => {
    const file = path.join(dir, 'replay', 'runs.sqlite');
    mkdirSync(path.dirname(file), { recursive: true });
    const store = RunStore.open(file);
    const STEPS = 100_000;
    const id = launchRun(store, noop(STEPS, 1000), { experiment: 'replay', kind: 'noop' });
    const start = (port = 0) => startServer(store, port);
    let srv = await start();
    const port = (srv.app.server.address() as AddressInfo).port;
    const url = `http://127.0.0.1:${port}`;
    const buffer = path.join(dir, 'replay', 'buffer');
    const w = ssmbProcess(['worker', '--server', url, '--until-empty', '--quiet', '--lease-seconds', '60', '--buffer-dir', buffer], { SSMB_TOKEN: TOKEN });
    const journalSteps = () =>
      readdirSync(path.join(buffer, 'journal')).filter((f) => f.endsWith('.jsonl'))
        .flatMap((f) => readFileSync(path.join(buffer, 'journal', f), 'utf8').split('\n').filter(Boolean))
        .flatMap((l) => { try { const e = JSON.parse(l); return e.op.type === 'metrics' ? (e.op.s as number[]) : []; } catch { return []; } });
    try {
      await until('the run past step 300', () => logged(store, id) >= 300, 60_000, w.stderr);
      // The server goes away; the worker buffers; then it dies outright with writes in its buffer.
      await srv.app.close();
      await until('writes buffered', () => journalSteps().length >= 500, 60_000, w.stderr);
      await expect(replay(url, buffer)).rejects.toThrow(`worker buffer folder ${path.join(buffer, 'journal')} is in use by a running worker (pid ${w.child.pid} on this host)`);
      w.child.kill('SIGKILL');
      await w.exit;
      const stored = logged(store, id);
      const buffered = Math.max(...journalSteps());
      expect(buffered).toBeGreaterThan(stored);
      srv = await start(port);
      const r = await replay(url, buffer);
      expect(r).toMatch(new RegExp(`worker buffer ${path.join(buffer, 'journal')} holds \\d+ undelivered write\\(s\\) \\(\\d+ metric points\\) of a worker that stopped: delivering them to ${url} first`));
      expect(r).toMatch(new RegExp(`replayed ${buffer}: \\d+ write\\(s\\) delivered to ${url}, 0 discarded`));
      const hist = store.getMetricHistory(id, 'noop/value').map((p) => p.step);
      expect(hist).toEqual(Array.from({ length: buffered }, (_, i) => i + 1)); // up to the last buffered step, each once
      expect(existsSync(buffer)).toBe(false); // everything delivered: the folder is gone
      await expect(replay(url, buffer)).rejects.toThrow(`--replay ${buffer}: no worker journal there`);
    } finally {
      if (w.child.exitCode === null) w.child.kill('SIGKILL');
      await srv.app.close();
      store.close();
    }
  });
});

describe('runs whose writes wait in a worker buffer', () => {
  it('a worker that stops with writes undelivered reports its buffer; `runs list` (--store and --server) names the run, the folder and the replay; once replayed the run leaves the list', async () => {
    const file = path.join(dir, 'buffers', 'runs.sqlite');
    mkdirSync(path.dirname(file), { recursive: true });
    const store = RunStore.open(file);
    const id = launchRun(store, noop(100, 1000), { experiment: 'buffers', kind: 'noop' });
    let srv = await startServer(store);
    const port = (srv.app.server.address() as AddressInfo).port;
    const url = `http://127.0.0.1:${port}`;
    const buffer = path.join(dir, 'buffers', 'buffer');
    const point = (step: number) => ({ key: 'noop/value', step, value: step });
    // Its sender waits a minute between tries: it is still waiting when the worker stops.
    const w = new HttpStore({ url, token: TOKEN, bufferDir: buffer, retryMinMs: 60_000, retryMaxMs: 60_000, log: () => {} });
    try {
      expect((await w.claimRun(`${hostname()}:1:buf`, 60_000, { runId: id }))?.id).toBe(id);
      await w.logMetrics(id, [point(1)]);
      await w.drain();
      await srv.app.close(); // the server goes away; five writes wait in the buffer
      for (let s = 2; s <= 6; s++) await w.logMetrics(id, [point(s)]);
      await until('a delivery tried and failed', () => w.buffered.entries === 5, 10_000);
      srv = await startServer(store, port);
      await w.reportBuffer(true); // what `ssmb worker` does when it stops with writes undelivered
      w.close();
      const line = new RegExp(`^\\s*${id}\\s+running\\s.*undelivered: 5 write\\(s\\) in ${hostname()}:${buffer}$`, 'm');
      const footer = (server: string) =>
        new RegExp(`^worker buffer ${hostname()}:${buffer} holds 5 undelivered write\\(s\\) of run\\(s\\) ${id} \\(reported \\d+ s ago by ${hostname()}:1:buf~[\\w-]+\\): ` +
          `a worker started on that folder delivers them, or \`ssmb worker --server ${server} --replay ${buffer}\` on ${hostname()}$`, 'm');
      const local = await listRuns(file);
      expect(local).toMatch(line);
      expect(local).toMatch(footer('URL'));
      const remote = await listRuns(url);
      expect(remote).toMatch(line);
      expect(remote).toMatch(footer(url));
      const r = await replay(url, buffer);
      expect(r).toMatch(new RegExp(`replayed ${buffer}: 5 write\\(s\\) delivered to ${url}, 0 discarded`));
      expect(store.getMetricHistory(id, 'noop/value').map((p) => p.step)).toEqual([1, 2, 3, 4, 5, 6]);
      for (const listed of [await listRuns(file), await listRuns(url)]) {
        expect(listed).toMatch(new RegExp(`^\\s*${id}\\s+running`, 'm'));
        expect(listed).not.toMatch(/undelivered|worker buffer/);
      }
    } finally {
      w.close();
      await srv.app.close();
      store.close();
    }
  });
});

describe('stale runs on one machine', () => {
  it('a killed worker\'s run is shown as stale and re-queued by the local launcher\'s loop; a live worker finishes it from its checkpoint', async () => {
    const file = path.join(dir, 'stale', 'runs.sqlite');
    mkdirSync(path.dirname(file), { recursive: true });
    const store = RunStore.open(file);
    const STEPS = 1500;
    const ids = [1, 2].map((seed) => launchRun(store, resolveConfig({ sets: [`steps=${STEPS}`, 'checkpointEvery=200', `seed=${seed}`] }), { experiment: 'stale', kind: 'noop' }));
    // A worker (lease 10 minutes) killed mid-run: its run is held by a process that is gone.
    const a = ssmbProcess(['worker', '--store', file, '--max-runs', '1', '--quiet', '--lease-seconds', '600']);
    await until('the first run past step 400', () => logged(store, ids[0]) >= 400, 60_000, a.stderr);
    a.child.kill('SIGKILL');
    await a.exit;
    const listed = await listRuns(file);
    expect(listed).toMatch(new RegExp(`^\\s*${ids[0]}\\s+stale\\s.*worker .*:${a.child.pid}:\\w+ is gone`, 'm'));
    expect(store.getRun(ids[0])!.status).toBe('running');
    // The local launcher's loop re-queues it at once (no waiting for the 10-minute lease), and its worker resumes it.
    const requeued: number[] = [];
    const res = await runQueue({
      store,
      runIds: ids,
      workers: 1,
      pollMs: 200,
      spawnWorker: () => ssmbProcess(['worker', '--store', file, '--until-empty', '--quiet']).child,
      onRequeue: (r) => requeued.push(...r),
    });
    expect(requeued).toContain(ids[0]);
    expect(res.completed.sort()).toEqual(ids);
    const run = store.getRun(ids[0])!;
    expect(run.leaseEpoch).toBe(2);
    const hist = store.getMetricHistory(ids[0], 'noop/value').map((p) => p.step);
    expect(hist).toEqual(Array.from({ length: STEPS }, (_, i) => i + 1));
    store.close();
  });
});
