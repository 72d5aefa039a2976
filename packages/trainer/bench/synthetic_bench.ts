// The synthetic benchmark end to end on wasm: generate the data, pre-train iresnet-synth with ArcFace,
// evaluate the frozen baseline, train SSMB on VIS-NIR fold 1; prints img/s and Rank-1 (baseline vs SSMB).
// npx tsx packages/trainer/bench/synthetic_bench.ts [dir]   (PRETRAIN_STEPS, TRAIN_STEPS env; defaults 150)
import path from 'node:path';
import { generateSyntheticDataset } from '@ssmb/protocols';
import { launchRun, resolveConfig, RunStore, runWorker } from '../src/index.ts';

const dir = path.resolve(process.argv[2] ?? '/tmp/ssmb-synthetic-bench');
const root = path.join(dir, 'synthetic');
await generateSyntheticDataset(root, { identities: 40, pretrainIdentities: 100, pretrainImagesPerIdentity: 6 });
const store = RunStore.open(path.join(dir, 'runs.sqlite'));
const base = { dataset: { root }, engine: 'wasm', checkpointEvery: 50 };
const run = async (overrides: object, kind?: 'pretrain') => {
  const id = launchRun(store, resolveConfig({ base: { ...base, ...overrides } }), { experiment: 'bench', kind });
  const t0 = performance.now();
  await runWorker({ store, runId: id, quiet: true });
  const r = store.getRun(id)!;
  if (r.status !== 'completed') throw new Error(`run ${id} ${r.status}: ${r.error}`);
  return { id, seconds: (performance.now() - t0) / 1000 };
};
const median = (id: number) => {
  const v = store.getMetricHistory(id, 'perf/img_per_sec').map((p) => p.value).slice(3).sort((a, b) => a - b);
  return v[Math.floor(v.length / 2)];
};
const rank1 = (id: number) => store.getEvalMetrics(id).find((m) => m.metric === 'rank1')!.value * 100;

const pre = await run({ pretrain: { steps: Number(process.env.PRETRAIN_STEPS ?? 150), batchSize: 32 } }, 'pretrain');
const weights = store.listArtifacts(pre.id).find((a) => a.kind === 'weights')!.path;
const baseline = await run({ method: 'baseline', backbone: { weights } });
const ssmb = await run({ steps: Number(process.env.TRAIN_STEPS ?? 150), batchSize: 16, backbone: { weights } });
console.log(`pretrain: ${pre.seconds.toFixed(0)} s, ${median(pre.id).toFixed(1)} img/s (batch 32, training-mode BN)`);
console.log(`ssmb train: ${ssmb.seconds.toFixed(0)} s, ${median(ssmb.id).toFixed(1)} img/s (16 pairs = 32 student images per step; teacher embeddings computed once per run, not per step)`);
console.log(`VIS-NIR fold 1 rank-1: baseline ${rank1(baseline.id).toFixed(1)}%, ssmb ${rank1(ssmb.id).toFixed(1)}% (ratio ${(rank1(ssmb.id) / rank1(baseline.id)).toFixed(2)})`);
store.close();
