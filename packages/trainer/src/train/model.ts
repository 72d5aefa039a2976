// Builds the run's backbone from its config: any registered backbone (core's registry, through the
// Backbone interface), seeded by the run seed, weights from a file when given (pre-trained weights, an
// imported package model or an ssmb checkpoint); the HFR model (backbone + SSMB blocks).
import { createBackbone, HFRModel, loadWeightsInto, readNamedTensors, type Backbone, type tf } from '@ssmb/core';
import type { Config } from '../config.ts';

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

/** Backbone + SSMBs from the config; `initFrom` may hold backbone weights or a whole SSMB model. */
export function buildHfr(config: Config, initFrom: string | null): HFRModel {
  const init = initFrom ? readNamedTensors(initFrom) : undefined;
  const hasSsmb = init ? [...init.tensors.keys()].some((k) => k.startsWith('ssmb.')) : false;
  const backbone = buildBackbone(config, initFrom && !hasSsmb ? initFrom : null);
  let model: HFRModel;
  try {
    model = new HFRModel(backbone, {
      taps: config.ssmb.positions,
      numExperts: config.ssmb.numExperts,
      hidden: config.ssmb.hiddenWidth ?? undefined,
      kind: config.ssmb.expertKind,
      routerInput: config.ssmb.routerInput,
      routerJitter: config.ssmb.routerJitter,
      routing: config.ssmb.routing,
      seed: config.seed,
    });
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
