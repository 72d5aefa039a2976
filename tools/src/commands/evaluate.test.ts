import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Command } from 'commander';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateSyntheticDataset, listInvalidProtocols, reloadProtocols } from '@ssmb/protocols';
import { greyPng } from '@ssmb/protocols/testing';
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
const file2 = () => path.join(dir, 'other.sqlite'); // a store of its own: the run counts below stay the main store's

describe('ssmb pretrain / evaluate / launch --work', () => {
  it('pre-trains, evaluates the baseline on every fold, trains SSMB and evaluates its model', async () => {
    const weights = path.join(dir, 'backbone.safetensors');
    await ssmb('pretrain', '--store', file, '--quiet', '-o', weights, ...sets([...tiny, `dataset.root=${root}`, 'pretrain.steps=4', 'pretrain.batchSize=8']));
    expect(out.at(-1)).toMatch(new RegExp(`^run 1: weights ${weights}, VIS-VIS rank-1 \\d+\\.\\d%$`));
    out = [];
    // paths as a user types them, relative to the working directory: the run records them absolute
    const rel = (p: string) => path.relative(process.cwd(), p);
    await ssmb('evaluate', '--store', file, '--quiet', ...sets([...tiny, `dataset.root=${rel(root)}`, 'method=baseline', 'dataset.fold=all', `backbone.weights=${rel(weights)}`]));
    expect(out[0]).toBe('run 2');
    const s1 = RunStore.open(file);
    expect(s1.requireRun(2).config).toMatchObject({ dataset: { root }, backbone: { weights } });
    s1.close();
    expect(out.filter((l) => /synthetic-vis-nir fold [123] rank1 /.test(l))).toHaveLength(3);
    expect(out.find((l) => l.includes('tar_far_1e2'))).toMatch(/\(\d+ impostors\)/);
    out = [];
    await ssmb('launch', '--store', file, '--work', '--quiet', ...sets([...tiny, `dataset.root=${root}`, 'steps=3', 'batchSize=4', `backbone.weights=${weights}`]));
    expect(out).toEqual(['queued run 3', 'completed 1, failed 0']);
    const store = RunStore.open(file);
    const model = store.listArtifacts(3).find((a) => a.kind === 'weights')!.path;
    store.close();
    out = [];
    // the model trained on VIS-NIR fold 1: evaluated on fold 1 of other protocols (the same test identities)
    await ssmb('evaluate', '--store', file, '--quiet', '--checkpoint', model, '--eval-protocol', 'synthetic-vis-thermal', '--eval-protocol', 'synthetic-vis-nir', ...sets([...tiny, `dataset.root=${root}`, 'dataset.fold=1']));
    expect(out.filter((l) => /^synthetic-vis-thermal fold 1 rank1/.test(l))).toHaveLength(1);
    expect(out.filter((l) => /^synthetic-vis-nir fold 1 rank1/.test(l))).toHaveLength(1);
    const s2 = RunStore.open(file);
    expect(s2.getRouting(4).length).toBeGreaterThan(0);
    s2.close();
    // fold 2 tests identities that fold 1 trained on: refused, naming them
    await expect(ssmb('evaluate', '--store', file, '--quiet', '--checkpoint', model, ...sets([...tiny, `dataset.root=${root}`, 'dataset.fold=2']))).rejects.toThrow(
      /protocol synthetic-vis-nir fold 2 tests \d+ identit(y|ies) that the model trained on \(synthetic-vis-nir fold 1 trains them\): h\d+/);
    expect(() => evaluate.evalProtocolSet(['a b'])).toThrow('--eval-protocol: "a b" is not a protocol name');
  });

  it('a missing probe file fails the run naming it; --on-missing skip scores the rest and records the count per role', async () => {
    const weights = path.join(dir, 'backbone.safetensors');
    const probeList = readFileSync(path.join(root, 'protocols/vis-nir/2/probe.txt'), 'utf8').trim().split('\n');
    const gone = path.join(root, probeList[0]);
    const bytes = readFileSync(gone);
    rmSync(gone);
    try {
      const args = [...tiny, `dataset.root=${root}`, 'method=baseline', 'dataset.fold=2', `backbone.weights=${weights}`];
      await expect(ssmb('evaluate', '--store', file, '--quiet', ...sets(args))).rejects.toThrow(
        new RegExp(`run \\d+ failed: protocol synthetic-vis-nir fold 2 under ${root}: 1 entry has no file:\n  probe protocols/vis-nir/2/probe.txt: ${probeList[0]} \\(no such image\\)`),
      );
      await expect(ssmb('evaluate', '--store', file, '--quiet', '--on-missing', 'sometimes', ...sets(args))).rejects.toThrow('--on-missing must be one of error, skip, received "sometimes"');
      out = [];
      await ssmb('evaluate', '--store', file, '--quiet', '--on-missing', 'skip', ...sets(args));
      const runId = Number(/^run (\d+)$/.exec(out[0])![1]);
      expect(out).toContain('synthetic-vis-nir fold 2 skipped 1 probe entry (file missing; dataset.onMissing=skip)');
      const store = RunStore.open(file);
      const m = Object.fromEntries(store.getEvalMetrics(runId).map((x) => [x.metric, x]));
      store.close();
      expect([m.skipped_gallery.value, m.skipped_probe.value]).toEqual([0, 1]);
      expect(m.skipped_train).toBeUndefined(); // an evaluation reads no training images
      expect(m.rank1.count).toBe(probeList.length - 1); // scored every probe that exists
      expect(m.bitdepth_mismatch).toBeUndefined();
    } finally {
      writeFileSync(gone, bytes);
    }
  });

  it('a probe with no eye annotation is centre-cropped, counted in the run (align_centre_crop) and reported', async () => {
    const weights = path.join(dir, 'backbone.safetensors');
    const probe = readFileSync(path.join(root, 'protocols/vis-nir/3/probe.txt'), 'utf8').trim().split('\n')[0];
    const eyesFile = path.join(root, 'eyes.txt');
    const eyes = readFileSync(eyesFile, 'utf8');
    const kept = eyes.split('\n').filter((l) => !l.startsWith(`${probe} `));
    expect(kept.length).toBe(eyes.split('\n').length - 1); // the probe had exactly one annotation line
    writeFileSync(eyesFile, kept.join('\n'));
    try {
      out = [];
      await ssmb('evaluate', '--store', file2(), '--quiet', ...sets([...tiny, `dataset.root=${root}`, 'method=baseline', 'dataset.fold=3', `backbone.weights=${weights}`]));
      const runId = Number(/^run (\d+)$/.exec(out[0])![1]);
      expect(out).toContain('synthetic-vis-nir fold 3 warning: 1 image(s) centre-cropped instead of aligned (the worker log names them)');
      const store = RunStore.open(file2());
      const m = Object.fromEntries(store.getEvalMetrics(runId).map((x) => [x.metric, x]));
      store.close();
      expect(m.align_centre_crop.value).toBe(1);
      expect(m.align_no_face).toBeUndefined(); // no detector ran
    } finally {
      writeFileSync(eyesFile, eyes);
    }
  });

  it('training inside a run: a missing training image fails it, or with dataset.onMissing=skip is counted as skipped_train', async () => {
    const weights = path.join(dir, 'backbone.safetensors');
    const trainList = readFileSync(path.join(root, 'protocols/vis-nir/1/train.txt'), 'utf8').trim().split('\n');
    const gone = path.join(root, trainList.at(-1)!);
    const bytes = readFileSync(gone);
    rmSync(gone);
    try {
      const args = [...tiny, `dataset.root=${root}`, 'steps=2', 'batchSize=4', `backbone.weights=${weights}`];
      out = [];
      await ssmb('launch', '--store', file, '--work', '--quiet', ...sets(args));
      expect(out.at(-1)).toBe('completed 0, failed 1');
      const s1 = RunStore.open(file);
      const failed = s1.listRuns({ status: 'failed' }).find((r) => r.kind === 'train')!;
      expect(failed.error).toContain(`train protocols/vis-nir/1/train.txt: ${trainList.at(-1)} (no such image)`);
      s1.close();
      out = [];
      await ssmb('launch', '--store', file, '--work', '--quiet', ...sets([...args, 'dataset.onMissing=skip']));
      expect(out.at(-1)).toBe('completed 1, failed 0');
      const s2 = RunStore.open(file);
      const run = s2.listRuns({ status: 'completed' }).find((r) => r.kind === 'train' && (r.config as { dataset: { onMissing: string } }).dataset.onMissing === 'skip')!;
      const m = Object.fromEntries(s2.getEvalMetrics(run.id).map((x) => [x.metric, x.value]));
      s2.close();
      expect([m.skipped_train, m.skipped_gallery, m.skipped_probe]).toEqual([1, 0, 0]);
    } finally {
      writeFileSync(gone, bytes);
    }
  });

  it('a malformed user spec in SSMB_PROTOCOLS_DIR does not stop evaluate; a 16-bit probe where the spec says 8-bit is counted', async () => {
    const weights = path.join(dir, 'backbone.safetensors');
    const specs = path.join(dir, 'user-specs');
    mkdirSync(specs, { recursive: true });
    writeFileSync(path.join(specs, 'broken.yaml'), 'name: broken\nroles: [unclosed\n');
    writeFileSync(path.join(specs, 'unknown-key.yaml'), 'name: unknown-key\nflavour: 1\n');
    const probeList = readFileSync(path.join(root, 'protocols/vis-nir/1/probe.txt'), 'utf8').trim().split('\n');
    const file = path.join(root, probeList[0]);
    const bytes = readFileSync(file);
    writeFileSync(file, await greyPng(32, 32, (x, y) => 1000 + 32 * y + x, 16));
    const previous = process.env.SSMB_PROTOCOLS_DIR;
    process.env.SSMB_PROTOCOLS_DIR = specs;
    reloadProtocols();
    try {
      expect(listInvalidProtocols().map((i) => i.name)).toEqual(['broken', 'unknown-key']);
      out = [];
      await ssmb('evaluate', '--store', file2(), '--quiet', ...sets([...tiny, `dataset.root=${root}`, 'method=baseline', 'dataset.fold=1', `backbone.weights=${weights}`]));
      expect(out.filter((l) => /synthetic-vis-nir fold 1 rank1 /.test(l))).toHaveLength(1);
      expect(out).toContain("synthetic-vis-nir fold 1 warning: 1 image(s) not of the bit depth the protocol spec declares (`ssmb protocols check` names them)");
    } finally {
      writeFileSync(file, bytes);
      if (previous === undefined) delete process.env.SSMB_PROTOCOLS_DIR;
      else process.env.SSMB_PROTOCOLS_DIR = previous;
      reloadProtocols();
    }
  });

  it('fails with the message when the dataset root is missing, and marks the run failed', async () => {
    await expect(ssmb('evaluate', '--store', file, '--quiet', ...sets([...tiny, 'dataset.root=/missing/root', 'method=baseline']))).rejects.toThrow(
      /run \d+ failed: run \d+: on host \S+, dataset\.root \/missing\/root does not exist/,
    );
    await expect(ssmb('evaluate', '--store', file, '--quiet', ...sets([...tiny, `dataset.root=${root}`]))).rejects.toThrow(/needs the trained model: pass --checkpoint/);
    const store = RunStore.open(file);
    expect(store.listRuns({ status: 'failed' })).toHaveLength(5); // with the evaluation refused for its identity overlap
    expect(store.listRuns({ status: 'completed' })).toHaveLength(6);
    store.close();
  });
});
