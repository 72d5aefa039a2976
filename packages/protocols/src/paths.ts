// Path helpers for datasets written on other systems: Windows list files, CRLF, unreliable extensions.
import fs from 'node:fs';
import path from 'node:path';

export const IMAGE_EXTENSIONS = ['.bmp', '.jpg', '.jpeg', '.png'];

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

/**
 * Case-insensitive file resolution with cached directory listings. Real dataset trees were often made on
 * Windows, so 'S1/nir/00001/001.JPG' in a list must find 's1/NIR/00001/001.jpg' on a Linux disk.
 */
export class FileResolver {
  private listings = new Map<string, Map<string, string> | null>();

  constructor(readonly root: string) {}

  private listing(dir: string): Map<string, string> | null {
    let entries = this.listings.get(dir);
    if (entries === undefined) {
      try {
        entries = new Map(fs.readdirSync(dir).map((n) => [n.toLowerCase(), n] as [string, string]));
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

  /** Sorted names in a directory (relative to root); [] when absent. */
  list(parts: string[]): string[] {
    const dir = parts.length ? this.resolve(parts) : this.root;
    if (!dir) return [];
    return [...(this.listing(dir)?.values() ?? [])].sort();
  }

  isDir(parts: string[]): boolean {
    const p = this.resolve(parts);
    return p !== null && fs.statSync(p).isDirectory();
  }
}

export function isImageName(name: string): boolean {
  return IMAGE_EXTENSIONS.includes(path.extname(name).toLowerCase());
}

/** Numeric subject key: 'S007' / '007' / '7' -> '7'; ids that are not numeric stay as written. */
export function subjectKey(id: string): string {
  const m = /^[A-Za-z]*0*(\d+)$/.exec(id);
  return m ? m[1] : id;
}
