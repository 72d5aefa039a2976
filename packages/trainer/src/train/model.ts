// Builds the run's backbone from its config: registry name (core), seeded by the run seed, weights from
// a file when given (pre-trained weights or an ssmb checkpoint); the HFR model (backbone + SSMB blocks).
import { createModel, HFRModel, type IResNet, type tf } from '@ssmb/core';
import type { Config } from '../config.ts';
import { loadWeightsInto, readModelTensors } from './weights.ts';

export function buildBackbone(config: Config, weightsFile?: string | null): IResNet {
  const model = createModel(config.backbone.model, { seed: config.seed });
  const file = weightsFile ?? config.backbone.weights;
  if (file) {
    try {
      loadWeightsInto(model.params, file, { what: `backbone ${config.backbone.model}` });
    } catch (err) {
      model.dispose();
      throw err;
    }
  }
  return model;
}

/** Backbone + SSMBs from the config; `initFrom` may hold backbone weights or a whole SSMB model. */
export function buildHfr(config: Config, initFrom: string | null): HFRModel {
  const initTensors = initFrom ? readModelTensors(initFrom) : undefined;
  const hasSsmb = initTensors ? [...initTensors.keys()].some((k) => k.startsWith('ssmb.')) : false;
  const backbone = buildBackbone(config, initFrom && !hasSsmb ? initFrom : null);
  const model = new HFRModel(backbone, {
    taps: config.ssmb.positions,
    numExperts: config.ssmb.numExperts,
    hidden: config.ssmb.hiddenWidth ?? undefined,
    kind: config.ssmb.expertKind,
    seed: config.seed,
  });
  try {
    if (initFrom && hasSsmb) loadWeightsInto(ssmbParams(model), initFrom, { what: 'the SSMB blocks of this config' });
  } catch (err) {
    model.dispose();
    throw err;
  }
  return model;
}

export function ssmbParams(model: HFRModel): Map<string, tf.Variable> {
  return new Map([...model.params].filter(([k]) => k.startsWith('ssmb.')));
}

/** The image side the model expects; a configured size must agree with it. */
export function imageSizeOf(config: Config, backbone: IResNet): number {
  const s = config.dataset.imageSize ?? backbone.config.inputSize;
  if (s !== backbone.config.inputSize) {
    throw new Error(`config key \`dataset.imageSize\`: ${s} does not match the input size ${backbone.config.inputSize} of backbone ${config.backbone.model}`);
  }
  return s;
}
