// Polathermal (ARL polarimetric thermal): Visible/IOD87_{B,E}/*.png and Polarimetric/*_R<r>_<B|E>_<S>_f<nn>.png.
import fs from 'node:fs';
import path from 'node:path';
import { subjectKey } from '../paths.ts';
import type { Point, Sample } from '../types.ts';
import type { DatasetReader } from './reader.ts';

/** The released images are pre-aligned: eye centres (x, y) at (65, 106) and (140, 106). */
export const POLATHERMAL_EYES: [Point, Point] = [
  [65, 106],
  [140, 106],
];

/** Stokes image -> modality: S0 is the conventional thermal image, DP the degree of polarisation. */
export const POLATHERMAL_STOKES: Record<string, string> = { S0: 'THERMAL', DP: 'POLAR', S1: 'POLAR-S1', S2: 'POLAR-S2' };

const VIS_RE = /^(.+?)_IOD87_([BE])_VI_f(\d+)\.png$/i;
const POL_RE = /^(.+?)_R([1-3])_([BE])_(S0|S1|S2|DP)_f(\d+)\.png$/i;

function walk(dir: string, out: string[] = []): string[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

export const polathermalReader: DatasetReader = {
  name: 'polathermal',
  description: 'Polathermal: 16-bit PNG, fixed eye positions, condition B(aseline)/E(xpression), range R1-R3',
  scan(root, resolver) {
    const samples: Sample[] = [];
    const notes: string[] = [];
    const vis = resolver.resolve(['Visible']);
    const pol = resolver.resolve(['Polarimetric']);
    if (!vis) notes.push('no Visible/ folder');
    if (!pol) notes.push('no Polarimetric/ folder');
    for (const file of vis ? walk(vis) : []) {
      const m = VIS_RE.exec(path.basename(file));
      if (!m) continue;
      samples.push({
        path: file,
        subject: subjectKey(m[1]),
        modality: 'VIS',
        eyes: POLATHERMAL_EYES,
        attributes: { condition: m[2].toUpperCase() },
      });
    }
    for (const file of pol ? walk(pol) : []) {
      const m = POL_RE.exec(path.basename(file));
      if (!m) continue;
      const stokes = m[4].toUpperCase();
      samples.push({
        path: file,
        subject: subjectKey(m[1]),
        modality: POLATHERMAL_STOKES[stokes],
        eyes: POLATHERMAL_EYES,
        attributes: { range: `R${m[2]}`, condition: m[3].toUpperCase(), stokes },
      });
    }
    return { samples, missing: [], notes };
  },
};
