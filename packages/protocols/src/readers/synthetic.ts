// Reader for the tree our synthetic generator writes: <MOD>/<id>/<nnn>.png, eyes.txt, protocols/<task>/<fold>/*.txt.
import fs from 'node:fs';
import path from 'node:path';
import { escapesRoot, outsideRootReason, readLines, splitListPath } from '../paths.ts';
import type { MissingEntry, Point, Sample } from '../types.ts';
import { eyeKey, readEyeFile, type DatasetReader } from './reader.ts';

const eyeCache = new Map<string, { mtime: number; eyes: Map<string, [Point, Point]> }>();

function syntheticEyes(root: string): Map<string, [Point, Point]> {
  const file = path.join(root, 'eyes.txt');
  let mtime: number;
  try {
    mtime = fs.statSync(file).mtimeMs; // regenerated trees are re-read
  } catch {
    return new Map();
  }
  const hit = eyeCache.get(root);
  if (hit && hit.mtime === mtime) return hit.eyes;
  const eyes = readEyeFile(file);
  eyeCache.set(root, { mtime, eyes });
  return eyes;
}

export const syntheticReader: DatasetReader = {
  name: 'synthetic',
  description: 'SSMB synthetic benchmark: POSIX list files, modality = first folder, eyes from eyes.txt',
  readList(listFile, { root, resolver }) {
    const eyes = syntheticEyes(root);
    const samples: Sample[] = [];
    const missing: MissingEntry[] = [];
    for (const entry of readLines(path.join(root, listFile))) {
      if (escapesRoot(entry)) {
        missing.push({ list: listFile, entry, reason: outsideRootReason(root) });
        continue;
      }
      const parts = splitListPath(entry);
      const file = resolver.resolve(parts);
      if (!file || parts.length < 3) {
        missing.push({ list: listFile, entry, reason: 'no such image' });
        continue;
      }
      const s: Sample = { path: file, subject: parts[parts.length - 2], modality: parts[parts.length - 3].toUpperCase() };
      const e = eyes.get(eyeKey(parts));
      if (e) s.eyes = e;
      samples.push(s);
    }
    return { samples, missing, notes: [] };
  },
};
