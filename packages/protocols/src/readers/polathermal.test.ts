import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkProtocol, formatCheckReport } from '../check.ts';
import { loadAlignedImage } from '../image/load.ts';
import { readFold } from '../registry.ts';
import { put, tempRoot, tinyImages } from '../testing/fake_tree.ts';

const root = tempRoot('polathermal');
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

beforeAll(async () => {
  const { png16 } = await tinyImages();
  for (let i = 1; i <= 60; i++) {
    const s = `S${String(i).padStart(3, '0')}`;
    put(root, `Visible/IOD87_B/${s}_IOD87_B_VI_f01.png`, png16);
    put(root, `Visible/IOD87_B/${s}_IOD87_B_VI_f02.png`, png16);
    put(root, `Visible/IOD87_E/${s}_IOD87_E_VI_f01.png`, png16);
    for (const name of ['R1_B_S0', 'R1_E_S0', 'R2_B_S0', 'R3_B_S0', 'R1_B_DP', 'R1_B_S1', 'R2_B_DP']) {
      put(root, `Polarimetric/${s}_${name}_f01.png`, png16);
    }
  }
});

describe('Polathermal reader', () => {
  it('exact per-fold counts for the overall, polarimetric, expression and range protocols', async () => {
    const expected: Record<string, number> = {
      'thermal-overall': 35 * 4,
      'polar-overall': 35 * 2,
      'thermal-expression': 35,
      'thermal-r1': 35 * 2,
      'thermal-r2': 35,
      'thermal-r3': 35,
    };
    for (const [variant, probes] of Object.entries(expected)) {
      const r = await checkProtocol(`ssmb-polathermal-vis-${variant}-s5-seed2026`, root, { folds: ['3'] });
      const f = r.folds[0];
      expect(f.subjects).toEqual({ train: 25, gallery: 35, probe: 35 });
      expect(f.counts.gallery).toEqual({ VIS: 70 }); // baseline VIS only, 2 per subject
      expect(Object.values(f.counts.probe)[0]).toBe(probes);
      expect(r.ok).toBe(true);
    }
    const f = readFold('ssmb-polathermal-vis-thermal-overall-s5-seed2026', root, '1').fold;
    expect(f.train).toHaveLength(25 * (3 + 4)); // all VIS + all S0 of the training subjects
  });

  it('reports a subject missing a modality like every reader does, ignores ._* files and notes unparsed names', async () => {
    const { png16 } = await tinyImages();
    const junk = Buffer.from('AppleDouble');
    for (const name of ['R1_B_S0', 'R1_E_S0', 'R2_B_S0', 'R3_B_S0']) fs.rmSync(`${root}/Polarimetric/S007_${name}_f01.png`);
    put(root, 'Polarimetric/._S001_R1_B_S0_f01.png', junk);
    put(root, 'Visible/IOD87_B/._S001_IOD87_B_VI_f01.png', junk);
    put(root, 'Visible/IOD87_B/.DS_Store', junk);
    put(root, 'Visible/IOD87_B/S001_IOD87_B_VI_f01 copy.png', png16);
    const r = await checkProtocol('ssmb-polathermal-vis-thermal-overall-s5-seed2026', root, { folds: ['1'] });
    const f = r.folds[0];
    expect(f.notes).toContain('THERMAL: no images for subject 7');
    expect(f.notes).toContain('ignored 3 system files (._*, .DS_Store, __MACOSX, Thumbs.db, desktop.ini)');
    expect(f.notes).toContain(
      `Visible: 1 file does not follow <subject>_IOD87_<B|E>_VI_f<nn>.png and is not read (first: ${root}/Visible/IOD87_B/S001_IOD87_B_VI_f01 copy.png)`,
    );
    expect(f.unreadable).toEqual([]);
    expect(r.ok).toBe(true);
    fs.rmSync(`${root}/Visible/IOD87_B/S001_IOD87_B_VI_f01 copy.png`);
    for (const name of ['R1_B_S0', 'R1_E_S0', 'R2_B_S0', 'R3_B_S0']) put(root, `Polarimetric/S007_${name}_f01.png`, png16);
  });

  it('an 8-bit PNG where the spec declares 16-bit is a counted warning, not a failure', async () => {
    const { png, png16 } = await tinyImages();
    put(root, 'Polarimetric/S001_R1_B_S0_f01.png', png); // subject 1 is a test subject of fold 1
    put(root, 'Polarimetric/S003_R1_B_S0_f01.png', png);
    const r = await checkProtocol('ssmb-polathermal-vis-thermal-overall-s5-seed2026', root, { folds: ['1'] });
    expect(r.folds[0].bitDepthMismatch).toEqual([
      { modality: 'THERMAL', declared: 16, found: 8, count: 2, examples: [`${root}/Polarimetric/S001_R1_B_S0_f01.png`, `${root}/Polarimetric/S003_R1_B_S0_f01.png`] },
    ]);
    expect(r.warnings).toBe(2);
    expect(r.ok).toBe(true);
    expect(formatCheckReport(r)).toContain(`WARNING 2 THERMAL images are 8-bit where the spec declares bitDepth 16`);
    expect(formatCheckReport(r)).toMatch(/^OK: .*\(2 bit-depth warnings above\)/m);
    for (const s of ['S001', 'S003']) put(root, `Polarimetric/${s}_R1_B_S0_f01.png`, png16);
  });

  it('aligns a 16-bit image with the fixed eye positions', async () => {
    const s = readFold('ssmb-polathermal-vis-polar-overall-s5-seed2026', root, '1').fold.probe[0];
    expect(s.eyes).toEqual([[65, 106], [140, 106]]);
    expect(s.modality).toBe('POLAR');
    const { data, method } = await loadAlignedImage(s, 112);
    expect(method).toBe('eyes');
    expect(data.length).toBe(112 * 112 * 3);
  });
});
