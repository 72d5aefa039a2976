import { afterAll, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { RunStore } from '@ssmb/trainer';
import { ERRORS } from '@ssmb/dashboard';
import { buildProgram } from '../cli.ts';
import { register, serveDashboard } from './dashboard.ts';
import { readToken } from '../token.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'ssmb-dash-cmd-'));
const TOKEN = 'dashboard-cli-test-token';
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ssmb dashboard', () => {
  it('serves the API over a store and enforces the given token for writes', async () => {
    const file = path.join(dir, 'runs.sqlite');
    const s = RunStore.open(file);
    const id = s.createRun({ experiment: 'cli', kind: 'noop', config: {}, seed: 0, name: 'from cli test' });
    s.close();
    const lines: string[] = [];
    const d = await serveDashboard({ store: file, host: '127.0.0.1', port: 0, token: TOKEN, build: false, log: (l) => lines.push(l) });
    try {
      expect(lines[0]).toMatch(/^dashboard: http:\/\/127\.0\.0\.1:\d+ {2}\(store /);
      expect(lines[1]).toBe(`token: ${TOKEN}`);
      const runs = await (await fetch(`${d.url}/api/runs`)).json();
      expect(runs.runs.map((r: { name: string }) => r.name)).toEqual(['from cli test']);
      const put = (auth?: string) =>
        fetch(`${d.url}/api/runs/${id}/tags`, { method: 'PUT', headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) }, body: '{"key":"k"}' });
      expect((await put()).status).toBe(401);
      expect((await put(`Bearer ${TOKEN}`)).status).toBe(200);
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
    const flags = [
      '--store', '--port', '--host', '--token-file', '--token', '--allow-host', '--output-root', '--data-root', '--weights-root', '--max-sweep-runs', '--tables',
      '--run-upload-quota-gb', '--stale-grace-seconds',
    ];
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

  it('the token: from SSMB_TOKEN or a private --token-file, never argv; at least 16 characters; a generated one survives a restart', async () => {
    const program = new Command().exitOverride();
    register(program);
    program.commands.forEach((c) => c.action(() => {}));
    for (const cmd of [['serve'], ['dashboard'], ['dashboard', 'serve']]) {
      expect(() => program.parse([...cmd, '--token', TOKEN], { from: 'user' }), cmd.join(' ')).toThrow(/--token puts the token on the command line.*SSMB_TOKEN.*--token-file FILE/);
    }
    expect(readToken({}, { SSMB_TOKEN: ` ${TOKEN}\n` })).toBe(TOKEN);
    expect(readToken({}, {})).toBeNull();
    const f = path.join(dir, 'token.txt');
    writeFileSync(f, `${TOKEN}\n`, { mode: 0o644 });
    chmodSync(f, 0o644);
    expect(() => readToken({ tokenFile: f }, {})).toThrow(/--token-file .*token\.txt has mode 0644: other users can read it; expected 0600/);
    chmodSync(f, 0o600);
    expect(readToken({ tokenFile: f }, { SSMB_TOKEN: 'from-the-environment' })).toBe(TOKEN);
    expect(() => readToken({ tokenFile: path.join(dir, 'nope') }, {})).toThrow(/--token-file .*nope does not exist/);
    const file = path.join(dir, 'persist', 'runs.sqlite');
    mkdirSync(path.dirname(file));
    RunStore.open(file).close();
    await expect(serveDashboard({ store: file, host: '127.0.0.1', port: 0, token: 'short', build: false, log: () => {} })).rejects.toThrow(/at least 16 characters, received 5/);
    const tokens: string[] = [];
    for (let i = 0; i < 2; i++) {
      const lines: string[] = [];
      const d = await serveDashboard({ store: file, host: '0.0.0.0', port: 0, build: false, log: (l) => lines.push(l) });
      await d.close();
      tokens.push(d.token!);
      expect(lines.join('\n')).toContain(`(generated; kept for restarts in ${path.join(path.dirname(file), 'server-secrets.json')}, mode 0600)`);
    }
    expect(tokens[1]).toBe(tokens[0]);
    const secrets = path.join(path.dirname(file), 'server-secrets.json');
    expect(statSync(secrets).mode & 0o777).toBe(0o600);
    chmodSync(secrets, 0o644); // widened by hand: refused, not used
    await expect(serveDashboard({ store: file, host: '0.0.0.0', port: 0, build: false, log: () => {} })).rejects.toThrow(/secrets file .* has mode 0644/);
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
