// `protocols check`: per fold, role and modality counts, plus every missing or unreadable file.
import fs from 'node:fs';
import { decodeImage } from './image/decode.ts';
import { getProtocol, protocolFolds, readFold } from './registry.ts';
import { ROLES, type MissingEntry, type Role, type Sample } from './types.ts';

export interface FoldReport {
  fold: string;
  counts: Record<Role, Record<string, number>>; // role -> modality -> images
  subjects: Record<Role, number>;
  missing: MissingEntry[];
  unreadable: { path: string; reason: string }[];
  notes: string[];
}

export interface CheckReport {
  protocol: string;
  root: string;
  folds: FoldReport[];
  ok: boolean; // nothing missing, nothing unreadable, no empty gallery/probe
}

const MAGIC: [string, number[]][] = [
  ['BMP', [0x42, 0x4d]],
  ['JPEG', [0xff, 0xd8, 0xff]],
  ['PNG', [0x89, 0x50, 0x4e, 0x47]],
];

/** Cheap readability test: non-empty and starts like a BMP/JPEG/PNG. `deep` decodes the whole image. */
async function unreadableReason(s: Sample, deep: boolean): Promise<string | null> {
  if (deep) {
    try {
      await decodeImage(s.path);
      return null;
    } catch (err) {
      return (err as Error).message;
    }
  }
  const fd = fs.openSync(s.path, 'r');
  try {
    const head = Buffer.alloc(4);
    const n = fs.readSync(fd, head, 0, 4, 0);
    if (n === 0) return 'empty file';
    return MAGIC.some(([, m]) => m.every((b, i) => head[i] === b)) ? null : 'not a BMP, JPEG or PNG file';
  } finally {
    fs.closeSync(fd);
  }
}

export async function checkProtocol(
  name: string,
  root: string,
  opts: { folds?: string[]; deep?: boolean } = {},
): Promise<CheckReport> {
  const spec = getProtocol(name);
  const folds = opts.folds ?? protocolFolds(spec);
  const reports: FoldReport[] = [];
  const checked = new Map<string, string | null>(); // files shared by folds are checked once
  for (const fold of folds) {
    const { fold: f, missing, notes } = readFold(spec, root, fold);
    const counts = { train: {}, gallery: {}, probe: {} } as FoldReport['counts'];
    const subjects = { train: 0, gallery: 0, probe: 0 };
    const unreadable: FoldReport['unreadable'] = [];
    for (const role of ROLES) {
      for (const s of f[role]) {
        counts[role][s.modality] = (counts[role][s.modality] ?? 0) + 1;
        if (!checked.has(s.path)) checked.set(s.path, await unreadableReason(s, opts.deep ?? false));
        const reason = checked.get(s.path);
        if (reason && !unreadable.some((u) => u.path === s.path)) unreadable.push({ path: s.path, reason });
      }
      subjects[role] = new Set(f[role].map((s) => s.subject)).size;
    }
    for (const role of ['gallery', 'probe'] as Role[]) {
      if (f[role].length === 0) missing.push({ role, entry: `${role} set`, reason: `no ${role} samples were found` });
    }
    reports.push({ fold, counts, subjects, missing, unreadable, notes });
  }
  return {
    protocol: name,
    root,
    folds: reports,
    ok: reports.every((r) => r.missing.length === 0 && r.unreadable.length === 0),
  };
}

/** Human-readable report, one block per fold. */
export function formatCheckReport(r: CheckReport): string {
  const lines = [`protocol ${r.protocol} at ${r.root}`];
  for (const f of r.folds) {
    lines.push(`fold ${f.fold}:`);
    for (const role of ROLES) {
      const mods = Object.entries(f.counts[role]).sort().map(([m, n]) => `${m} ${n}`).join(', ') || 'none';
      lines.push(`  ${role.padEnd(7)} ${String(f.subjects[role]).padStart(5)} subjects  ${mods}`);
    }
    for (const m of f.missing) lines.push(`  MISSING ${m.role ? m.role + ' ' : ''}${m.list && m.list !== m.entry ? `${m.list}: ` : ''}${m.entry} (${m.reason})`);
    for (const u of f.unreadable) lines.push(`  UNREADABLE ${u.path} (${u.reason})`);
    for (const n of f.notes) lines.push(`  note: ${n}`);
  }
  const nMiss = r.folds.reduce((a, f) => a + f.missing.length, 0);
  const nBad = r.folds.reduce((a, f) => a + f.unreadable.length, 0);
  lines.push(r.ok ? 'OK: every listed file is present and readable' : `FAILED: ${nMiss} missing, ${nBad} unreadable`);
  return lines.join('\n');
}
