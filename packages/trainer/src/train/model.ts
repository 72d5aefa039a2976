// Builds the run's backbone from its config: any registered backbone (core's registry, through the
// Backbone interface), seeded by the run seed, weights from a file when given (pre-trained weights, an
// imported package model or an ssmb checkpoint); the HFR model (backbone + SSMB blocks).
import { createBackbone, HFRModel, loadWeightsInto, readNamedTensors, type Backbone, type tf } from '@ssmb/core';
import { ConfigError, type Config } from '../config.ts';
import { getMethod } from '../methods/index.ts';

export function buildBackbone(config: Config, weightsFile?: string | null): Backbone {
  const model = createBackbone(config.backbone.model, { seed: config.seed });
  const file = weightsFile ?? config.backbone.weights;
  if (file) {
    try {
      // an HFR file's SSMB tensors or a pre-training checkpoint's ArcFace head are not the backbone's
      loadWeightsInto(model, file, { what: `backbone ${config.backbone.model}`, unused: 'allow' });
    } catch (err) {
      model.dispose();
      throw err;
    }
  }
  return model;
}

/** Backbone + the blocks of the config's method (its model options); `initFrom` may hold backbone weights
 *  or a whole model of the method. */
export function buildHfr(config: Config, initFrom: string | null): HFRModel {
  const method = getMethod(config.method, 'config key `method`');
  if (!method.model) throw new ConfigError(`config key \`method\`: method ${method.name} trains nothing and has no blocks (its runs are kind evaluate)`);
  const options = method.model(config); // before the backbone: an unknown training protocol fails here
  const init = initFrom ? readNamedTensors(initFrom) : undefined;
  const hasSsmb = init ? [...init.tensors.keys()].some((k) => k.startsWith('ssmb.')) : false;
  const backbone = buildBackbone(config, initFrom && !hasSsmb ? initFrom : null);
  let model: HFRModel;
  try {
    model = new HFRModel(backbone, options);
  } catch (err) {
    backbone.dispose();
    throw err;
  }
  try {
    // the backbone itself comes from config.backbone.weights, as when the blocks were trained
    if (init && hasSsmb) loadWeightsInto(ssmbParams(model), init, { what: 'the SSMB blocks of this config', unused: 'allow' });
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
export function imageSizeOf(config: Config, backbone: Backbone): number {
  const s = config.dataset.imageSize ?? backbone.input.size;
  if (s !== backbone.input.size) {
    throw new Error(`config key \`dataset.imageSize\`: ${s} does not match the input size ${backbone.input.size} of backbone ${config.backbone.model}`);
  }
  return s;
}
