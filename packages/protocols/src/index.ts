// @ssmb/protocols: dataset readers, protocol registry, aligned image loading, synthetic benchmark.
export * from './types.ts';
export { parseSpec, protocolSpecSchema, type ProtocolSpec, type RoleSelect } from './spec.ts';
export {
  getProtocol, listProtocols, loadFold, loadSpecDir, protocolFolds, protocolSource, readFold, registerProtocol,
  SPECS_DIR, type FoldRead,
} from './registry.ts';
export { checkProtocol, formatCheckReport, type CheckReport, type FoldReport } from './check.ts';
export { getReader, listReaders, registerReader } from './readers/index.ts';
export type { DatasetReader, ListContext } from './readers/reader.ts';
export { makeIdentitySplits, readSplitFile, SPLIT_DEFINITIONS, type SplitFile } from './splits.ts';
export { decodeImage, decodeBuffer, ImageDecodeError, type DecodedImage } from './image/decode.ts';
export {
  arcfaceEyes, centreCropAffine, insightfaceTemplate, similarityFromPoints, warpAffineNormalized, type Affine,
} from './image/align.ts';
export { emptyAlignStats, loadAlignedBatch, loadAlignedImage, type AlignMethod, type AlignStats } from './image/load.ts';
export { mulberry32, deriveSeed } from './rng.ts';
export {
  DEFAULT_SYNTHETIC_OPTIONS, generateSyntheticDataset, resolveSyntheticOptions, SYNTHETIC_FOLDS, SYNTHETIC_GENERATOR_VERSION,
  SYNTHETIC_TASKS, type SyntheticManifest, type SyntheticOptions, type SyntheticOverrides, type SyntheticResult,
} from './synthetic/generate.ts';
export { DEFAULT_SEVERITY, SYNTHETIC_MODALITIES, type SyntheticModality } from './synthetic/modalities.ts';
