// Every expert kind of core's registry trains as a run (config key ssmb.expertKind), and the router
// options are recorded with the run; router jitter is reproducible from the run's seed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listExpertKinds, SSMBBlock } from '@ssmb/core';
import { launchRun } from '../launch.ts';
import { RunStore } from '../store/run_store.ts';
import { runWorker, silentProgress } from '../worker/worker.ts';
import { loadCheckpoint } from '../checkpoint/checkpoint.ts';
import { tinyConfig, closeTinyWorkspace, openTinyWorkspace } from './test_fixtures.ts';

let root: string;
let store: RunStore;
const work = () => runWorker({ store, untilEmpty: true, progress: silentProgress, log: () => {}, handleSignals: false });
const sets = ['steps=6', 'checkpointEvery=3', 'batchSize=4', 'ssmb.positions=[stem,layer1]'];

beforeAll(async () => ({ root, store } = await openTinyWorkspace()));
afterAll(() => closeTinyWorkspace(store, root));

describe('expert kinds as runs (wasm)', () => {
  it.each(listExpertKinds())('ssmb.expertKind=%s trains, checkpoints the kind\'s parameters and records its options', async (kind) => {
    const id = launchRun(store, tinyConfig(root, [...sets, `ssmb.expertKind=${kind}`, 'ssmb.routing=soft', 'ssmb.routerInput=mean']), { experiment: `kind-${kind}` });
    const s = await work();
    expect(s.failed).toEqual([]);
    expect(store.getRun(id)).toMatchObject({ status: 'completed', step: 6 });
    expect(store.getParams(id)).toMatchObject({ 'ssmb.expertKind': kind, 'ssmb.routing': 'soft', 'ssmb.routerInput': 'mean', 'ssmb.routerJitter': '0' });
    const ck = loadCheckpoint(store.latestCheckpoint(id)!.path);
    const block = new SSMBBlock({ channels: 8, numExperts: 2, kind, routerInput: 'mean' }); // iresnet-tiny's stem has 8 channels
    const want = [...block.params].map(([k, v]) => [`model/ssmb.stem.${k}`, v.shape]).sort();
    block.dispose();
    expect([...ck.tensors].filter(([k]) => k.startsWith('model/ssmb.stem.')).map(([k, t]) => [k, t.shape]).sort()).toEqual(want);
    const loss = store.getMetricHistory(id, 'loss').map((p) => p.value);
    expect(loss).toHaveLength(6);
    expect(loss.every(Number.isFinite)).toBe(true);
    expect(store.getEvalMetrics(id).map((m) => m.metric)).toContain('rank1');
  });

  it('router jitter: the same seed gives the same run, jitter changes it, and it is recorded', async () => {
    const jittered = tinyConfig(root, [...sets, 'ssmb.routerJitter=0.3']);
    const a = launchRun(store, jittered, { experiment: 'jitter' });
    const b = launchRun(store, jittered, { experiment: 'jitter' });
    const c = launchRun(store, tinyConfig(root, sets), { experiment: 'jitter' });
    expect((await work()).failed).toEqual([]);
    const loss = (id: number) => store.getMetricHistory(id, 'loss').map((p) => p.value);
    expect(loss(b)).toEqual(loss(a));
    expect(loss(c)).not.toEqual(loss(a));
    expect(store.getParams(a)['ssmb.routerJitter']).toBe('0.3');
    const [ka, kb] = [a, b].map((id) => loadCheckpoint(store.latestCheckpoint(id)!.path));
    expect(kb.rngState).toBe(ka.rngState);
    for (const [k, t] of ka.tensors) expect(Buffer.from(kb.tensors.get(k)!.data.buffer).equals(Buffer.from(t.data.buffer)), k).toBe(true);
  });
});
