// A small, deterministic run store for the API and browser tests, written through RunStore's own write
// methods with the keys the trainer really logs (TRAIN_METRICS, routing keys) and the metrics an
// evaluation really records. Values follow simple formulas (see rank1Of) so tests can assert exact numbers.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { RunStore, TRAIN_METRICS, defaultConfig, mergeConfig, routingEntropyKey, routingShareKey, type MetricPoint } from '@ssmb/trainer';

export const PROTOCOLS = ['synthetic-vis-nir', 'synthetic-vis-thermal'] as const;
export const EXPERTS = [1, 2, 4] as const;
export const FOLDS = ['1', '2'] as const;
export const STEPS = 300;
export const BLOCKS = ['stem', 'layer1'] as const;
export const MODALITIES = ['VIS', 'NIR', 'THERMAL'] as const;
export const LR = 0.01;
/** Probe images per fold (the `genuine` count an evaluation records is an integer). */
export const GENUINE = 360;

/** Rank-1 of a seeded SSMB run: grows with log2(N), thermal is harder, fold 2 slightly easier. */
export const rank1Of = (n: number, protocol: string, fold: string) =>
  0.6 + 0.1 * Math.log2(n) - (protocol.endsWith('thermal') ? 0.1 : 0) + (fold === '2' ? 0.02 : 0);
export const eerOf = (n: number, protocol: string, fold: string) => 0.2 - 0.03 * Math.log2(n) + (protocol.endsWith('thermal') ? 0.05 : 0) + (fold === '2' ? -0.01 : 0);
/** Training loss: falls with the step; folds differ a little (so grouped curves have a spread). */
export const lossAt = (n: number, step: number, fold = '1') => 1 / (1 + step / 50) + 0.05 * Math.sin(step) + 0.01 * n + (fold === '2' ? 0.04 : 0) * (1 - step / (2 * STEPS));
export const BASELINE_RANK1 = 0.4;

export interface SeededStore {
  file: string;
  dir: string;
  store: RunStore;
  /** SSMB run ids by `${N}/${protocol}/${fold}`. */
  runs: Map<string, number>;
  baselineIds: number[];
  pretrainId: number;
  runningId: number;
  failedId: number;
  queuedId: number;
  scoreFile: string;
  checkpointDir: string;
}

/** Per-step points of one SSMB training step, keyed exactly as ssmb_step.ts and loop.ts log them. */
export function trainingPoints(n: number, step: number, fold = '1'): MetricPoint[] {
  const l = lossAt(n, step, fold);
  const pts: MetricPoint[] = [
    { key: TRAIN_METRICS.loss, step, value: l },
    { key: TRAIN_METRICS.lossCc, step, value: l * 0.7 },
    { key: TRAIN_METRICS.lossTs, step, value: l * 0.3 },
    { key: TRAIN_METRICS.lossLb, step, value: 0.01 * n },
    { key: TRAIN_METRICS.lr, step, value: LR },
    { key: TRAIN_METRICS.imgPerSec, step, value: 100 + (step % 10) },
    { key: TRAIN_METRICS.stepSeconds, step, value: 16 / (100 + (step % 10)) },
  ];
  for (const tap of BLOCKS) {
    pts.push({ key: routingEntropyKey(tap), step, value: n === 1 ? 0 : Math.log(n) * (1 - step / (2 * STEPS)) });
    for (let k = 0; k < n; k++) pts.push({ key: routingShareKey(tap, k), step, value: 1 / n });
  }
  return pts;
}

export function seedStore(dir: string): SeededStore {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'runs.sqlite');
  const store = RunStore.open(file);
  const runs = new Map<string, number>();
  const cfgFor = (n: number, protocol: string, fold: string, method: 'ssmb' | 'baseline' = 'ssmb') =>
    mergeConfig(defaultConfig(), { method, backbone: { model: 'iresnet-tiny' }, ssmb: { numExperts: n }, dataset: { protocol, fold }, steps: STEPS, optim: { lr: LR } });
  const counts = { genuine: { value: GENUINE, count: GENUINE }, impostor: { value: GENUINE * 99, count: GENUINE * 99 } };

  for (const n of EXPERTS) {
    for (const protocol of PROTOCOLS) {
      for (const fold of FOLDS) {
        const cfg = cfgFor(n, protocol, fold);
        const id = store.createRun({ experiment: 'experts-ablation', kind: 'train', method: 'ssmb', config: cfg, seed: 0, name: `ssmb N=${n} ${protocol}/${fold}`, totalSteps: STEPS });
        runs.set(`${n}/${protocol}/${fold}`, id);
        store.setRunEnvironment(id, { engine: 'wasm', codeVersion: 'test' });
        store.logMetrics(id, Array.from({ length: STEPS }, (_, s) => trainingPoints(n, s + 1, fold)).flat());
        store.setProgress(id, STEPS);
        const r1 = rank1Of(n, protocol, fold);
        const eer = eerOf(n, protocol, fold);
        const far = [1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1];
        store.recordEvaluation(id, {
          protocol,
          fold,
          metrics: { rank1: { value: r1, count: GENUINE }, eer: { value: eer }, tar_far_1e2: { value: r1 - 0.05, count: 9900 }, auc: { value: 0.99 }, ...counts },
          curves: {
            roc: { x: far, y: far.map((f) => Math.min(1, r1 - 0.3 + 0.1 * (Math.log10(f) + 5) * 0.6)) },
            cmc: { x: [1, 2, 3, 4, 5], y: [r1, r1 + 0.05, r1 + 0.08, r1 + 0.1, r1 + 0.11].map((v) => Math.min(1, v)) },
          },
          // Gallery (VIS) and probe images per expert; modality m prefers expert m mod N.
          routing: BLOCKS.flatMap((block) =>
            MODALITIES.flatMap((modality, mi) => Array.from({ length: n }, (_, e) => ({ block, modality, expert: e, count: e === mi % n ? 40 : 5 }))),
          ),
        });
        store.completeRun(id);
      }
    }
  }
  const baselineIds = PROTOCOLS.flatMap((protocol) =>
    FOLDS.map((fold) => {
      const id = store.createRun({ experiment: 'baselines', kind: 'evaluate', method: 'baseline', config: cfgFor(4, protocol, fold, 'baseline'), seed: 0, name: `baseline ${protocol}/${fold}` });
      store.recordEvaluation(id, { protocol, fold, metrics: { rank1: { value: BASELINE_RANK1 }, eer: { value: 0.3 }, tar_far_1e2: { value: 0.3 }, ...counts } });
      store.completeRun(id);
      return id;
    }),
  );
  // A backbone pre-training run: its own protocol, no N, no fold; loss and a constant lr per step.
  const pretrainId = store.createRun({
    experiment: 'backbone', kind: 'pretrain', method: null, seed: 0, name: 'pretrain iresnet-tiny', totalSteps: 50,
    config: mergeConfig(defaultConfig(), { backbone: { model: 'iresnet-tiny' }, pretrain: { protocol: 'synthetic-pretrain-vis', steps: 50 } }),
  });
  store.logMetrics(pretrainId, Array.from({ length: 50 }, (_, s) => [{ key: TRAIN_METRICS.loss, step: s + 1, value: 5 - s / 20 }, { key: TRAIN_METRICS.lr, step: s + 1, value: 0.002 }]).flat());
  store.setProgress(pretrainId, 50);
  store.completeRun(pretrainId);
  const queuedId = store.createRun({ experiment: 'experts-ablation', kind: 'train', method: 'ssmb', config: cfgFor(8, PROTOCOLS[0], '1'), seed: 1, name: 'queued N=8' });
  const runningId = store.createRun({ experiment: 'experts-ablation', kind: 'train', method: 'ssmb', config: cfgFor(2, PROTOCOLS[0], '1'), seed: 2, name: 'running N=2', totalSteps: STEPS });
  store.claimRun('test-worker', 3_600_000, { runId: runningId });
  store.logMetrics(runningId, [{ key: TRAIN_METRICS.loss, step: 0, value: 1.5 }]);
  const failedId = store.createRun({ experiment: 'experts-ablation', kind: 'train', method: 'ssmb', config: cfgFor(2, PROTOCOLS[1], '1'), seed: 3, name: 'failed N=2' });
  store.failRun(failedId, 'dataset file data/synthetic/x.png is unreadable');

  // Artifacts inside the store's folder: a score file and a checkpoint for the first run.
  const first = runs.get(`1/${PROTOCOLS[0]}/1`)!;
  const runDir = path.join(dir, 'artifacts', `run-${first}`);
  const checkpointDir = path.join(runDir, 'checkpoints');
  mkdirSync(checkpointDir, { recursive: true });
  const scoreFile = path.join(runDir, 'scores.txt');
  writeFileSync(scoreFile, 's001 s001 NIR/s001/001.bmp 0.91\ns001 s002 NIR/s002/001.bmp 0.12\n');
  writeFileSync(path.join(checkpointDir, 'step-00000300.ckpt'), Buffer.from([1, 2, 3, 4]));
  store.addArtifact(first, 'scores', scoreFile);
  store.addCheckpoint(first, STEPS, path.join(checkpointDir, 'step-00000300.ckpt'));
  store.setTag(first, 'paper', 'table2');
  return { file, dir, store, runs, baselineIds, pretrainId, runningId, failedId, queuedId, scoreFile, checkpointDir };
}
