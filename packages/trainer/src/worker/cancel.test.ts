// A user's cancel (RunStore.requestCancel, what the dashboard's Cancel button sends) reaches the worker
// running the run in another process: it checkpoints, stops and marks the run cancelled, and takes the
// next queued run.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { resolveConfig } from '../config.ts';
import { launchRun } from '../launch.ts';
import { RunStore } from '../store/run_store.ts';

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'worker-cancel-'));
  file = path.join(dir, 'runs.sqlite');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('worker and cancel requests', () => {
  it('the worker notices the request, checkpoints, marks the run cancelled and goes on to the next run', async () => {
    const store = RunStore.open(file);
    const long = launchRun(store, resolveConfig({ sets: ['steps=100000'] }), { experiment: 'q', kind: 'noop' });
    const next = launchRun(store, resolveConfig({ sets: ['steps=5'] }), { experiment: 'q', kind: 'noop' });
    const url = pathToFileURL(path.join(import.meta.dirname, 'worker.ts')).href;
    const script = `const { runWorker, silentProgress } = await import(${JSON.stringify(url)});
      const s = await runWorker({ store: ${JSON.stringify(file)}, untilEmpty: true, progress: silentProgress, log: () => {}, owner: 'W' });
      process.stdout.write(JSON.stringify(s));`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    while (store.getRun(long)!.step < 10) await new Promise((r) => setTimeout(r, 50));
    expect(store.requestCancel(long)).toBe('requested');
    expect(await exited).toBe(0);
    const summary = JSON.parse(out);
    expect(summary.cancelled).toEqual([long]);
    expect(summary.completed).toEqual([next]);
    const run = store.getRun(long)!;
    expect(run).toMatchObject({ status: 'cancelled', leaseOwner: null });
    expect(run.step).toBeLessThan(100000);
    // The checkpoint at the stop step is kept (a requeue resumes from it).
    expect(store.latestCheckpoint(long)!.step).toBe(run.step);
    store.close();
  });
});
