// Precision of the frozen network in the engine's graphs (config train.precision / eval.precision):
// fp32, int8 (the frozen convs and head in int8, calibrated: quantize_graph.ts), or auto = int8 where the
// backbone and provider allow it, else fp32 with the reason (logged and recorded by the caller, never a
// silently different model). An explicit int8 that cannot be built fails with the layer and op named.
import type { Calibration } from './calibrate.ts';
import { describeCalibration } from './calibrate.ts';
import type { Int8Form, WeightCache } from './quantize_graph.ts';

export const PRECISION_CHOICES = ['fp32', 'int8', 'auto'] as const;
export type PrecisionChoice = (typeof PRECISION_CHOICES)[number];
/** onnxruntime runs QLinearConv and the QDQ form at the same speed here (bench/int8_forms_bench.ts); the
 *  direct form does not depend on a graph optimiser fusing it. */
export const DEFAULT_INT8_FORM: Int8Form = 'qlinear';

export interface PrecisionOptions {
  /** fp32 (default), int8, auto */
  precision?: PrecisionChoice;
  /** the activation ranges (calibrate_model.ts); int8 without one is refused, auto falls back */
  calibration?: Calibration;
  int8Form?: Int8Form;
  /** the backbone's weight cache (weightCacheOf) */
  weights?: WeightCache;
  /** the config key named in errors (train.precision / eval.precision) */
  precisionKey?: string;
  /** why there is no calibration (the caller's calibration failed): auto's reason, int8's error */
  calibrationError?: string;
}

/** What a session records about its precision. */
export interface PrecisionDescription {
  precision: 'fp32' | 'int8';
  /** 'configured', or auto's reason for fp32 */
  reason: string;
  /** describeCalibration of the ranges used (null in fp32) */
  calibration: string | null;
  form: Int8Form | null;
  /** layers in int8 */
  layers: number;
}

/**
 * Opens what `open` builds at the requested precision: int8 (open gets the int8 options) or fp32 (open gets
 * undefined). auto tries int8 and, on any failure, opens fp32 with the reason.
 */
export async function openWithPrecision<T extends { int8Layers: number }>(
  opts: PrecisionOptions,
  open: (int8: { calibration: Calibration; form: Int8Form; weights?: WeightCache } | undefined) => Promise<T>,
): Promise<{ value: T; precision: PrecisionDescription }> {
  const requested = opts.precision ?? 'fp32';
  const key = opts.precisionKey ?? 'precision';
  if (!(PRECISION_CHOICES as readonly string[]).includes(requested)) {
    throw new Error(`${key} is '${String(requested)}'; expected one of ${PRECISION_CHOICES.join(', ')}`);
  }
  const fp32 = async (reason: string) => ({ value: await open(undefined), precision: { precision: 'fp32' as const, reason, calibration: null, form: null, layers: 0 } });
  if (requested === 'fp32') return fp32('configured');
  const form = opts.int8Form ?? DEFAULT_INT8_FORM;
  try {
    if (!opts.calibration) throw new Error(`${key} ${requested}: no calibration; ${opts.calibrationError ?? "int8 needs activation ranges measured on the run's training images"}`);
    const calibration = opts.calibration;
    const value = await open({ calibration, form, weights: opts.weights });
    return { value, precision: { precision: 'int8', reason: 'configured', calibration: describeCalibration(calibration), form, layers: value.int8Layers } };
  } catch (err) {
    if (requested === 'int8') throw err;
    return fp32(`auto: fp32, int8 unavailable: ${(err as Error).message}`);
  }
}
