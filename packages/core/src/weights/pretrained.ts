// Pre-trained backbones that ship inside npm packages (BackboneMeta.pretrained): read the package's tfjs
// weight files (installed package by default, or a given JSON file with its shards beside it), convert them
// to the family's parameters, load them into a frozen model and describe the source for the weights
// metadata (package, version, licence, files, sha256), so a saved file says where its weights came from.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { backboneInfo, createBackbone, listBackbones } from '../models/registry.ts';
import type { Backbone } from '../models/backbone.ts';
import { loadWeightsInto } from './weights_io.ts';
import { installedPackage, readTfjsWeights, type InstalledPackage } from './tfjs_weights.ts';

/** Registered backbones whose pre-trained weights ship in an npm package. */
export function listPretrainedBackbones(): string[] {
  return listBackbones().filter((n) => backboneInfo(n).pretrained);
}

export interface PretrainedFiles {
  /** the tfjs JSON (weights manifest or graph model) */
  json: string;
  /** the package the files came from (absent for --file) */
  pkg?: InstalledPackage;
}

/** Where backbone `name`'s weights are: `file` if given, else the installed package (or an alternative). */
export function pretrainedFiles(name: string, file?: string): PretrainedFiles {
  const info = backboneInfo(name);
  const src = info.pretrained;
  if (!src) throw new Error(`backbone ${name} has no pre-trained weights in an npm package; backbones that have: ${listPretrainedBackbones().join(', ')}`);
  if (file) {
    if (!existsSync(file)) throw new Error(`--file ${file} does not exist; expected the tfjs JSON of ${name} (${path.basename(src.files[0])}, with ${src.files.slice(1).map((f) => path.basename(f)).join(', ')} beside it)`);
    if (!file.endsWith('.json')) throw new Error(`--file ${file}: expected the tfjs JSON (${path.basename(src.files[0])}); its binary shards are read from beside it`);
    return { json: path.resolve(file) };
  }
  const tried: string[] = [];
  for (const pkgName of [src.package, ...(src.alternatives ?? [])]) {
    let pkg: InstalledPackage;
    try {
      pkg = installedPackage(pkgName);
    } catch {
      tried.push(`${pkgName} (not installed)`);
      continue;
    }
    const missing = src.files.filter((f) => !existsSync(path.join(pkg.dir, f)));
    if (missing.length) {
      tried.push(`${pkgName}@${pkg.version} (no ${missing.join(', ')})`);
      continue;
    }
    return { json: path.join(pkg.dir, src.files[0]), pkg };
  }
  throw new Error(`the pre-trained weights of ${name} were not found: tried ${tried.join('; ')}. They ship with the npm dependency ` +
    `${src.package}@${src.version} of @ssmb/core (run \`npm ci\`), or pass --file with ${src.files[0]}`);
}

export interface ImportedPretrained {
  model: Backbone; // frozen, weights loaded
  json: string;
  /** strings for the weights metadata: source_package, source_version, source_license, source_files, source_sha256, ... */
  metadata: Record<string, string>;
  /** package tensors left out, with the reason */
  unused: { name: string; reason: string }[];
  numTensors: number;
}

/** Reads, converts and loads backbone `name`'s pre-trained weights; the caller disposes `model`. */
export function importPretrained(name: string, opts: { file?: string } = {}): ImportedPretrained {
  const info = backboneInfo(name);
  const { json, pkg } = pretrainedFiles(name, opts.file);
  const src = info.pretrained!;
  const { tensors } = readTfjsWeights(json);
  const converted = src.convert(tensors, json);
  const model = createBackbone(name, { frozen: true });
  try {
    loadWeightsInto(model, { layout: 'named', source: json, metadata: {}, tensors: converted.tensors }, { what: `backbone ${name}` });
  } catch (err) {
    model.dispose();
    throw err;
  }
  // the files as read: the JSON and every shard it names
  const dir = path.dirname(json);
  const groups = JSON.parse(readFileSync(json, 'utf8')) as { paths: string[] }[] | { weightsManifest: { paths: string[] }[] };
  const shards = (Array.isArray(groups) ? groups : groups.weightsManifest).flatMap((g) => g.paths);
  const hash = createHash('sha256');
  for (const f of [json, ...shards.map((s) => path.join(dir, s))]) hash.update(readFileSync(f));
  const rel = (f: string) => (pkg ? path.relative(pkg.dir, f) : f);
  const metadata: Record<string, string> = {
    source_package: pkg ? pkg.name : '(file)',
    source_version: pkg ? pkg.version : 'unknown',
    source_license: pkg ? `${pkg.license} (package); ${src.license}` : src.license,
    source_files: [json, ...shards.map((s) => path.join(dir, s))].map(rel).join(', '),
    source_sha256: hash.digest('hex'),
    source_checked_version: `${src.package}@${src.version}`,
    source_unused: converted.unused.map((u) => u.name).join(', '),
  };
  return { model, json, metadata, unused: converted.unused, numTensors: tensors.size };
}
