// OneHot for the wasm backend. tfjs-backend-wasm 4.22's C++ OneHot always writes int32 values, so a
// float32 request reads back as int bit patterns (1 -> 1.4e-45) and fractional on/off values are
// truncated; this kernel fills the output in its own dtype directly on the wasm heap.
import { tf } from '../tf.ts';

export interface OneHotAttrs {
  depth: number;
  onValue: number;
  offValue: number;
  dtype: tf.DataType;
}

type WasmBackend = tf.KernelBackend & {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): tf.backend_util.TypedArray;
};

export function oneHotWasm(args: { inputs: { indices: tf.TensorInfo }; attrs: OneHotAttrs; backend: tf.KernelBackend }): tf.TensorInfo {
  const { inputs: { indices }, attrs: { depth, onValue, offValue, dtype }, backend } = args;
  if (indices.dtype !== 'int32') {
    throw new Error(`OneHot (wasm): indices have dtype ${indices.dtype}; expected int32 (tf.oneHot casts them)`);
  }
  if (!Number.isInteger(depth) || depth < 0) throw new Error(`OneHot (wasm): depth is ${depth}; expected a non-negative integer`);
  const b = backend as WasmBackend;
  const out = b.makeOutput([...indices.shape, depth], dtype);
  const idx = b.typedArrayFromHeap(indices) as Int32Array; // [...S]
  const o = b.typedArrayFromHeap(out); // [...S, depth]
  o.fill(offValue);
  for (let i = 0; i < idx.length; i++) {
    const j = idx[i];
    if (j >= 0 && j < depth) o[i * depth + j] = onValue; // out-of-range indices give an all-off row, as on cpu
  }
  return out;
}
