import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkProtocol } from '../check.ts';
import { readFold } from '../registry.ts';
import { readSplitFile } from '../splits.ts';
import { put, tempRoot, tinyImages } from '../testing/fake_tree.ts';

const root = tempRoot('tufts');
const nested = tempRoot('tufts-nested');
const extra = tempRoot('tufts-extra');
afterAll(() => {
  for (const r of [root, nested, extra]) fs.rmSync(r, { recursive: true, force: true });
});

const participants = Array.from({ length: 113 }, (_, i) => i + 1).filter((p) => p !== 47); // 47 does not exist
const noThermal = [5, 90]; // gaps: participants without thermal images
const hasNir = (p: number) => p <= 100;

/**
 * The Tufts tree. `nest`: the sensor folders the way the released zips extract into a folder of their
 * own name (TD_IR_A_Set4/TD_IR_A_Set4/<participant>/...; TD_IR_E twice nested).
 */
function writeTufts(at: string, jpg: Buffer, nest = false): void {
  const ir = nest ? 'TD_IR_A_Set4/TD_IR_A_Set4' : 'TD_IR_A_Set4';
  const ire = nest ? 'TD_IR_E_Set2/TD_IR_E_Set2/td_ir_e_set2' : 'TD_IR_E_Set2';
  for (const p of participants) {
    put(at, `TD_RGB_E_Set1/${p}/TD_RGB_E_1.jpg`, jpg);
    put(at, `TD_RGB_E_Set1/${p}/TD_RGB_E_2.jpg`, jpg);
    put(at, `TD_RGB_A/${p}/TD_RGB_A_1.JPG`, jpg); // flattened layout, upper-case extension
    if (!noThermal.includes(p)) {
      put(at, `${ire}/${p}/TD_IR_E_1.jpg`, jpg);
      put(at, `${ir}/${p}/TD_IR_A_1.jpg`, jpg);
      put(at, `${ir}/${p}/TD_IR_A_2.jpg`, jpg);
    }
    if (hasNir(p)) put(at, `TD_NIR_A_Set3/${p}/TD_NIR_A_1.jpg`, jpg);
    put(at, `TD_CS/${p}.jpg`, jpg); // sketches kept flat, participant id in the file name
  }
  put(at, 'TD_3D_Set1/1/x.obj', 'not an image');
}

beforeAll(async () => {
  const { jpg } = await tinyImages();
  writeTufts(root, jpg);
  writeTufts(nested, jpg, true);
  writeTufts(extra, jpg);
});

describe('Tufts Face reader', () => {
  it('tufts-vis-thermal-90-22: 90 training and 22 test participants, exact counts, gaps reported', async () => {
    const r = await checkProtocol('tufts-vis-thermal-90-22', root);
    const f = r.folds[0];
    expect(f.subjects).toEqual({ train: 90, gallery: 22, probe: 21 }); // participant 90 (test) has no thermal
    expect(f.counts.gallery).toEqual({ VIS: 22 });
    expect(f.counts.probe).toEqual({ THERMAL: 63 });
    expect(f.counts.train).toEqual({ VIS: 270, THERMAL: 267 }); // 90 x 3 VIS; 89 x 3 thermal (5 lacks it)
    expect(f.notes).toContain('THERMAL: no images for subjects 5, 90');
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
      const thermal = test.filter((p) => !noThermal.includes(p)).length * 3;
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
    fs.rmSync(`${root}/TD_IR_A_Set4/1`, { recursive: true });
    fs.rmSync(`${root}/TD_NIR_A_Set3/1`, { recursive: true });
    fs.rmSync(`${root}/TD_CS/1.jpg`);
    const r = await checkProtocol('ssmb-tufts-vis-nir-s5-seed2026', root, { folds: ['1'] });
    // participant 1 is a test subject of fold 1: both the gallery and the probes lack it
    expect(r.folds[0].missing.map((m) => [m.role, m.kind, m.entry])).toEqual([['gallery', 'subject', 'subject 1'], ['probe', 'subject', 'subject 1']]);
    expect(r.ok).toBe(false);
  });

  it("reads through the zips' double nesting (TD_IR_A_Set4/TD_IR_A_Set4/...): counts equal the flat layout's", async () => {
    for (const [name, folds] of [['tufts-vis-thermal-90-22', ['1']], ['ssmb-tufts-vis-thermal-s5-seed2026', ['1', '4']]] as const) {
      const flat = await checkProtocol(name, extra, { folds: [...folds] });
      const deep = await checkProtocol(name, nested, { folds: [...folds] });
      expect(deep.ok).toBe(true);
      for (let i = 0; i < folds.length; i++) {
        expect(deep.folds[i].counts).toEqual(flat.folds[i].counts);
        expect(deep.folds[i].subjects).toEqual(flat.folds[i].subjects);
        expect(deep.folds[i].counts.train.THERMAL).toBeGreaterThan(0);
      }
      expect(deep.folds[0].notes).toContain("TD_IR_A_Set4/TD_IR_A_Set4: read through the zip's double nesting (TD_IR_A_Set4/TD_IR_A_Set4/<participant>/)");
      expect(deep.folds[0].notes.some((n) => n.includes('not a participant folder'))).toBe(false);
    }
    // a different sensor nested inside a sensor folder is not guessed at: the error says where it belongs
    fs.mkdirSync(path.join(nested, 'TD_RGB_A', 'TD_NIR_A_Set3'), { recursive: true });
    await expect(checkProtocol('tufts-vis-thermal-90-22', nested)).rejects.toThrow(
      `sensor folder TD_RGB_A/TD_NIR_A_Set3 is inside sensor folder TD_RGB_A under ${nested}; move it to the dataset root (${path.join(nested, 'TD_NIR_A_Set3')})`,
    );
    fs.rmSync(path.join(nested, 'TD_RGB_A', 'TD_NIR_A_Set3'), { recursive: true });
  });

  it('ignores macOS ._* files, .DS_Store, __MACOSX and Thumbs.db: nothing unreadable, the real first image is the gallery', async () => {
    const junk = Buffer.from('\x00\x05\x16\x07 AppleDouble resource fork');
    for (const p of [1, 4, 10]) {
      put(extra, `TD_RGB_E_Set1/${p}/._TD_RGB_E_1.jpg`, junk); // sorts before TD_RGB_E_1.jpg
      put(extra, `TD_IR_A_Set4/${p}/._TD_IR_A_1.jpg`, junk);
    }
    put(extra, 'TD_RGB_E_Set1/.DS_Store', junk);
    put(extra, 'TD_RGB_E_Set1/4/Thumbs.db', junk);
    put(extra, 'TD_CS/._1.jpg', junk);
    put(extra, '__MACOSX/TD_RGB_E_Set1/._1', junk);
    put(extra, '._TD_RGB_A', junk);
    const r = await checkProtocol('tufts-vis-thermal-90-22', extra);
    const f = r.folds[0];
    expect(f.unreadable).toEqual([]);
    expect(r.ok).toBe(true);
    expect(f.counts).toEqual({ train: { VIS: 270, THERMAL: 267 }, gallery: { VIS: 22 }, probe: { THERMAL: 63 } });
    expect(f.ignored).toBe(11); // 6 ._ images, .DS_Store, Thumbs.db, TD_CS/._1.jpg, __MACOSX/, ._TD_RGB_A
    expect(f.notes).toContain('ignored 11 system files (._*, .DS_Store, __MACOSX, Thumbs.db, desktop.ini)');
    const { fold } = readFold('tufts-vis-thermal-90-22', extra, '1');
    const g4 = fold.gallery.find((s) => s.subject === '4')!;
    expect(path.basename(g4.path)).toBe('TD_RGB_E_1.jpg');
    expect(fold.train.concat(fold.gallery, fold.probe).some((s) => path.basename(s.path).startsWith('._'))).toBe(false);
  });

  it('zero-padded duplicate participant folders (010/ beside 10/) are an error naming both', async () => {
    const { jpg } = await tinyImages();
    put(extra, 'TD_IR_A_Set4/010/TD_IR_A_1.jpg', jpg);
    await expect(checkProtocol('tufts-vis-thermal-90-22', extra)).rejects.toThrow(
      `subject folders TD_IR_A_Set4/010 and TD_IR_A_Set4/10 (under ${extra}) are the same subject 10`,
    );
    // a participant both beside and inside a nested copy is the same mistake
    fs.rmSync(path.join(extra, 'TD_IR_A_Set4/010'), { recursive: true });
    put(extra, 'TD_IR_A_Set4/TD_IR_A_Set4/7/TD_IR_A_1.jpg', jpg);
    expect(() => readFold('tufts-vis-thermal-90-22', extra, '1')).toThrow(/subject folders TD_IR_A_Set4\/7 and TD_IR_A_Set4\/TD_IR_A_Set4\/7 .* are the same subject 7/);
    fs.rmSync(path.join(extra, 'TD_IR_A_Set4/TD_IR_A_Set4'), { recursive: true });
  });
});
