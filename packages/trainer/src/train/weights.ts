// Model weights files: safetensors layout (same container as checkpoints), tensor names = parameter
// names, the model config in __metadata__. Also accepts an ssmb checkpoint (its model tensors).
import type { IResNetConfig } from '@ssmb/core';
import { tf } from '@ssmb/core';
import { CHECKPOINT_FORMAT, decodeCheckpoint, writeFileAtomic } from '../checkpoint/checkpoint.ts';
import { decodeSafetensors, encodeSafetensors, type NamedArray } from '../checkpoint/safetensors.ts';
import { readFileSync } from 'node:fs';

export const WEIGHTS_FORMAT = 'ssmb-weights/1';

export function readVariables(vars: Map<string, tf.Variable>, prefix = ''): Map<string, NamedArray> {
  return new Map([...vars].map(([name, v]) => [`${prefix}${name}`, { data: v.dataSync() as Float32Array, shape: v.shape }]));
}

export function saveWeights(file: string, vars: Map<string, tf.Variable>, modelConfig: IResNetConfig, extra: Record<string, string> = {}): void {
  writeFileAtomic(file, encodeSafetensors(readVariables(vars), { format: WEIGHTS_FORMAT, model_config: JSON.stringify(modelConfig), ...extra }));
}

/** Reads named tensors from a weights file or a checkpoint (checkpoint: the `model/` tensors). */
export function readWeightsFile(file: string): Map<string, NamedArray> {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (err) {
    throw new Error(`cannot read weights file ${file}: ${(err as Error).message}`);
  }
  const { metadata, tensors } = decodeSafetensors(buf, `weights file ${file}`);
  if (metadata.format !== CHECKPOINT_FORMAT) return tensors;
  const ck = decodeCheckpoint(buf, `checkpoint ${file}`);
  return new Map([...ck.tensors].filter(([k]) => k.startsWith('model/')).map(([k, v]) => [k.slice('model/'.length), v]));
}

/** Assigns every variable of `vars` from the file; missing or mis-shaped tensors are an error naming them. */
export function loadWeightsInto(vars: Map<string, tf.Variable>, file: string, o: { what: string; prefix?: string; optional?: (name: string) => boolean }): void {
  const tensors = readWeightsFile(file);
  const problems: string[] = [];
  for (const [name, v] of vars) {
    const t = tensors.get(`${o.prefix ?? ''}${name}`);
    if (!t) {
      if (!o.optional?.(name)) problems.push(`${name} missing`);
      continue;
    }
    if (t.shape.join(',') !== v.shape.join(',')) {
      problems.push(`${name} has shape [${t.shape}], expected [${v.shape}]`);
      continue;
    }
    tf.tidy(() => v.assign(tf.tensor(t.data, v.shape)));
  }
  if (problems.length) throw new Error(`weights file ${file} does not fit ${o.what}: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? ` (+${problems.length - 5} more)` : ''}`);
}
