// Reading model tensors from any file a run may start from, by parameter name:
//   core weights files (format ssmb-weights): an IResNet (insightface keys) or an HFR model
//     (`backbone.<key>` -> `<key>`, `ssmb.<tap>.<key>` kept);
//   ssmb checkpoints: their `model/<name>` tensors.
// Writing weights files is core's saveWeights.
import { readFileSync } from 'node:fs';
import { decodeSafetensors, tf } from '@ssmb/core';
import { CHECKPOINT_FORMAT, decodeCheckpoint, type NamedArray } from '../checkpoint/checkpoint.ts';

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
  const { metadata, tensors } = decodeSafetensors(buf, `weights file ${file}`);
  if (metadata.format === CHECKPOINT_FORMAT) {
    const ck = decodeCheckpoint(buf, `checkpoint ${file}`);
    return new Map([...ck.tensors].filter(([k]) => k.startsWith('model/')).map(([k, v]) => [k.slice('model/'.length), v]));
  }
  const out = new Map<string, NamedArray>();
  for (const [k, t] of tensors) {
    if (t.dtype !== 'F32') continue;
    out.set(k.startsWith('backbone.') ? k.slice('backbone.'.length) : k, { data: t.data as Float32Array, shape: t.shape });
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
