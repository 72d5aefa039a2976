// int8 calibration of a run (config train.precision / eval.precision): the activation ranges of the frozen
// network measured on the run's own training images, of EVERY modality it trains on (a VIS-only calibration
// clips the NIR and thermal maps), up to CALIBRATION_PER_MODALITY evenly spaced images each. What was used is
// recorded with the run (describeCalibration).
import { calibrateModel, engineModelOf, HFRModel, type Backbone, type Calibration, type CalibrationSet, type PrecisionOptions } from '@ssmb/core';
import type { Config } from '../config.ts';
import type { ImageSet } from './data.ts';

export const CALIBRATION_PER_MODALITY = 64;

/** The calibration images: per modality of the set, up to `perModality` evenly spaced ones. */
export function calibrationSets(images: ImageSet, perModality = CALIBRATION_PER_MODALITY): CalibrationSet[] {
  const per = images.size * images.size * 3;
  const byModality = new Map<string, number[]>();
  images.samples.forEach((s, i) => {
    if (!byModality.has(s.modality)) byModality.set(s.modality, []);
    byModality.get(s.modality)!.push(i);
  });
  return [...byModality].map(([modality, idx]) => {
    const n = Math.min(perModality, idx.length);
    const out = new Float32Array(n * per);
    for (let k = 0; k < n; k++) {
      const i = idx[Math.floor((k * idx.length) / n)];
      out.set(images.data.subarray(i * per, (i + 1) * per), k * per);
    }
    return { modality, images: out };
  });
}

/** The precision options of an onnxruntime session of this run: the requested precision and, unless fp32,
 *  the calibration of `model` (as it is now) on the training images, or why there is none (auto then
 *  falls back to fp32 with that reason; an explicit int8 fails with it). */
export async function runPrecision(config: Config, which: 'train' | 'eval', model: HFRModel | Backbone, images: ImageSet | null): Promise<PrecisionOptions> {
  const precision = which === 'eval' ? (config.eval.precision ?? config.train.precision) : config.train.precision;
  const precisionKey = which === 'eval' && config.eval.precision ? 'eval.precision' : 'train.precision';
  if (precision === 'fp32') return { precision, precisionKey };
  if (!images) {
    const why = `${precisionKey} ${precision}: this run has no training images to calibrate int8 on`;
    if (precision === 'int8') throw new Error(why);
    return { precision, precisionKey, calibrationError: why };
  }
  try {
    const engineModel = model instanceof HFRModel ? engineModelOf(model) : { backbone: model };
    const calibration: Calibration = await calibrateModel(engineModel, calibrationSets(images), { batch: 2 * config.batchSize, threads: config.train.threads });
    return { precision, precisionKey, calibration };
  } catch (err) {
    if (precision === 'int8') throw err;
    return { precision, precisionKey, calibrationError: (err as Error).message };
  }
}
