import { describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { checkpointPath, loadCheckpoint, saveCheckpoint } from './checkpoint.ts';

describe('checkpoint', () => {
  it('round-trips weights, optimiser state, step, rng and config bit-exactly, atomically', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ckpt-'));
    const file = checkpointPath(dir, 12);
    const w = new Float32Array([1.5, -0, Number.NaN, 3e-38, Infinity, 7]);
    saveCheckpoint(file, {
      kind: 'train',
      step: 12,
      rngState: 4294967295,
      optimizerT: 12,
      config: { a: { b: [1, 2] } },
      runId: 3,
      tensors: new Map([
        ['ssmb.0.router.weight', { data: w, shape: [2, 3] }],
        ['adam.m/ssmb.0.router.weight', { data: new Float32Array(6).fill(0.1), shape: [2, 3] }],
      ]),
      extra: { note: 'x' },
    });
    expect(readdirSync(path.dirname(file))).toEqual([path.basename(file)]); // no temp file left
    const s = loadCheckpoint(file);
    expect(s).toMatchObject({ kind: 'train', step: 12, rngState: 4294967295, optimizerT: 12, runId: 3, config: { a: { b: [1, 2] } }, extra: { note: 'x' } });
    const back = s.tensors.get('ssmb.0.router.weight')!;
    expect(back.shape).toEqual([2, 3]);
    expect(Buffer.from(back.data.buffer, back.data.byteOffset, 24).equals(Buffer.from(w.buffer))).toBe(true);
    const bad = path.join(dir, 'bad.ckpt');
    writeFileSync(bad, Buffer.from([1, 2, 3]));
    expect(() => loadCheckpoint(bad)).toThrow(/checkpoint .*bad.ckpt/);
    expect(() => loadCheckpoint(path.join(dir, 'none.ckpt'))).toThrow(/cannot read checkpoint/);
  });
});
