import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import bmp from 'bmp-js';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeImage } from './decode.ts';
import { loadAlignedBatch, loadAlignedImage } from './load.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ssmb-decode-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const W = 40, H = 30;
function rgb(): Buffer {
  const b = Buffer.alloc(W * H * 3);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    const i = (y * W + x) * 3;
    b[i] = 200; b[i + 1] = 100; b[i + 2] = 20; // constant colour: exact after any lossless decode
  }
  return b;
}

function writeBmp(file: string): void {
  const abgr = Buffer.alloc(W * H * 4);
  for (let i = 0; i < W * H; i++) { abgr[i * 4] = 255; abgr[i * 4 + 1] = 20; abgr[i * 4 + 2] = 100; abgr[i * 4 + 3] = 200; }
  fs.writeFileSync(file, bmp.encode({ data: abgr, width: W, height: H }).data);
}

describe('decodeImage', () => {
  it('decodes PNG 8-bit, PNG 16-bit, JPEG and BMP', async () => {
    const raw = { raw: { width: W, height: H, channels: 3 as const } };
    await sharp(rgb(), raw).png().toFile(path.join(dir, 'a.png'));
    await sharp(rgb(), raw).jpeg({ quality: 95 }).toFile(path.join(dir, 'a.jpg'));
    writeBmp(path.join(dir, 'a.bmp'));
    // 16-bit grey ramp 1000..(1000+W-1)*10: min-max stretched to 0..255
    const g16 = new Uint16Array(W * H).map((_, i) => 1000 + (i % W) * 10);
    await sharp(g16, { raw: { width: W, height: H, channels: 1 } }).toColourspace('grey16').png().toFile(path.join(dir, 'a16.png'));
    expect(fs.readFileSync(path.join(dir, 'a16.png'))[24]).toBe(16); // really a 16-bit PNG

    for (const f of ['a.png', 'a.bmp']) {
      const img = await decodeImage(path.join(dir, f));
      expect([img.width, img.height, img.channels]).toEqual([W, H, 3]);
      expect([...img.data.subarray(0, 3)]).toEqual([200, 100, 20]);
    }
    const j = await decodeImage(path.join(dir, 'a.jpg'));
    expect(Math.abs(j.data[0] - 200)).toBeLessThan(6);
    const p16 = await decodeImage(path.join(dir, 'a16.png'));
    expect(p16.width).toBe(W);
    const row = Array.from({ length: W }, (_, x) => p16.data[x * p16.channels]);
    expect(row[0]).toBe(0);
    expect(row[W - 1]).toBe(255);
  });

  it('BMP: the 24-bit fast path matches bmp-js pixel for pixel; 8-bit palette BMPs go through bmp-js', async () => {
    const w = 7, h = 5; // odd width: rows are padded to 4 bytes
    const abgr = Buffer.alloc(w * h * 4);
    for (let i = 0; i < w * h; i++) abgr.set([255, (i * 3) & 255, (i * 5) & 255, (i * 11) & 255], i * 4);
    const file = path.join(dir, 'grad.bmp');
    fs.writeFileSync(file, bmp.encode({ data: abgr, width: w, height: h }).data);
    const mine = await decodeImage(file);
    const ref = bmp.decode(fs.readFileSync(file));
    for (let i = 0; i < w * h; i++) {
      expect([...mine.data.subarray(i * 3, i * 3 + 3)]).toEqual([ref.data[i * 4 + 3], ref.data[i * 4 + 2], ref.data[i * 4 + 1]]);
    }
    // 8-bit grey palette, bottom-up, 4x2: row 0 (top) = 10,20,30,40 ; row 1 = 50,60,70,80
    const pal = Buffer.alloc(256 * 4);
    for (let v = 0; v < 256; v++) pal.set([v, v, v, 0], v * 4);
    const pixels = Buffer.from([50, 60, 70, 80, 10, 20, 30, 40]); // bottom row first
    const header = Buffer.alloc(54);
    header.write('BM', 0);
    header.writeUInt32LE(54 + pal.length + pixels.length, 2);
    header.writeUInt32LE(54 + pal.length, 10);
    header.writeUInt32LE(40, 14);
    header.writeInt32LE(4, 18);
    header.writeInt32LE(2, 22);
    header.writeUInt16LE(1, 26);
    header.writeUInt16LE(8, 28);
    header.writeUInt32LE(256, 46);
    fs.writeFileSync(path.join(dir, 'grey8.bmp'), Buffer.concat([header, pal, pixels]));
    const g = await decodeImage(path.join(dir, 'grey8.bmp'));
    expect([g.width, g.height]).toEqual([4, 2]);
    expect(Array.from({ length: 8 }, (_, i) => g.data[i * 3])).toEqual([10, 20, 30, 40, 50, 60, 70, 80]);
  });

  it('names the file when an image is truncated or corrupt', async () => {
    const jpg = fs.readFileSync(path.join(dir, 'a.jpg'));
    fs.writeFileSync(path.join(dir, 'trunc.jpg'), jpg.subarray(0, jpg.length >> 1));
    const b = fs.readFileSync(path.join(dir, 'a.bmp'));
    fs.writeFileSync(path.join(dir, 'trunc.bmp'), b.subarray(0, b.length - 100));
    fs.writeFileSync(path.join(dir, 'junk.png'), Buffer.from('this is not an image at all'));
    for (const f of ['trunc.jpg', 'trunc.bmp', 'junk.png', 'absent.jpg']) {
      await expect(decodeImage(path.join(dir, f))).rejects.toThrow(path.join(dir, f));
    }
  });

  it('loads aligned batches: NHWC, scaled to [-1,1], fallbacks counted', async () => {
    const s = { subject: '1', modality: 'VIS' };
    const { data, stats } = await loadAlignedBatch(
      [
        { ...s, path: path.join(dir, 'a.png') },
        { ...s, path: path.join(dir, 'a.bmp'), eyes: [[12, 14], [28, 14]] },
      ],
      32,
    );
    expect(data.length).toBe(2 * 32 * 32 * 3);
    // centre of a constant image: (200 - 127.5) / 127.5
    const c = (16 * 32 + 16) * 3;
    expect(data[c]).toBeCloseTo((200 - 127.5) / 127.5, 5);
    expect(data[32 * 32 * 3 + c + 2]).toBeCloseTo((20 - 127.5) / 127.5, 5);
    expect(stats).toMatchObject({ total: 2, eyes: 1, fallback: 1, fallbackFiles: [path.join(dir, 'a.png')] });
    await expect(loadAlignedImage({ ...s, path: path.join(dir, 'a.png') }, 3)).rejects.toThrow(/size must be/);
  });
});
