// Tufts Face: TD_<MOD>_Set<N>/<participant>/TD_*.jpg or flattened TD_<MOD>/<participant>/; gaps tolerated.
import path from 'node:path';
import { isImageName, subjectKey } from '../paths.ts';
import type { Modality, Sample } from '../types.ts';
import { compareIds, type DatasetReader } from './reader.ts';

/** Sensor folder -> modality. Other Tufts sensors (3D, LYT, video) are not face images we read. */
export const TUFTS_SENSORS: Record<string, Modality> = {
  RGB_E: 'VIS',
  RGB_A: 'VIS',
  NIR_A: 'NIR',
  IR_E: 'THERMAL',
  IR_A: 'THERMAL',
  CS: 'SKETCH',
};

const DIR_RE = /^TD_([A-Z0-9]+(?:_[AE])?)(?:_Set(\d+))?$/i;

export const tuftsReader: DatasetReader = {
  name: 'tufts-face',
  description: 'Tufts Face: sensor folders TD_<MOD>[_Set<N>] with one folder per integer participant id',
  scan(root, resolver) {
    const samples: Sample[] = [];
    const notes: string[] = [];
    for (const dir of resolver.list([])) {
      const m = DIR_RE.exec(dir);
      if (!m) continue;
      const sensor = m[1].toUpperCase();
      const modality = TUFTS_SENSORS[sensor];
      if (!modality) {
        notes.push(`${dir}: sensor ${sensor} is not read (not a 2-D face modality)`);
        continue;
      }
      const attributes = { sensor: `TD_${sensor}`, ...(m[2] ? { set: m[2] } : {}) };
      for (const entry of resolver.list([dir])) {
        const full = path.join(root, dir, entry);
        if (resolver.isDir([dir, entry])) {
          if (!/^\d+$/.test(entry)) {
            notes.push(`${dir}/${entry}: not a participant folder (participant ids are integers)`);
            continue;
          }
          for (const f of resolver.list([dir, entry])) {
            if (isImageName(f)) samples.push({ path: path.join(full, f), subject: subjectKey(entry), modality, attributes });
          }
        } else if (isImageName(entry)) {
          // some releases keep sketches flat: the participant id leads the file name
          const id = /^(?:TD_[A-Z_]*?)?(\d+)/i.exec(entry)?.[1];
          if (id) samples.push({ path: full, subject: subjectKey(id), modality, attributes });
          else notes.push(`${dir}/${entry}: no participant id in the file name`);
        }
      }
    }
    notes.push(...gapNotes(samples));
    return { samples, missing: [], notes };
  },
};

/** "THERMAL: no images for participants 5, 9" for every modality some participants lack. */
export function gapNotes(samples: Sample[]): string[] {
  const subjects = [...new Set(samples.map((s) => s.subject))].sort(compareIds);
  const byMod = new Map<string, Set<string>>();
  for (const s of samples) {
    if (!byMod.has(s.modality)) byMod.set(s.modality, new Set());
    byMod.get(s.modality)!.add(s.subject);
  }
  const notes: string[] = [];
  for (const [mod, have] of [...byMod].sort()) {
    const lack = subjects.filter((id) => !have.has(id));
    if (lack.length) notes.push(`${mod}: no images for participant${lack.length > 1 ? 's' : ''} ${lack.join(', ')}`);
  }
  return notes;
}
