export { tf } from './tf.ts';
export {
  initBackend, activeEngine, engineInfo, parseEngineName, ENGINE_ORDER, ENGINE_ALIASES,
  type EngineName, type EngineInfo, type EngineAttempt, type InitBackendOptions,
} from './backend.ts';
export { registerWasmKernels, wasmKernelsActive } from './kernels/register.ts';
export * from './metrics/index.ts';
// backbones: the Backbone interface + registry (every family registered), and the IResNet family
export {
  backboneFromConfig, backboneInfo, createBackbone, hasBackbone, listBackboneFamilies, listBackbones,
  registerBackbone, registerBackboneFamily, requireTap,
  createIResNet, iresnetConfig, listIResNets, registerIResNet, type CreateIResNetOptions,
} from './models/registry.ts';
export {
  checkBackboneInput,
  type Backbone, type BackboneConfig, type BackboneFactory, type BackboneFamily, type BackboneForwardOptions, type BackboneMeta,
  type CreateBackboneOptions, type EmitOnnxOptions, type InputContract, type PretrainedConverter, type TapHook, type TapInfo, type WeightsSourceInfo,
} from './models/backbone.ts';
export { IResNet, checkTap, type ForwardOptions, type IResNetOptions } from './models/iresnet.ts';
export { DlibResNet29, DLIB_FAMILY, DLIB_INPUT, DLIB_TAPS, dlibTemplate } from './models/dlib_resnet29.ts';
export { FaceresMobileNet, FACERES_FAMILY, FACERES_INPUT, FACERES_TAPS } from './models/faceres_mobilenet.ts';
// pre-trained backbones shipped in npm packages: import, the packages' own reference implementations
export { importPretrained, listPretrainedBackbones, pretrainedFiles, type ImportedPretrained, type PretrainedFiles } from './weights/pretrained.ts';
export { createPackageReference, type PackageReference } from './weights/package_reference.ts';
export { installedPackage, packageFile, readTfjsWeights, type InstalledPackage } from './weights/tfjs_weights.ts';
export {
  TAP_NAMES, IRESNET_FAMILY, ARCFACE_TEMPLATE_112, validateIResNetConfig, tapChannels, tapSpatial, iresnetTaps, iresnetInput,
  type IResNetConfig, type IResNetBackboneConfig, type TapName,
} from './models/iresnet_config.ts';
export { BN_EPS, BN_MOMENTUM } from './models/batch_norm.ts';
// SSMB block
export { SSMBBlock, defaultHidden, ssmbParamSpecs, SSMB_EPS, SELECTIONS, type Selection, type ApplyOptions, type ExpertKind, type SSMBConfig, type Routing, type SSMBOutput } from './ssmb/ssmb_block.ts';
// expert kinds: the one registry (style, style+spatial, affine, affine+spatial), router options
export {
  expertParamSpecs, getExpertKind, hasExpertKind, listExpertKinds, registerExpertKind,
  type ExpertDims, type ExpertKindDef, type ExpertParamSpec, type ModulationOnnxInput, type ModulationTfInput, type ParamInit, type ParamProvider, type SpatialBranch,
} from './ssmb/experts/index.ts';
export {
  checkRouterOptions, routerInputWidth, routerJitterFactors, DEFAULT_ROUTER_OPTIONS, ROUTER_INPUTS, ROUTING_MODES,
  type RouterInput, type RouterOptions, type RoutingMode, type UniformSource,
} from './ssmb/router.ts';
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
  saveWeights, loadWeightsInto, loadModel, readWeightsFile, readNamedTensors, namedTensorsOf, parseWeights, serializeWeights,
  describeModel, describeWeights, WEIGHTS_FORMAT, WEIGHTS_FORMAT_VERSION, WEIGHTS_FORMAT_VERSIONS_READ,
  type SavableModel, type ModelDescription, type WeightsFile, type NamedTensors, type LoadWeightsOptions, type LoadReport,
} from './weights/weights_io.ts';
export { tfSeed } from './random_seed.ts';
export { mulberry32, mulberry32Step } from './rng.ts';
// face detection + 68 landmarks -> 5 alignment points (face-api's networks, from the installed package)
export {
  createFaceDetector, DEFAULT_FACE_PICK, FACE_PICKS, landmarks68To5, pickFace, type DetectedFace, type FaceDetector, type FaceDetectorOptions, type FacePick,
  type PixelImage,
} from './detect/face_detector.ts';
// onnxruntime training engine (forward + derived VJP graphs, per-op gradient table)
export * from './engine/index.ts';
