// Reading TensorFlow.js weight files from disk: a weights manifest (face-api's `*-weights_manifest.json`:
// [{ paths, weights }]) or a graph model (`model.json` with `weightsManifest`), plus the binary shards next
// to it. Quantised weights (uint8 / uint16 with min + scale, float16) are dequantised to float32 by
// tfjs's own decoder (tf.io.decodeWeights), so the values are exactly what the package's own loader gets.
// Also: locating a file inside an installed npm package.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { tf } from '../tf.ts';
import type { PlainTensor } from './onnx/insightface_layout.ts';

const require = createRequire(import.meta.url);

export interface InstalledPackage {
  name: string;
  version: string;
  license: string;
  dir: string;
}

/** The installed package `name` (resolved from core, as `npm ci` installs it), or an error saying how to get it. */
export function installedPackage(name: string): InstalledPackage {
  // node_modules directories in resolution order (a package's `exports` may hide package.json from require.resolve)
  const pj = (require.resolve.paths(name) ?? []).map((d) => path.join(d, name, 'package.json')).find((f) => existsSync(f));
  if (!pj) throw new Error(`npm package ${name} is not installed (it is a dependency of @ssmb/core: run \`npm ci\`), or pass --file with the model file`);
  const meta = JSON.parse(readFileSync(pj, 'utf8')) as { version?: string; license?: string };
  return { name, version: String(meta.version), license: String(meta.license ?? 'unknown'), dir: path.dirname(pj) };
}

/** `rel` inside the installed package; a missing file is named with the package and version. */
export function packageFile(name: string, rel: string): string {
  const pkg = installedPackage(name);
  const file = path.join(pkg.dir, rel);
  if (!existsSync(file)) throw new Error(`${name}@${pkg.version} has no file ${rel} (looked for ${file})`);
  return file;
}

interface ManifestGroup {
  paths: string[];
  weights: tf.io.WeightsManifestEntry[];
}

/** A tfjs weights manifest or graph model JSON and its shards -> name -> float32 tensor. */
export function readTfjsWeights(jsonFile: string): { tensors: Map<string, PlainTensor>; modelTopology?: unknown } {
  if (!existsSync(jsonFile)) throw new Error(`tfjs weights: ${jsonFile} does not exist`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(jsonFile, 'utf8'));
  } catch (err) {
    throw new Error(`tfjs weights: ${jsonFile} is not valid JSON (${(err as Error).message})`);
  }
  const groups = (Array.isArray(json) ? json : (json as { weightsManifest?: unknown }).weightsManifest) as ManifestGroup[] | undefined;
  if (!Array.isArray(groups) || !groups.every((g) => Array.isArray(g?.paths) && Array.isArray(g?.weights))) {
    throw new Error(`tfjs weights: ${jsonFile} holds neither a weights manifest ([{ paths, weights }]) nor a graph model with weightsManifest`);
  }
  const dir = path.dirname(jsonFile);
  const tensors = new Map<string, PlainTensor>();
  for (const g of groups) {
    const shards = g.paths.map((p) => {
      const f = path.join(dir, p);
      if (!existsSync(f)) throw new Error(`tfjs weights: shard ${p} named in ${jsonFile} is missing (looked for ${f})`);
      return readFileSync(f);
    });
    const bytes = Buffer.concat(shards);
    const expected = g.weights.reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1) * bytesPerValue(w), 0);
    if (bytes.length !== expected) {
      throw new Error(`tfjs weights: shards ${g.paths.join(', ')} hold ${bytes.length} bytes; the manifest in ${jsonFile} describes ${expected}`);
    }
    const decoded = tf.io.decodeWeights(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length), g.weights);
    for (const [name, t] of Object.entries(decoded)) {
      tensors.set(name, { shape: t.shape, data: Float32Array.from(t.dataSync() as Float32Array) });
      t.dispose();
    }
  }
  return { tensors, modelTopology: Array.isArray(json) ? undefined : (json as { modelTopology?: unknown }).modelTopology };
}

function bytesPerValue(w: tf.io.WeightsManifestEntry): number {
  const q = w.quantization?.dtype;
  if (q === 'uint8') return 1;
  if (q === 'uint16' || q === 'float16') return 2;
  return w.dtype === 'float32' || w.dtype === 'int32' ? 4 : w.dtype === 'bool' ? 1 : 4;
}
