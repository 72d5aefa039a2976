import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { RunStore } from '@ssmb/trainer';
import { ERRORS } from '@ssmb/dashboard';
import { buildProgram } from '../cli.ts';
import { register, serveDashboard } from './dashboard.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'ssmb-dash-cmd-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ssmb dashboard', () => {
  it('serves the API over a store and enforces the given token for writes', async () => {
    const file = path.join(dir, 'runs.sqlite');
    const s = RunStore.open(file);
    const id = s.createRun({ experiment: 'cli', kind: 'noop', config: {}, seed: 0, name: 'from cli test' });
    s.close();
    const lines: string[] = [];
    const d = await serveDashboard({ store: file, host: '127.0.0.1', port: 0, token: 'sekret', build: false, log: (l) => lines.push(l) });
    try {
      expect(lines[0]).toMatch(/^dashboard: http:\/\/127\.0\.0\.1:\d+ {2}\(store /);
      expect(lines[1]).toBe('token: sekret');
      const runs = await (await fetch(`${d.url}/api/runs`)).json();
      expect(runs.runs.map((r: { name: string }) => r.name)).toEqual(['from cli test']);
      const put = (auth?: string) =>
        fetch(`${d.url}/api/runs/${id}/tags`, { method: 'PUT', headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) }, body: '{"key":"k"}' });
      expect((await put()).status).toBe(401);
      expect((await put('Bearer sekret')).status).toBe(200);
    } finally {
      await d.close();
    }
  });

  it('registers `dashboard` (and `dashboard serve`, and `serve`) with the same options; repeatable roots; bad numbers refused', () => {
    const program = new Command().exitOverride();
    register(program);
    const dash = program.commands.find((c) => c.name() === 'dashboard')!;
    const serve = dash.commands.find((c) => c.name() === 'serve')!;
    const tracking = program.commands.find((c) => c.name() === 'serve')!;
    const flags = ['--store', '--port', '--host', '--token', '--allow-host', '--output-root', '--data-root', '--weights-root', '--max-sweep-runs', '--tables', '--stale-grace-seconds'];
    expect(dash.options.map((o) => o.long)).toEqual(flags);
    expect(serve.options.map((o) => o.long)).toEqual(flags);
    expect(tracking.options.map((o) => o.long)).toEqual(flags);
    const seen: Record<string, unknown>[] = [];
    dash.action((o) => void seen.push(o));
    serve.action((o) => void seen.push(o));
    program.parse(['dashboard', '--data-root', '/a', '--data-root', '/b', '--weights-root', '/w', '--max-sweep-runs', '10'], { from: 'user' });
    program.parse(['dashboard', 'serve', '--store', 'x.sqlite', '--output-root', '/o'], { from: 'user' });
    expect(seen[0]).toMatchObject({ dataRoot: ['/a', '/b'], weightsRoot: ['/w'], maxSweepRuns: 10, port: 7077 });
    expect(seen[1]).toMatchObject({ store: 'x.sqlite', outputRoot: ['/o'] });
    expect(() => program.parse(['dashboard', '--port', 'x'], { from: 'user' })).toThrow(/--port must be an integer/);
    expect(() => program.parse(['dashboard', '--max-sweep-runs', '0'], { from: 'user' })).toThrow(/--max-sweep-runs must be a positive integer/);
  });

  it('refuses a store file that does not exist instead of creating an empty one', async () => {
    const missing = path.join(dir, 'typo.sqlite');
    await expect(serveDashboard({ store: missing, host: '127.0.0.1', port: 0, build: false, log: () => {} })).rejects.toThrow(/run store .*typo\.sqlite does not exist: pass --store FILE.*`ssmb serve --store /);
    expect(existsSync(missing)).toBe(false);
  });

  it('`ssmb serve` (the tracking server, started first on a cluster) creates a missing store and its folder; `ssmb dashboard` does not', async () => {
    const program = new Command().exitOverride();
    register(program);
    const storeFlag = (c: Command | undefined) => c!.options.find((o) => o.long === '--store')!.description;
    expect(storeFlag(program.commands.find((c) => c.name() === 'serve'))).toMatch(/created with its folder when missing/);
    expect(storeFlag(program.commands.find((c) => c.name() === 'dashboard'))).not.toMatch(/created/);
    const fresh = path.join(dir, 'fresh', 'sub', 'runs.sqlite');
    const d = await serveDashboard({ store: fresh, create: true, host: '127.0.0.1', port: 0, build: false, log: () => {} });
    try {
      expect(await (await fetch(`${d.url}/api/runs`)).json()).toMatchObject({ runs: [] });
    } finally {
      await d.close();
    }
    const s = RunStore.open(fresh, { mustExist: true });
    expect(s.listRuns()).toEqual([]);
    s.close();
  });

  it('every `ssmb` command and flag named in the dashboard\'s error messages exists', async () => {
    const program = await buildProgram();
    const named = Object.values(ERRORS).flatMap((e) => [...e.message.matchAll(/`ssmb ([^`]+)`/g)].map((m) => m[1]));
    expect(named.length).toBeGreaterThan(3);
    for (const line of named) {
      const words = line.split(/\s+/);
      let cmd: Command = program;
      while (words.length && !words[0].startsWith('-')) {
        const next = cmd.commands.find((c) => c.name() === words[0]);
        if (!next) break;
        cmd = next;
        words.shift();
      }
      expect(cmd, line).not.toBe(program);
      for (const flag of words.filter((w) => w.startsWith('--'))) expect(cmd.options.map((o) => o.long), `${line}: ${flag}`).toContain(flag);
    }
  });
});
