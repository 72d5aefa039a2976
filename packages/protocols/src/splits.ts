// Our own seeded identity splits, defined over subject ids (licensed file names cannot be shipped).
import fs from 'node:fs';
import path from 'node:path';
import { deriveSeed, mulberry32, shuffle } from './rng.ts';
import { compareIds } from './readers/reader.ts';

export interface SplitFold {
  name: string;
  train: string[];
  test: string[];
}

export interface SplitFile {
  name: string;
  seed: number;
  generator: string;
  subjects: string[];
  folds: SplitFold[];
}

export interface SplitDefinition {
  name: string; // ssmb-<dataset>-<train>-<test>-s<folds>-seed<seed>
  seed: number;
  subjects: string[];
  folds: number;
  train: number; // subjects per fold used for training; the rest are test
}

/** Fold k shuffles the subject list with seed derive(seed, k); the first `train` ids train, the rest test. */
export function makeIdentitySplits(def: SplitDefinition): SplitFile {
  if (def.train <= 0 || def.train >= def.subjects.length) {
    throw new Error(`split ${def.name}: train must be in 1..${def.subjects.length - 1}, received ${def.train}`);
  }
  const folds: SplitFold[] = [];
  for (let k = 1; k <= def.folds; k++) {
    const order = shuffle(def.subjects, mulberry32(deriveSeed(def.seed, def.name, k)));
    folds.push({
      name: String(k),
      train: order.slice(0, def.train).sort(compareIds),
      test: order.slice(def.train).sort(compareIds),
    });
  }
  return { name: def.name, seed: def.seed, generator: 'packages/protocols/scripts/make-splits.ts', subjects: def.subjects, folds };
}

const range = (a: number, b: number, skip: number[] = []) =>
  Array.from({ length: b - a + 1 }, (_, i) => String(a + i)).filter((id) => !skip.includes(Number(id)));

/** Every split we ship. Change a seed or a subject list here, then run `npm run splits -w @ssmb/protocols`. */
export const SPLIT_DEFINITIONS: SplitDefinition[] = [
  // Tufts Face: participants 1..113, 47 never existed -> 112 ids; 5 folds of 56 train / 56 test.
  { name: 'ssmb-tufts-56-56-s5-seed2026', seed: 2026, subjects: range(1, 113, [47]), folds: 5, train: 56 },
  // Polathermal: 60 subjects, numbered 1..60; 5 folds of 25 train / 35 test.
  { name: 'ssmb-polathermal-25-35-s5-seed2026', seed: 2026, subjects: range(1, 60), folds: 5, train: 25 },
];

export const SPLITS_DIR = path.join(import.meta.dirname, '..', 'splits');

export function readSplitFile(name: string): SplitFile {
  const file = path.join(SPLITS_DIR, name.endsWith('.json') ? name : `${name}.json`);
  if (!fs.existsSync(file)) throw new Error(`split file ${file} not found: run \`npm run splits -w @ssmb/protocols\``);
  return JSON.parse(fs.readFileSync(file, 'utf8')) as SplitFile;
}

export function writeSplitFiles(dir = SPLITS_DIR): string[] {
  fs.mkdirSync(dir, { recursive: true });
  return SPLIT_DEFINITIONS.map((def) => {
    const file = path.join(dir, `${def.name}.json`);
    fs.writeFileSync(file, formatSplitFile(makeIdentitySplits(def)));
    return file;
  });
}

/** JSON with one id list per line, so a diff of a changed split is readable. */
export function formatSplitFile(split: SplitFile): string {
  const ids = (a: string[]) => JSON.stringify(a);
  const folds = split.folds.map((f) => `  { "name": ${JSON.stringify(f.name)},\n    "train": ${ids(f.train)},\n    "test": ${ids(f.test)} }`);
  return `{\n "name": ${JSON.stringify(split.name)},\n "seed": ${split.seed},\n "generator": ${JSON.stringify(split.generator)},\n "subjects": ${ids(split.subjects)},\n "folds": [\n${folds.join(',\n')}\n ]\n}\n`;
}
