// Path helpers for datasets written on other systems: Windows list files, CRLF, unreliable extensions,
// and the metadata files macOS and Windows leave beside images (ignored here, once, for every reader).
import fs from 'node:fs';
import path from 'node:path';

export const IMAGE_EXTENSIONS = ['.bmp', '.jpg', '.jpeg', '.png'];

/**
 * Files and folders that operating systems write next to data and that are never dataset content:
 * macOS AppleDouble `._<name>` files (resource forks, copied onto non-Mac disks and into zips),
 * `.DS_Store`, the `__MACOSX/` folder of zips made on a Mac, Windows `Thumbs.db` and `desktop.ini`.
 * `._TD_RGB_E_1.jpg` ends in .jpg but holds no image: read as one it is unreadable, and sorting first
 * it would become a participant's gallery image. The one filter every reader and the check go through.
 */
export const SYSTEM_FILE_PATTERNS = ['._*', '.DS_Store', '__MACOSX', 'Thumbs.db', 'desktop.ini'] as const;
const SYSTEM_NAMES = new Set(['.ds_store', '__macosx', 'thumbs.db', 'desktop.ini']);

export function isSystemFile(name: string): boolean {
  return name.startsWith('._') || SYSTEM_NAMES.has(name.toLowerCase());
}

/**
 * A path a user typed (a CLI option, a config value), made absolute against the working directory
 * `cwd`: what is recorded and handed on is where the user meant, whatever folder reads it later (a
 * worker, a Slurm job, a reader that joins it with its own parts). Absolute paths come back normalised.
 */
export function userPath(p: string, cwd = process.cwd()): string {
  if (typeof p !== 'string' || p.trim() === '') throw new Error(`expected a file or folder path, received ${JSON.stringify(p)}`);
  return path.resolve(cwd, p);
}

/**
 * Whether a list or spec entry points outside the dataset root. Entries are read relative
 * to the root; an absolute one (`/etc/passwd`, `C:\data\x.bmp`, `\\server\share`) or one that climbs out
 * with `..` is never read, whether or not the file exists.
 */
export function escapesRoot(entry: string): boolean {
  if (/^([\\/]|[A-Za-z]:)/.test(entry)) return true;
  let depth = 0;
  for (const part of entry.split(/[\\/]+/)) {
    if (part === '..') depth--;
    else if (part !== '.' && part !== '') depth++;
    if (depth < 0) return true;
  }
  return false;
}

/** The reason an entry outside the root is not read, naming the root. */
export function outsideRootReason(root: string): string {
  return `outside the dataset root ${root}: entries are read relative to the root, never outside it`;
}

/** Lines of a list file: CRLF or LF, trimmed, blank lines and '#' comments dropped. */
export function readLines(file: string): string[] {
  return fs
    .readFileSync(file, 'utf8')
    .replace(/^\uFEFF/, '')
    .split(/\r?\n|\r/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !l.startsWith('#'));
}

/** 'NIR\\s1\\00001\\001.bmp' -> ['NIR','s1','00001','001.bmp'] (either separator, no empty parts). */
export function splitListPath(entry: string): string[] {
  return entry.split(/[\\/]+/).filter((p) => p.length > 0 && p !== '.');
}

/** Thrown when two folders name the same subject once zero-padding is ignored (`010/` beside `10/`). */
export class DuplicateSubjectError extends Error {
  constructor(readonly subject: string, readonly folders: string[], root: string) {
    super(
      `subject folders ${folders.join(' and ')} (under ${root}) are the same subject ${subject} (ids are compared without ` +
        `leading zeros): merge their images into one folder or remove the copy`,
    );
    this.name = 'DuplicateSubjectError';
  }
}

/** One subject folder: its name on disk and the subject id it stands for. */
export interface SubjectFolder {
  name: string;
  subject: string;
}

/**
 * Fails on two folders (relative paths, POSIX) that stand for the same subject. Readers that gather
 * subject folders from several places (Tufts' nested zips) call it over all of them.
 */
export function assertUniqueSubjects(entries: { subject: string; folder: string }[], root: string): void {
  const seen = new Map<string, string>();
  for (const e of entries) {
    const prev = seen.get(e.subject);
    if (prev !== undefined && prev !== e.folder) throw new DuplicateSubjectError(e.subject, [prev, e.folder], root);
    seen.set(e.subject, e.folder);
  }
}

/**
 * Case-insensitive file resolution with cached directory listings. Real dataset trees were often made on
 * Windows, so 'S1/nir/00001/001.JPG' in a list must find 's1/NIR/00001/001.jpg' on a Linux disk.
 * Listings leave out system files (isSystemFile); the ones left out are kept in `ignored`, so callers can
 * say how many there were.
 */
export class FileResolver {
  private listings = new Map<string, Map<string, string> | null>();
  /** Absolute paths of the system files left out of the listings read so far. */
  readonly ignored = new Set<string>();

  constructor(readonly root: string) {}

  private listing(dir: string): Map<string, string> | null {
    let entries = this.listings.get(dir);
    if (entries === undefined) {
      try {
        entries = new Map();
        for (const n of fs.readdirSync(dir)) {
          if (isSystemFile(n)) this.ignored.add(path.join(dir, n));
          else entries.set(n.toLowerCase(), n);
        }
      } catch {
        entries = null;
      }
      this.listings.set(dir, entries);
    }
    return entries;
  }

  /** Resolve relative parts under root, matching each part case-insensitively; null when absent. */
  resolve(parts: string[]): string | null {
    let dir = this.root;
    for (const part of parts) {
      const found = this.listing(dir)?.get(part.toLowerCase());
      if (!found) return null;
      dir = path.join(dir, found);
    }
    return dir;
  }

  /** Like resolve, but when the file is absent try the same stem with every image extension. */
  resolveImage(parts: string[]): string | null {
    const exact = this.resolve(parts);
    if (exact && fs.statSync(exact).isFile()) return exact;
    const dirParts = parts.slice(0, -1);
    const dir = this.resolve(dirParts);
    if (!dir) return null;
    const stem = path.parse(parts[parts.length - 1]).name.toLowerCase();
    const entries = this.listing(dir);
    if (!entries) return null;
    for (const ext of IMAGE_EXTENSIONS) {
      const hit = entries.get(stem + ext);
      if (hit) return path.join(dir, hit);
    }
    return null;
  }

  /** Sorted names in a directory (relative to root), system files left out; [] when absent. */
  list(parts: string[]): string[] {
    const dir = parts.length ? this.resolve(parts) : this.root;
    if (!dir) return [];
    return [...(this.listing(dir)?.values() ?? [])].sort();
  }

  isDir(parts: string[]): boolean {
    const p = parts.length ? this.resolve(parts) : this.root;
    return p !== null && fs.statSync(p).isDirectory();
  }

  /** Sorted image file names (BMP, JPEG, PNG by extension) in a directory; [] when absent. */
  images(parts: string[]): string[] {
    return this.list(parts).filter((n) => isImageName(n) && !this.isDir([...parts, n]));
  }

  /**
   * The sub-folders of a directory as subjects (`S007`, `007` and `7` are subject 7, see subjectKey).
   * Two folders that are the same subject are an error naming both (DuplicateSubjectError).
   */
  subjectFolders(parts: string[]): SubjectFolder[] {
    const out = this.list(parts)
      .filter((n) => this.isDir([...parts, n]))
      .map((name) => ({ name, subject: subjectKey(name) }));
    assertUniqueSubjects(out.map((f) => ({ subject: f.subject, folder: [...parts, f.name].join('/') })), this.root);
    return out;
  }
}

export function isImageName(name: string): boolean {
  return !isSystemFile(name) && IMAGE_EXTENSIONS.includes(path.extname(name).toLowerCase());
}

/** Numeric subject key: 'S007' / '007' / '7' -> '7'; ids that are not numeric stay as written. */
export function subjectKey(id: string): string {
  const m = /^[A-Za-z]*0*(\d+)$/.exec(id);
  return m ? m[1] : id;
}
