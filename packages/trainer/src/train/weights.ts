// Model tensors by parameter name for the trainer. Reading any file a run may start from (core weights
// files, ssmb checkpoints' `model/<name>` tensors, foreign safetensors state dicts) and loading them into
// variables is core's one loader (`readNamedTensors`, `loadWeightsInto`: every mismatch named, nothing
// assigned on a mismatch, weights of another backbone family refused); this module re-exports it so the
// trainer has one contract, and adds the reverse direction used for checkpoints.
import { loadWeightsInto, readNamedTensors, type tf } from '@ssmb/core';
import type { NamedArray } from '../checkpoint/checkpoint.ts';

export { loadWeightsInto };

export function readVariables(vars: Map<string, tf.Variable>, prefix = ''): Map<string, NamedArray> {
  return new Map([...vars].map(([name, v]) => [`${prefix}${name}`, { data: v.dataSync() as Float32Array, shape: v.shape }]));
}

/** A file's model tensors by parameter name (`backbone.` removed; checkpoints' `model/` prefix removed). */
export function readModelTensors(file: string): Map<string, NamedArray> {
  return readNamedTensors(file).tensors;
}
