// Every path option of every command is made absolute against the working directory as it is parsed,
// and a relative dataset root reaches `protocols check` as the folder it names.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command, Option } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { put, tinyImages } from '@ssmb/protocols/testing';
import { buildProgram, main } from './cli.ts';
import { allCommands, isPathOption } from './user_paths.ts';

let program: Command;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ssmb-user-paths-'));
beforeAll(async () => {
  program = await buildProgram();
});
afterAll(() => {
  vi.restoreAllMocks();
  process.exitCode = undefined;
  fs.rmSync(tmp, { recursive: true, force: true });
});

const name = (c: Command): string => (c.parent && c.parent.parent ? `${name(c.parent as Command)} ${c.name()}` : c.name());

function pathOptions(): Map<string, Option> {
  const out = new Map<string, Option>();
  for (const c of allCommands(program)) for (const o of c.options as Option[]) if (isPathOption(o)) out.set(`${name(c)} ${o.long}`, o);
  return out;
}

describe('user paths on the command line', () => {
  it('every <file>/<dir>/<json>/<files...> option of every command parses a relative value into an absolute path', () => {
    const opts = pathOptions();
    for (const k of [
      'protocols check --root', 'synth generate --root', 'evaluate --store', 'evaluate --config', 'evaluate --checkpoint', 'launch --init-from',
      'pretrain --output', 'import-weights --onnx', 'import-weights --file', 'import-weights --images', 'export-onnx --out', 'reproduce --weights',
      'reproduce --store', 'runs list --store', 'worker --buffer-dir', 'dashboard --data-root', 'dashboard --tables', 'launch --slurm-log-dir',
    ]) expect([...opts.keys()], k).toContain(k);
    for (const [k, o] of opts) {
      const once = o.parseArg!('rel/x', o.defaultValue) as unknown;
      const values = Array.isArray(once) ? once : [once];
      expect(values, k).toContain(path.resolve('rel/x'));
      if (Array.isArray(once)) expect(o.parseArg!('../y', once), k).toEqual([...once, path.resolve('../y')]); // repeatable and variadic keep every value
    }
  });

  it('`ssmb protocols check NAME --root <relative>` reads the folder it names and reports it absolute', async () => {
    const { png } = await tinyImages();
    const root = path.join(tmp, 'synth');
    for (const id of ['h0001', 'h0002']) for (const m of ['VIS', 'NIR']) put(root, `${m}/${id}/000.png`, png);
    put(root, 'protocols/vis-nir/1/train.txt', 'VIS/h0001/000.png\nNIR/h0001/000.png\n');
    put(root, 'protocols/vis-nir/1/gallery.txt', 'VIS/h0002/000.png\n');
    put(root, 'protocols/vis-nir/1/probe.txt', 'NIR/h0002/000.png\n');
    const out: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((...a) => void out.push(a.join(' ')));
    const errors: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((...a) => void errors.push(a.join(' ')));
    const rel = path.relative(process.cwd(), root);
    expect(await main(['protocols', 'check', 'synthetic-vis-nir', '--root', rel, '--fold', '1'])).toBe(0);
    expect(errors).toEqual([]);
    expect(out.join('\n')).toMatch(new RegExp(`^protocol synthetic-vis-nir at ${root}\nfold 1:\n  train +1 subjects +NIR 1, VIS 1\n`));
  });
});
