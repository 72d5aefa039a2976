import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadCheckpoint } from '../checkpoint/checkpoint.ts';
import { launchRun } from '../launch.ts';
import { RunStore } from '../store/run_store.ts';
import { runWorker, silentProgress } from '../worker/worker.ts';
import { tinyConfig, tinyDataset } from './test_fixtures.ts';

let root: string;
let file: string;
beforeAll(async () => {
  root = await tinyDataset();
  file = path.join(path.dirname(root), 'runs.sqlite');
});
afterAll(() => rmSync(path.dirname(root), { recursive: true, force: true }));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('resume after SIGKILL (cpu backend)', () => {
  it('continues from the last checkpoint to bit-identical weights, optimiser state and losses; store stays intact', async () => {
    const config = tinyConfig(root, ['engine=cpu', 'steps=8', 'checkpointEvery=2', 'batchSize=4']);
    const store = RunStore.open(file);
    const quiet = { progress: silentProgress, log: () => {}, handleSignals: false };
    const a = launchRun(store, config, { experiment: 'resume' });
    await runWorker({ store, runId: a, ...quiet });
    expect(store.getRun(a)!.status).toBe('completed');

    const b = launchRun(store, config, { experiment: 'resume' });
    const url = pathToFileURL(path.join(import.meta.dirname, '..', 'worker', 'worker.ts')).href;
    const script = `const { runWorker, silentProgress } = await import(${JSON.stringify(url)});
      await runWorker({ store: ${JSON.stringify(file)}, runId: ${b}, owner: 'doomed', leaseMs: 1500, heartbeatMs: 100, progress: silentProgress, log: () => {} });`;
    const env = { ...process.env };
    delete env.SSMB_BACKEND;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: 'ignore', env });
    const exited = new Promise((r) => child.on('exit', r));
    while ((store.latestCheckpoint(b)?.step ?? 0) < 2) await sleep(20);
    child.kill('SIGKILL');
    await exited;
    const killed = store.getRun(b)!;
    expect(killed).toMatchObject({ status: 'running', leaseOwner: 'doomed', attempts: 1 });
    const killedAt = store.latestCheckpoint(b)!.step;
    expect(killedAt).toBeLessThan(8);
    expect(store.integrityCheck()).toBe('ok');

    await sleep(1600); // the dead worker's lease expires
    const s = await runWorker({ store, runId: b, ...quiet });
    expect(s.completed).toEqual([b]);
    expect(store.getRun(b)).toMatchObject({ status: 'completed', attempts: 2, step: 8 });

    const fa = loadCheckpoint(store.latestCheckpoint(a)!.path);
    const fb = loadCheckpoint(store.latestCheckpoint(b)!.path);
    expect(fb.step).toBe(8);
    expect(fb.rngState).toBe(fa.rngState);
    expect(fb.optimizerT).toBe(fa.optimizerT);
    expect([...fb.tensors.keys()]).toEqual([...fa.tensors.keys()]);
    for (const [k, t] of fa.tensors) {
      const u = fb.tensors.get(k)!;
      expect(Buffer.from(u.data.buffer).equals(Buffer.from(t.data.buffer)), k).toBe(true);
    }
    const la = store.getMetricHistory(a, 'loss').map((p) => p.value);
    const lb = store.getMetricHistory(b, 'loss').map((p) => p.value);
    expect(lb).toEqual(la);
    expect(store.getEvalMetrics(b).map((m) => m.value)).toEqual(store.getEvalMetrics(a).map((m) => m.value));
    expect(store.integrityCheck()).toBe('ok');
    store.close();
  });
});
