// Workaround for a tfjs-backend-wasm 4.22 bug: its OneHot kernel always writes int32 values, even when
// dtype float32 is asked for, so tf.oneHot(i, n, 1, 0, 'float32') reads back as denormals (1.4e-45).
// core's SSMBBlock routing, ArcFace and L_lb use float one-hots, so on wasm the routing gates and the
// ArcFace loss were garbage. If the bug is present, OneHot is re-registered as int32 OneHot + Cast.
import { tf } from '@ssmb/core';

export function wasmOneHotIsBroken(): boolean {
  if (tf.getBackend() !== 'wasm') return false;
  const v = tf.tidy(() => tf.oneHot(tf.tensor1d([1], 'int32'), 2, 1, 0, 'float32').dataSync()[1]);
  return v !== 1;
}

/** Returns true when the kernel was patched. Idempotent. */
export function fixWasmOneHot(): boolean {
  if (!wasmOneHotIsBroken()) return false;
  const original = tf.getKernel('OneHot', 'wasm')!;
  const cast = tf.getKernel('Cast', 'wasm')!;
  tf.unregisterKernel('OneHot', 'wasm');
  tf.registerKernel({
    kernelName: 'OneHot',
    backendName: 'wasm',
    kernelFunc: (args) => {
      const attrs = args.attrs as unknown as { dtype: tf.DataType };
      if (attrs.dtype === 'int32') return original.kernelFunc(args);
      const ints = original.kernelFunc({ ...args, attrs: { ...args.attrs, dtype: 'int32' } }) as tf.TensorInfo;
      const out = cast.kernelFunc({ inputs: { x: ints }, attrs: { dtype: attrs.dtype }, backend: args.backend }) as tf.TensorInfo;
      (args.backend as { disposeData(id: object): void }).disposeData(ints.dataId);
      return out;
    },
  });
  if (wasmOneHotIsBroken()) throw new Error('fixWasmOneHot: the patched wasm OneHot kernel still returns wrong values');
  return true;
}
