import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defaultConfig } from '../config.ts';
import { RunStore } from '../store/run_store.ts';
import { checkpointPath } from './checkpoint.ts';
import { bestModeOf, checkpointDir, pruneCheckpoints, reconcileCheckpoints } from './retention.ts';

let dir: string;
let store: RunStore;
let runId: number;
let runDir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'retention-'));
  store = RunStore.open(path.join(dir, 'runs.sqlite'));
  runId = store.createRun({ experiment: 'e', kind: 'train', config: {}, seed: 0 });
  runDir = path.join(dir, `run-${runId}`);
  mkdirSync(checkpointDir(runDir), { recursive: true });
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A checkpoint file and its row (what runLoop's save does). */
function ckpt(step: number): string {
  const file = checkpointPath(runDir, step);
  writeFileSync(file, `step ${step}`);
  store.addCheckpoint(runId, step, file);
  return file;
}
const files = () => readdirSync(checkpointDir(runDir)).sort();
const rows = () => store.listCheckpoints(runId).map((c) => c.step);
const policy = (o: Partial<ReturnType<typeof defaultConfig>['checkpoint']>) => ({ ...defaultConfig().checkpoint, ...o });

describe('checkpoint retention', () => {
  it('keeps the newest keepLast and the best by the metric; rows and files stay in step', async () => {
    for (const s of [2, 4, 6, 8, 10]) ckpt(s);
    // eval/rank1 at 4 and 8 (best 0.7 at 4); the loss is logged at every step
    store.logMetrics(runId, [{ key: 'eval/rank1', step: 4, value: 0.7 }, { key: 'eval/rank1', step: 8, value: 0.5 }]);
    const r = await pruneCheckpoints(store, runId, policy({ keepLast: 2, keepBest: 'eval/rank1' }));
    expect(r.kept).toEqual([4, 8, 10]);
    expect(r.deleted.map((c) => c.step)).toEqual([2, 6]);
    expect(rows()).toEqual([4, 8, 10]);
    expect(files()).toEqual(['step-00000004.ckpt', 'step-00000008.ckpt', 'step-00000010.ckpt']);
    // lower is better for a loss: the best moves to the lowest loss among checkpoint steps
    store.logMetrics(runId, [4, 8, 10].map((step) => ({ key: 'loss', step, value: step === 8 ? 0.1 : 1 })));
    expect((await pruneCheckpoints(store, runId, policy({ keepLast: 1, keepBest: 'loss' }))).kept).toEqual([8, 10]);
    expect(files()).toEqual(['step-00000008.ckpt', 'step-00000010.ckpt']);
  });

  it('never deletes the newest checkpoint (a resume needs it) nor a file another run starts from', async () => {
    const from = ckpt(2);
    ckpt(4);
    ckpt(6);
    store.createRun({ experiment: 'e', kind: 'train', config: {}, seed: 0, initFrom: from });
    const r = await pruneCheckpoints(store, runId, policy({ keepLast: 1, keepBest: null }));
    expect(r.kept).toEqual([2, 6]);
    expect(files()).toEqual(['step-00000002.ckpt', 'step-00000006.ckpt']);
    expect((await pruneCheckpoints(store, runId, policy({ keepLast: 0 }))).deleted).toEqual([]); // 0 = keep all
  });

  it('at a start: removes temp files of a killed writer and files without a row, forgets rows without a file', async () => {
    ckpt(2);
    const gone = ckpt(4);
    ckpt(6);
    rmSync(gone);
    const d = checkpointDir(runDir);
    writeFileSync(path.join(d, '.step-00000008.ckpt.tmp-4242'), 'half');
    writeFileSync(path.join(d, 'step-00000008.ckpt'), 'written, row never added');
    writeFileSync(path.join(d, 'notes.txt'), 'not ours');
    const r = await reconcileCheckpoints(store, runId, runDir);
    expect(r.removedTemp.map((f) => path.basename(f))).toEqual(['.step-00000008.ckpt.tmp-4242']);
    expect(r.removedOrphans.map((f) => path.basename(f))).toEqual(['step-00000008.ckpt']);
    expect(r.forgottenSteps).toEqual([4]);
    expect(files()).toEqual(['notes.txt', 'step-00000002.ckpt', 'step-00000006.ckpt']);
    expect(rows()).toEqual([2, 6]);
  });

  it('leaves rows alone when the checkpoint directory itself is missing (an unmounted output dir)', async () => {
    ckpt(2);
    rmSync(checkpointDir(runDir), { recursive: true });
    expect((await reconcileCheckpoints(store, runId, runDir)).forgottenSteps).toEqual([]);
    expect(rows()).toEqual([2]);
    expect(existsSync(checkpointDir(runDir))).toBe(false);
  });

  it('tells which way the keepBest metric is better, and fails naming the key when it cannot', () => {
    expect(bestModeOf({ keepBest: 'eval/rank1', bestMode: null })).toBe('max');
    expect(bestModeOf({ keepBest: 'eval/eer', bestMode: null })).toBe('min');
    expect(bestModeOf({ keepBest: 'loss/cc', bestMode: null })).toBe('min');
    expect(bestModeOf({ keepBest: 'my/score', bestMode: 'max' })).toBe('max');
    expect(bestModeOf({ keepBest: null, bestMode: null })).toBeNull();
    expect(() => bestModeOf({ keepBest: 'my/score', bestMode: null })).toThrow(/checkpoint\.keepBest.*"my\/score".*checkpoint\.bestMode/);
  });
});
