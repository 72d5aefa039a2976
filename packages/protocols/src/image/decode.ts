// Decode JPEG / PNG (8 or 16 bit) with sharp and BMP with bmp-js into interleaved 8-bit pixels.
import fs from 'node:fs';
import bmp from 'bmp-js';
import sharp from 'sharp';
import { parseImageHeader } from './header.ts';

export interface DecodedImage {
  data: Uint8Array; // interleaved, row-major
  width: number;
  height: number;
  channels: 1 | 3;
}

/** Errors always name the file, so one bad image in 20k is found at once. */
export class ImageDecodeError extends Error {
  constructor(readonly file: string, reason: string) {
    super(`cannot decode image ${file}: ${reason}`);
    this.name = 'ImageDecodeError';
  }
}

export async function decodeImage(file: string): Promise<DecodedImage> {
  let buf: Buffer;
  try {
    buf = await fs.promises.readFile(file);
  } catch (err) {
    throw new ImageDecodeError(file, (err as Error).message);
  }
  return decodeBuffer(buf, file);
}

export async function decodeBuffer(buf: Buffer, file = '<buffer>'): Promise<DecodedImage> {
  if (buf.length < 8) throw new ImageDecodeError(file, `file is ${buf.length} bytes, too short to be an image`);
  if (buf[0] === 0x42 && buf[1] === 0x4d) return decodeBmp(buf, file);
  try {
    const head = parseImageHeader(buf);
    if ('format' in head && head.format === 'PNG' && head.bitDepth === 16) return await decode16(buf);
    // sharp's raw output is sRGB; keep single-channel files single-channel (a third of the warp work)
    const img = isGreyEncoded(buf) ? sharp(buf).extractChannel(0) : sharp(buf);
    const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
    return toGreyOrRgb(data, info.width, info.height, info.channels);
  } catch (err) {
    throw new ImageDecodeError(file, (err as Error).message);
  }
}

// 16-bit sensors (thermal, polarimetric) rarely use the full range: stretch each image's min..max to 0..255.
async function decode16(buf: Buffer): Promise<DecodedImage> {
  const img = isGreyEncoded(buf) ? sharp(buf).extractChannel(0) : sharp(buf);
  const { data, info } = await img.raw({ depth: 'ushort' }).toBuffer({ resolveWithObject: true });
  const v = new Uint16Array(data.buffer, data.byteOffset, data.length / 2);
  let lo = 65535;
  let hi = 0;
  for (let i = 0; i < v.length; i++) {
    if (v[i] < lo) lo = v[i];
    if (v[i] > hi) hi = v[i];
  }
  const scale = hi > lo ? 255 / (hi - lo) : 0;
  const out = new Uint8Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = Math.round((v[i] - lo) * scale);
  return toGreyOrRgb(out, info.width, info.height, info.channels);
}

function decodeBmp(buf: Buffer, file: string): DecodedImage {
  // bmp-js reads past the end of a truncated file without complaint, so check the pixel array size first.
  const offset = buf.readUInt32LE(10);
  const width = buf.readInt32LE(18);
  const height = Math.abs(buf.readInt32LE(22));
  const bpp = buf.readUInt16LE(28);
  const rowBytes = Math.ceil((width * bpp) / 32) * 4;
  if (offset + rowBytes * height > buf.length) {
    throw new ImageDecodeError(file, `truncated BMP: ${buf.length} bytes, header promises ${offset + rowBytes * height}`);
  }
  const compression = buf.readUInt32LE(30);
  const topDown = buf.readInt32LE(22) < 0;
  if (compression === 0 && (bpp === 24 || bpp === 32)) return decodeBmpDirect(buf, offset, width, height, bpp, rowBytes, topDown);
  // palettes (1/4/8 bit), RLE and bitfields: bmp-js
  let img: { data: Buffer; width: number; height: number };
  try {
    img = bmp.decode(buf);
  } catch (err) {
    throw new ImageDecodeError(file, (err as Error).message);
  }
  const n = img.width * img.height;
  const rgb = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    // bmp-js writes ABGR
    rgb[i * 3] = img.data[i * 4 + 3];
    rgb[i * 3 + 1] = img.data[i * 4 + 2];
    rgb[i * 3 + 2] = img.data[i * 4 + 1];
  }
  return toGreyOrRgb(rgb, img.width, img.height, 3);
}

/** Uncompressed 24/32-bit BMP (the common camera output): rows of BGR(A), bottom-up unless height < 0.
 * bmp-js handles these too, but ~10x slower (it is per-pixel JS with closures), and this is the hot path. */
function decodeBmpDirect(buf: Buffer, offset: number, width: number, height: number, bpp: number, rowBytes: number, topDown: boolean): DecodedImage {
  const rgb = new Uint8Array(width * height * 3);
  const step = bpp / 8;
  for (let y = 0; y < height; y++) {
    let src = offset + (topDown ? y : height - 1 - y) * rowBytes;
    let dst = y * width * 3;
    for (let x = 0; x < width; x++, src += step, dst += 3) {
      rgb[dst] = buf[src + 2];
      rgb[dst + 1] = buf[src + 1];
      rgb[dst + 2] = buf[src];
    }
  }
  return { data: rgb, width, height, channels: 3 };
}

/** Drop alpha; keep single-channel as 1 channel (the warp repeats it to 3). */
function toGreyOrRgb(data: Uint8Array, width: number, height: number, channels: number): DecodedImage {
  if (channels === 1 || channels === 3) return { data, width, height, channels };
  const keep = channels === 2 ? 1 : 3;
  const n = width * height;
  const out = new Uint8Array(n * keep);
  for (let i = 0; i < n; i++) for (let c = 0; c < keep; c++) out[i * keep + c] = data[i * channels + c];
  return { data: out, width, height, channels: keep as 1 | 3 };
}

/** Grey PNG (colour type 0 or 4) or single-component JPEG, read from the header. */
function isGreyEncoded(buf: Buffer): boolean {
  if (buf.readUInt32BE(0) === 0x89504e47) return buf.length > 25 && (buf[25] === 0 || buf[25] === 4);
  if (buf[0] === 0xff && buf[1] === 0xd8) {
    let p = 2;
    while (p + 9 < buf.length && buf[p] === 0xff) {
      const marker = buf[p + 1];
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) return buf[p + 9] === 1;
      p += 2 + buf.readUInt16BE(p + 2);
    }
  }
  return false;
}
