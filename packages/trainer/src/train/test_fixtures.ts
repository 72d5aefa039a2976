// Test helpers: a tiny synthetic dataset (generated once per test file) and a tiny config on the cpu backend.
import { generateSyntheticDataset } from '@ssmb/protocols';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { resolveConfig, type Config } from '../config.ts';
import { RunStore } from '../store/run_store.ts';

export async function tinyDataset(): Promise<string> {
  const root = path.join(mkdtempSync(path.join(tmpdir(), 'ssmb-synth-')), 'synthetic');
  await generateSyntheticDataset(root, { identities: 8, imagesPerIdentity: 2, pretrainIdentities: 6, pretrainImagesPerIdentity: 3, size: 32 });
  return root;
}

/** tinyDataset with a run store beside it (the e2e tests' set-up); closeTinyWorkspace undoes it. */
export async function openTinyWorkspace(): Promise<{ root: string; store: RunStore }> {
  const root = await tinyDataset();
  return { root, store: RunStore.open(path.join(path.dirname(root), 'runs.sqlite')) };
}

/** Closes the store and removes the dataset's temporary directory (store included). */
export function closeTinyWorkspace(store: RunStore, root: string): void {
  store.close();
  rmSync(path.dirname(root), { recursive: true, force: true });
}

export function tinyConfig(root: string, sets: string[] = []): Config {
  return resolveConfig({
    base: {
      dataset: { root, protocol: 'synthetic-vis-nir', fold: '1' },
      backbone: { model: 'iresnet-tiny' },
      ssmb: { numExperts: 2, positions: ['stem', 'layer1'] },
      optim: { lr: 0.01 },
      pretrain: { steps: 8, batchSize: 16, warmup: 2 },
      batchSize: 6,
      steps: 16,
      checkpointEvery: 4,
      engine: 'wasm',
      seed: 5,
    },
    sets,
  });
}
