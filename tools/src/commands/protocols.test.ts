import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { reloadProtocols } from '@ssmb/protocols';
import { facePickOption, protocolsCheck, protocolsList, register as registerProtocols } from './protocols.ts';
import { register as registerSynth, synthGenerate } from './synth.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ssmb-cli-protocols-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
afterEach(() => {
  process.exitCode = undefined;
  vi.restoreAllMocks();
});

const small = { identities: 6, imagesPerIdentity: 2, pretrainIdentities: 3, pretrainImagesPerIdentity: 2, size: 24 };

function program(): Command {
  const p = new Command('ssmb').exitOverride();
  registerProtocols(p);
  registerSynth(p);
  return p;
}

describe('ssmb protocols / synth', () => {
  it('`--detect-faces` alone is the largest-box rule; a named rule is kept; anything else fails naming the rules', async () => {
    expect(facePickOption(undefined)).toBeNull();
    expect(facePickOption(true)).toBe('largest');
    expect(facePickOption('center')).toBe('center');
    expect(() => facePickOption('first')).toThrow('--detect-faces must be one of largest, score, center (or no value: largest), received "first"');
    await expect(protocolsCheck('synthetic-vis-nir', { root: tmp, detectFaces: 'first' })).rejects.toThrow('--detect-faces must be one of');
  });

  it('`protocols list` names every protocol with its origin and folds', () => {
    const lines: string[] = [];
    protocolsList({}, (l) => lines.push(l));
    const text = lines.join('\n');
    for (const n of ['casia-nir-vis-2.0-view2', 'tufts-vis-thermal-90-22', 'ssmb-tufts-vis-universal-s5-seed2026', 'synthetic-vis-sketch']) expect(text).toContain(n);
    expect(lines.find((l) => l.startsWith('casia-nir-vis-2.0-view2'))).toMatch(/dataset\s+casia-nir-vis-2.0\s+10 folds/);
  });

  it('`synth generate` then `protocols check` passes (exit 0) with per-fold counts; a second generate is a no-op', async () => {
    const root = path.join(tmp, 'synth');
    const log: string[] = [];
    const r = await synthGenerate(root, small, (l) => log.push(l));
    expect(r.cached).toBe(false);
    expect(log[0]).toMatch(/wrote 54 images/);
    const again: string[] = [];
    expect((await synthGenerate(root, small, (l) => again.push(l))).cached).toBe(true);
    expect(again[0]).toMatch(/nothing written/);

    const out: string[] = [];
    expect(await protocolsCheck('synthetic-vis-thermal', { root, fold: ['2'] }, (l) => out.push(l))).toBe(0);
    const text = out.join('\n');
    expect(text).toContain('fold 2:');
    expect(text).toMatch(/train\s+3 subjects\s+THERMAL 6, VIS 6/);
    expect(text).toMatch(/gallery\s+3 subjects\s+VIS 3/);
    expect(text).toMatch(/probe\s+3 subjects\s+THERMAL 6/);
    // the OK footer says the check read headers only, and what --deep costs here: measured decode time x images
    expect(text.split('\n').at(-1)).toMatch(
      /^OK: every listed file is present and readable; headers only: run again with --deep to decode all 21 images and catch truncated or corrupt files \((under 1 s|about \d+ s) on this machine, from 8 timed decodes\)$/,
    );
    const deep: string[] = [];
    expect(await protocolsCheck('synthetic-vis-thermal', { root, fold: ['2'], deep: true }, (l) => deep.push(l))).toBe(0);
    expect(deep.join('\n').split('\n').at(-1)).toMatch(/^OK: every listed file is present and readable; deep check: all 21 images decoded in (under 1 s|\d+ s)$/);
  });

  it('`protocols list` shows a malformed user spec as invalid with the reason; `protocols splits` writes a split beside its spec', async () => {
    const dir = path.join(tmp, 'user-specs');
    const head = 'description: x\norigin: ssmb\nroles: {train: {modalities: [VIS]}, gallery: {modalities: [VIS]}, probe: {modalities: [NIR]}}\n';
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'bad-one.yaml'), `name: bad-one\nreader: tufts-face\nflavour: 1\n${head}folds: {kind: fixed-test, name: "1", test: [1]}\n`);
    fs.writeFileSync(path.join(dir, 'ssmb-mine-vis-nir-s2-seed3.yaml'), `name: ssmb-mine-vis-nir-s2-seed3\nreader: tufts-face\n${head}folds: {kind: subjects, split: ssmb-mine-4-4-s2-seed3, definition: {seed: 3, subjects: [1, 2, 3, 4, 5, 6, 7, 8], folds: 2, train: 4}}\n`);
    const previous = process.env.SSMB_PROTOCOLS_DIR;
    process.env.SSMB_PROTOCOLS_DIR = dir;
    reloadProtocols();
    try {
      const lines: string[] = [];
      expect(protocolsList({}, (l) => lines.push(l))).toBe(1);
      const text = lines.join('\n');
      expect(text).toContain('casia-nir-vis-2.0-view2'); // built-ins unaffected
      expect(text).toMatch(new RegExp(`^bad-one\\s+INVALID\\s+${path.join(dir, 'bad-one.yaml')}: \\(root\\): Unrecognized key: "flavour"`, 'm'));
      expect(text).toMatch(/^ssmb-mine-vis-nir-s2-seed3\s+ssmb\s+tufts-face\s+no split file/m);
      expect(text).toContain(`run \`ssmb protocols splits ${path.join(dir, 'ssmb-mine-vis-nir-s2-seed3.yaml')}\``);
      const logs: string[] = [];
      vi.spyOn(console, 'log').mockImplementation((l: string) => void logs.push(l));
      await program().parseAsync(['protocols', 'splits', path.join(dir, 'ssmb-mine-vis-nir-s2-seed3.yaml')], { from: 'user' });
      await program().parseAsync(['protocols', 'splits', 'ssmb-mine-vis-nir-s2-seed3'], { from: 'user' });
      expect(logs).toEqual([
        `wrote ${path.join(dir, 'ssmb-mine-4-4-s2-seed3.json')}: 2 folds of 4 train / 4 test subjects (seed 3)`,
        `${path.join(dir, 'ssmb-mine-4-4-s2-seed3.json')} is up to date: 2 folds of 4 train / 4 test subjects (seed 3)`,
      ]);
      reloadProtocols();
      const again: string[] = [];
      protocolsList({}, (l) => again.push(l));
      expect(again.join('\n')).toMatch(/^ssmb-mine-vis-nir-s2-seed3\s+ssmb\s+tufts-face\s+2 folds/m);
      expect(again.join('\n')).not.toContain('ssmb-mine-4-4-s2-seed3.json:'); // the split file is not read as a spec
      await expect(program().parseAsync(['protocols', 'splits', path.join(dir, 'nope.yaml')], { from: 'user' })).rejects.toThrow(`spec file ${path.join(dir, 'nope.yaml')} does not exist`);
    } finally {
      if (previous === undefined) delete process.env.SSMB_PROTOCOLS_DIR;
      else process.env.SSMB_PROTOCOLS_DIR = previous;
      reloadProtocols();
    }
  });

  it('names every missing file and exits non-zero through the command', async () => {
    const root = path.join(tmp, 'synth');
    const gone = path.join(root, 'THERMAL', 'h0002', '001.png');
    const probe = fs.readFileSync(path.join(root, 'protocols/vis-thermal/1/probe.txt'), 'utf8');
    fs.rmSync(path.join(root, 'THERMAL', 'h0001'), { recursive: true, force: true });
    fs.writeFileSync(path.join(root, 'THERMAL', 'h0002', '001.png'), 'not a png');
    const logs: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((l: string) => void logs.push(l));
    await program().parseAsync(['protocols', 'check', 'synthetic-vis-thermal', '--root', root], { from: 'user' });
    expect(process.exitCode).toBe(1);
    const text = logs.join('\n');
    const h1 = probe.includes('THERMAL/h0001/') ? 'probe' : 'train';
    expect(text).toContain(`MISSING ${h1} protocols/vis-thermal/1/${h1}.txt: THERMAL/h0001/000.png (no such image)`);
    expect(text).toContain(`UNREADABLE ${gone} (not a BMP, JPEG or PNG file)`);
    expect(text).toMatch(/FAILED: \d+ missing, \d+ unreadable/);
  });

  it('`synth generate` parses its options into the manifest', async () => {
    const root = path.join(tmp, 'opts');
    vi.spyOn(console, 'log').mockImplementation(() => undefined);
    await program().parseAsync(
      ['synth', 'generate', '--root', root, '--seed', '5', '--identities', '4', '--images', '2', '--pretrain-identities', '0', '--size', '16', '--severity', 'NIR=0.2', '--severity', 'sketch=0.9'],
      { from: 'user' },
    );
    const m = JSON.parse(fs.readFileSync(path.join(root, 'manifest.json'), 'utf8'));
    expect(m.options).toMatchObject({ seed: 5, identities: 4, imagesPerIdentity: 2, pretrainIdentities: 0, size: 16, severity: { NIR: 0.2, THERMAL: 0.7, SKETCH: 0.9 } });
    expect(m.counts.images).toBe(32);
  });

  it('clear errors for an unknown protocol, an unknown fold and a missing root', async () => {
    await expect(protocolsCheck('no-such', { root: tmp })).rejects.toThrow(/unknown protocol 'no-such'; known protocols: .*synthetic-vis-nir/);
    await expect(protocolsCheck('synthetic-vis-nir', { root: tmp, fold: ['7'] })).rejects.toThrow("protocol 'synthetic-vis-nir' has no fold '7'; its folds: 1, 2, 3");
    await expect(protocolsCheck('synthetic-vis-nir', { root: path.join(tmp, 'nowhere') })).rejects.toThrow(`dataset root ${path.join(tmp, 'nowhere')} does not exist`);
    await expect(program().parseAsync(['synth', 'generate', '--root', tmp, '--severity', 'UV=1'], { from: 'user' })).rejects.toThrow(/--severity must look like NIR=0.5/);
  });
});
