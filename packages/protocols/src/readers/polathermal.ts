// Polathermal (ARL polarimetric thermal): Visible/IOD87_{B,E}/*.png and Polarimetric/*_R<r>_<B|E>_<S>_f<nn>.png.
import path from 'node:path';
import { subjectKey, type FileResolver } from '../paths.ts';
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

/** Every file under root/parts (subfolders tolerated), through the resolver so system files are left out. */
function walk(resolver: FileResolver, parts: string[], out: string[] = []): string[] {
  for (const name of resolver.list(parts)) {
    const rel = [...parts, name];
    if (resolver.isDir(rel)) walk(resolver, rel, out);
    else out.push(path.join(resolver.resolve(parts)!, name));
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
    const unmatched = (folder: string, files: string[], pattern: string) => {
      if (files.length) notes.push(`${folder}: ${files.length} file${files.length > 1 ? 's do' : ' does'} not follow ${pattern} and ${files.length > 1 ? 'are' : 'is'} not read (first: ${files[0]})`);
    };
    const visOther: string[] = [];
    for (const file of vis ? walk(resolver, [path.basename(vis)]) : []) {
      const m = VIS_RE.exec(path.basename(file));
      if (!m) {
        visOther.push(file);
        continue;
      }
      samples.push({
        path: file,
        subject: subjectKey(m[1]),
        modality: 'VIS',
        eyes: POLATHERMAL_EYES,
        attributes: { condition: m[2].toUpperCase() },
      });
    }
    unmatched('Visible', visOther, '<subject>_IOD87_<B|E>_VI_f<nn>.png');
    const polOther: string[] = [];
    for (const file of pol ? walk(resolver, [path.basename(pol)]) : []) {
      const m = POL_RE.exec(path.basename(file));
      if (!m) {
        polOther.push(file);
        continue;
      }
      const stokes = m[4].toUpperCase();
      samples.push({
        path: file,
        subject: subjectKey(m[1]),
        modality: POLATHERMAL_STOKES[stokes],
        eyes: POLATHERMAL_EYES,
        attributes: { range: `R${m[2]}`, condition: m[3].toUpperCase(), stokes },
      });
    }
    unmatched('Polarimetric', polOther, '<subject>_R<1-3>_<B|E>_<S0|S1|S2|DP>_f<nn>.png');
    return { samples, missing: [], notes };
  },
};
