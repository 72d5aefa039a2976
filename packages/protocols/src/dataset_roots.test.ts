// Datasets as a new user meets them, for every built-in reader: a root given relative to the working
// directory, a folder the reader does not read, list entries pointing outside the root, and the deep
// check's footer when an image does not decode.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkProtocol, formatCheckReport } from './check.ts';
import { escapesRoot, userPath } from './paths.ts';
import { readFold, registerProtocol } from './registry.ts';
import { parseSpec } from './spec.ts';
import { put, tempRoot, tinyImages } from './testing/fake_tree.ts';

const base = tempRoot('roots');
afterAll(() => fs.rmSync(base, { recursive: true, force: true }));
const at = (name: string) => path.join(base, name);

beforeAll(async () => {
  const { jpg, png, png16, bmp } = await tinyImages();
  // CASIA: View 1 lists; one entry climbs out of the root, one is an absolute Windows path into a session
  for (const id of ['00001', '00002', '00003']) {
    put(at('casia'), `s1/VIS/${id}/001.jpg`, jpg);
    put(at('casia'), `s1/NIR/${id}/001.bmp`, bmp);
  }
  put(at('casia'), 'protocols/vis_train_dev.txt', 's1\\VIS\\00001\\001.jpg\r\n');
  put(at('casia'), 'protocols/nir_train_dev.txt', 's1\\NIR\\00001\\001.bmp\r\n');
  put(at('casia'), 'protocols/vis_gallery_dev.txt', 's1\\VIS\\00002\\001.jpg\r\nD:\\NIR-VIS-2.0\\s1\\VIS\\00003\\001.jpg\r\n');
  put(at('casia'), 'protocols/nir_probe_dev.txt', 's1\\NIR\\00002\\001.bmp\r\ns1\\NIR\\00003\\001.bmp\r\n..\\..\\etc\\passwd\r\n');
  // Tufts: VIS + THERMAL for a few participants, a cropped copy that matches no sensor, a 3-D sensor
  for (const p of [1, 4, 10]) {
    put(at('tufts'), `TD_RGB_E_Set1/${p}/TD_RGB_E_1.jpg`, jpg);
    put(at('tufts'), `TD_IR_E_Set2/${p}/TD_IR_E_1.jpg`, jpg);
  }
  put(at('tufts'), 'TD_IR_Cropped/1/TD_IR_E_1.jpg', jpg);
  put(at('tufts'), 'TD_3D_Set1/1/x.obj', 'not an image');
  // Polathermal: its two folders, plus a Thermal/ folder and an image at the top that it does not read
  for (let i = 1; i <= 3; i++) {
    const s = `S00${i}`;
    put(at('pola'), `Visible/IOD87_B/${s}_IOD87_B_VI_f01.png`, png16);
    put(at('pola'), `Polarimetric/${s}_R1_B_S0_f01.png`, png16);
  }
  put(at('pola'), 'Thermal/S001_R1_B_S0_f01.png', png16);
  put(at('pola'), 'preview.png', png);
  put(at('pola'), 'README.txt', 'not dataset content'); // not an image: nothing to note
  // MCXFace: one split; a probe row names an absolute path that exists
  for (const id of ['1', '2']) for (const ch of ['COLOR', 'INFRARED']) put(at('mcx'), `${ch}/${id}/a.png`, png);
  const csv = (rows: string[]) => `PATH,REFERENCE_ID\n${rows.join('\n')}\n`;
  put(at('mcx'), 'protocols/COLOR-INFRARED-split1/norm/train_world.csv', csv(['COLOR/1/a,1', 'INFRARED/1/a,1']));
  put(at('mcx'), 'protocols/COLOR-INFRARED-split1/dev/for_models.csv', csv(['COLOR/2/a,2']));
  put(at('mcx'), 'protocols/COLOR-INFRARED-split1/dev/for_probes.csv', csv(['INFRARED/2/a,2', `${at('casia')}/s1/NIR/00001/001.bmp,2`]));
  // synthetic layout, hand-written: one probe entry outside the root
  for (const id of ['h0001', 'h0002']) for (const m of ['VIS', 'NIR']) put(at('synth'), `${m}/${id}/000.png`, png);
  put(at('synth'), 'protocols/vis-nir/1/train.txt', 'VIS/h0001/000.png\nNIR/h0001/000.png\n');
  put(at('synth'), 'protocols/vis-nir/1/gallery.txt', 'VIS/h0002/000.png\n');
  put(at('synth'), 'protocols/vis-nir/1/probe.txt', `NIR/h0002/000.png\n${at('pola')}/preview.png\n`);
  put(at('synth'), 'NIR/h0002/001.png', 'truncated: not a PNG');
});

const CASES = [
  ['casia-nir-vis-2.0-view1', 'casia', 'dev'],
  ['tufts-vis-thermal-90-22', 'tufts', '1'],
  ['ssmb-polathermal-vis-thermal-overall-s5-seed2026', 'pola', '1'],
  ['mcxface-vis-nir', 'mcx', 'split1'],
  ['synthetic-vis-nir', 'synth', '1'],
] as const;

describe('dataset roots', () => {
  it('userPath makes a typed path absolute against the working directory; an empty one is an error', () => {
    expect(userPath('data/x', '/home/u')).toBe('/home/u/data/x');
    expect(userPath('../x', '/home/u/w')).toBe('/home/u/x');
    expect(userPath('/abs//y/', '/home/u')).toBe('/abs/y');
    expect(() => userPath('  ')).toThrow('expected a file or folder path, received "  "');
  });

  it.each(CASES)('%s reads a relative root as the folder it names from the working directory', async (protocol, dir, fold) => {
    const abs = at(dir);
    const rel = path.relative(process.cwd(), abs);
    expect(path.isAbsolute(rel)).toBe(false);
    const a = readFold(protocol, abs, fold);
    const r = readFold(protocol, rel, fold);
    expect(r.fold).toEqual(a.fold);
    const samples = [...r.fold.train, ...r.fold.gallery, ...r.fold.probe];
    expect(samples.length).toBeGreaterThan(0);
    for (const s of samples) expect(s.path.startsWith(abs + path.sep), s.path).toBe(true);
    expect((await checkProtocol(protocol, rel, { folds: [fold] })).root).toBe(abs); // the report names the folder read
  });

  it('every top-level folder (or image) a tree reader does not read is named in a note', () => {
    const tufts = readFold('tufts-vis-thermal-90-22', at('tufts'), '1').notes;
    expect(tufts).toContain('TD_IR_Cropped: not a Tufts sensor folder (TD_<sensor>[_Set<N>], e.g. TD_IR_E_Set2); not read');
    expect(tufts).toContain('TD_3D_Set1: sensor 3D is not read (not a 2-D face modality)');
    expect(tufts.filter((n) => n.startsWith('TD_IR_Cropped'))).toHaveLength(1); // the reader's own note, not a second one
    const pola = readFold('ssmb-polathermal-vis-thermal-overall-s5-seed2026', at('pola'), '1').notes;
    expect(pola).toContain("Thermal/: not read (reader 'polathermal' takes no image from this folder)");
    expect(pola).toContain("preview.png: not read (reader 'polathermal' takes no image at the top of the root)");
    expect(pola.join('\n')).not.toContain('README.txt');
  });

  it('list entries and list files outside the root are reported as outside it, naming the root, even when the file exists', () => {
    const outside = (root: string) => `outside the dataset root ${root}: entries are read relative to the root, never outside it`;
    const casia = readFold('casia-nir-vis-2.0-view1', at('casia'), 'dev');
    expect(casia.missing).toEqual([{ kind: 'entry', role: 'probe', list: 'protocols/nir_probe_dev.txt', entry: '..\\..\\etc\\passwd', reason: outside(at('casia')) }]);
    expect(casia.fold.gallery.map((s) => s.subject)).toEqual(['00002', '00003']); // D:\NIR-VIS-2.0\s1\... is read from the root, as before
    const mcx = readFold('mcxface-vis-nir', at('mcx'), 'split1');
    expect(mcx.missing.map((m) => [m.entry, m.reason])).toEqual([[`${at('casia')}/s1/NIR/00001/001.bmp`, outside(at('mcx'))]]);
    const synth = readFold('synthetic-vis-nir', at('synth'), '1');
    expect(synth.missing.map((m) => [m.entry, m.reason])).toEqual([[`${at('pola')}/preview.png`, outside(at('synth'))]]);

    registerProtocol(parseSpec({
      name: 'outside-lists', description: 'a spec whose list files lie outside the root', reader: 'synthetic', origin: 'ssmb',
      roles: { train: { modalities: ['VIS'] }, gallery: { modalities: ['VIS'] }, probe: { modalities: ['NIR'] } },
      folds: { kind: 'lists', names: ['1'], lists: { train: ['protocols/vis-nir/<fold>/train.txt'], gallery: ['../synth/protocols/vis-nir/<fold>/gallery.txt'], probe: ['/etc/passwd'] } },
    }, '<code>'));
    const lists = readFold('outside-lists', at('synth'), '1').missing;
    expect(lists.map((m) => [m.role, m.kind, m.entry, m.reason])).toEqual([
      ['gallery', 'list', '../synth/protocols/vis-nir/1/gallery.txt', outside(at('synth'))],
      ['probe', 'list', '/etc/passwd', outside(at('synth'))],
    ]);
    for (const e of ['/etc/passwd', '\\\\server\\share\\x.png', 'C:\\data\\x.bmp', '../x.png', 'a/../../x.png']) expect(escapesRoot(e), e).toBe(true);
    for (const e of ['a/b.png', 'a/../b.png', './a/b.png', 's1\\NIR\\00001\\001.bmp']) expect(escapesRoot(e), e).toBe(false);
  });

  it('the deep check says how many images decoded, not "all", when one did not', async () => {
    fs.appendFileSync(path.join(at('synth'), 'protocols/vis-nir/1/probe.txt'), 'NIR/h0002/001.png\n');
    const r = await checkProtocol('synthetic-vis-nir', at('synth'), { folds: ['1'], deep: true });
    const last = formatCheckReport(r).split('\n').at(-1)!;
    expect(last).toMatch(/^FAILED: 1 missing, 1 unreadable; deep check: 4 of 5 images decoded in (under 1 s|\d+ s)$/);
  });
});
