// Test helpers: a tiny synthetic dataset (generated once per test file) and a tiny config on the cpu backend.
import { generateSyntheticDataset } from '@ssmb/protocols';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { resolveConfig, type Config } from '../config.ts';
import { RunStore } from '../store/run_store.ts';
import { LeaseLostError } from '../worker/run_context.ts';

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

/**
 * The store as a worker that dies sees it: `die(method, args)` returning true makes that call throw a
 * LeaseLostError, so the worker stops without writing anything more (like a kill: the run stays
 * 'running' until its lease expires), except flushing the metrics it had buffered (the worst case).
 */
export function dyingStore(store: RunStore, die: (method: string, args: unknown[]) => boolean): RunStore {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver);
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        if (die(String(prop), args)) throw new LeaseLostError(args[0] as number, 'doomed');
        return v.apply(target, args);
      };
    },
  });
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
