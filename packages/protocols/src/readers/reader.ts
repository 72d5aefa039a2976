// The reader interface: a dataset reader either parses the dataset's own list files or scans its tree.
import fs from 'node:fs';
import path from 'node:path';
import { FileResolver, readLines, splitListPath } from '../paths.ts';
import type { Point, ReadResult, Role } from '../types.ts';

export interface ListContext {
  root: string;
  resolver: FileResolver;
  role: Role;
  /** Reader-specific options from the spec (e.g. MCXFace probe channel). */
  options: Record<string, unknown>;
}

export interface DatasetReader {
  name: string;
  description: string;
  /** Parse one list file (path relative to root, already checked to exist) into samples. */
  readList?(listFile: string, ctx: ListContext): ReadResult;
  /** Enumerate every sample of the tree; specs then split by subject and select by modality/attributes. */
  scan?(root: string, resolver: FileResolver): ReadResult;
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
    for (const n of names) if (/eye.*\.txt$/i.test(n)) readEyeFile(path.join(dir, n), eyes);
  }
  return eyes;
}

/** Sorted integer-ish comparison so '10' follows '9'. */
export function compareIds(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}
