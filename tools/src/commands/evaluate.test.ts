import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Command } from 'commander';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateSyntheticDataset } from '@ssmb/protocols';
import { RunStore } from '@ssmb/trainer';
import * as evaluate from './evaluate.ts';
import * as launch from './launch.ts';
import * as pretrain from './pretrain.ts';

let dir: string;
let root: string;
let file: string;
let out: string[] = [];
const tiny = ['backbone.model=iresnet-tiny', 'engine=wasm', 'eval.batchSize=16'];

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'cli-eval-'));
  root = path.join(dir, 'synthetic');
  file = path.join(dir, 'runs.sqlite');
  await generateSyntheticDataset(root, { identities: 8, imagesPerIdentity: 2, pretrainIdentities: 6, pretrainImagesPerIdentity: 3, size: 32 });
  vi.spyOn(console, 'log').mockImplementation((...a) => void out.push(a.join(' ')));
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
});
afterAll(() => {
  vi.restoreAllMocks();
  process.exitCode = undefined;
  rmSync(dir, { recursive: true, force: true });
});

async function ssmb(...args: string[]): Promise<void> {
  const program = new Command('ssmb').exitOverride();
  for (const m of [launch, pretrain, evaluate]) m.register(program);
  await program.parseAsync(args, { from: 'user' });
}
const sets = (list: string[]) => list.flatMap((s) => ['--set', s]);

describe('ssmb pretrain / evaluate / launch --work', () => {
  it('pre-trains, evaluates the baseline on every fold, trains SSMB and evaluates its model', async () => {
    const weights = path.join(dir, 'backbone.safetensors');
    await ssmb('pretrain', '--store', file, '--quiet', '-o', weights, ...sets([...tiny, `dataset.root=${root}`, 'pretrain.steps=4', 'pretrain.batchSize=8']));
    expect(out.at(-1)).toMatch(new RegExp(`^run 1: weights ${weights}, VIS-VIS rank-1 \\d+\\.\\d%$`));
    out = [];
    await ssmb('evaluate', '--store', file, '--quiet', ...sets([...tiny, `dataset.root=${root}`, 'method=baseline', 'dataset.fold=all', `backbone.weights=${weights}`]));
    expect(out[0]).toBe('run 2');
    expect(out.filter((l) => /synthetic-vis-nir fold [123] rank1 /.test(l))).toHaveLength(3);
    expect(out.find((l) => l.includes('tar_far_1e2'))).toMatch(/\(\d+ impostors\)/);
    out = [];
    await ssmb('launch', '--store', file, '--work', '--quiet', ...sets([...tiny, `dataset.root=${root}`, 'steps=3', 'batchSize=4', `backbone.weights=${weights}`]));
    expect(out).toEqual(['queued run 3', 'completed 1, failed 0']);
    const store = RunStore.open(file);
    const model = store.listArtifacts(3).find((a) => a.kind === 'weights')!.path;
    store.close();
    out = [];
    await ssmb('evaluate', '--store', file, '--quiet', '--checkpoint', model, ...sets([...tiny, `dataset.root=${root}`, 'dataset.fold=2']));
    expect(out.filter((l) => /fold 2 rank1/.test(l))).toHaveLength(1);
    const s2 = RunStore.open(file);
    expect(s2.getRouting(4).length).toBeGreaterThan(0);
    s2.close();
  });

  it('fails with the message when the dataset root is missing, and marks the run failed', async () => {
    await expect(ssmb('evaluate', '--store', file, '--quiet', ...sets([...tiny, 'dataset.root=/missing/root', 'method=baseline']))).rejects.toThrow(
      /run \d+ failed: dataset root \/missing\/root does not exist/,
    );
    await expect(ssmb('evaluate', '--store', file, '--quiet', ...sets([...tiny, `dataset.root=${root}`]))).rejects.toThrow(/needs the trained model: pass --checkpoint/);
    const store = RunStore.open(file);
    expect(store.listRuns({ status: 'failed' })).toHaveLength(2);
    expect(store.listRuns({ status: 'completed' })).toHaveLength(4);
    store.close();
  });
});
