// The onnxruntime training engine: SSMB training and embeddings on onnxruntime-node, graphs
// built with core's ONNX builder and differentiated by the op table (ops/, one file per op).
export { registerOp, getOp, listOps, DEFAULT_VJP_OPTIONS, type OpDef, type GradContext, type ShapeContext, type ValueType, type VjpOptions } from './op_registry.ts';
export { deriveVjp, inferTypes, type Vjp, type VjpRequest, type VjpSeed } from './vjp.ts';
export {
  loadOrt, listProviders, resolveProvider, chooseProvider, resolveThreads, createSession, checkPlacement, ortBinDir, CUDA_INSTALL_HINT,
  PROVIDER_CHOICES,
  type Ort, type OrtSession, type ProviderInfo, type ProviderChoice, type ChooseProviderOptions, type SessionOptions, type OrtLoadOptions, type GraphSessionOptions,
} from './ort_session.ts';
export {
  vulkanDrivers, vulkanLoader, describeAdapter, probeWebGpu, ensureRuntimeDir, missingAdapterReason, pciDisplayDevices, providerEntry, ICD_DIRS, WEBGPU_OPTIONS,
  type AdapterInfo, type VulkanDriver,
} from './gpu.ts';
export { nodePlacement, parsePlacementLog, fallbackOps, type Placement } from './placement.ts';
export { lowerForWebGpu, type WebGpuLowering } from './lower_webgpu.ts';
export { emitBackbone, type AfterTap, type EngineBackbone } from './backbone_graph.ts';
export { emitSsmbLoss, type LossWeights } from './loss_graph.ts';
export {
  buildTrainingGraph, buildInferenceGraph, engineModelOf, gradOutputName,
  type EngineModel, type GraphParam, type TrainingGraph, type TrainingGraphOptions, type InferenceGraph, type Int8GraphOptions,
} from './student_graph.ts';
export { OrtSsmbTrainer, type OrtTrainerOptions, type StepInput, type LossOutput, type StepOutput, type StepRouting, type EngineDescription } from './ssmb_trainer.ts';
export { createEngineEmbedder, type EngineEmbedder, type EngineEmbedderOptions, type RoutedEmbedding } from './embedder.ts';
export { chooseEngine, ENGINE_CHOICES, type EngineChoice, type Chosen } from './select.ts';
export { emitArcFaceLoss, type ArcFaceGraphOptions } from './arcface_graph.ts';
export {
  buildPretrainGraph, pretrainGradName, bnMeanName, bnVarName, HEAD_PARAM, PRETRAIN_IMAGES, PRETRAIN_LABELS,
  type PretrainGraph, type PretrainGraphOptions, type PretrainParam, type PretrainBn,
} from './pretrain_graph.ts';
export {
  OrtPretrainer, updateRunningStats,
  type OrtPretrainerOptions, type PretrainStepInput, type PretrainStepOutput, type BnBatchStats, type PretrainEngineDescription,
} from './ort_pretrainer.ts';
export { quantizeWeightPerChannel, activationQuant, quantizeBias, type WeightQuant, type ActivationQuant } from './int8/quant_params.ts';
export {
  quantizeFrozenLayers, frozenLayers, checkQuantizable, weightCacheOf, Int8UnsupportedError, INT8_FORMS,
  type Int8Form, type WeightCache, type QuantizeReport, type FrozenLayer,
} from './int8/quantize_graph.ts';
export { calibrateGraph, checkCalibrationSets, describeCalibration, type Calibration, type CalibrationSet, type LayerRange, type CalibrateOptions } from './int8/calibrate.ts';
export { calibrateModel } from './int8/calibrate_model.ts';
export { GRADIENT_GRAPH_FP32 } from './ssmb_trainer.ts';
export { openWithPrecision, PRECISION_CHOICES, DEFAULT_INT8_FORM, type PrecisionChoice, type PrecisionOptions, type PrecisionDescription } from './int8/precision.ts';
export { int8Accuracy, type Int8Accuracy } from './int8/accuracy.ts';
