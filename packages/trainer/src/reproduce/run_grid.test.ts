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
import { enqueuePlan, ownerIsDeadLocal, reclaimDeadLeases, runQueue, type GridProgress } from './run_grid.ts';
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
    store.close();
  });
});
