// Installs our kernels on the wasm backend: the fast conv gradients (overriding tfjs-backend-wasm's slow
// Conv2DBackpropInput, adding the missing Conv2DBackpropFilter and DepthwiseConv2dNativeBackpropInput /
// DepthwiseConv2dNativeBackpropFilter) and
// a correct OneHot (wasm's writes int32 whatever dtype is asked for). Idempotent.
import { tf } from '../tf.ts';
import { conv2dBackpropInputWasm } from './conv2d_backprop_input.ts';
import { conv2dBackpropFilterWasm } from './conv2d_backprop_filter.ts';
import { oneHotWasm } from './one_hot.ts';
import { depthwiseConv2dBackpropInputWasm } from './depthwise_conv2d_backprop_input.ts';
import { depthwiseConv2dBackpropFilterWasm } from './depthwise_conv2d_backprop_filter.ts';

const displaced = new Map<string, tf.KernelConfig>();

const OURS = new Set<tf.KernelFunc>([
  conv2dBackpropInputWasm as unknown as tf.KernelFunc,
  conv2dBackpropFilterWasm as unknown as tf.KernelFunc,
  oneHotWasm as unknown as tf.KernelFunc,
  depthwiseConv2dBackpropInputWasm as unknown as tf.KernelFunc,
  depthwiseConv2dBackpropFilterWasm as unknown as tf.KernelFunc,
]);

export const WASM_CONV_GRAD_KERNELS: readonly tf.KernelConfig[] = [
  { kernelName: 'Conv2DBackpropInput', backendName: 'wasm', kernelFunc: conv2dBackpropInputWasm as unknown as tf.KernelFunc },
  { kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kernelFunc: conv2dBackpropFilterWasm as unknown as tf.KernelFunc },
  { kernelName: 'DepthwiseConv2dNativeBackpropInput', backendName: 'wasm', kernelFunc: depthwiseConv2dBackpropInputWasm as unknown as tf.KernelFunc },
  { kernelName: 'DepthwiseConv2dNativeBackpropFilter', backendName: 'wasm', kernelFunc: depthwiseConv2dBackpropFilterWasm as unknown as tf.KernelFunc },
];

export const WASM_FIXED_KERNELS: readonly tf.KernelConfig[] = [
  { kernelName: 'OneHot', backendName: 'wasm', kernelFunc: oneHotWasm as unknown as tf.KernelFunc },
];

const ALL = [...WASM_CONV_GRAD_KERNELS, ...WASM_FIXED_KERNELS];

/** Registers all our kernels (conv gradients and OneHot) for backend 'wasm', replacing any other
 *  registration. Returns the names replaced. */
export function registerWasmKernels(): string[] {
  const replaced: string[] = [];
  for (const config of ALL) {
    const existing = tf.getKernel(config.kernelName, 'wasm');
    if (existing && OURS.has(existing.kernelFunc)) continue;
    if (existing) {
      displaced.set(config.kernelName, existing);
      tf.unregisterKernel(config.kernelName, 'wasm');
      replaced.push(config.kernelName);
    }
    tf.registerKernel(config);
  }
  return replaced;
}

/** The tfjs-backend-wasm kernel we displaced (kept so the bench can time before/after), if any. */
export function displacedWasmKernel(kernelName: string): tf.KernelConfig | undefined {
  return displaced.get(kernelName);
}

/** True when all of our kernels are the ones registered for 'wasm'. */
export function wasmKernelsActive(): boolean {
  return ALL.every((c) => OURS.has(tf.getKernel(c.kernelName, 'wasm')?.kernelFunc as tf.KernelFunc));
}
