// A large run store for scale measurements and the runs table's browser test: `n` runs of a realistic
// grid (5 folds x 2 seeds of each configuration: 5 protocols x N in 1, 2, 4, 8 x a learning rate that
// grows every 200 runs; every tenth learning-rate block a frozen baseline, one group per protocol), so
// n runs make about n / 10 groups.
// Written through RunStore's own write methods: the configs the trainer resolves, the five tags a worker
// sets on every run, a short loss history and one evaluation per run with the counts behind its rates.
// A few runs failed or still run. Deterministic: run i is the same in every store.
import { RunStore, TRAIN_METRICS, defaultConfig, mergeConfig } from '@ssmb/trainer';

export const SCALE_PROTOCOLS = ['synthetic-vis-nir', 'synthetic-vis-thermal', 'synthetic-vis-sketch', 'synthetic-vis-universal', 'synthetic-vis-vis'] as const;
const FOLDS = ['1', '2', '3', '4', '5'] as const;
const EXPERTS = [1, 2, 4, 8] as const;
/** Runs of one configuration: its folds times its seeds. */
export const SCALE_GROUP_SIZE = 10;
/** Per-step points a run logs (the runs list reads their last and best value). */
const HISTORY = 10;
const PROBES = 360;

/** What run i of the grid is (fold fastest, then seed, protocol, N, learning rate). */
export function scaleRun(i: number) {
  const fold = FOLDS[i % 5];
  const seed = Math.floor(i / 5) % 2;
  const protocol = SCALE_PROTOCOLS[Math.floor(i / 10) % 5];
  const experts = EXPERTS[Math.floor(i / 50) % 4];
  const block = Math.floor(i / 200);
  const lr = +(0.0005 * (1 + block)).toPrecision(6);
  const baseline = block % 10 === 9;
  const rank1 = Math.min(0.99, (baseline ? 0.35 : 0.45 + 0.06 * Math.log2(experts)) + 0.01 * (i % 7) - (protocol.endsWith('thermal') ? 0.08 : 0));
  const name = baseline ? `baseline ${protocol}/${fold} s${seed} #${block}` : `ssmb N=${experts} lr=${lr} ${protocol}/${fold} s${seed}`;
  return { fold, protocol, experts, lr, seed, baseline, rank1, name };
}

/** Seeds runs [from, from + n) of the grid into the store at `file` (created when missing); returns their ids. */
export function seedScaleStore(file: string, n: number, from = 0): number[] {
  if (!Number.isInteger(n) || n < 1) throw new Error(`seedScaleStore: n must be a positive integer, received ${n}`);
  const store = RunStore.open(file);
  const ids: number[] = [];
  try {
    store.transaction(() => {
      for (let i = from; i < from + n; i++) {
        const r = scaleRun(i);
        const config = mergeConfig(defaultConfig(), {
          method: r.baseline ? 'baseline' : 'ssmb', ssmb: { numExperts: r.experts }, dataset: { protocol: r.protocol, fold: r.fold }, optim: { lr: r.lr }, seed: r.seed, steps: 2000,
        });
        const kind = r.baseline ? 'evaluate' : 'train';
        const id = store.createRun({ experiment: r.baseline ? 'baselines' : `experts-${Math.floor(i / 2000)}`, kind, method: r.baseline ? 'baseline' : 'ssmb', config, seed: r.seed, name: r.name, totalSteps: r.baseline ? undefined : 2000 });
        ids.push(id);
        store.setRunEnvironment(id, { engine: 'tensorflow', codeVersion: 'scale-seed' });
        for (const [k, v] of [['train.engine', 'onnxruntime'], ['train.provider', 'cpu'], ['train.threads', '8'], ['train.engine_fallback', 'none'], ['eval.engine', 'onnxruntime']]) store.setTag(id, k, v);
        if (!r.baseline) {
          store.logMetrics(id, Array.from({ length: HISTORY }, (_, s) => {
            const step = (s + 1) * 200;
            const loss = 1 / (1 + step / 400) + 0.01 * (i % 5);
            return [{ key: TRAIN_METRICS.loss, step, value: loss }, { key: TRAIN_METRICS.lossCc, step, value: 0.7 * loss }, { key: 'eval/rank1', step, value: r.rank1 * (step / 2000) }];
          }).flat());
        }
        // Every 97th run failed, every 499th still runs: the list shows what a real store holds.
        if (i % 97 === 96) {
          store.failRun(id, 'worker lost: lease expired after 3 attempts');
          continue;
        }
        if (i % 499 === 498) {
          store.claimRun('scale-worker', 3_600_000, { runId: id });
          continue;
        }
        store.setProgress(id, r.baseline ? 0 : 2000);
        const impostor = PROBES * 99;
        store.recordEvaluation(id, {
          protocol: r.protocol, fold: r.fold,
          metrics: {
            rank1: { value: r.rank1, count: PROBES }, tar_far_1e2: { value: r.rank1 - 0.05, count: impostor }, tar_far_1e3: { value: r.rank1 - 0.15, count: impostor },
            eer: { value: 0.3 - r.rank1 / 4 }, genuine: { value: PROBES, count: PROBES }, impostor: { value: impostor, count: impostor },
          },
        });
        store.completeRun(id);
      }
    });
  } finally {
    store.close();
  }
  return ids;
}
