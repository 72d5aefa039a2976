// `protocols check`: per fold, role and modality counts, plus every missing or unreadable file, every
// image whose bit depth is not the spec's, and how long the deep check (a full decode) would take.
import { decodeImage } from './image/decode.ts';
import { readImageHeader, type ImageHeader } from './image/header.ts';
import type { FaceLandmarker } from './image/landmarker.ts';
import { userPath } from './paths.ts';
import { getProtocol, loadProtocolReader, protocolFolds, readFold, staleSplitReason } from './registry.ts';
import { bitDepthOf, type ProtocolSpec } from './spec.ts';
import { ROLES, type MissingEntry, type Role, type Sample } from './types.ts';

export interface FoldReport {
  fold: string;
  counts: Record<Role, Record<string, number>>; // role -> modality -> images
  subjects: Record<Role, number>;
  missing: MissingEntry[];
  unreadable: { path: string; reason: string }[];
  /** images whose bit depth differs from the spec's `bitDepth` (read from the file header) */
  bitDepthMismatch: BitDepthMismatch[];
  notes: string[];
  /** system files (._*, .DS_Store, Thumbs.db, ...) left out */
  ignored: number;
  /** with `detectFaces`: per role, what the face detector found in the images without eye / landmark annotations */
  faces?: Record<Role, FaceCount>;
}

/** Face detection over one role's images that carry no eye / landmark annotation. */
export interface FaceCount {
  /** images the detector ran on */
  checked: number;
  /** of those, images with no face (a run centre-crops them) */
  noFace: number;
  /** of those, images with several faces (a run aligns the one the pick rule chooses) */
  multiFace: number;
  /** first few files with several faces */
  multiFaceExamples: string[];
}

/** `protocols check --detect-faces`: run the face detector a run with dataset.detectFaces would, and count. */
export interface CheckFaceDetection {
  landmarker: FaceLandmarker;
  /** the pick rule, for the report (largest, score, center) */
  pick: string;
}

export interface BitDepthMismatch {
  modality: string;
  declared: 8 | 16;
  found: 8 | 16;
  count: number;
  /** first few files */
  examples: string[];
}

export interface CheckReport {
  protocol: string;
  root: string;
  folds: FoldReport[];
  ok: boolean; // nothing missing, nothing unreadable, no empty gallery/probe
  /** distinct image files checked over all folds */
  images: number;
  deep: boolean;
  /** wall-clock seconds of the full decode (deep), or its estimate: measured per-image decode time x images */
  deepSeconds: number;
  /** images the estimate's per-image time was measured on (0 when deep) */
  deepSampled: number;
  /** total bit-depth mismatches (warnings, never a failure) */
  warnings: number;
  /** the split file no longer matches the spec's split definition (a warning here; runs refuse it) */
  staleSplit: string | null;
  /** the pick rule faces were detected with (null: no detection) */
  facePick: string | null;
}

const EXAMPLES = 3;

/** Per modality: how many of `samples` have a bit depth other than the spec declares. */
export function bitDepthMismatches(spec: ProtocolSpec, samples: Sample[], header = (s: Sample) => readImageHeader(s.path)): BitDepthMismatch[] {
  const by = new Map<string, BitDepthMismatch>();
  for (const s of samples) {
    const h = header(s);
    if (!('format' in h)) continue; // unreadable: reported as such
    const declared = bitDepthOf(spec, s.modality);
    if (h.bitDepth === declared) continue;
    const key = `${s.modality}\0${h.bitDepth}`;
    let m = by.get(key);
    if (!m) by.set(key, (m = { modality: s.modality, declared, found: h.bitDepth, count: 0, examples: [] }));
    m.count++;
    if (m.examples.length < EXAMPLES) m.examples.push(s.path);
  }
  return [...by.values()].sort((a, b) => a.modality.localeCompare(b.modality) || a.found - b.found);
}

/** One line per mismatch group, e.g. for `protocols check` and run logs. */
export function describeBitDepthMismatch(m: BitDepthMismatch): string {
  const effect = m.found === 16
    ? 'each is stretched from its own min..max to 0..255'
    : 'they are used as they are, unlike the stretched 16-bit images';
  return `${m.count} ${m.modality} image${m.count > 1 ? 's are' : ' is'} ${m.found}-bit where the spec declares bitDepth ${m.declared} (${effect}; ` +
    `set bitDepth in the spec if this is the data's real depth), e.g. ${m.examples[0]}`;
}

/** Readability from the header (cheap), or a full decode (`deep`). */
async function unreadableReason(s: Sample, header: ImageHeader | { error: string }, deep: boolean): Promise<string | null> {
  if ('error' in header) return header.error;
  if (!deep) return null;
  try {
    await decodeImage(s.path);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

/** Images decoded to time a deep check: enough to average out one slow file, few enough to stay cheap. */
const DEEP_SAMPLE = 8;

/** Median decode time of up to DEEP_SAMPLE images spread over the list (after one untimed decode: the
 *  decoder's first call pays its start-up, which the deep check pays once, not per image). */
async function timeDecodes(files: string[]): Promise<{ perImage: number; sampled: number }> {
  const step = Math.max(1, Math.floor(files.length / DEEP_SAMPLE));
  const pick = files.filter((_, i) => i % step === 0).slice(0, DEEP_SAMPLE);
  const decode = async (f: string) => {
    try {
      await decodeImage(f);
    } catch {
      // a broken file is reported by the check itself; its (short) time still counts
    }
  };
  if (pick.length) await decode(pick[0]);
  const times: number[] = [];
  for (const f of pick) {
    const t0 = performance.now();
    await decode(f);
    times.push((performance.now() - t0) / 1000);
  }
  times.sort((a, b) => a - b);
  const mid = times.length >> 1;
  const median = times.length === 0 ? 0 : times.length % 2 ? times[mid] : (times[mid - 1] + times[mid]) / 2;
  return { perImage: median, sampled: times.length };
}

export async function checkProtocol(
  name: string,
  root: string,
  opts: { folds?: string[]; deep?: boolean; detectFaces?: CheckFaceDetection } = {},
): Promise<CheckReport> {
  const spec = getProtocol(name);
  await loadProtocolReader(spec);
  root = userPath(root); // the report names the folder that was read
  const folds = opts.folds ?? protocolFolds(spec);
  const deep = opts.deep ?? false;
  const reports: FoldReport[] = [];
  const checked = new Map<string, string | null>(); // files shared by folds are checked once
  const headers = new Map<string, ImageHeader | { error: string }>();
  const headerOf = (s: Sample) => {
    let h = headers.get(s.path);
    if (!h) headers.set(s.path, (h = readImageHeader(s.path)));
    return h;
  };
  const found = new Map<string, number | null>(); // path -> faces found (null: not decodable), once per file
  const facesIn = async (s: Sample): Promise<number | null> => {
    if (!found.has(s.path)) {
      try {
        // annotated images are aligned on their eyes / landmarks: a run never detects faces in them
        if (s.eyes || s.landmarks?.length === 5) found.set(s.path, -1);
        else found.set(s.path, (await opts.detectFaces!.landmarker(await decodeImage(s.path), s))?.faces ?? 0);
      } catch {
        found.set(s.path, null); // unreadable: reported as such
      }
    }
    return found.get(s.path)!;
  };
  const t0 = performance.now();
  for (const fold of folds) {
    const { fold: f, missing, notes, ignored } = readFold(spec, root, fold);
    const counts = { train: {}, gallery: {}, probe: {} } as FoldReport['counts'];
    const subjects = { train: 0, gallery: 0, probe: 0 };
    const unreadable: FoldReport['unreadable'] = [];
    const unique = new Map<string, Sample>(); // a file in two roles counts once
    for (const role of ROLES) {
      for (const s of f[role]) {
        counts[role][s.modality] = (counts[role][s.modality] ?? 0) + 1;
        if (!checked.has(s.path)) checked.set(s.path, await unreadableReason(s, headerOf(s), deep));
        const reason = checked.get(s.path);
        if (reason && !unreadable.some((u) => u.path === s.path)) unreadable.push({ path: s.path, reason });
        unique.set(s.path, s);
      }
      subjects[role] = new Set(f[role].map((s) => s.subject)).size;
    }
    for (const role of ['gallery', 'probe'] as Role[]) {
      if (f[role].length === 0) missing.push({ role, entry: `${role} set`, reason: `no ${role} samples were found` });
    }
    const report: FoldReport = { fold, counts, subjects, missing, unreadable, bitDepthMismatch: bitDepthMismatches(spec, [...unique.values()], headerOf), notes, ignored };
    if (opts.detectFaces) {
      report.faces = {} as Record<Role, FaceCount>;
      for (const role of ROLES) {
        const c: FaceCount = { checked: 0, noFace: 0, multiFace: 0, multiFaceExamples: [] };
        for (const s of f[role]) {
          const n = await facesIn(s);
          if (n === null || n < 0) continue;
          c.checked++;
          if (n === 0) c.noFace++;
          if (n > 1) {
            c.multiFace++;
            if (c.multiFaceExamples.length < EXAMPLES) c.multiFaceExamples.push(s.path);
          }
        }
        report.faces[role] = c;
      }
    }
    reports.push(report);
  }
  const files = [...checked.keys()];
  let deepSeconds = (performance.now() - t0) / 1000;
  let deepSampled = 0;
  if (!deep) {
    const t = await timeDecodes(files.filter((f) => checked.get(f) === null));
    deepSeconds = t.perImage * files.length;
    deepSampled = t.sampled;
  }
  return {
    protocol: name,
    root,
    folds: reports,
    ok: reports.every((r) => r.missing.length === 0 && r.unreadable.length === 0),
    images: files.length,
    deep,
    deepSeconds,
    deepSampled,
    warnings: reports.reduce((a, r) => a + r.bitDepthMismatch.reduce((b, m) => b + m.count, 0), 0),
    staleSplit: staleSplitReason(spec),
    facePick: opts.detectFaces?.pick ?? null,
  };
}

function duration(seconds: number): string {
  if (seconds < 1) return 'under 1 s';
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

/** What the deep check costs or cost, for the footer. */
function deepAdvice(r: CheckReport, unreadable: number): string {
  const n = r.images.toLocaleString('en-US');
  if (r.deep && unreadable) return `deep check: ${(r.images - unreadable).toLocaleString('en-US')} of ${n} images decoded in ${duration(r.deepSeconds)}`;
  if (r.deep) return `deep check: all ${n} images decoded in ${duration(r.deepSeconds)}`;
  return `headers only: run again with --deep to decode all ${n} images and catch truncated or corrupt files ` +
    `(${r.deepSeconds < 1 ? '' : 'about '}${duration(r.deepSeconds)} on this machine, from ${r.deepSampled} timed decodes)`;
}

/** Human-readable report, one block per fold. */
export function formatCheckReport(r: CheckReport): string {
  const lines = [`protocol ${r.protocol} at ${r.root}`];
  if (r.staleSplit) lines.push(`WARNING ${r.staleSplit}; a run refuses this split until then`);
  for (const f of r.folds) {
    lines.push(`fold ${f.fold}:`);
    for (const role of ROLES) {
      const mods = Object.entries(f.counts[role]).sort().map(([m, n]) => `${m} ${n}`).join(', ') || 'none';
      lines.push(`  ${role.padEnd(7)} ${String(f.subjects[role]).padStart(5)} subjects  ${mods}`);
    }
    for (const m of f.missing) lines.push(`  MISSING ${m.role ? m.role + ' ' : ''}${m.list && m.list !== m.entry ? `${m.list}: ` : ''}${m.entry} (${m.reason})`);
    for (const u of f.unreadable) lines.push(`  UNREADABLE ${u.path} (${u.reason})`);
    for (const m of f.bitDepthMismatch) lines.push(`  WARNING ${describeBitDepthMismatch(m)}`);
    for (const role of f.faces ? ROLES : []) {
      const c = f.faces![role];
      if (!c.checked) continue;
      const several = c.multiFace ? `, several faces in ${c.multiFace} (pick ${r.facePick} chooses one; e.g. ${c.multiFaceExamples[0]})` : '';
      lines.push(`  faces   ${role}: detector ran on ${c.checked} unannotated image${c.checked > 1 ? 's' : ''}, no face in ${c.noFace}${several}`);
    }
    for (const n of f.notes) lines.push(`  note: ${n}`);
  }
  const nMiss = r.folds.reduce((a, f) => a + f.missing.length, 0);
  const nBad = new Set(r.folds.flatMap((f) => f.unreadable.map((u) => u.path))).size;
  const warnings = [
    ...(r.warnings ? [`${r.warnings} bit-depth warning${r.warnings > 1 ? 's' : ''}`] : []),
    ...(r.staleSplit ? ['a stale split file'] : []),
  ];
  const warned = warnings.length ? ` (${warnings.join(', ')} above)` : '';
  lines.push(
    r.ok
      ? `OK: every listed file is present and readable${warned}; ${deepAdvice(r, nBad)}`
      : `FAILED: ${nMiss} missing, ${nBad} unreadable${warned}; ${deepAdvice(r, nBad)}`,
  );
  return lines.join('\n');
}
