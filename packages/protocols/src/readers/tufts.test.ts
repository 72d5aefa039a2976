import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkProtocol } from '../check.ts';
import { readFold } from '../registry.ts';
import { readSplitFile } from '../splits.ts';
import { put, tempRoot, tinyImages } from '../testing/fake_tree.ts';

const root = tempRoot('tufts');
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const participants = Array.from({ length: 113 }, (_, i) => i + 1).filter((p) => p !== 47); // 47 does not exist
const noThermal = [5, 90]; // gaps: participants without thermal images
const hasNir = (p: number) => p <= 100;

beforeAll(async () => {
  const { jpg } = await tinyImages();
  for (const p of participants) {
    put(root, `TD_RGB_E_Set1/${p}/TD_RGB_E_1.jpg`, jpg);
    put(root, `TD_RGB_E_Set1/${p}/TD_RGB_E_2.jpg`, jpg);
    put(root, `TD_RGB_A/${p}/TD_RGB_A_1.JPG`, jpg); // flattened layout, upper-case extension
    if (!noThermal.includes(p)) {
      put(root, `TD_IR_E_Set2/${p}/TD_IR_E_1.jpg`, jpg);
      put(root, `TD_IR_A/${p}/TD_IR_A_1.jpg`, jpg);
    }
    if (hasNir(p)) put(root, `TD_NIR_A_Set3/${p}/TD_NIR_A_1.jpg`, jpg);
    put(root, `TD_CS/${p}.jpg`, jpg); // sketches kept flat, participant id in the file name
  }
  put(root, 'TD_3D_Set1/1/x.obj', 'not an image');
});

describe('Tufts Face reader', () => {
  it('tufts-vis-thermal-90-22: 90 training and 22 test participants, exact counts, gaps reported', async () => {
    const r = await checkProtocol('tufts-vis-thermal-90-22', root);
    const f = r.folds[0];
    expect(f.subjects).toEqual({ train: 90, gallery: 22, probe: 21 }); // participant 90 (test) has no thermal
    expect(f.counts.gallery).toEqual({ VIS: 22 });
    expect(f.counts.probe).toEqual({ THERMAL: 42 });
    expect(f.counts.train).toEqual({ VIS: 270, THERMAL: 178 }); // 90 x 3 VIS; 89 x 2 thermal (5 lacks it)
    expect(f.notes).toContain('THERMAL: no images for participants 5, 90');
    expect(f.notes).toContain('probe: no THERMAL image for test subject 90');
    expect(f.notes.some((n) => n.startsWith('TD_3D_Set1'))).toBe(true);
    expect(r.ok).toBe(true);
    const { fold } = readFold('tufts-vis-thermal-90-22', root, '1');
    expect(fold.gallery.every((s) => s.attributes?.sensor === 'TD_RGB_E' && s.path.endsWith('TD_RGB_E_1.jpg'))).toBe(true);
  });

  it('our seeded 50/50 splits: exact per-fold counts for VIS-NIR, VIS-SKETCH and VIS-UNIVERSAL', () => {
    const split = readSplitFile('ssmb-tufts-56-56-s5-seed2026');
    for (const k of ['1', '5']) {
      const test = split.folds.find((f) => f.name === k)!.test.map(Number);
      const train = split.folds.find((f) => f.name === k)!.train.map(Number);
      expect(test).toHaveLength(56);
      const nir = readFold('ssmb-tufts-vis-nir-s5-seed2026', root, k).fold;
      expect(nir.gallery).toHaveLength(56);
      expect(nir.probe).toHaveLength(test.filter(hasNir).length);
      expect(nir.train).toHaveLength(56 * 3 + train.filter(hasNir).length);
      const sketch = readFold('ssmb-tufts-vis-sketch-s5-seed2026', root, k).fold;
      expect(sketch.probe).toHaveLength(56);
      const uni = readFold('ssmb-tufts-vis-universal-s5-seed2026', root, k).fold;
      const thermal = test.filter((p) => !noThermal.includes(p)).length * 2;
      expect(uni.probe).toHaveLength(test.filter(hasNir).length + thermal + 56);
      expect(new Set(uni.probe.map((s) => s.modality))).toEqual(new Set(['NIR', 'THERMAL', 'SKETCH']));
      // identities never cross train and test
      const trainIds = new Set(uni.train.map((s) => s.subject));
      expect(uni.probe.some((s) => trainIds.has(s.subject))).toBe(false);
    }
  });

  it('a participant the split names but the root lacks is reported missing', async () => {
    fs.rmSync(`${root}/TD_RGB_E_Set1/1`, { recursive: true });
    fs.rmSync(`${root}/TD_RGB_A/1`, { recursive: true });
    fs.rmSync(`${root}/TD_IR_E_Set2/1`, { recursive: true });
    fs.rmSync(`${root}/TD_IR_A/1`, { recursive: true });
    fs.rmSync(`${root}/TD_NIR_A_Set3/1`, { recursive: true });
    fs.rmSync(`${root}/TD_CS/1.jpg`);
    const r = await checkProtocol('ssmb-tufts-vis-nir-s5-seed2026', root, { folds: ['1'] });
    expect(r.folds[0].missing.map((m) => m.entry)).toEqual(['subject 1']);
    expect(r.ok).toBe(false);
  });
});
