// The op table's contract: ops/ is the one list (one file per op, its test beside it), and every
// registered op is there.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { opFiles } from './ops/index.ts';
import { getOp, listOps, registerOp } from './op_registry.ts';

// file names are the op type in lower case with optional underscores (reduce_mean.ts: ReduceMean)
const key = (s: string) => s.replace(/_/g, '').toLowerCase();

describe('op table', () => {
  const dir = path.join(import.meta.dirname, 'ops');
  it('has one file per registered op, named after it, each with its test beside it', () => {
    const files = opFiles(dir);
    expect(files.map((f) => key(f.replace(/\.ts$/, ''))).sort()).toEqual(listOps().map(key).sort());
    for (const f of files) expect(existsSync(path.join(dir, f.replace(/\.ts$/, '.test.ts'))), `${f} has no test beside it`).toBe(true);
  });
  it('every op has a gradient, or is a selector, or declares why it has none (never by omission)', () => {
    for (const op of listOps()) {
      const def = getOp(op)!;
      expect([Boolean(def.grad), Boolean(def.nonDifferentiable), Boolean(def.noGradient)].filter(Boolean), op).toEqual([true]);
    }
    expect(listOps({ differentiable: false })).toEqual(['ArgMax', 'Greater', 'MaxPool', 'OneHot']);
    expect(listOps().filter((o) => getOp(o)!.nonDifferentiable)).toEqual(['ArgMax', 'Greater', 'OneHot']);
    expect(listOps().filter((o) => getOp(o)!.noGradient)).toEqual(['MaxPool']);
  });
  it('refuses an op that declares no kind of gradient', () => {
    expect(() => registerOp({ opType: 'NoSuchOp', infer: () => [] })).toThrow(/exactly one of grad, nonDifferentiable, noGradient/);
  });
  it('refuses a second registration of an op', () => {
    expect(() => registerOp({ opType: 'Conv', infer: () => [], nonDifferentiable: true })).toThrow(/op 'Conv' is already registered/);
  });
});
