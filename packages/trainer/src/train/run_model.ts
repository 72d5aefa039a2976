// The model a run stands for, built the way the trainer builds it: `buildRunModel` is what an evaluate
// run evaluates; `loadRunModel` adds the run's latest checkpoint exactly as a resumed run reads it
// (buildHfr / buildBackbone + loadWeightsInto), for export and inference outside the worker.
import { HFRModel, type Backbone } from '@ssmb/core';
import { ConfigError, validateConfig, type Config } from '../config.ts';
import { getMethod } from '../methods/index.ts';
import type { RunRecord, RunStore } from '../store/run_store.ts';
import { buildBackbone, buildHfr, ssmbParams } from './model.ts';
import { loadWeightsInto } from './weights.ts';

/** A method that trains nothing (baseline): the backbone (weights from `initFrom` or the config); any
 *  other: the HFR model of its method in `initFrom`. */
export function buildRunModel(config: Config, initFrom: string | null): HFRModel | Backbone {
  if (!getMethod(config.method, 'config key `method`').trains) return buildBackbone(config, initFrom);
  if (!initFrom) throw new ConfigError(`a ${config.method} evaluation needs the trained model: pass --checkpoint FILE (or use method=baseline)`);
  return buildHfr(config, initFrom);
}

export type RunModel = ({ kind: 'hfr'; model: HFRModel } | { kind: 'backbone'; model: Backbone }) & {
  run: RunRecord;
  /** the run's resolved config */
  config: Config;
  /** the checkpoint whose weights were loaded (null for evaluate runs, which have none) */
  checkpoint: { path: string; step: number } | null;
};

export interface LoadRunModelOptions {
  /** the backbone alone, without the SSMB blocks */
  backboneOnly?: boolean;
}

/**
 * The run's model with its latest checkpoint weights: train runs give backbone (init file or
 * config.backbone.weights) + SSMB blocks from the checkpoint; pretrain runs the backbone from the
 * checkpoint; evaluate runs the model they evaluate. The caller disposes `model`; the tf backend is
 * the caller's (core's initBackend).
 */
export function loadRunModel(store: RunStore, runId: number, opts: LoadRunModelOptions = {}): RunModel {
  const run = store.requireRun(runId);
  const latest = store.latestCheckpoint(runId);
  const checkpoint = latest ? { path: latest.path, step: latest.step } : null;
  const config = validateConfig(run.config);
  if (run.kind !== 'train' && run.kind !== 'pretrain' && run.kind !== 'evaluate') {
    throw new Error(`run ${runId} is a ${run.kind} run and has no model; pick a train, pretrain or evaluate run`);
  }
  if (run.kind !== 'evaluate' && !checkpoint) {
    throw new Error(`run ${runId} (${run.status}) has no checkpoint yet; its model needs a checkpointed run (see \`ssmb runs show ${runId} --store ${store.file}\`)`);
  }
  let model: HFRModel | Backbone;
  if (run.kind === 'evaluate') {
    model = buildRunModel(config, run.initFrom);
  } else if (run.kind === 'pretrain') {
    model = buildBackbone(config, run.initFrom);
    // the checkpoint also holds the ArcFace head, which is not part of the backbone
    loadInto(model, () => loadWeightsInto(model as Backbone, checkpoint!.path, { what: `run ${runId}'s backbone`, unused: 'allow' }));
  } else {
    model = buildHfr(config, run.initFrom);
    loadInto(model, () => loadWeightsInto(ssmbParams(model as HFRModel), checkpoint!.path, { what: `run ${runId}'s SSMB blocks` }));
  }
  if (model instanceof HFRModel && opts.backboneOnly) {
    for (const b of model.blocks.values()) b.dispose();
    model = model.backbone;
  }
  const base = { run, config, checkpoint };
  return model instanceof HFRModel ? { kind: 'hfr', model, ...base } : { kind: 'backbone', model, ...base };
}

function loadInto(model: { dispose(): void }, load: () => void): void {
  try {
    load();
  } catch (err) {
    model.dispose();
    throw err;
  }
}
