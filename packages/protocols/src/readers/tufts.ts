// Tufts Face: TD_<MOD>_Set<N>/<participant>/TD_*.jpg or flattened TD_<MOD>/<participant>/; gaps tolerated.
import path from 'node:path';
import { assertUniqueSubjects, isImageName, subjectKey } from '../paths.ts';
import type { Modality, Sample } from '../types.ts';
import type { DatasetReader } from './reader.ts';

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
    const folders: { subject: string; folder: string }[] = [];
    for (const dir of resolver.list([])) {
      if (!resolver.isDir([dir])) continue; // files at the top: the registry notes the images among them
      const m = DIR_RE.exec(dir);
      if (!m) {
        notes.push(`${dir}: not a Tufts sensor folder (TD_<sensor>[_Set<N>], e.g. TD_IR_E_Set2); not read`);
        continue;
      }
      const sensor = m[1].toUpperCase();
      const modality = TUFTS_SENSORS[sensor];
      if (!modality) {
        notes.push(`${dir}: sensor ${sensor} is not read (not a 2-D face modality)`);
        continue;
      }
      const attributes = { sensor: `TD_${sensor}`, ...(m[2] ? { set: m[2] } : {}) };
      // The released zips hold their own top folder: extracted into a folder of the same name they give
      // TD_IR_A_Set4/TD_IR_A_Set4/<participant>/. Read through such nesting, at any depth.
      const readSensorDir = (parts: string[]): void => {
        for (const entry of resolver.list(parts)) {
          const rel = [...parts, entry];
          const full = path.join(root, ...rel);
          if (resolver.isDir(rel)) {
            const nested = DIR_RE.exec(entry);
            if (nested) {
              if (nested[1].toUpperCase() !== sensor || (nested[2] ?? '') !== (m[2] ?? '')) {
                throw new Error(
                  `Tufts: sensor folder ${rel.join('/')} is inside sensor folder ${parts.join('/')} under ${root}; ` +
                    `move it to the dataset root (${path.join(root, entry)})`,
                );
              }
              notes.push(`${rel.join('/')}: read through the zip's double nesting (${parts.join('/')}/${entry}/<participant>/)`);
              readSensorDir(rel);
              continue;
            }
            if (!/^\d+$/.test(entry)) {
              notes.push(`${rel.join('/')}: not a participant folder (participant ids are integers)`);
              continue;
            }
            folders.push({ subject: subjectKey(entry), folder: `${rel.join('/')}` });
            for (const f of resolver.images(rel)) samples.push({ path: path.join(full, f), subject: subjectKey(entry), modality, attributes });
          } else if (isImageName(entry)) {
            // some releases keep sketches flat: the participant id leads the file name
            const id = /^(?:TD_[A-Z_]*?)?(\d+)/i.exec(entry)?.[1];
            if (id) samples.push({ path: full, subject: subjectKey(id), modality, attributes });
            else notes.push(`${rel.join('/')}: no participant id in the file name`);
          }
        }
      };
      const before = folders.length;
      readSensorDir([dir]);
      // `010/` beside `10/` (or a participant both at the top and inside a nested copy) would merge silently
      assertUniqueSubjects(folders.slice(before), root);
    }
    return { samples, missing: [], notes };
  },
};
