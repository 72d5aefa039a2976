import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { resolveConfig } from '../config.ts';
import { launchRun } from '../launch.ts';
import { RunStore } from '../store/run_store.ts';
import { expandGrid } from './grid.ts';
import { planGrid } from './resume.ts';
import { cancelStaleQueued, enqueuePlan, ownerIsDeadLocal, reclaimDeadLeases, runQueue, type GridProgress } from './run_grid.ts';
import { demoTable, foldsOf } from './fixtures.test-helpers.ts';

const tmpStore = () => path.join(mkdtempSync(path.join(tmpdir(), 'ssmb-rungrid-')), 'runs.sqlite');

describe('enqueuePlan', () => {
  it('launches missing entries once, re-queues failed runs, and a second plan sees them pending', () => {
    const store = RunStore.open(tmpStore());
    const grid = expandGrid(demoTable(), { roots: { synth: '/d' }, weights: '/w', foldsOf });
    const plan = planGrid(grid, store.listRuns());
    const first = enqueuePlan(store, plan, 'table:demo');
    expect(first.launched).toHaveLength(7);
    expect(store.requireRun(first.launched[0])).toMatchObject({ kind: 'evaluate', method: 'baseline', status: 'queued' });
    expect(store.requireRun(first.launched[2])).toMatchObject({ kind: 'train', method: 'ssmb', name: 'SSMB N=2 / VIS-NIR / fold 1' });
    store.failRun(first.launched[2], 'boom');
    const again = planGrid(grid, store.listRuns());
    expect(again.filter((p) => p.state === 'pending')).toHaveLength(6);
    const second = enqueuePlan(store, again, 'table:demo');
    expect(second).toEqual({ launched: [], requeued: [first.launched[2]] });
    expect(store.listRuns()).toHaveLength(7);
    store.close();
  });
});

describe('cancelStaleQueued', () => {
  it('cancels queued runs of the experiment that the plan does not keep, nothing else', () => {
    const store = RunStore.open(tmpStore());
    const cfg = resolveConfig({ sets: ['steps=3'] });
    const [a, b, c] = [0, 1, 2].map(() => launchRun(store, cfg, { experiment: 'table:demo', kind: 'noop' }));
    const other = launchRun(store, cfg, { experiment: 'mine', kind: 'noop' });
    store.claimRun('w', 60_000, { runId: c });
    expect(cancelStaleQueued(store, 'table:demo', [a])).toEqual([b]);
    expect([a, b, c, other].map((id) => store.requireRun(id).status)).toEqual(['queued', 'cancelled', 'running', 'queued']);
    store.close();
  });
});

describe('reclaimDeadLeases', () => {
  it('re-queues runs held by dead local workers, never live ones', () => {
    const store = RunStore.open(tmpStore());
    const cfg = resolveConfig({ sets: ['steps=3'] });
    const a = launchRun(store, cfg, { experiment: 'x', kind: 'noop' });
    const b = launchRun(store, cfg, { experiment: 'x', kind: 'noop' });
    const live = `${hostname()}:${process.pid}:aa`;
    const dead = `${hostname()}:999999:bb`;
    expect(ownerIsDeadLocal(dead)).toBe(true);
    expect(ownerIsDeadLocal(live)).toBe(false);
    expect(ownerIsDeadLocal('otherhost:1:cc')).toBe(false);
    store.claimRun(dead, 60_000, { runId: a });
    store.claimRun(live, 60_000, { runId: b });
    expect(reclaimDeadLeases(store)).toEqual([]); // a live owner exists: leave every lease alone
    store.releaseRun(b, live);
    expect(reclaimDeadLeases(store)).toEqual([a]);
    expect(store.requireRun(a).status).toBe('queued');
    store.close();
  });
});

describe('runQueue', () => {
  it('drains the queue with two worker processes and reports progress', async () => {
    const file = tmpStore();
    const store = RunStore.open(file);
    const ids = [3, 4, 5, 6].map((s) => launchRun(store, resolveConfig({ sets: [`steps=${s}`] }), { experiment: 'x', kind: 'noop', name: `noop ${s}` }));
    const url = pathToFileURL(path.resolve(import.meta.dirname, '../worker/worker.ts')).href;
    const script = `const { runWorker, silentProgress } = await import(${JSON.stringify(url)});
      await runWorker({ store: ${JSON.stringify(file)}, untilEmpty: true, progress: silentProgress, log: () => {} });`;
    const reports: GridProgress[] = [];
    const res = await runQueue({
      store,
      runIds: ids,
      workers: 2,
      pollMs: 100,
      spawnWorker: () => spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: 'ignore' }),
      onProgress: (p) => reports.push(p),
    });
    expect(res.completed.sort()).toEqual([...ids].sort());
    expect(res.failed).toEqual([]);
    expect(reports.at(-1)).toMatchObject({ total: 4, completed: 4, failed: 0 });
    expect(reports.flatMap((r) => r.finished.map((f) => f.id)).sort()).toEqual([...ids].sort()); // each reported once
    expect(res.interrupted).toBe(false);
    store.close();
  });

  it('stops on request: workers release their runs, none is restarted, the runs can resume', async () => {
    const file = tmpStore();
    const store = RunStore.open(file);
    const id = launchRun(store, resolveConfig({ sets: ['steps=100000', 'checkpointEvery=10'] }), { experiment: 'x', kind: 'noop' });
    const url = pathToFileURL(path.resolve(import.meta.dirname, '../worker/worker.ts')).href;
    const script = `const { runWorker, silentProgress } = await import(${JSON.stringify(url)});
      await runWorker({ store: ${JSON.stringify(file)}, untilEmpty: true, progress: silentProgress, log: () => {} });`;
    const abort = new AbortController();
    let spawned = 0;
    const res = await runQueue({
      store,
      runIds: [id],
      workers: 1,
      pollMs: 100,
      spawnWorker: () => (spawned++, spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: 'ignore' })),
      onProgress: (p) => {
        if (p.running.length && p.running[0].step > 0) abort.abort();
      },
      signal: abort.signal,
    });
    expect(res.interrupted).toBe(true);
    expect(spawned).toBe(1);
    const run = store.requireRun(id);
    expect(run.status).toBe('queued'); // released, not failed: the next call resumes it
    expect(run.step).toBeGreaterThan(0);
    store.close();
  });
});

describe('runQueue with a run held by a worker on another host', () => {
  const workerScript = (file: string) => {
    const url = pathToFileURL(path.resolve(import.meta.dirname, '../worker/worker.ts')).href;
    return `const { runWorker, silentProgress } = await import(${JSON.stringify(url)});
      await runWorker({ store: ${JSON.stringify(file)}, untilEmpty: true, progress: silentProgress, log: () => {} });`;
  };

  it('waits for the lease of a dead remote worker instead of starting workers that find nothing queued, then finishes the run', async () => {
    const file = tmpStore();
    const store = RunStore.open(file);
    const held = launchRun(store, resolveConfig({ sets: ['steps=3'] }), { experiment: 'x', kind: 'noop' });
    // A worker on another host claimed the run and died: nothing on this machine can see that; its lease must run out.
    store.claimRun('otherhost:4242:dead', 1_500, { runId: held });
    const waits: string[] = [];
    let spawned = 0;
    const res = await runQueue({
      store,
      runIds: [held],
      workers: 1,
      pollMs: 100,
      // The first worker finds nothing queued and exits at once (as the new array tasks did); later ones are real.
      spawnWorker: () => spawn(process.execPath, spawned++ === 0 ? ['-e', ''] : ['--import', 'tsx', '--input-type=module', '-e', workerScript(file)], { stdio: 'ignore' }),
      onWait: (_r, note) => waits.push(note),
    });
    expect(res.gaveUp).toBeNull();
    expect(res.completed).toEqual([held]);
    expect(spawned).toBe(2); // none started while the lease held the run; one once it ran out
    expect(waits).toHaveLength(1);
    expect(waits[0]).toMatch(new RegExp(`run ${held} is held by otherhost:4242:dead \\(its lease runs out in [01] s\\): waiting`));
    expect(store.requireRun(held).leaseEpoch).toBe(2);
    store.close();
  });

  it('gives up, saying why, after workers started again and again finish no queued run', async () => {
    const store = RunStore.open(tmpStore());
    const id = launchRun(store, resolveConfig({ sets: ['steps=3'] }), { experiment: 'x', kind: 'noop' });
    let spawned = 0;
    // Workers that exit at once without claiming (a broken node): the run stays queued.
    const res = await runQueue({ store, runIds: [id], workers: 1, pollMs: 50, maxRestarts: 2, spawnWorker: () => (spawned++, spawn(process.execPath, ['-e', ''], { stdio: 'ignore' })) });
    expect(spawned).toBe(3);
    expect(res.gaveUp).toBe(`no worker is left and workers started again 2 time(s) finished no run; run(s) ${id} stay queued (see the workers' logs)`);
    expect(store.requireRun(id).status).toBe('queued');
    store.close();
  });
});
