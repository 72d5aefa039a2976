// --launcher slurm against a real Slurm (munged, slurmctld and two slurmd, node-a and node-b, each
// under its own host name, started by this file on free ports, see testing/slurm_cluster.ts): the
// synthetic grid as one array job gives the local launcher's table number for number; scancel of a task
// mid-run hands its run to another task, which resumes it from the checkpoint; cancelling a run from the
// CLI signals its task, which goes on with the next run; `reproduce --server` from a third host name (no
// store) rides out a server restart and a worker on a node killed outright on the last run (the server
// re-queues it when its lease runs out, a new task resumes it, the table is complete); a client with no
// store drives a sweep through --server, and the task that drains the queue cancels the pending ones.
// Skipped, with the reason printed, only when the Slurm binaries are missing (or not root).
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { Command } from 'commander';
import { stringify } from 'yaml';
import { createIResNet, initBackend, saveWeights } from '@ssmb/core';
import { generateSyntheticDataset } from '@ssmb/protocols';
import { activeTasks, RunStore, runSlurmCommand } from '@ssmb/trainer';
import { buildServer, type DashboardServer } from '@ssmb/dashboard';
import { runReproduce } from './reproduce.ts';
import * as launch from './launch.ts';
import * as runs from './runs.ts';
import { slurmUnavailable, startSlurmCluster, type SlurmCluster } from '../testing/slurm_cluster.ts';
import { SSMB_BIN } from '../launcher.ts';

const TOKEN = 'slurm-test-token';
const NODES = [{ name: 'node-a', cpus: 2 }, { name: 'node-b', cpus: 1 }];
const reason = slurmUnavailable();
if (reason) console.log(`slurm.test.ts: the real-Slurm tests are skipped: ${reason}`);

const dir = mkdtempSync(path.join(tmpdir(), 'ssmb-slurm-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(...args: string[]): Promise<string[]> {
  const out: string[] = [];
  const spy = vi.spyOn(console, 'log').mockImplementation((...a) => void out.push(a.join(' ')));
  try {
    const program = new Command('ssmb').exitOverride();
    launch.register(program);
    runs.register(program);
    await program.parseAsync(args, { from: 'user' });
  } finally {
    spy.mockRestore();
  }
  return out;
}

/** The tracking server on a store, on a free loopback port. */
async function serve(file: string, o: { port?: number; staleGraceMs?: number } = {}): Promise<{ srv: DashboardServer; store: RunStore; url: string }> {
  mkdirSync(path.dirname(file), { recursive: true });
  const store = RunStore.open(file);
  // Runs read the test's dataset and weights (under dir): the server's roots allow them, as `ssmb serve --data-root --weights-root` would.
  const srv = await buildServer({
    store, token: TOKEN, host: '127.0.0.1', webRoot: path.join(dir, 'no-web'), pollMs: 60_000, staleGraceMs: o.staleGraceMs ?? 0, reapMs: 500, roots: { data: [dir], weights: [dir] },
  });
  await srv.app.listen({ host: '127.0.0.1', port: o.port ?? 0 });
  return { srv, store, url: `http://127.0.0.1:${(srv.app.server.address() as AddressInfo).port}` };
}

async function until<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs: number, logs: () => string = () => ''): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${logs()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('--launcher slurm without Slurm', () => {
  it('says sbatch is missing (and what to do) before anything is queued', async () => {
    const store = path.join(dir, 'no-slurm.sqlite');
    const saved = process.env.PATH;
    process.env.PATH = path.join(dir, 'empty-bin');
    try {
      await expect(cli('launch', '--store', store, '--kind', 'noop', '--launcher', 'slurm', '--server', 'http://127.0.0.1:9')).rejects.toThrow(
        /--launcher slurm needs Slurm's sbatch, which is not on PATH .*slurm-client.*or use --launcher local/,
      );
    } finally {
      process.env.PATH = saved;
    }
    expect(existsSync(store)).toBe(false);
  });
});

describe.skipIf(!!reason)('a real Slurm cluster on this machine', () => {
  let cluster: SlurmCluster;
  const savedConf = process.env.SLURM_CONF;
  beforeAll(async () => {
    // Two nodes, each slurmd under its own host name: node-b has one CPU, so a task asking for two runs on node-a only.
    cluster = await startSlurmCluster({ nodes: NODES });
    process.env.SLURM_CONF = cluster.conf;
  });
  afterAll(async () => {
    process.env.SLURM_CONF = savedConf;
    if (savedConf === undefined) delete process.env.SLURM_CONF;
    await cluster?.stop();
  });
  const taskLogs = (logDir: string) => () =>
    (existsSync(logDir) ? readdirSync(logDir).filter((f) => f.endsWith('.out')) : []).map((f) => `--- ${f}\n${readFileSync(path.join(logDir, f), 'utf8')}`).join('\n') + cluster.logs();

  /** The synthetic 6-run grid (2 rows x 3 folds) and its table from the local launcher, made once. */
  let gridMade: Promise<{ config: string; root: string; weights: string; localCsv: string; local: Awaited<ReturnType<typeof runReproduce>> }> | undefined;
  let inputsMade: Promise<{ root: string; weights: string }> | undefined;
  const grid = () => (gridMade ??= makeGrid());
  /** The synthetic dataset and tiny backbone weights. */
  const inputs = () =>
    (inputsMade ??= (async () => {
      const root = path.join(dir, 'synth');
      await generateSyntheticDataset({ root, identities: 8, imagesPerIdentity: 2, pretrainIdentities: 0, size: 32 });
      const weights = path.join(dir, 'tiny.safetensors');
      await initBackend({ prefer: 'cpu' });
      saveWeights(createIResNet('iresnet-tiny', { seed: 1 }), weights);
      return { root, weights };
    })());
  async function makeGrid() {
    const { root, weights } = await inputs();
    const config = path.join(dir, 'table.yaml');
    writeFileSync(config, stringify({
      name: 'slurm-grid',
      title: 'Slurm grid test',
      datasets: { synth: { root: null } },
      base: { backbone: { model: 'iresnet-tiny' }, steps: 3, batchSize: 4, checkpointEvery: 2 },
      slurm: { cpus: 1, time: '10:00' },
      rows: [
        { id: 'baseline', label: 'Baseline', set: { method: 'baseline' } },
        { id: 'n2', label: 'SSMB N=2', set: { method: 'ssmb', 'ssmb.numExperts': 2 } },
      ],
      columns: [
        { id: 'nir', label: 'VIS-NIR', dataset: 'synth', protocol: 'synthetic-vis-nir', folds: [1, 2] },
        { id: 'sketch', label: 'VIS-SKETCH', dataset: 'synth', protocol: 'synthetic-vis-sketch', folds: [1] },
      ],
    }));
    const local = await runReproduce({ config, roots: { synth: root }, weights, bar: false, log: () => {}, store: path.join(dir, 'local', 'runs.sqlite'), out: path.join(dir, 'local', 'out'), workers: 2 });
    expect(local.missing).toEqual([]);
    return { config, root, weights, local, localCsv: readFileSync(local.files!.csv, 'utf8') };
  }

  it('a server that does not answer: launch says nothing was submitted and that the runs it just queued were cancelled, without contradicting itself', async () => {
    const file = path.join(dir, 'noserver.sqlite');
    const dead = await new Promise<number>((resolve) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as AddressInfo).port;
        srv.close(() => resolve(p));
      });
    });
    vi.stubEnv('SSMB_TOKEN', TOKEN);
    const err = await cli('launch', '--store', file, '--kind', 'noop', '--launcher', 'slurm', '--server', `http://127.0.0.1:${dead}`).catch((e: Error) => e)
      .finally(() => vi.unstubAllEnvs());
    expect((err as Error).message).toBe(
      `the tracking server http://127.0.0.1:${dead} does not answer (ECONNREFUSED): start it with \`ssmb serve --store ${file} --host 0.0.0.0\` (nothing was submitted); the 1 run(s) just queued were cancelled`,
    );
    const s = RunStore.open(file, { readonly: true });
    expect(s.listRuns().map((r) => r.status)).toEqual(['cancelled']);
    s.close();
  });

  it('the synthetic grid as one array job gives the local launcher\'s table, number for number', async () => {
    const { config, root, weights, local, localCsv } = await grid();
    const common = { config, roots: { synth: root }, weights, bar: false, log: () => {} };

    const file = path.join(dir, 'cluster', 'runs.sqlite');
    const { srv, store, url } = await serve(file);
    const logDir = path.join(dir, 'cluster', 'slurm-logs');
    const lines: string[] = [];
    try {
      const res = await runReproduce({
        ...common, out: path.join(dir, 'cluster', 'out'), log: (l) => lines.push(l),
        launcher: 'slurm', slurm: { server: url, token: TOKEN, tasks: 2, slurmLogDir: logDir },
      }).catch((err) => {
        throw new Error(`${(err as Error).message}\n${taskLogs(logDir)()}`);
      });
      expect(res.failed, taskLogs(logDir)()).toEqual([]);
      expect(res.table).toEqual(local.table);
      expect(readFileSync(res.files!.csv, 'utf8')).toBe(localCsv);
      const text = lines.join('\n');
      const job = /submitted Slurm array job (\d+) \(2 tasks/.exec(text)?.[1];
      expect(job, text).toBeDefined();
      // Every run was executed by a task of that one array job, and `ssmb runs list` says which.
      const done = store.listRuns({ experiment: 'table:slurm-grid' });
      expect(done).toHaveLength(6);
      for (const r of done) expect(r).toMatchObject({ status: 'completed', launcher: 'slurm', launcherJob: job });
      expect(new Set(done.map((r) => r.launcherTask))).toEqual(new Set(['0', '1']));
      const listed = await cli('runs', 'list', '--store', file);
      expect(listed.join('\n')).toMatch(new RegExp(`completed .* slurm ${job}_[01]`));
      // The batch script passes the server, never the token (it travels in the environment).
      const script = readdirSync(logDir).find((f) => f.endsWith('.sbatch'))!;
      const body = readFileSync(path.join(logDir, script), 'utf8');
      expect(body).toMatch(/#SBATCH --array=0-1\n/);
      expect(body).toMatch(/#SBATCH --cpus-per-task=1\n/);
      expect(body).toMatch(/#SBATCH --time=10:00\n/);
      expect(body).toContain(`'--server' '${url}' '--until-empty'`);
      expect(body).not.toContain(TOKEN);
      expect(body).toContain('export ORT_DISABLE_TELEMETRY="${ORT_DISABLE_TELEMETRY:-1}"');
    } finally {
      await srv.app.close();
      store.close();
    }
  });

  it('scancel of a task mid-run: another task resumes its run from the checkpoint; a run cancelled from the CLI stops and its task goes on', async () => {
    const file = path.join(dir, 'noop', 'runs.sqlite');
    const { srv, store, url } = await serve(file);
    const logDir = path.join(dir, 'noop', 'slurm-logs');
    const tokenFile = path.join(dir, 'noop', 'token'); // the token from a file only its owner reads, never argv
    writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
    const logs = taskLogs(logDir);
    const STEPS = 3000;
    const EVERY = 250;
    /** The newest step a run logged (metrics arrive in batches of 64; the run's step field only with heartbeats). */
    const logged = (id: number) => store.getLatestMetrics(id)['noop/value']?.step ?? 0;
    try {
      const out = await cli(
        'launch', '--store', file, '--kind', 'noop', '--experiment', 'takeover', '--set', `steps=${STEPS}`, '--set', `checkpointEvery=${EVERY}`,
        '--grid', 'seed=1,2,3,4', '--launcher', 'slurm', '--server', url, '--token-file', tokenFile, '--tasks', '2', '--worker-lease-seconds', '8', '--slurm-log-dir', logDir,
      );
      const job = /submitted Slurm array job (\d+)/.exec(out.join('\n'))?.[1];
      expect(job, out.join('\n')).toBeDefined();
      const ids = store.listRuns({ experiment: 'takeover', kind: 'noop' }).map((r) => r.id).sort((a, b) => a - b);
      expect(ids).toHaveLength(4);
      // A run well under way in a task: scancel that task (SIGTERM: its worker checkpoints and releases the run).
      const victim = await until('a run past step 600 in a Slurm task', () => store.listRuns({ status: 'running' }).find((r) => logged(r.id) >= 600 && r.launcherTask !== null), 90_000, logs);
      const killedTask = victim.launcherTask!;
      const stepAtKill = logged(victim.id);
      const sc = await runSlurmCommand('scancel', [`${job}_${killedTask}`]);
      expect(sc.code, sc.stderr).toBe(0);
      // The other task, busy with its own run, will cancel one from the CLI while it runs.
      const other = await until(
        'a run of the remaining task under way',
        () => store.listRuns({ status: 'running' }).find((r) => r.id !== victim.id && r.launcherTask !== killedTask && logged(r.id) >= 300),
        90_000,
        logs,
      );
      const cancelOut = await cli('runs', 'cancel', String(other.id), '--store', file);
      expect(cancelOut.join('\n')).toMatch(new RegExp(`scancel --signal=USR1 --batch ${job}_${other.launcherTask}`));
      await until('every run finished', () => ids.every((id) => ['completed', 'cancelled', 'failed'].includes(store.getRun(id)!.status)), 120_000, logs);

      const v = store.getRun(victim.id)!;
      expect(v, logs()).toMatchObject({ status: 'completed', launcherJob: job });
      expect(v.launcherTask).not.toBe(killedTask); // taken over by the other task
      expect(v.leaseEpoch).toBeGreaterThanOrEqual(2);
      // Every step once: the resumed attempt re-logged only what came after its checkpoint.
      const hist = store.getMetricHistory(victim.id, 'noop/value').map((p) => p.step);
      expect(hist).toEqual(Array.from({ length: STEPS }, (_, i) => i + 1));
      // It resumed from a checkpoint at most one checkpoint interval before the step it had reached.
      const resumed = [...logs().matchAll(new RegExp(`run ${victim.id}: resuming from the checkpoint of step (\\d+)`, 'g'))].map((m) => Number(m[1]));
      expect(resumed.length, logs()).toBeGreaterThanOrEqual(1);
      expect(resumed[0]).toBeGreaterThanOrEqual(stepAtKill - EVERY);

      const c = store.getRun(other.id)!;
      expect(c.status, logs()).toBe('cancelled');
      expect(store.latestCheckpoint(other.id)?.step ?? 0).toBeGreaterThan(0); // checkpointed before stopping
      expect(logs()).toMatch(/SIGUSR1 received, stopping the current run/);
      // That task went on: every other run completed.
      for (const id of ids.filter((i) => i !== other.id)) expect(store.getRun(id)!.status, logs()).toBe('completed');
    } finally {
      await srv.app.close();
      store.close();
    }
  });

  it('reproduce from another host through the server: a server restart loses no worker, a task killed outright on another node on its last run is waited for (its lease), resubmitted and resumed; the table is complete', async () => {
    const { root, weights } = await inputs();
    const STEPS = 90; // the SSMB rows' runs: long enough to be caught mid-run
    const config = path.join(dir, 'faults.yaml');
    writeFileSync(config, stringify({
      name: 'slurm-faults',
      title: 'Slurm faults test',
      datasets: { synth: { root: null } },
      base: { backbone: { model: 'iresnet-tiny' }, steps: 3, batchSize: 4 },
      slurm: { cpus: 1, time: '10:00' },
      rows: [
        { id: 'baseline', label: 'Baseline', set: { method: 'baseline' } },
        { id: 'n2', label: 'SSMB N=2', set: { method: 'ssmb', 'ssmb.numExperts': 2, steps: STEPS, checkpointEvery: 15 } },
      ],
      columns: [
        { id: 'nir', label: 'VIS-NIR', dataset: 'synth', protocol: 'synthetic-vis-nir', folds: [1, 2] },
        { id: 'sketch', label: 'VIS-SKETCH', dataset: 'synth', protocol: 'synthetic-vis-sketch', folds: [1] },
      ],
    }));
    const file = path.join(dir, 'faults', 'runs.sqlite');
    let server = await serve(file);
    const port = Number(new URL(server.url).port);
    const view = RunStore.open(file);
    const logDir = path.join(dir, 'faults', 'slurm-logs');
    const timeline: string[] = [];
    let drained: string | null = null;
    const t0 = Date.now();
    const mark = (what: string) => timeline.push(`${((Date.now() - t0) / 1000).toFixed(1)} s ${what}`);
    // Three hosts: the server (this process), the submitting side under its own host name (no store: it
    // goes through the server), the tasks on node-a / node-b (each slurmd in its own UTS namespace).
    const child = spawn('unshare', ['-u', 'sh', '-c', 'hostname submit-host && exec "$@"', 'sh', SSMB_BIN, 'reproduce', '--config', config, '--root', `synth=${root}`,
      '--weights', weights, '--out', path.join(dir, 'faults', 'out'), '--launcher', 'slurm', '--server', server.url, '--tasks', '1',
      '--worker-lease-seconds', '10', '--slurm-log-dir', logDir], { env: { ...cluster.env, SSMB_TOKEN: TOKEN }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const logs = () => `--- timeline\n${timeline.join('\n')}\n--- reproduce\n${out}\n${taskLogs(logDir)()}`;
    /** The newest step a run logged (metrics arrive in batches; the run's step field only with heartbeats). */
    const steps = (id: number) => Math.max(0, ...Object.values(view.getLatestMetrics(id)).map((m) => m.step));
    try {
      const runs = await until('the 6 runs queued', () => { const r = view.listRuns({ experiment: 'table:slurm-faults' }); return r.length === 6 && r; }, 60_000, logs);
      const ids = runs.map((r) => r.id).sort((a, b) => a - b);
      mark('6 runs queued, array job submitted');
      // The server restarts while a training run is under way (same store, same token, a grace of one lease).
      await until('a training run under way', () => view.listRuns({ status: 'running', kind: 'train' }).find((r) => steps(r.id) >= 30), 120_000, logs);
      await server.srv.app.close();
      server.store.close();
      mark('server stopped');
      await new Promise((r) => setTimeout(r, 3000));
      server = await serve(file, { port, staleGraceMs: 10_000 });
      mark('server restarted');
      // The last run, with nothing else queued: kill its task outright (no checkpoint, no release).
      const victim = await until('the last run under way, the others completed', () => {
        const all = ids.map((id) => view.getRun(id)!);
        const running = all.filter((r) => r.status === 'running');
        return all.filter((r) => r.status === 'completed').length === 5 && running.length === 1 && running[0].launcherTask !== null && steps(running[0].id) >= 30 && running[0];
      }, 180_000, logs);
      const last = victim.id;
      // The task ran on another host than the server's and the client's: its slurmd's node, under that node's host name.
      const victimHost = victim.leaseOwner!.split(':')[0];
      expect(NODES.map((n) => n.name)).toContain(victimHost);
      expect(victimHost).not.toBe(hostname());
      // As if its node died: the worker (the task's batch step) is killed outright, it neither checkpoints nor
      // releases, and the node is drained (as a health check would), so no new task starts there.
      process.kill(Number(victim.leaseOwner!.split(':')[1]), 'SIGKILL');
      const drain = await runSlurmCommand('scontrol', ['update', `nodename=${victimHost}`, 'state=drain', 'reason=ssmb-test: the node died']);
      expect(drain.code, drain.stderr).toBe(0);
      drained = victimHost;
      mark(`worker of task ${victim.launcherJob}_${victim.launcherTask} on ${victimHost} killed (SIGKILL) at step ${steps(last)} of run ${last}; ${victimHost} drained`);
      let takenBy = '';
      const taken = await until('the run taken over (lease epoch 2)', () => {
        const r = view.getRun(last)!;
        if (r.leaseEpoch >= 2 && r.leaseOwner) takenBy = r.leaseOwner.split(':')[0];
        return r.leaseEpoch >= 2 && takenBy !== '' && r;
      }, 120_000, logs);
      mark(`run ${last} re-queued by the server (its lease ran out) and taken over by task ${taken.launcherJob}_${taken.launcherTask} on ${takenBy} at attempt ${taken.leaseEpoch}`);
      expect(takenBy).not.toBe(victimHost); // on the other node
      const code = await Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 180_000))]);
      mark(`reproduce exited ${code}`);
      expect(code, logs()).toBe(0);
      expect(out).toMatch(new RegExp(`no worker is left and run ${last} is held by ${victimHost}:\\d+:\\w+~[\\w-]+ \\(its lease runs out in \\d+ s\\): waiting`));
      expect(out).toMatch(/6 to run \(store of http:\/\/127\.0\.0\.1:\d+\)/); // planned and queued by the server: this client has no store
      const jobs = [...out.matchAll(/submitted Slurm array job (\d+)/g)].map((m) => m[1]);
      expect(jobs, out).toHaveLength(2); // the first, and one for the run once its lease ran out: none wasted before
      expect(out).not.toMatch(/INCOMPLETE/);
      const csv = readFileSync(path.join(dir, 'faults', 'out', 'slurm-faults.csv'), 'utf8');
      expect(csv.trim().split('\n')).toHaveLength(1 + 2 * 2 * 3); // rows x columns x metrics, every cell from a completed run
      const l = view.getRun(last)!;
      expect(l).toMatchObject({ status: 'completed', launcherJob: jobs[1] });
      expect(l.leaseEpoch).toBe(2);
      expect(logs()).toMatch(new RegExp(`run ${last}: resuming from the checkpoint of step \\d+`));
      // Every metric of every run once per step: nothing lost in the outage, nothing twice after the takeover.
      let rows = 0;
      for (const id of ids) {
        expect(view.getRun(id)!.status).toBe('completed');
        for (const key of view.metricKeys(id)) {
          const h = view.getMetricHistory(id, key).map((p) => p.step);
          rows += h.length;
          expect(new Set(h).size, `run ${id} ${key}`).toBe(h.length);
        }
      }
      const loss = view.metricKeys(last).map((k) => view.getMetricHistory(last, k).map((p) => p.step)).sort((a, b) => b.length - a.length)[0];
      expect(loss).toEqual(Array.from({ length: STEPS }, (_, i) => i + 1));
      mark(`${rows} metric rows in the store, 0 duplicates, 0 gaps in run ${last}; tasks ran on ${[...new Set([...logs().matchAll(/worker (node-[a-z]+):\d+/g)].map((m) => m[1]))].sort().join(', ')}`);
      console.log(`slurm faults timeline:\n  ${timeline.join('\n  ')}`);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${logs()}`);
    } finally {
      if (drained) await runSlurmCommand('scontrol', ['update', `nodename=${drained}`, 'state=resume']);
      if (child.exitCode === null) child.kill('SIGTERM');
      view.close();
      await server.srv.app.close();
      server.store.close();
    }
  }, 240_000);

  it('a client with no store (a second login node) drives a sweep through --server; tasks that would start only to exit are cancelled by the task that drains the queue', async () => {
    const file = path.join(dir, 'drain', 'runs.sqlite');
    const { srv, store, url } = await serve(file);
    const logDir = path.join(dir, 'drain', 'slurm-logs');
    vi.stubEnv('SSMB_TOKEN', TOKEN); // the token from the environment, as a user passes it (never argv)
    try {
      // One task per run (the default), 2 CPUs each on a 2-CPU node: one runs at a time, the others wait (as for a GPU).
      // No --store: queued through the server's API, which alone opens the store.
      const out = await cli('launch', '--kind', 'noop', '--experiment', 'drain', '--set', 'steps=50', '--grid', 'seed=1,2,3',
        '--launcher', 'slurm', '--server', url, '--cpus', '2', '--slurm-log-dir', logDir);
      expect(out[0]).toMatch(/^queued sweep \d+ with 3 runs: \d+ \d+ \d+$/);
      const job = /submitted Slurm array job (\d+) \(3 task/.exec(out.join('\n'))?.[1];
      expect(job, out.join('\n')).toBeDefined();
      await until('the array gone from the queue', async () => (await activeTasks([job!])) === 0, 90_000, taskLogs(logDir));
      expect(store.listRuns({ experiment: 'drain', kind: 'noop' }).map((r) => r.status)).toEqual(['completed', 'completed', 'completed']);
      const started = readdirSync(logDir).filter((f) => f.endsWith('.out'));
      expect(started, taskLogs(logDir)()).toEqual([`slurm-${job}_0.out`]); // tasks 1 and 2 never started
      expect(readFileSync(path.join(logDir, started[0]), 'utf8')).toMatch(`no run is queued: cancelled the pending tasks of array job ${job} (scancel --state=PENDING ${job})`);
      // The same client follows and manages the runs through the server.
      const listed = (await cli('runs', 'list', '--server', url, '--experiment', 'drain')).join('\n');
      expect(listed.match(new RegExp(`completed  noop .* slurm ${job}_0  `, 'g')), listed).toHaveLength(3);
      const first = /: (\d+)/.exec(out[0])![1];
      vi.stubEnv('SSMB_TOKEN', 'wrong-token-of-16-chars');
      await expect(cli('runs', 'cancel', first, '--server', url)).rejects.toThrow(`the tracking server ${url} answered POST /api/runs/${first}/cancel with 401 TOKEN_INVALID`);
      vi.stubEnv('SSMB_TOKEN', TOKEN);
      await expect(cli('runs', 'cancel', first, '--server', url)).rejects.toThrow(`answered POST /api/runs/${first}/cancel with 409 RUN_STATE`); // finished: nothing to cancel
      await expect(cli('runs', 'list', '--server', url, '--experiment', 'nope')).rejects.toThrow(`--experiment nope: the tracking server ${url} has no such experiment; it has: drain`);
    } finally {
      vi.unstubAllEnvs();
      await srv.app.close();
      store.close();
    }
  });
});
