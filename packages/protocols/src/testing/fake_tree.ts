// Helpers for tests: tiny real images written into fake dataset trees in their native layouts.
// Exported as `@ssmb/protocols/testing` so other packages' tests write trees the same way.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import bmp from 'bmp-js';
import sharp from 'sharp';

export interface TinyImages {
  jpg: Buffer;
  png: Buffer;
  png16: Buffer;
  bmp: Buffer;
}

export async function tinyImages(size = 8): Promise<TinyImages> {
  const rgb = Buffer.alloc(size * size * 3, 128);
  const raw = { raw: { width: size, height: size, channels: 3 as const } };
  const g16 = new Uint16Array(size * size).map((_, i) => 3000 + i * 7);
  const abgr = Buffer.alloc(size * size * 4, 200);
  return {
    jpg: await sharp(rgb, raw).jpeg().toBuffer(),
    png: await sharp(rgb, raw).png().toBuffer(),
    png16: await sharp(g16, { raw: { width: size, height: size, channels: 1 } }).toColourspace('grey16').png().toBuffer(),
    bmp: bmp.encode({ data: abgr, width: size, height: size }).data,
  };
}

export function tempRoot(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `ssmb-${prefix}-`));
}

/** Write `data` at root/rel (POSIX rel), creating folders. */
export function put(root: string, rel: string, data: Buffer | string): void {
  const file = path.join(root, ...rel.split('/'));
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, data);
}

/** A grey PNG of `width` x `height` with pixel values `value(x, y)` (0..255, or 0..65535 when `depth` is 16). */
export async function greyPng(width: number, height: number, value: (x: number, y: number) => number, depth: 8 | 16 = 8): Promise<Buffer> {
  const px = depth === 16 ? new Uint16Array(width * height) : new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) px[y * width + x] = value(x, y);
  const img = sharp(px, { raw: { width, height, channels: 1 } });
  return (depth === 16 ? img.toColourspace('grey16') : img).png().toBuffer();
}
