import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkProtocol } from '../check.ts';
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

  it('aligns a 16-bit image with the fixed eye positions', async () => {
    const s = readFold('ssmb-polathermal-vis-polar-overall-s5-seed2026', root, '1').fold.probe[0];
    expect(s.eyes).toEqual([[65, 106], [140, 106]]);
    expect(s.modality).toBe('POLAR');
    const { data, method } = await loadAlignedImage(s, 112);
    expect(method).toBe('eyes');
    expect(data.length).toBe(112 * 112 * 3);
  });
});
