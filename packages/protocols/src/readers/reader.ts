// The reader interface: a dataset reader either parses the dataset's own list files or scans its tree.
import fs from 'node:fs';
import path from 'node:path';
import { FileResolver, isSystemFile, readLines, splitListPath } from '../paths.ts';
import type { Point, ReadResult, Role, Sample } from '../types.ts';

export interface ListContext {
  root: string;
  resolver: FileResolver;
  role: Role;
  /** Reader-specific options from the spec (e.g. MCXFace probe channel). */
  options: Record<string, unknown>;
}

export interface ScanContext {
  root: string;
  resolver: FileResolver;
  /** Reader-specific options from the spec. */
  options: Record<string, unknown>;
}

/**
 * A dataset reader. Built-in ones are registered in readers/index.ts; a user's is a module file a spec
 * names (`reader: ./my_reader.mjs`) whose default export is this object. Readers list directories
 * through the resolver (case-insensitive, system files such as `._*` left out) and return every sample
 * with an absolute path; gaps (a subject without some modality) are reported by the registry, the same
 * way for every reader, so a reader does not write them.
 */
export interface DatasetReader {
  name: string;
  description: string;
  /** Parse one list file (path relative to root, already checked to exist) into samples. */
  readList?(listFile: string, ctx: ListContext): ReadResult;
  /** Enumerate every sample of the tree; specs then split by subject and select by modality/attributes. */
  scan?(root: string, resolver: FileResolver, ctx: ScanContext): ReadResult;
}

/**
 * Eye files: one image per line, `<relative path> <left x> <left y> <right x> <right y>`, separators
 * spaces, tabs or commas, Windows or POSIX paths, CRLF tolerated. Keyed by eyeKey() so the extension
 * and letter case do not matter.
 */
export function readEyeFile(file: string, into = new Map<string, [Point, Point]>()): Map<string, [Point, Point]> {
  for (const line of readLines(file)) {
    const cols = line.split(/[\s,;]+/);
    if (cols.length < 5) continue;
    const nums = cols.slice(-4).map(Number);
    if (nums.some((n) => !Number.isFinite(n))) continue; // header line
    into.set(eyeKey(splitListPath(cols.slice(0, -4).join(' '))), [
      [nums[0], nums[1]],
      [nums[2], nums[3]],
    ]);
  }
  return into;
}

/** Last three path parts, lower case, without extension: 'nir/00001/001'. */
export function eyeKey(parts: string[]): string {
  const tail = parts.slice(-3).map((p) => p.toLowerCase());
  tail[tail.length - 1] = path.parse(tail[tail.length - 1]).name;
  return tail.join('/');
}

/** Eye files found by name (`*eye*.txt`) in the given directories; later files win. */
export function loadEyeFiles(dirs: string[]): Map<string, [Point, Point]> {
  const eyes = new Map<string, [Point, Point]>();
  for (const dir of dirs) {
    let names: string[];
    try {
      names = fs.readdirSync(dir).sort();
    } catch {
      continue;
    }
    for (const n of names) if (/eye.*\.txt$/i.test(n) && !isSystemFile(n)) readEyeFile(path.join(dir, n), eyes);
  }
  return eyes;
}

/** Sorted integer-ish comparison so '10' follows '9'. */
export function compareIds(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

/** "a, b, c" for at most `max` ids, then "and N more". */
export function idList(ids: string[], max = 30): string {
  return ids.length <= max ? ids.join(', ') : `${ids.slice(0, max).join(', ')} and ${ids.length - max} more`;
}

/**
 * Gaps, worded the same for every reader: "THERMAL: no images for subjects 5, 90" for each of the
 * `modalities` that some subject of `samples` has no image of.
 */
export function gapNotes(samples: Sample[], modalities: string[]): string[] {
  const subjects = [...new Set(samples.map((s) => s.subject))].sort(compareIds);
  const notes: string[] = [];
  for (const mod of [...new Set(modalities)].sort()) {
    const have = new Set(samples.filter((s) => s.modality === mod).map((s) => s.subject));
    const lack = subjects.filter((id) => !have.has(id));
    if (lack.length) notes.push(`${mod}: no images for subject${lack.length > 1 ? 's' : ''} ${idList(lack)}`);
  }
  return notes;
}
