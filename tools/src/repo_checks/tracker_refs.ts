// Where the project's issue tracker leaks into what users and readers see: an issue number in a printed line,
// a docstring or a document means nothing to someone who never saw that tracker. Comments say why, with
// the reason itself, and docs cite docs/<name>.md sections instead.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { NOT_OURS, repoFiles } from './repo_files.ts';

export interface TrackerRef {
  /** file relative to the repository root, and 1-based line */
  file: string;
  line: number;
  text: string;
}

const SCANNED = /\.(ts|tsx|mjs|js|py|md|ya?ml|sh)$/;
// the word issue or issues with a number after it (a # allowed), or a number after # in parentheses
const PATTERN = /\bissues? ?#?\d+\b|\(#\d+\)/i;

/** Source, test, docs and config files under the repository root (relative paths, sorted); of the dot
 *  folders only .ci (the CI entry point prints what users read). */
export function trackerScanFiles(root: string): string[] {
  return repoFiles(root, {
    skip: (name) => NOT_OURS.has(name) || name === 'img' || (name.startsWith('.') && name !== '.ci'),
    accept: (name, rel) => SCANNED.test(name) || rel === '.ci',
  });
}

export function findTrackerRefs(root: string, files = trackerScanFiles(root)): TrackerRef[] {
  const found: TrackerRef[] = [];
  for (const file of files) {
    readFileSync(path.join(root, file), 'utf8').split('\n').forEach((text, i) => {
      if (PATTERN.test(text)) found.push({ file, line: i + 1, text: text.trim().slice(0, 200) });
    });
  }
  return found;
}
