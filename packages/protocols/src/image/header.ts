// What an image file's first bytes say: its format and bits per channel. The shallow check and the
// bit-depth accounting read only these bytes, never the pixels.
import fs from 'node:fs';

export type ImageFormat = 'BMP' | 'JPEG' | 'PNG';

export interface ImageHeader {
  format: ImageFormat;
  /** Bits per channel: 16 for 16-bit PNG, 8 for everything else we decode (palettes and 1-4 bit grey widen to 8). */
  bitDepth: 8 | 16;
}

/** Bytes needed: PNG's IHDR bit depth sits at offset 24. */
export const HEADER_BYTES = 26;

/** The header of a file's first bytes, or the reason it is not an image we read. */
export function parseImageHeader(head: Uint8Array): ImageHeader | { error: string } {
  if (head.length === 0) return { error: 'empty file' };
  if (head[0] === 0x42 && head[1] === 0x4d) return { format: 'BMP', bitDepth: 8 };
  if (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return { format: 'JPEG', bitDepth: 8 };
  if (head[0] === 0x89 && head[1] === 0x50 && head[2] === 0x4e && head[3] === 0x47) {
    return { format: 'PNG', bitDepth: head.length > 24 && head[24] === 16 ? 16 : 8 };
  }
  return { error: 'not a BMP, JPEG or PNG file' };
}

export function readImageHeader(file: string): ImageHeader | { error: string } {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    return { error: (err as Error).message };
  }
  try {
    const head = Buffer.alloc(HEADER_BYTES);
    const n = fs.readSync(fd, head, 0, HEADER_BYTES, 0);
    return parseImageHeader(head.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
}
