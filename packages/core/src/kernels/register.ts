// Installs the fast conv gradient kernels on the wasm backend (overriding tfjs-backend-wasm's slow
// Conv2DBackpropInput and adding the missing Conv2DBackpropFilter). Idempotent.
import { tf } from '../tf.ts';
import { conv2dBackpropInputWasm } from './conv2d_backprop_input.ts';
import { conv2dBackpropFilterWasm } from './conv2d_backprop_filter.ts';

const displaced = new Map<string, tf.KernelConfig>();

const OURS = new Set<tf.KernelFunc>([
  conv2dBackpropInputWasm as unknown as tf.KernelFunc,
  conv2dBackpropFilterWasm as unknown as tf.KernelFunc,
]);

export const WASM_CONV_GRAD_KERNELS: readonly tf.KernelConfig[] = [
  { kernelName: 'Conv2DBackpropInput', backendName: 'wasm', kernelFunc: conv2dBackpropInputWasm as unknown as tf.KernelFunc },
  { kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kernelFunc: conv2dBackpropFilterWasm as unknown as tf.KernelFunc },
];

/** Registers our kernels for backend 'wasm', replacing any other registration. Returns the names replaced. */
export function registerWasmConvGradKernels(): string[] {
  const replaced: string[] = [];
  for (const config of WASM_CONV_GRAD_KERNELS) {
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

/** True when both of our kernels are the ones registered for 'wasm'. */
export function wasmConvGradKernelsActive(): boolean {
  return WASM_CONV_GRAD_KERNELS.every((c) => OURS.has(tf.getKernel(c.kernelName, 'wasm')?.kernelFunc as tf.KernelFunc));
}
