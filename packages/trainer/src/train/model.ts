// Builds the run's backbone from its config: registry name (core), seeded by the run seed, weights from
// a file when given (pre-trained weights or an ssmb checkpoint).
import { createModel, type IResNet } from '@ssmb/core';
import type { Config } from '../config.ts';
import { loadWeightsInto } from './weights.ts';

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

/** The image side the model expects; a configured size must agree with it. */
export function imageSizeOf(config: Config, backbone: IResNet): number {
  const s = config.dataset.imageSize ?? backbone.config.inputSize;
  if (s !== backbone.config.inputSize) {
    throw new Error(`config key \`dataset.imageSize\`: ${s} does not match the input size ${backbone.config.inputSize} of backbone ${config.backbone.model}`);
  }
  return s;
}
