import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Command } from 'commander';
import Database from 'better-sqlite3';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createServer, type AddressInfo } from 'node:net';
import { RunStore, SCHEMA_VERSION } from '@ssmb/trainer';
import * as launch from './launch.ts';
import * as resume from './resume.ts';
import * as runs from './runs.ts';
import * as store from './store.ts';
import * as worker from './worker.ts';

let dir: string;
let file: string;
let out: string[];
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'cli-'));
  file = path.join(dir, 'runs.sqlite');
  out = [];
  vi.spyOn(console, 'log').mockImplementation((...a) => void out.push(a.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...a) => void out.push(a.join(' ')));
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => (out.push(String(chunk).trimEnd()), true));
  process.exitCode = undefined;
});
afterEach(() => {
  vi.restoreAllMocks();
  process.exitCode = undefined;
  rmSync(dir, { recursive: true, force: true });
});

async function ssmb(...args: string[]): Promise<void> {
  const program = new Command('ssmb').exitOverride();
  for (const m of [launch, worker, resume, runs, store]) m.register(program);
  await program.parseAsync(args, { from: 'user' });
}

describe('ssmb launch / worker / runs / resume / store', () => {
  it('queues a sweep, works it off, lists and shows runs', async () => {
    await ssmb('launch', '--store', file, '--kind', 'noop', '--set', 'steps=3', '--grid', 'ssmb.numExperts=1,2', '--grid', 'seed=0,1');
    expect(out.at(-1)).toMatch(/^queued sweep 1 with 4 runs: 2 3 4 5$/);
    await ssmb('worker', '--store', file, '--until-empty', '--quiet');
    expect(out.at(-1)).toMatch(/completed 4, failed 0/);
    out = [];
    await ssmb('runs', 'list', '--store', file);
    expect(out).toHaveLength(5);
    expect(out[0]).toMatch(/^\s+5\s+completed\s+noop/);
    out = [];
    await ssmb('runs', 'show', '3', '--store', file);
    const shown = JSON.parse(out.join('\n'));
    expect(shown).toMatchObject({ id: 3, status: 'completed', params: { 'ssmb.numExperts': '1', seed: '1' } });
    expect(shown.latest['noop/value'].value).toBe(3);
  });

  it('rejects an invalid config without creating a run', async () => {
    await expect(ssmb('launch', '--store', file, '--set', 'ssmb.numExperts=lots')).rejects.toThrow(/config key `ssmb.numExperts`: expected number/);
    await expect(ssmb('launch', '--store', file, '--grid', 'optim.shedule=cosine')).rejects.toThrow(/unknown config key `optim.shedule`/);
    const s = RunStore.open(file);
    expect(s.listRuns()).toEqual([]);
    s.close();
  });

  it('rejects an unknown expert kind or router option at launch, naming the valid ones; creates no run', async () => {
    await expect(ssmb('launch', '--store', file, '--set', 'ssmb.expertKind=mlp')).rejects.toThrow(
      'config key `ssmb.expertKind`: expected one of "style", "style+spatial", "affine", "affine+spatial", got "mlp"');
    await expect(ssmb('launch', '--store', file, '--grid', 'ssmb.routing=top1,top2')).rejects.toThrow('config key `ssmb.routing`: expected one of "top1", "soft", got "top2"');
    await expect(ssmb('launch', '--store', file, '--set', 'ssmb.routerInput=sigma')).rejects.toThrow('config key `ssmb.routerInput`: expected one of "style", "mean", got "sigma"');
    await expect(ssmb('launch', '--store', file, '--set', 'ssmb.expertKind=affine', '--set', 'ssmb.hiddenWidth=32')).rejects.toThrow(/expert kind affine has no hidden layer/);
    const s = RunStore.open(file);
    expect(s.listRuns()).toEqual([]);
    s.close();
  });

  it('a failing run makes the worker exit non-zero with the message; resume re-runs it', async () => {
    const root = path.join(dir, 'data');
    mkdirSync(root);
    await ssmb('launch', '--store', file, '--set', `dataset.root=${root}`, '--set', 'steps=2');
    rmSync(root, { recursive: true }); // gone after launch checked it: the worker names it
    await ssmb('worker', '--store', file, '--until-empty', '--quiet');
    expect(process.exitCode).toBe(1);
    expect(out.join('\n')).toMatch(new RegExp(`run 1 failed: run 1: on host [^,]+, dataset.root ${root} does not exist`));
    process.exitCode = undefined;
    await ssmb('resume', '1', '--store', file, '--quiet');
    expect(process.exitCode).toBe(1);
    const s = RunStore.open(file);
    expect(s.getRun(1)).toMatchObject({ status: 'failed', attempts: 1 });
    s.close();
    await expect(ssmb('resume', 'x1', '--store', file)).rejects.toThrow(/RUN_ID must be a run number/);
    await expect(ssmb('resume', '99', '--store', file)).rejects.toThrow(/run 99 does not exist/);
  });

  it('launch checks the dataset root, the weights and the --init-from file before queueing anything', async () => {
    const root = path.join(dir, 'data');
    const weights = path.join(dir, 'w.safetensors');
    const init = path.join(dir, 'run-1', 'step-00000010.ckpt');
    const args = ['--set', `dataset.root=${root}`, '--set', `backbone.weights=${weights}`, '--init-from', init];
    const err = await ssmb('launch', '--store', file, ...args).then(() => null, (e: Error) => e);
    expect(err?.message).toBe(
      'launch: 3 problem(s) found before queueing; nothing was queued:\n' +
        `  - config key \`dataset.root\`: root ${root} does not exist or is not a directory (pass --set dataset.root=DIR)\n` +
        `  - config key \`backbone.weights\`: weights file ${weights} does not exist (pass --set backbone.weights=FILE, or null for random weights)\n` +
        `  - --init-from: file ${init} does not exist (pass the checkpoint or weights file to start from)`,
    );
    await expect(ssmb('launch', '--store', file, '--set', `dataset.root=${dir}`, '--set', 'dataset.protocol=casia-nir-vis-typo')).rejects.toThrow(
      'config key `dataset.protocol`: protocol "casia-nir-vis-typo" is not registered',
    );
    // a sweep checks every child (here the second root of the grid)
    await expect(ssmb('launch', '--store', file, '--grid', `dataset.root=${dir},${root}`)).rejects.toThrow(`root ${root} does not exist`);
    expect(existsSync(file)).toBe(false);
    mkdirSync(root);
    writeFileSync(weights, 'present');
    await ssmb('launch', '--store', file, '--set', `dataset.root=${root}`, '--set', `backbone.weights=${weights}`);
    expect(out.at(-1)).toBe('queued run 1');
  });

  it('read and run commands never create a store: a typo names the path', async () => {
    const typo = path.join(dir, 'typo.sqlite');
    for (const cmd of [['runs', 'list'], ['runs', 'show', '1'], ['runs', 'cancel', '1'], ['runs', 'tag', '1', 'k', 'v'], ['store', 'check'], ['resume', '1']]) {
      await expect(ssmb(...cmd, '--store', typo), cmd.join(' ')).rejects.toThrow(`run store ${typo} does not exist`);
    }
    expect(existsSync(typo)).toBe(false);
    writeFileSync(typo, 'just some text, not SQLite\n'.repeat(50));
    await expect(ssmb('runs', 'list', '--store', typo)).rejects.toThrow(`${typo} is not an SQLite database, so not a run store`);
  });

  it('--store or --server: neither, both, or what the server\'s launch API cannot take is refused, naming the flags; nothing is queued', async () => {
    const saved = process.env.SSMB_SERVER;
    delete process.env.SSMB_SERVER;
    try {
      await expect(ssmb('launch', '--kind', 'noop')).rejects.toThrow('ssmb launch needs --store FILE (a store on this machine) or --server URL');
      await expect(ssmb('runs', 'list')).rejects.toThrow('ssmb runs list needs --store FILE (a store on this machine) or --server URL');
      await expect(ssmb('runs', 'cancel', '1', '--store', file, '--server', 'http://127.0.0.1:9')).rejects.toThrow('ssmb runs cancel: pass --store FILE (this machine\'s store) or --server URL (the tracking server that owns it), not both');
      await expect(ssmb('runs', 'show', '1', '--server', 'login1:7077')).rejects.toThrow('--server must be an http:// or https:// URL, received "login1:7077"');
      const cfg = path.join(dir, 'c.yaml');
      writeFileSync(cfg, 'steps: 3\n');
      await expect(ssmb('launch', '--kind', 'noop', '--server', 'http://127.0.0.1:9', '-c', cfg, '--work')).rejects.toThrow(
        'ssmb launch --server: --config (pass the values with --set), --work (start `ssmb worker --server URL` instead) need --store',
      );
      const port = await new Promise<number>((resolve) => {
        const srv = createServer().listen(0, '127.0.0.1', () => {
          const p = (srv.address() as AddressInfo).port;
          srv.close(() => resolve(p));
        });
      });
      await expect(ssmb('runs', 'list', '--server', `http://127.0.0.1:${port}`)).rejects.toThrow(`the tracking server http://127.0.0.1:${port} does not answer (ECONNREFUSED): is \`ssmb serve\` running there?`);
    } finally {
      if (saved !== undefined) process.env.SSMB_SERVER = saved;
    }
    expect(existsSync(file)).toBe(false);
  });

  it('resume --lease-seconds sets the lease the resumed run is held with', async () => {
    await ssmb('launch', '--store', file, '--kind', 'noop', '--set', 'steps=150');
    const s = RunStore.open(file);
    const leases: number[] = [];
    const poll = setInterval(() => {
      const r = s.getRun(1)!;
      if (r.status === 'running' && r.leaseExpiresAt && r.heartbeatAt) leases.push(r.leaseExpiresAt - r.heartbeatAt);
    }, 5);
    try {
      await ssmb('resume', '1', '--store', file, '--lease-seconds', '7', '--quiet');
    } finally {
      clearInterval(poll);
    }
    expect(s.getRun(1)!.status).toBe('completed');
    expect(leases.length).toBeGreaterThan(0);
    expect(new Set(leases)).toEqual(new Set([7000]));
    s.close();
    await expect(ssmb('resume', '1', '--store', file, '--lease-seconds', '0')).rejects.toThrow('--lease-seconds must be a positive number of seconds, got 0');
  });

  it('store migrate upgrades an old store; opening it before says what to run', async () => {
    RunStore.open(file).close();
    const raw = new Database(file);
    raw.exec('DROP TABLE artifacts; UPDATE schema_version SET version = 0');
    raw.close();
    await expect(ssmb('runs', 'list', '--store', file)).rejects.toThrow(`run \`ssmb store migrate --store ${file}\``);
    const raw2 = new Database(file);
    // every table but the version: a store from before any migration (whatever tables later versions add)
    const tables = (raw2.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT IN ('schema_version') AND name NOT LIKE 'sqlite_%'").all() as { name: string }[]).map((r) => r.name);
    raw2.pragma('foreign_keys = OFF');
    for (const t of tables) raw2.exec(`DROP TABLE ${t}`);
    raw2.close();
    await ssmb('store', 'migrate', '--store', file);
    expect(out.at(-1)).toMatch(new RegExp(`migrated schema 0 -> ${SCHEMA_VERSION}\\b`));
    await ssmb('store', 'check', '--store', file);
    expect(out.at(-1)).toMatch(new RegExp(`schema version ${SCHEMA_VERSION}, integrity ok`));
  });
});
