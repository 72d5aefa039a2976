// MCXFace: bob-style CSV protocol lists supplied with the data (PATH,REFERENCE_ID[,eye columns]).
import path from 'node:path';
import { escapesRoot, outsideRootReason, readLines, splitListPath } from '../paths.ts';
import type { MissingEntry, Modality, Sample } from '../types.ts';
import type { DatasetReader } from './reader.ts';

/** MCXFace channel names -> our modalities. */
export const MCXFACE_CHANNELS: Record<string, Modality> = {
  COLOR: 'VIS',
  INFRARED: 'NIR',
  NIR: 'NIR',
  THERMAL: 'THERMAL',
  DEPTH: 'DEPTH',
  SWIR: 'SWIR',
};

function splitCsv(line: string): string[] {
  return line.split(',').map((c) => c.trim().replace(/^"(.*)"$/, '$1'));
}

export const mcxfaceReader: DatasetReader = {
  name: 'mcxface',
  description: 'MCXFace: bob CSV lists (PATH, REFERENCE_ID, optional leye_x/leye_y/reye_x/reye_y), channel from the path',
  readList(listFile, { root, resolver, options, role }) {
    const lines = readLines(path.join(root, listFile));
    const header = splitCsv(lines[0] ?? '').map((h) => h.toLowerCase());
    const col = (n: string) => header.indexOf(n);
    const iPath = col('path');
    const iRef = col('reference_id') >= 0 ? col('reference_id') : col('subject_id');
    const missing: MissingEntry[] = [];
    if (iPath < 0 || iRef < 0) {
      return { samples: [], missing: [{ list: listFile, entry: lines[0] ?? '', reason: 'CSV header must name PATH and REFERENCE_ID' }], notes: [] };
    }
    const eyeCols = ['leye_x', 'leye_y', 'reye_x', 'reye_y'].map(col);
    // channel from the path when it names one, else the role's default (models: COLOR; probes: the spec's channel)
    const fallback = role === 'probe' ? String(options.channel ?? 'COLOR') : 'COLOR';
    const samples: Sample[] = [];
    for (const line of lines.slice(1)) {
      const cols = splitCsv(line);
      if (escapesRoot(cols[iPath] ?? '')) {
        missing.push({ list: listFile, entry: cols[iPath], reason: outsideRootReason(root) });
        continue;
      }
      const parts = splitListPath(cols[iPath] ?? '');
      const file = resolver.resolveImage(parts);
      if (!file) {
        missing.push({ list: listFile, entry: cols[iPath], reason: 'no such image (tried .png/.jpg/.bmp, any case)' });
        continue;
      }
      const channel = parts.map((p) => p.toUpperCase()).find((p) => p in MCXFACE_CHANNELS) ?? fallback.toUpperCase();
      const s: Sample = { path: file, subject: cols[iRef], modality: MCXFACE_CHANNELS[channel] ?? channel, attributes: { channel } };
      if (eyeCols.every((i) => i >= 0)) {
        // bob annotations name the subject's eyes: their left eye is on the image's right
        const [lx, ly, rx, ry] = eyeCols.map((i) => Number(cols[i]));
        if ([lx, ly, rx, ry].every(Number.isFinite)) s.eyes = lx < rx ? [[lx, ly], [rx, ry]] : [[rx, ry], [lx, ly]];
      }
      samples.push(s);
    }
    return { samples, missing, notes: [] };
  },
};
