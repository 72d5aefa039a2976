// Reading model tensors from any file a run may start from, by parameter name:
//   core weights files (format ssmb-weights): an IResNet (insightface keys) or an HFR model
//     (`backbone.<key>` -> `<key>`, `ssmb.<tap>.<key>` kept);
//   ssmb checkpoints (and plain safetensors files in their layout): their `model/<name>` tensors.
// Files other than checkpoints go through core's safetensors state-dict reader: float tensors (F32, F16,
// BF16, F64) as float32; integer bookkeeping (BN num_batches_tracked) is skipped.
// Writing weights files is core's saveWeights.
import { readFileSync } from 'node:fs';
import { readSafetensorsStateDict, tf } from '@ssmb/core';
import { CHECKPOINT_FORMAT, type NamedArray } from '../checkpoint/checkpoint.ts';

export function readVariables(vars: Map<string, tf.Variable>, prefix = ''): Map<string, NamedArray> {
  return new Map([...vars].map(([name, v]) => [`${prefix}${name}`, { data: v.dataSync() as Float32Array, shape: v.shape }]));
}

export function readModelTensors(file: string): Map<string, NamedArray> {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (err) {
    throw new Error(`cannot read weights file ${file}: ${(err as Error).message}`);
  }
  const { metadata, stateDict } = readSafetensorsStateDict(buf, `weights file ${file}`);
  const checkpoint = metadata.format === CHECKPOINT_FORMAT; // model/<name> plus optimiser state (skipped)
  const out = new Map<string, NamedArray>();
  for (const [k, t] of stateDict) {
    // checkpoint-layout tensors (`model/<name>`) in a plain safetensors file read like a checkpoint's
    if (checkpoint && !k.startsWith('model/')) continue;
    const name = k.startsWith('model/') ? k.slice('model/'.length) : k;
    out.set(name.startsWith('backbone.') ? name.slice('backbone.'.length) : name, { data: t.data, shape: t.shape });
  }
  return out;
}

/** Assigns every variable of `vars` from the file; missing or mis-shaped tensors are an error naming them. */
export function loadWeightsInto(vars: Map<string, tf.Variable>, file: string, o: { what: string }): void {
  const tensors = readModelTensors(file);
  const problems: string[] = [];
  for (const [name, v] of vars) {
    const t = tensors.get(name);
    if (!t) problems.push(`${name} missing`);
    else if (t.shape.join(',') !== v.shape.join(',')) problems.push(`${name} has shape [${t.shape}], expected [${v.shape}]`);
  }
  if (problems.length) {
    throw new Error(`weights file ${file} does not fit ${o.what}: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? ` (+${problems.length - 5} more)` : ''}`);
  }
  for (const [name, v] of vars) tf.tidy(() => v.assign(tf.tensor(tensors.get(name)!.data, v.shape)));
}
