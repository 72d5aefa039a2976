// CASIA NIR-VIS 2.0: s1..s4/{NIR,VIS}/<id>/<nnn>.{bmp,jpg} read through the dataset's own list files.
import path from 'node:path';
import { escapesRoot, outsideRootReason, readLines, splitListPath } from '../paths.ts';
import type { MissingEntry, Point, Sample } from '../types.ts';
import { eyeKey, loadEyeFiles, type DatasetReader } from './reader.ts';

const eyeCache = new Map<string, Map<string, [Point, Point]>>();

/** Per-session eye files (`s<N>/*eye*.txt`, also at the root), read once per root. */
function casiaEyes(root: string, sessions: string[]): Map<string, [Point, Point]> {
  let eyes = eyeCache.get(root);
  if (!eyes) {
    eyes = loadEyeFiles([root, ...sessions.map((s) => path.join(root, s))]);
    eyeCache.set(root, eyes);
  }
  return eyes;
}

export const casiaReader: DatasetReader = {
  name: 'casia-nir-vis-2.0',
  description: 'CASIA NIR-VIS 2.0: Windows-path list files (CRLF, unreliable extensions), subject = folder name',
  readList(listFile, { root, resolver }) {
    const sessions = resolver.list([]).filter((n) => /^s\d+$/i.test(n));
    const eyes = casiaEyes(root, sessions);
    const samples: Sample[] = [];
    const missing: MissingEntry[] = [];
    for (const line of readLines(path.join(root, listFile))) {
      const entry = line.split(/\s+/)[0]; // the lists carry no label, but tolerate trailing columns
      let parts = splitListPath(entry);
      // some copies list paths under a parent folder (NIR-VIS-2.0\s1\...): start at the session folder
      const session = parts.findIndex((p) => /^s\d+$/i.test(p));
      if (session > 0) parts = parts.slice(session);
      // an absolute path into a session folder (D:\\NIR-VIS-2.0\\s1\\...) is read from the root like the others
      if ((session <= 0 && escapesRoot(entry)) || escapesRoot(parts.join('/'))) {
        missing.push({ list: listFile, entry, reason: outsideRootReason(root) });
        continue;
      }
      const mod = parts.find((p) => /^(nir|vis)$/i.test(p))?.toUpperCase();
      if (parts.length < 2 || !mod) {
        missing.push({ list: listFile, entry, reason: 'entry has no NIR/VIS folder in its path' });
        continue;
      }
      const file = resolver.resolveImage(parts);
      if (!file) {
        missing.push({ list: listFile, entry, reason: 'no such image (tried .bmp/.jpg/.jpeg/.png, any case)' });
        continue;
      }
      const s: Sample = { path: file, subject: parts[parts.length - 2], modality: mod };
      const e = eyes.get(eyeKey(parts));
      if (e) s.eyes = e;
      samples.push(s);
    }
    return { samples, missing, notes: [] };
  },
};
