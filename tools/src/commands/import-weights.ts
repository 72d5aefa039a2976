// `ssmb import-weights`: an insightface IResNet (ONNX file or PyTorch state dict as safetensors) -> our
// weights file with its model config; `--verify` compares our embeddings with onnxruntime's.
import type { Command } from 'commander';
import {
  importInsightfaceBackbone, initBackend, randomImagesNHWC, saveWeights, verifyAgainstOnnxRuntime,
  type ImportedBackbone, type VerifyResult, type WeightsSource,
} from '@ssmb/core';

export interface ImportWeightsOptions {
  onnx?: string;
  safetensors?: string;
  out?: string;
  verify?: boolean;
  /** aligned face images for --verify (default: seeded random images) */
  images?: string[];
  count?: number;
  seed?: number;
  threshold?: number;
}

export interface ImportWeightsResult {
  imported: Omit<ImportedBackbone, 'model' | 'reference'>;
  out?: string;
  verify?: VerifyResult;
}

async function verificationImages(o: ImportWeightsOptions, size: number): Promise<Float32Array> {
  if (!o.images?.length) return randomImagesNHWC(o.count ?? 4, size, o.seed ?? 1);
  const { loadAlignedBatch } = await import('@ssmb/protocols');
  // already-aligned face crops: no landmarks, so the loader centre-crops and resizes
  const { data } = await loadAlignedBatch(o.images.map((p) => ({ path: p, subject: 'verify', modality: 'VIS' })), size);
  return data;
}

export async function importWeights(o: ImportWeightsOptions, log: (line: string) => void = console.log): Promise<ImportWeightsResult> {
  if (!!o.onnx === !!o.safetensors) throw new Error('import-weights: give exactly one of --onnx FILE or --safetensors FILE');
  if (!o.out && !o.verify) throw new Error('import-weights: give --out FILE (where to write our weights), --verify, or both');
  const src: WeightsSource = o.onnx ? { onnx: o.onnx } : { safetensors: o.safetensors! };
  const engine = await initBackend();
  const imp = importInsightfaceBackbone(src);
  try {
    const c = imp.config;
    log(`${imp.file}: ${c.arch} (depths [${c.depths}], widths [${c.widths}], stem ${c.stemWidth}, input ${c.inputSize}, embedding ${c.embeddingSize}), ${imp.numTensors} tensors, BN ${imp.folded ? 'folded into convs' : 'separate'}`);
    const { model, reference, ...info } = imp;
    const result: ImportWeightsResult = { imported: info };
    if (o.out) {
      saveWeights(model, o.out, { source: imp.file, source_format: imp.format, bn_folded_in_source: String(imp.folded) });
      log(`wrote ${o.out}`);
      result.out = o.out;
    }
    if (o.verify) {
      const images = await verificationImages(o, c.inputSize);
      const v = await verifyAgainstOnnxRuntime({ model, reference }, images, o.threshold ?? 0.9999);
      const mean = v.cosines.reduce((a, b) => a + b, 0) / v.cosines.length;
      log(`verify (ours on ${engine} vs onnxruntime${imp.format === 'safetensors' ? ' on the PyTorch-layout tensors' : ''}, ${v.cosines.length} ${o.images?.length ? 'given' : 'random'} images): cosine min ${v.min.toPrecision(8)}, mean ${mean.toPrecision(8)} -> ${v.passed ? 'PASS' : `FAIL (threshold ${v.threshold})`}`);
      if (!v.passed) process.exitCode = 1;
      result.verify = v;
    }
    return result;
  } finally {
    imp.model.dispose();
  }
}

export function register(program: Command): void {
  program
    .command('import-weights')
    .description('import an insightface IResNet (ONNX, or a PyTorch state dict saved as safetensors) into our weights format')
    .option('--onnx <file>', 'insightface ONNX model (e.g. an ArcFace r50/r100 release)')
    .option('--safetensors <file>', 'PyTorch state dict saved with safetensors.torch.save_file')
    .option('-o, --out <file>', 'our weights file to write (safetensors, model config in __metadata__)')
    .option('--verify', 'compare our embeddings with onnxruntime on the same images (cosine >= threshold per image)')
    .option('--images <files...>', 'aligned face images for --verify (default: random images)')
    .option('--count <n>', 'number of random images for --verify', (v) => Number.parseInt(v, 10), 4)
    .option('--seed <n>', 'seed of the random images', (v) => Number.parseInt(v, 10), 1)
    .option('--threshold <c>', 'minimum cosine per image', Number.parseFloat, 0.9999)
    .action(async (o: ImportWeightsOptions) => {
      await importWeights(o);
    });
}
