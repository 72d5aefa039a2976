import { describe, expect, it } from 'vitest';
import { decodeSafetensors, decodeSafetensorsFloat32, encodeSafetensors, parseSafetensorsHeader, type SafeTensor } from './safetensors.ts';
import { readSafetensorsStateDict } from './onnx/safetensors_file.ts';

/** A file in the native layout from raw (dtype, shape, bytes) entries, as a foreign writer would make it. */
function rawFile(entries: Array<[string, string, number[], Uint8Array]>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let off = 0;
  for (const [name, dtype, shape, b] of entries) {
    header[name] = { dtype, shape, data_offsets: [off, off + b.length] };
    off += b.length;
  }
  const head = Buffer.from(JSON.stringify(header), 'utf8');
  const out = new Uint8Array(8 + head.length + off);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let pos = 8 + head.length;
  for (const [, , , b] of entries) {
    out.set(b, pos);
    pos += b.length;
  }
  return out;
}
const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

describe('safetensors', () => {
  it('round-trips F32 and I32 bit-exactly with metadata', () => {
    const t = new Map<string, SafeTensor>([
      ['a', { dtype: 'F32', shape: [2, 3], data: Float32Array.from([1, -2.5, 3e-7, NaN, Infinity, 0]) }],
      ['b', { dtype: 'I32', shape: [2], data: Int32Array.from([-7, 2 ** 30]) }],
    ]);
    const { tensors, metadata } = decodeSafetensors(encodeSafetensors(t, { k: 'v' }));
    expect(metadata).toEqual({ k: 'v' });
    expect(tensors.get('a')!.shape).toEqual([2, 3]);
    expect(bytesOf(tensors.get('a')!.data)).toEqual(bytesOf(t.get('a')!.data));
    expect(Array.from(tensors.get('b')!.data)).toEqual([-7, 2 ** 30]);
    expect(tensors.get('b')!.data).toBeInstanceOf(Int32Array);
  });

  it('widens F16, BF16 and F64 to float32 and skips integer tensors', () => {
    const f16 = Uint16Array.from([0x3c00, 0xc000, 0x3555, 0x0001]); // 1, -2, 0.333..., smallest subnormal
    const bf16 = Uint16Array.from([0x3f80, 0xc040]); // 1, -3
    const f64 = Float64Array.from([0.1, -1e10]);
    const file = rawFile([
      ['module.h', 'F16', [4], bytesOf(f16)],
      ['b', 'BF16', [2], bytesOf(bf16)],
      ['d', 'F64', [2, 1], bytesOf(f64)],
      ['n', 'I64', [], bytesOf(BigInt64Array.from([3n]))],
    ], { who: 'torch' });
    const { tensors, skipped, metadata } = decodeSafetensorsFloat32(file, 'x.safetensors');
    expect(metadata).toEqual({ who: 'torch' });
    expect(skipped).toEqual(['n']);
    expect(Array.from(tensors.get('module.h')!.data)).toEqual([1, -2, 0.333251953125, Math.fround(2 ** -24)]);
    expect(Array.from(tensors.get('b')!.data)).toEqual([1, -3]);
    expect(Array.from(tensors.get('d')!.data)).toEqual([Math.fround(0.1), Math.fround(-1e10)]);
    expect(tensors.get('d')!.shape).toEqual([2, 1]);
    // our own decoder refuses them, naming the tensor and dtype
    expect(() => decodeSafetensors(file, 'x.safetensors')).toThrow(/x\.safetensors: tensor "module\.h" has dtype F16; expected F32 or I32/);
    // the state-dict reader is the same decode minus DataParallel's prefix
    const { stateDict } = readSafetensorsStateDict(file, 'x.safetensors');
    expect([...stateDict.keys()]).toEqual(['h', 'b', 'd']);
    expect(stateDict.get('h')!.data).toEqual(tensors.get('module.h')!.data);
  });

  it('one validator for both readers: length, JSON, dtype, shape and byte ranges', () => {
    const both = (b: Uint8Array, re: RegExp) => {
      expect(() => decodeSafetensors(b, 'f')).toThrow(re);
      expect(() => decodeSafetensorsFloat32(b, 'f')).toThrow(re);
      expect(() => readSafetensorsStateDict(b, 'f')).toThrow(re);
    };
    both(new Uint8Array(5), /f: 5 bytes is too short/);
    const huge = new Uint8Array(16);
    new DataView(huge.buffer).setBigUint64(0, 100n, true);
    both(huge, /f: header length 100 does not fit in 16 bytes; not a safetensors file/);
    const junk = new Uint8Array(12);
    new DataView(junk.buffer).setBigUint64(0, 4n, true);
    junk.set(Buffer.from('{{{{'), 8);
    both(junk, /f: safetensors header is not valid JSON/);
    const f32 = bytesOf(Float32Array.from([1, 2, 3]));
    both(rawFile([['w', 'F32', [4], f32]]), /f: tensor "w" \(dtype F32, shape \[4\], bytes 0\.\.12\) is inconsistent or truncated \(file has 12 data bytes\)/);
    both(rawFile([['w', 'Q8', [3], f32]]), /f: tensor "w" has dtype Q8; expected one of F64, F32/);
    both(rawFile([['w', 'F32', [-3], f32]]), /f: tensor "w" has shape \[-3\]/);
    const ok = rawFile([['w', 'F32', [3], f32]]);
    both(ok.subarray(0, ok.length - 4), /inconsistent or truncated \(file has 8 data bytes\)/);
    const h = parseSafetensorsHeader(ok, 'f');
    expect(h.entries).toEqual([{ name: 'w', dtype: 'F32', shape: [3], begin: ok.length - 12, end: ok.length }]);
    expect(h.dataBytes).toBe(12);
  });
});
