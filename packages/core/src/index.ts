export { tf } from './tf.ts';
export {
  initBackend, activeEngine, engineInfo, parseEngineName, ENGINE_ORDER, ENGINE_ALIASES,
  type EngineName, type EngineInfo, type EngineAttempt, type InitBackendOptions,
} from './backend.ts';
export { registerWasmConvGradKernels, wasmConvGradKernelsActive } from './kernels/register.ts';
export * from './metrics/index.ts';
