// Train on one protocol, evaluate on others' folds (dataset.evalProtocols), on the tiny synthetic
// benchmark: a universal model trained on VIS-UNIVERSAL fold 1 is evaluated on VIS-NIR and VIS-THERMAL
// fold 1 (the same test identities, none trained on); an overlap of trained and tested identities is
// refused naming it; a label-aware method asked for a protocol it has no label for is refused at launch.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerProtocol } from '@ssmb/protocols';
import { ConfigError } from '../config.ts';
import { launchRun } from '../launch.ts';
import { RunStore } from '../store/run_store.ts';
import { runWorker, silentProgress } from '../worker/worker.ts';
import { tinyConfig, closeTinyWorkspace, openTinyWorkspace } from '../train/test_fixtures.ts';
import { checkIdentityOverlap, evalProtocolProblems, trainedOnOf } from './eval_protocols.ts';

let root: string;
let store: RunStore;
const work = () => runWorker({ store, untilEmpty: true, progress: silentProgress, log: () => {}, handleSignals: false });
const SETS = ['steps=4', 'checkpointEvery=4', 'eval.engine=tfjs', 'train.threads=1', 'dataset.protocol=synthetic-vis-universal'];

// fold 1 of this protocol tests the identities VIS-NIR fold 1 trains on: its gallery and probes come
// from that fold's training list
registerProtocol({
  name: 'test-overlap-nir', description: 'probes from the VIS-NIR fold 1 training list (overlap test)', reader: 'synthetic', origin: 'ssmb', bitDepth: 8,
  roles: { train: { modalities: ['VIS', 'NIR'] }, gallery: { modalities: ['VIS'], perSubject: 1 }, probe: { modalities: ['NIR'] } },
  folds: { kind: 'lists', names: ['1'], lists: { train: ['protocols/vis-nir/1/train.txt'], gallery: ['protocols/vis-nir/1/train.txt'], probe: ['protocols/vis-nir/1/train.txt'] } },
});

beforeAll(async () => ({ root, store } = await openTinyWorkspace()));
afterAll(() => closeTinyWorkspace(store, root));

describe('dataset.evalProtocols', () => {
  it('a universal model trained once is evaluated on each protocol listed, on its training fold id', async () => {
    const id = launchRun(store, tinyConfig(root, [...SETS, 'dataset.evalProtocols=[synthetic-vis-universal,synthetic-vis-nir,synthetic-vis-thermal]']), { experiment: 'uni' });
    const s = await work();
    expect(s.failed).toEqual([]);
    const evals = store.getEvalMetrics(id).filter((m) => m.metric === 'rank1').map((m) => [m.protocol, m.fold]);
    expect(evals.sort()).toEqual([['synthetic-vis-nir', '1'], ['synthetic-vis-thermal', '1'], ['synthetic-vis-universal', '1']]);
    // an evaluate run of the trained weights on another protocol: the same numbers as the train run's own
    const weights = store.listArtifacts(id).find((a) => a.kind === 'weights')!.path;
    const ev = launchRun(store, tinyConfig(root, [...SETS, 'dataset.evalProtocols=[synthetic-vis-nir]']), { experiment: 'uni', kind: 'evaluate', initFrom: weights });
    expect((await work()).failed).toEqual([]);
    const rank1 = (run: number) => store.getEvalMetrics(run).find((m) => m.metric === 'rank1' && m.protocol === 'synthetic-vis-nir')!.value;
    expect(rank1(ev)).toBeCloseTo(rank1(id), 6);
    // the weights record where they trained; evaluated on fold 2 (identities fold 1 trained on): refused
    expect(trainedOnOf(weights)).toEqual({ protocol: 'synthetic-vis-universal', fold: '1' });
    const leak = launchRun(store, tinyConfig(root, [...SETS, 'dataset.fold=2', 'dataset.evalProtocols=[synthetic-vis-nir]']), { experiment: 'uni', kind: 'evaluate', initFrom: weights });
    await work();
    expect(store.getRun(leak)!.error).toMatch(/protocol synthetic-vis-nir fold 2 tests \d+ identit(y|ies) that the model trained on \(synthetic-vis-universal fold 1 trains them\)/);
    expect(store.getEvalMetrics(leak)).toEqual([]);
  });

  it('an overlap of trained and tested identities is refused, naming the overlap; nothing is trained', async () => {
    const c = tinyConfig(root, [...SETS, 'dataset.protocol=synthetic-vis-nir', 'dataset.evalProtocols=[test-overlap-nir]']);
    await expect(checkIdentityOverlap(c, 'test-overlap-nir', '1')).rejects.toThrow(/protocol test-overlap-nir fold 1 tests \d+ identities that the model trained on \(synthetic-vis-nir fold 1 trains them\): h\d+/);
    // another fold of the training protocol tests identities fold 1 trained on (folds are 50/50 shuffles)
    await expect(checkIdentityOverlap(c, 'synthetic-vis-nir', '2', { protocol: 'synthetic-vis-nir', fold: '1' })).rejects.toThrow(/protocol synthetic-vis-nir fold 2 tests \d+ identit(y|ies) that the model trained on \(synthetic-vis-nir fold 1 trains them\)/);
    const id = launchRun(store, c, { experiment: 'overlap' });
    const s = await work();
    expect(s.failed.map((f) => f.id)).toEqual([id]);
    expect(store.getRun(id)!.error).toMatch(/tests \d+ identities that the model trained on/);
    expect(store.getMetricHistory(id, 'loss')).toEqual([]);
    // the frozen baseline trained on nothing: no overlap to refuse
    await expect(checkIdentityOverlap({ ...c, method: 'baseline' }, 'test-overlap-nir', '1')).resolves.toBeUndefined();
  });

  it('a label-aware method asked for a protocol whose images it has no label for: refused at launch, nothing queued', () => {
    const before = store.listRuns({}).length;
    const c = tinyConfig(root, [...SETS, 'method=caim', 'ssmb.numExperts=4', 'dataset.protocol=synthetic-vis-nir', 'dataset.evalProtocols=[synthetic-vis-thermal]']);
    expect(evalProtocolProblems(c)).toEqual([
      "method caim needs each image's modality label at inference and was built for VIS, NIR (the training images of synthetic-vis-nir); protocol synthetic-vis-thermal's probe images are THERMAL, a modality it has no label for",
    ]);
    expect(() => launchRun(store, c, { experiment: 'label' })).toThrow(ConfigError);
    expect(() => launchRun(store, tinyConfig(root, [...SETS, 'dataset.evalProtocols=[no-such]']), { experiment: 'label' })).toThrow(/config key `dataset.evalProtocols`: .*no-such/);
    expect(store.listRuns({}).length).toBe(before);
  });
});
