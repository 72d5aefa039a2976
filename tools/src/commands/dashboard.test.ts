import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { RunStore } from '@ssmb/trainer';
import { register, serveDashboard } from './dashboard.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'ssmb-dash-cmd-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ssmb dashboard serve', () => {
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

  it('registers `dashboard serve` with its options and rejects a bad port', () => {
    const program = new Command().exitOverride();
    register(program);
    const serve = program.commands.find((c) => c.name() === 'dashboard')!.commands.find((c) => c.name() === 'serve')!;
    expect(serve.options.map((o) => o.long)).toEqual(['--store', '--port', '--host', '--token']);
    serve.action(() => {});
    expect(() => program.parse(['dashboard', 'serve', '--port', 'x'], { from: 'user' })).toThrow(/--port must be an integer/);
  });
});
