// Our own seeded identity splits, defined over subject ids (licensed file names cannot be shipped).
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { deriveSeed, mulberry32, shuffle } from './rng.ts';
import { compareIds } from './readers/reader.ts';
import type { SplitDefinitionSpec } from './spec.ts';

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
  /** definitionHash() of the definition the folds were made from (absent in files written before it was recorded) */
  definition?: string;
}

export interface SplitDefinition {
  name: string; // ssmb-<dataset>-<train>-<test>-s<folds>-seed<seed>
  seed: number;
  subjects: string[];
  folds: number;
  train: number; // subjects per fold used for training; the rest are test
}

/** What wrote the shipped split files (kept in them, so they stay byte-stable). */
export const SHIPPED_GENERATOR = 'packages/protocols/scripts/make-splits.ts';
/** What writes user split files (next to their spec). */
export const SPEC_GENERATOR = 'ssmb protocols splits';

/**
 * A short fingerprint of a split definition (name, seed, subjects, folds, train size), written into the
 * split file so a file made from an older definition is recognised as stale by everything that reads it.
 */
export function definitionHash(def: SplitDefinition): string {
  const canonical = JSON.stringify([def.name, def.seed, def.subjects, def.folds, def.train]);
  return `sha256:${createHash('sha256').update(canonical).digest('hex').slice(0, 16)}`;
}

/** Fold k shuffles the subject list with seed derive(seed, k); the first `train` ids train, the rest test. */
export function makeIdentitySplits(def: SplitDefinition, generator = SHIPPED_GENERATOR): SplitFile {
  if (def.train <= 0 || def.train >= def.subjects.length) {
    throw new Error(`split ${def.name}: train must be in 1..${def.subjects.length - 1}, received ${def.train}`);
  }
  const dup = def.subjects.find((id, i) => def.subjects.indexOf(id) !== i);
  if (dup !== undefined) throw new Error(`split ${def.name}: subject ${dup} is listed twice`);
  const folds: SplitFold[] = [];
  for (let k = 1; k <= def.folds; k++) {
    const order = shuffle(def.subjects, mulberry32(deriveSeed(def.seed, def.name, k)));
    folds.push({
      name: String(k),
      train: order.slice(0, def.train).sort(compareIds),
      test: order.slice(def.train).sort(compareIds),
    });
  }
  return { name: def.name, seed: def.seed, generator, subjects: def.subjects, folds, definition: definitionHash(def) };
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

/**
 * A split file by name: `<name>.json` in the first of `dirs` that has it (a user spec's own folder
 * first), else in the shipped splits/. Missing: an error naming every place looked in and `fix`.
 */
export function readSplitFile(name: string, dirs: string[] = [], fix = 'run `npm run splits -w @ssmb/protocols`'): SplitFile {
  return readSplitFileAt(findSplitFile(name, dirs, fix));
}

/** Where readSplitFile reads `name` from (same search, same error). */
export function findSplitFile(name: string, dirs: string[] = [], fix = 'run `npm run splits -w @ssmb/protocols`'): string {
  const base = name.endsWith('.json') ? name : `${name}.json`;
  const places = [...dirs, SPLITS_DIR];
  const file = places.map((d) => path.join(d, base)).find((f) => fs.existsSync(f));
  if (!file) throw new Error(`split file ${base} not found in ${places.join(' or ')}: ${fix}`);
  return file;
}

function readSplitFileAt(file: string): SplitFile {
  let split: unknown;
  try {
    split = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`split file ${file} is not valid JSON: ${(err as Error).message}`);
  }
  if (!isSplitFile(split)) throw new Error(`split file ${file} must hold { name, seed, subjects, folds: [{ name, train, test }] }`);
  return split;
}

/** A split file's `folds` is a list; a spec's `folds` is an object: that is how a folder of both is told apart. */
export function isSplitFile(raw: unknown): raw is SplitFile {
  const r = raw as SplitFile;
  return (
    typeof r === 'object' && r !== null && Array.isArray(r.folds) && Array.isArray(r.subjects) &&
    r.folds.every((f) => typeof f?.name === 'string' && Array.isArray(f.train) && Array.isArray(f.test))
  );
}

/** A spec's split definition with the split's name; numeric ranges expanded. */
export function splitDefinitionFromSpec(split: string, def: SplitDefinitionSpec): SplitDefinition {
  const subjects = Array.isArray(def.subjects)
    ? def.subjects
    : range(def.subjects.from, def.subjects.to, def.subjects.except ?? []);
  const out: SplitDefinition = { name: split, seed: def.seed, subjects, folds: def.folds, train: def.train };
  // our naming, ssmb-<dataset>-<train>-<test>-s<folds>-seed<seed>, must say what the definition does
  const m = /-(\d+)-(\d+)-s(\d+)-seed(\d+)$/.exec(split);
  if (m) {
    const named = { train: Number(m[1]), test: Number(m[2]), folds: Number(m[3]), seed: Number(m[4]) };
    const actual = { train: def.train, test: subjects.length - def.train, folds: def.folds, seed: def.seed };
    const wrong = (Object.keys(named) as (keyof typeof named)[]).filter((k) => named[k] !== actual[k]);
    if (wrong.length) {
      throw new Error(
        `split ${split}: its name says ${wrong.map((k) => `${k} ${named[k]}`).join(', ')} but the definition gives ` +
          `${wrong.map((k) => `${k} ${actual[k]}`).join(', ')}; rename the split or fix the definition`,
      );
    }
  }
  return out;
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
  return `{\n "name": ${JSON.stringify(split.name)},\n "seed": ${split.seed},\n "generator": ${JSON.stringify(split.generator)},\n${split.definition ? ` "definition": ${JSON.stringify(split.definition)},\n` : ''} "subjects": ${ids(split.subjects)},\n "folds": [\n${folds.join(',\n')}\n ]\n}\n`;
}
