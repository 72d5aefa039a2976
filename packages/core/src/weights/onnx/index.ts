// ONNX and insightface interop: import insightface IResNet weights (ONNX / PyTorch safetensors), export
// our backbone or HFR model to ONNX, onnxruntime-node as an embedding engine.
export { decodeOnnxModel, encodeOnnxModel, type OnnxModel, type OnnxGraph, type OnnxNode, type OnnxTensor } from './onnx_proto.ts';
export { importOnnxGraph, inputNormalisation, type OnnxImport } from './import_onnx_graph.ts';
export { readSafetensorsStateDict } from './safetensors_file.ts';
export { insightfaceParamShapes, archName, type IResNetShape, type PlainTensor, type StateDict } from './insightface_layout.ts';
export { detectIResNetShape, insightfaceToOurs, oursToInsightface } from './insightface_convert.ts';
export { iresnetOnnxBytes, ONNX_INPUT } from './iresnet_onnx_graph.ts';
export {
  importInsightfaceBackbone, iresnetFromStateDict, iresnetConfigFromShape, verifyAgainstOnnxRuntime,
  type ImportedBackbone, type WeightsSource, type VerifyResult,
} from './import_weights.ts';
export {
  exportBackboneToOnnx, exportHfrModelToOnnx, routingOutputName, backboneGraph,
  type ExportOptions, type HfrExportable, type BackboneGraphOptions,
} from './onnx_export.ts';
export { checkOnnxExport, type ExportCheck } from './export_verify.ts';
export { createOnnxEmbedder, type Embedder, type OnnxEmbedder, type OnnxEmbedderOptions, type OnnxRunResult } from './onnx_embedder.ts';
export { createTfjsEmbedder, type TfjsEmbedderSource } from './tfjs_embedder.ts';
export { cosine as cosineSimilarity, nhwcToNchw } from './nchw.ts';
// seeded random insightface-layout weights and files, for tests and benchmarks (never real weights)
export { randomInsightfaceStateDict, randomImagesNHWC, stateDictToSafetensors } from './onnx_fixtures.ts';
