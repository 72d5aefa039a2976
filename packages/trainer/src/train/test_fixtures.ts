// Test helpers: a tiny synthetic dataset (generated once per test file) and a tiny config on the cpu backend.
import { generateSyntheticDataset } from '@ssmb/protocols';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { resolveConfig, type Config } from '../config.ts';

export async function tinyDataset(): Promise<string> {
  const root = path.join(mkdtempSync(path.join(tmpdir(), 'ssmb-synth-')), 'synthetic');
  await generateSyntheticDataset(root, { identities: 8, imagesPerIdentity: 2, pretrainIdentities: 6, pretrainImagesPerIdentity: 3, size: 32 });
  return root;
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
