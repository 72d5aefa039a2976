// @ssmb/protocols: dataset readers, protocol registry, aligned image loading, synthetic benchmark.
export * from './types.ts';
export { bitDepthOf, isReaderModule, parseSpec, protocolSpecSchema, type ProtocolSpec, type RoleSelect } from './spec.ts';
export {
  getProtocol, listInvalidProtocols, listProtocols, loadFold, loadProtocolReader, loadSpecDir, MissingFilesError, protocolFolds,
  protocolReader, protocolSource, protocolSplit, readFold, readSpecFile, registerProtocol, reloadProtocols, SPECS_DIR, staleSplitReason,
  type FoldRead, type InvalidSpec, type LoadedFold, type LoadFoldOptions,
} from './registry.ts';
export {
  bitDepthMismatches, checkProtocol, describeBitDepthMismatch, formatCheckReport, type BitDepthMismatch, type CheckFaceDetection, type CheckReport,
  type FaceCount, type FoldReport,
} from './check.ts';
export { getReader, listReaders, registerReader } from './readers/index.ts';
export { gapNotes, type DatasetReader, type ListContext, type ScanContext } from './readers/reader.ts';
export {
  assertUniqueSubjects, DuplicateSubjectError, escapesRoot, FileResolver, isImageName, isSystemFile, outsideRootReason, subjectKey, SYSTEM_FILE_PATTERNS,
  userPath, type SubjectFolder,
} from './paths.ts';
export {
  definitionHash, formatSplitFile, isSplitFile, makeIdentitySplits, readSplitFile, SPLIT_DEFINITIONS, splitDefinitionFromSpec, type SplitFile,
} from './splits.ts';
export { writeProtocolSplit, type WrittenSplit } from './spec_splits.ts';
export { readImageHeader, type ImageHeader } from './image/header.ts';
export { decodeImage, decodeBuffer, ImageDecodeError, type DecodedImage } from './image/decode.ts';
export {
  arcfaceEyes, centreCropAffine, insightfaceTemplate, similarityFromPoints, warpAffineNormalized, type Affine,
} from './image/align.ts';
export { alignmentFor, emptyAlignStats, loadAlignedBatch, loadAlignedImage, type AlignMethod, type AlignStats } from './image/load.ts';
export type { AlignOptions, FaceLandmarker, LandmarkerResult } from './image/landmarker.ts';
export { mulberry32, deriveSeed } from './rng.ts';
export {
  DEFAULT_SYNTHETIC_OPTIONS, generateSyntheticDataset, resolveSyntheticOptions, SYNTHETIC_FOLDS, SYNTHETIC_GENERATOR_VERSION,
  SYNTHETIC_TASKS, type SyntheticManifest, type SyntheticOptions, type SyntheticOverrides, type SyntheticResult,
} from './synthetic/generate.ts';
export { DEFAULT_SEVERITY, SYNTHETIC_MODALITIES, type SyntheticModality } from './synthetic/modalities.ts';
