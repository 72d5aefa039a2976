import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { protocolsCheck, protocolsList, register as registerProtocols } from './protocols.ts';
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
    expect(text).toContain('OK');
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
