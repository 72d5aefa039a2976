import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { resolveConfig } from '../config.ts';
import { launchRun, launchSweep } from '../launch.ts';
import { RunStore } from '../store/run_store.ts';
import { runWorker, silentProgress } from './worker.ts';

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'worker-'));
  file = path.join(dir, 'runs.sqlite');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const noop = (steps: number) => resolveConfig({ sets: [`steps=${steps}`] });

/** Runs a worker in its own node process; resolves with its exit code and stdout (the JSON summary). */
function workerProcess(extra: Record<string, unknown>): { done: Promise<{ code: number | null; out: string }>; kill: (sig: NodeJS.Signals) => void } {
  const url = pathToFileURL(path.join(import.meta.dirname, 'worker.ts')).href;
  const script = `const { runWorker, silentProgress } = await import(${JSON.stringify(url)});
    const s = await runWorker({ store: ${JSON.stringify(file)}, untilEmpty: true, progress: silentProgress, log: () => {}, ...${JSON.stringify(extra)} });
    process.stdout.write(JSON.stringify(s));`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  return { done: new Promise((resolve) => child.on('exit', (code) => resolve({ code, out }))), kill: (sig) => child.kill(sig) };
}

describe('worker', () => {
  it('two worker processes claim each of 20 queued runs exactly once', async () => {
    const store = RunStore.open(file);
    // ~40 steps of >= 2 ms each: the queue outlasts the start-up skew of two node processes on a loaded machine.
    const ids = Array.from({ length: 20 }, (_, i) => launchRun(store, noop(40 + (i % 3)), { experiment: 'q', kind: 'noop' }));
    store.close();
    const [a, b] = [workerProcess({ owner: 'A' }), workerProcess({ owner: 'B' })];
    const [ra, rb] = await Promise.all([a.done, b.done]);
    expect(ra.code).toBe(0);
    expect(rb.code).toBe(0);
    const sa = JSON.parse(ra.out).completed as number[];
    const sb = JSON.parse(rb.out).completed as number[];
    expect([...sa, ...sb].sort((x, y) => x - y)).toEqual(ids);
    expect(sa.length).toBeGreaterThan(0);
    expect(sb.length).toBeGreaterThan(0);
    const s2 = RunStore.open(file);
    for (const id of ids) {
      const r = s2.getRun(id)!;
      expect(r).toMatchObject({ status: 'completed', attempts: 1 });
      expect(s2.getMetricHistory(id, 'noop/value')).toHaveLength(r.totalSteps!);
    }
    expect(s2.integrityCheck()).toBe('ok');
    s2.close();
  });

  it('SIGTERM checkpoints and releases the run; the next worker finishes it', async () => {
    const store = RunStore.open(file);
    const id = launchRun(store, noop(500), { experiment: 'q', kind: 'noop' });
    store.close();
    const w = workerProcess({ owner: 'A', heartbeatMs: 50 });
    const s = RunStore.open(file);
    while (s.getRun(id)!.step < 20) await new Promise((r) => setTimeout(r, 50));
    w.kill('SIGTERM');
    const r = await w.done;
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).released).toEqual([id]);
    const released = s.getRun(id)!;
    expect(released).toMatchObject({ status: 'queued', leaseOwner: null, attempts: 0 });
    const stoppedAt = s.latestCheckpoint(id)!.step;
    expect(stoppedAt).toBeGreaterThan(0);
    const sum = await runWorker({ store: s, untilEmpty: true, progress: silentProgress, log: () => {}, handleSignals: false });
    expect(sum.completed).toEqual([id]);
    expect(s.getMetricHistory(id, 'noop/value')).toHaveLength(500);
    s.close();
  });

  it('fails a run whose stored config is invalid, leaving other runs untouched', async () => {
    const store = RunStore.open(file);
    const good = launchRun(store, noop(3), { experiment: 'q', kind: 'noop' });
    store.completeRun(store.claimRun('x', 1000)!.id, 'x');
    const bad = store.createRun({ experiment: 'q', kind: 'noop', config: { ssmb: { numExperts: 'many' } }, seed: 0 });
    const sum = await runWorker({ store, untilEmpty: true, progress: silentProgress, log: () => {}, handleSignals: false });
    expect(sum.failed).toEqual([{ id: bad, error: expect.stringMatching(/config key `ssmb.numExperts`: expected number/) }]);
    expect(store.getRun(bad)).toMatchObject({ status: 'failed', error: expect.stringContaining('ssmb.numExperts') });
    expect(store.getRun(good)!.status).toBe('completed');
    store.close();
  });

  it('launches a sweep whose fold=all expands per fold', async () => {
    const store = RunStore.open(file);
    const base = noop(2);
    const { parentId, childIds } = await launchSweep(store, base, ['ssmb.numExperts=1,2', 'dataset.fold=all'], () => ['1', '2', '3'], { experiment: 's', kind: 'noop' });
    expect(childIds).toHaveLength(6);
    expect(store.getRun(childIds[5])!.config).toMatchObject({ ssmb: { numExperts: 2 }, dataset: { fold: '3' } });
    expect(store.getRun(childIds[0])!.name).toBe('ssmb.numExperts=1 dataset.fold=1');
    expect(store.getParams(childIds[3])['ssmb.numExperts']).toBe('2');
    await runWorker({ store, untilEmpty: true, progress: silentProgress, log: () => {}, handleSignals: false });
    expect(store.getRun(parentId)!.status).toBe('completed');
    store.close();
  });
});

describe('launchSweep', () => {
  it('gives each child the kind and method of its own config (a grid over method)', async () => {
    const store = RunStore.open(file);
    const { childIds } = await launchSweep(store, noop(2), ['method=baseline,ssmb'], () => ['1'], { experiment: 's' });
    expect(childIds.map((id) => [store.getRun(id)!.kind, store.getRun(id)!.method])).toEqual([
      ['evaluate', 'baseline'],
      ['train', 'ssmb'],
    ]);
    store.close();
  });
});

describe('input paths on the node', () => {
  it('a dataset root or weights file missing on this node fails the run naming the host and the paths, before it starts', async () => {
    const store = RunStore.open(file);
    const root = path.join(dir, 'not-mounted', 'casia');
    const weights = path.join(dir, 'not-mounted', 'r50.safetensors');
    const id = launchRun(store, resolveConfig({ sets: [`dataset.root=${root}`, `backbone.weights=${weights}`, 'method=baseline'] }), { experiment: 'p', kind: 'evaluate' });
    const other = launchRun(store, noop(3), { experiment: 'p', kind: 'noop' });
    const s = await runWorker({ store, untilEmpty: true, progress: silentProgress, log: () => {} });
    expect(s.completed).toEqual([other]);
    expect(s.failed).toEqual([
      {
        id,
        error: `run ${id}: on host ${hostname()}, dataset.root ${root} and backbone.weights ${weights} do not exist; a run reads its datasets and weights at the absolute paths resolved where it was queued: put them on storage every node mounts at the same path`,
      },
    ]);
    expect(store.requireRun(id)).toMatchObject({ status: 'failed', step: 0 });
    store.close();
  });
});
