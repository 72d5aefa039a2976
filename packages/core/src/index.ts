export { tf } from './tf.ts';
export {
  initBackend, activeEngine, engineInfo, parseEngineName, ENGINE_ORDER, ENGINE_ALIASES,
  type EngineName, type EngineInfo, type EngineAttempt, type InitBackendOptions,
} from './backend.ts';
export { registerWasmKernels, wasmKernelsActive } from './kernels/register.ts';
export * from './metrics/index.ts';
// models (IResNet backbone + registry)
export { IResNet, checkTap, type ForwardOptions, type IResNetOptions, type TapHook } from './models/iresnet.ts';
export { TAP_NAMES, validateIResNetConfig, tapChannels, tapSpatial, type IResNetConfig, type TapName } from './models/iresnet_config.ts';
export { registerModel, createModel, listModels, getModelConfig, type CreateModelOptions } from './models/registry.ts';
export { BN_EPS, BN_MOMENTUM } from './models/batch_norm.ts';
// SSMB block
export { SSMBBlock, defaultHidden, SSMB_EPS, EXPERT_KINDS, type ExpertKind, type SSMBConfig, type Routing, type SSMBOutput } from './ssmb/ssmb_block.ts';
// losses
export { crossModalContrastiveLoss } from './losses/cross_modal_contrastive.ts';
export { teacherStudentLoss } from './losses/teacher_student.ts';
export { loadBalancingLoss } from './losses/load_balancing.ts';
export { arcfaceLoss, arcfaceLogits, type ArcFaceOptions } from './losses/arcface.ts';
export { rowCosine, l2Normalize } from './losses/cosine.ts';
// ONNX / insightface interop (weights/onnx): import, export, onnxruntime embedder
export * from './weights/onnx/index.ts';
// HFR model (frozen backbone + SSMBs)
export { HFRModel, DEFAULT_HFR_CONFIG, resolveHFRConfig, disposeHFROutput, type HFRConfig, type HFROutput, type BlockRouting } from './models/hfr_model.ts';
// weights save/load (safetensors + model config)
export {
  encodeSafetensors, decodeSafetensors, decodeSafetensorsFloat32, parseSafetensorsHeader, SAFETENSORS_DTYPE_BYTES,
  type SafeTensor, type SafeDtype, type SafetensorsEntry, type SafetensorsHeader,
} from './weights/safetensors.ts';
export {
  saveWeights, loadWeightsInto, loadModel, readWeightsFile, parseWeights, serializeWeights, describeModel,
  WEIGHTS_FORMAT, WEIGHTS_FORMAT_VERSION, type SavableModel, type ModelDescription, type WeightsFile,
} from './weights/weights_io.ts';
export { tfSeed } from './random_seed.ts';
export { mulberry32, mulberry32Step } from './rng.ts';
