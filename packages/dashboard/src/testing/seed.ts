// A small, deterministic run store for the API and browser tests, written through RunStore's own write
// methods. Values follow simple formulas (see rank1Of) so tests can assert exact numbers.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { RunStore, defaultConfig, mergeConfig } from '@ssmb/trainer';

export const PROTOCOLS = ['synthetic-vis-nir', 'synthetic-vis-thermal'] as const;
export const EXPERTS = [1, 2, 4] as const;
export const FOLDS = ['1', '2'] as const;
export const STEPS = 300;
export const BLOCKS = ['stem', 'layer1'] as const;
export const MODALITIES = ['VIS', 'NIR', 'THERMAL'] as const;

/** Rank-1 of a seeded SSMB run: grows with log2(N), thermal is harder, fold 2 slightly easier. */
export const rank1Of = (n: number, protocol: string, fold: string) =>
  0.6 + 0.1 * Math.log2(n) - (protocol.endsWith('thermal') ? 0.1 : 0) + (fold === '2' ? 0.02 : 0);
export const eerOf = (n: number, protocol: string, fold: string) => 0.2 - 0.03 * Math.log2(n) + (protocol.endsWith('thermal') ? 0.05 : 0) + (fold === '2' ? -0.01 : 0);
export const lossAt = (n: number, step: number) => 1 / (1 + step / 50) + 0.05 * Math.sin(step) + 0.01 * n;

export interface SeededStore {
  file: string;
  dir: string;
  store: RunStore;
  /** SSMB run ids by `${N}/${protocol}/${fold}`. */
  runs: Map<string, number>;
  baselineIds: number[];
  runningId: number;
  failedId: number;
  queuedId: number;
  scoreFile: string;
  checkpointDir: string;
}

export function seedStore(dir: string): SeededStore {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'runs.sqlite');
  const store = RunStore.open(file);
  const runs = new Map<string, number>();
  const cfgFor = (n: number, protocol: string, fold: string, method: 'ssmb' | 'baseline' = 'ssmb') =>
    mergeConfig(defaultConfig(), { method, backbone: { model: 'iresnet-tiny' }, ssmb: { numExperts: n }, dataset: { protocol, fold }, steps: STEPS });

  for (const n of EXPERTS) {
    for (const protocol of PROTOCOLS) {
      for (const fold of FOLDS) {
        const cfg = cfgFor(n, protocol, fold);
        const id = store.createRun({ experiment: 'experts-ablation', kind: 'train', method: 'ssmb', config: cfg, seed: 0, name: `ssmb N=${n} ${protocol}/${fold}`, totalSteps: STEPS });
        runs.set(`${n}/${protocol}/${fold}`, id);
        store.setRunEnvironment(id, { engine: 'wasm', codeVersion: 'test' });
        const points = [];
        for (let s = 0; s < STEPS; s++) {
          const l = lossAt(n, s);
          points.push({ key: 'loss', step: s, value: l }, { key: 'loss_cc', step: s, value: l * 0.7 }, { key: 'loss_ts', step: s, value: l * 0.3 });
          points.push({ key: 'img_per_s', step: s, value: 100 + (s % 10) });
        }
        store.logMetrics(id, points);
        store.setProgress(id, STEPS);
        const r1 = rank1Of(n, protocol, fold);
        const eer = eerOf(n, protocol, fold);
        const far = [1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1];
        store.recordEvaluation(id, {
          protocol,
          fold,
          metrics: { rank1: { value: r1, count: 100 }, eer: { value: eer }, tar_far_1e2: { value: r1 - 0.05, count: 9900 }, auc: { value: 0.99 } },
          curves: {
            roc: { x: far, y: far.map((f) => Math.min(1, r1 - 0.3 + 0.1 * (Math.log10(f) + 5) * 0.6)) },
            cmc: { x: [1, 2, 3, 4, 5], y: [r1, r1 + 0.05, r1 + 0.08, r1 + 0.1, r1 + 0.11].map((v) => Math.min(1, v)) },
          },
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
      const id = store.createRun({ experiment: 'baselines', kind: 'evaluate', method: 'baseline', config: cfgFor(1, protocol, fold, 'baseline'), seed: 0, name: `baseline ${protocol}/${fold}` });
      store.recordEvaluation(id, { protocol, fold, metrics: { rank1: { value: 0.4 }, eer: { value: 0.3 }, tar_far_1e2: { value: 0.3 } } });
      store.completeRun(id);
      return id;
    }),
  );
  const queuedId = store.createRun({ experiment: 'experts-ablation', kind: 'train', method: 'ssmb', config: cfgFor(8, PROTOCOLS[0], '1'), seed: 1, name: 'queued N=8' });
  const runningId = store.createRun({ experiment: 'experts-ablation', kind: 'train', method: 'ssmb', config: cfgFor(2, PROTOCOLS[0], '1'), seed: 2, name: 'running N=2' });
  store.claimRun('test-worker', 3_600_000, { runId: runningId });
  store.logMetrics(runningId, [{ key: 'loss', step: 0, value: 1.5 }]);
  const failedId = store.createRun({ experiment: 'experts-ablation', kind: 'train', method: 'ssmb', config: cfgFor(2, PROTOCOLS[1], '1'), seed: 3, name: 'failed N=2' });
  store.failRun(failedId, 'dataset file data/synthetic/x.png is unreadable');

  // Artifacts inside the store's folder: a score file and a checkpoint directory for the first run.
  const first = runs.get(`1/${PROTOCOLS[0]}/1`)!;
  const runDir = path.join(dir, 'artifacts', `run-${first}`);
  const checkpointDir = path.join(runDir, 'ckpt-300');
  mkdirSync(checkpointDir, { recursive: true });
  const scoreFile = path.join(runDir, 'scores.txt');
  writeFileSync(scoreFile, 's001 s001 NIR/s001/001.bmp 0.91\ns001 s002 NIR/s002/001.bmp 0.12\n');
  writeFileSync(path.join(checkpointDir, 'model.safetensors'), Buffer.from([1, 2, 3, 4]));
  store.addArtifact(first, 'scores', path.relative(dir, scoreFile));
  store.addCheckpoint(first, STEPS, checkpointDir);
  store.setTag(first, 'paper', 'table2');
  return { file, dir, store, runs, baselineIds, runningId, failedId, queuedId, scoreFile, checkpointDir };
}
