// `ssmb import-weights`: an insightface IResNet (ONNX file or PyTorch state dict as safetensors) -> our
// weights file with its model config; `--verify` compares our embeddings with onnxruntime's.
// `--family NAME`: a pre-trained backbone that ships in an npm package (dlib-resnet29 from
// @vladmandic/face-api, faceres-mobilenet from @vladmandic/human), read from the installed package (or
// `--file`), converted to our weights format with source package, version, licence and sha256 in the
// metadata; `--verify` compares ours with the package's own implementation.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import {
  backboneInfo, cosineSimilarity, createPackageReference, importInsightfaceBackbone, importPretrained, initBackend,
  listPretrainedBackbones, randomImagesNHWC, readWeightsFile, saveWeights, tf, verifyAgainstOnnxRuntime,
  type ImportedBackbone, type VerifyResult, type WeightsSource,
} from '@ssmb/core';

export interface ImportWeightsOptions {
  onnx?: string;
  safetensors?: string;
  /** a registered backbone whose weights ship in an npm package */
  family?: string;
  /** with --family: the package's tfjs JSON (manifest / model.json) to read instead of the installed package */
  file?: string;
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

export interface ImportFamilyResult {
  family: string;
  name: string;
  metadata: Record<string, string>;
  out?: string;
  verify?: { cosines: number[]; min: number; passed: boolean; threshold: number; reference: string };
}

/** `--family NAME [--file F]`: the package's weights -> our format (metadata: where they came from). */
export async function importFamilyWeights(o: ImportWeightsOptions, log: (line: string) => void = console.log): Promise<ImportFamilyResult> {
  const name = o.family!;
  const known = listPretrainedBackbones();
  if (!known.includes(name)) throw new Error(`import-weights: --family ${name} has no pre-trained weights in an npm package; choose one of ${known.join(', ')}`);
  if (!o.out && !o.verify) throw new Error('import-weights: give --out FILE (where to write our weights), --verify, or both');
  const engine = await initBackend();
  const imp = importPretrained(name, { file: o.file });
  try {
    const info = backboneInfo(name);
    const m = imp.metadata;
    log(`${imp.json}: ${name} (family ${info.family}, ${info.input.size}x${info.input.size} ${info.input.channelOrder} -> ${info.embeddingSize}), ` +
      `${imp.model.numParams()} parameters from ${imp.numTensors} tensors; source ${m.source_package}@${m.source_version} (${m.source_license})`);
    if (imp.unused.length) log(`left out: ${imp.unused.map((u) => u.name).join(', ')} (${[...new Set(imp.unused.map((u) => u.reason))].join('; ')})`);
    const result: ImportFamilyResult = { family: info.family, name, metadata: m };
    if (o.out) {
      saveWeights(imp.model, o.out, m);
      log(`wrote ${o.out}`);
      result.out = o.out;
    }
    if (o.verify) {
      const S = imp.model.input.size, E = imp.model.embeddingSize;
      const canonical = o.images?.length ? await givenImages(o.images, S) : randomImagesNHWC(o.count ?? 4, S, o.seed ?? 1);
      const B = canonical.length / (S * S * 3);
      const ref = await createPackageReference(name, { file: o.file });
      try {
        const ours = tf.tidy(() => imp.model.forward(tf.tensor4d(canonical, [B, S, S, 3])).dataSync() as Float32Array);
        const pixels = tf.tensor4d(canonical.map((v) => v * 127.5 + 127.5), [B, S, S, 3]); // the package takes 0..255 RGB
        const theirs = await ref.embed(pixels);
        pixels.dispose();
        const cosines = Array.from({ length: B }, (_, i) => cosineSimilarity(ours.subarray(i * E, (i + 1) * E), theirs.subarray(i * E, (i + 1) * E)));
        const min = Math.min(...cosines);
        const threshold = o.threshold ?? 0.9999;
        const passed = min >= threshold;
        log(`verify (ours on ${engine} vs ${ref.label}, ${B} ${o.images?.length ? 'given' : 'random'} images): cosine min ${min.toPrecision(8)} -> ${passed ? 'PASS' : `FAIL (threshold ${threshold})`}`);
        if (!passed) process.exitCode = 1;
        result.verify = { cosines, min, passed, threshold, reference: ref.label };
      } finally {
        ref.dispose();
      }
    }
    return result;
  } finally {
    imp.model.dispose();
  }
}

/** `file` holding backbone `name`'s package weights, written once (the quickstart's cache); reused while it
 *  is a readable weights file of that backbone. */
export async function ensurePackageWeights(name: string, file: string, log: (line: string) => void): Promise<string> {
  if (existsSync(file)) {
    try {
      const wf = readWeightsFile(file);
      if (wf.description.kind === 'backbone' && wf.description.config.name === name) {
        log(`[2/5] backbone: ${name} package weights cached at ${path.relative(process.cwd(), file)}`);
        return file;
      }
    } catch {
      // unreadable or another model: written again below
    }
  }
  log(`[2/5] backbone: ${name} from its npm package (no pre-training)`);
  await importFamilyWeights({ family: name, out: file }, (l) => log(`      ${l}`));
  return file;
}

async function givenImages(files: string[], size: number): Promise<Float32Array> {
  const { loadAlignedBatch } = await import('@ssmb/protocols');
  const { data } = await loadAlignedBatch(files.map((p) => ({ path: p, subject: 'verify', modality: 'VIS' })), size);
  return data;
}

export async function importWeights(o: ImportWeightsOptions, log: (line: string) => void = console.log): Promise<ImportWeightsResult> {
  if (o.file && !o.family) throw new Error('import-weights: --file goes with --family NAME (for insightface files use --onnx or --safetensors)');
  if (!!o.onnx === !!o.safetensors) throw new Error(`import-weights: give exactly one of --onnx FILE, --safetensors FILE or --family NAME (${listPretrainedBackbones().join(', ')})`);
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
    .description('import pre-trained weights into our weights format: an insightface IResNet (ONNX, or a PyTorch state dict saved as safetensors), or a backbone that ships in an npm package (--family)')
    .option('--family <name>', `pre-trained backbone from its npm package: ${listPretrainedBackbones().join(', ')}`)
    .option('--file <json>', 'with --family: the tfjs weights manifest / model JSON to read (its .bin beside it) instead of the installed package')
    .option('--onnx <file>', 'insightface ONNX model (e.g. an ArcFace r50/r100 release)')
    .option('--safetensors <file>', 'PyTorch state dict saved with safetensors.torch.save_file')
    .option('-o, --out <file>', 'our weights file to write (safetensors, model config in __metadata__)')
    .option('--verify', "compare our embeddings with the source's on the same images (cosine >= threshold per image): onnxruntime on the ONNX graph for --onnx / --safetensors, the package's own implementation for --family")
    .option('--images <files...>', 'aligned face images for --verify (default: random images)')
    .option('--count <n>', 'number of random images for --verify', (v) => Number.parseInt(v, 10), 4)
    .option('--seed <n>', 'seed of the random images', (v) => Number.parseInt(v, 10), 1)
    .option('--threshold <c>', 'minimum cosine per image', Number.parseFloat, 0.9999)
    .action(async (o: ImportWeightsOptions) => {
      if (o.family) {
        if (o.onnx || o.safetensors) throw new Error('import-weights: --family reads the package weights; do not also give --onnx / --safetensors');
        await importFamilyWeights(o);
      } else await importWeights(o);
    });
}
