// A live worker re-queues other workers' stale runs (lease expired) from its heartbeat, then takes them:
// a run whose worker died does not wait for a new worker to start.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { resolveConfig } from '../config.ts';
import { launchRun } from '../launch.ts';
import { RunStore } from '../store/run_store.ts';
import { runWorker, silentProgress } from './worker.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'worker-stale-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('stale runs', () => {
  it('a busy worker re-queues a dead worker\'s run when its lease expires, and finishes it after its own', async () => {
    const store = RunStore.open(path.join(dir, 'runs.sqlite'));
    const ghost = launchRun(store, resolveConfig({ sets: ['steps=20'] }), { experiment: 's', kind: 'noop' });
    const mine = launchRun(store, resolveConfig({ sets: ['steps=400'] }), { experiment: 's', kind: 'noop' });
    store.claimRun('crashed-host:1:abc', 300, { runId: ghost }); // a worker that died holding it
    const lines: string[] = [];
    const s = await runWorker({ store, owner: 'live', leaseMs: 60_000, heartbeatMs: 50, untilEmpty: true, progress: silentProgress, log: (l) => lines.push(l), handleSignals: false });
    expect(s.completed).toEqual([mine, ghost]);
    expect(lines.join('\n')).toMatch(new RegExp(`worker live: re-queued run\\(s\\) ${ghost} whose lease expired`));
    expect(store.getRun(ghost)).toMatchObject({ status: 'completed', leaseEpoch: 2, attempts: 2 });
    store.close();
  });
});
