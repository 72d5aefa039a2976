import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkProtocol, formatCheckReport } from '../check.ts';
import { readFold } from '../registry.ts';
import { loadEyeFiles } from './reader.ts';
import { put, tempRoot, tinyImages } from '../testing/fake_tree.ts';

const root = tempRoot('casia');
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

// 6 subjects over two sessions; VIS are JPEG, NIR are BMP, one upper-case folder and extension.
beforeAll(async () => {
  const img = await tinyImages();
  for (let id = 1; id <= 6; id++) {
    const s = id <= 3 ? 's1' : 's2';
    const sid = String(id).padStart(5, '0');
    for (let n = 1; n <= 2; n++) {
      put(root, `${s}/VIS/${sid}/00${n}.${id === 4 ? 'JPG' : 'jpg'}`, img.jpg);
      put(root, `${s}/NIR/${sid}/00${n}.bmp`, img.bmp);
      put(root, `${s}/NIR/${sid}/00${n + 2}.bmp`, img.bmp);
    }
  }
  // per-session eye file: Windows paths, CRLF
  put(root, 's1/NIR_eyes.txt', 's1\\NIR\\00001\\001.bmp 30 40 60 41\r\ns1\\NIR\\00001\\002.bmp 31 40 61 40\r\n');
  const crlf = (lines: string[]) => lines.join('\r\n') + '\r\n';
  for (const fold of ['dev', '1']) {
    const train = fold === 'dev' ? [1, 2] : [1, 2, 3];
    const test = fold === 'dev' ? [3, 4, 5, 6] : [4, 5, 6];
    const sess = (id: number) => (id <= 3 ? 's1' : 's2');
    const p = (id: number, mod: string, n: number, ext: string) => `${sess(id)}\\${mod}\\${String(id).padStart(5, '0')}\\00${n}.${ext}`;
    // lists say .bmp for VIS images that are .jpg on disk, and .JPG for BMPs: extension is not reliable
    put(root, `protocols/vis_train_${fold}.txt`, crlf(train.flatMap((id) => [p(id, 'VIS', 1, 'bmp'), p(id, 'VIS', 2, 'jpg')])));
    put(root, `protocols/nir_train_${fold}.txt`, crlf(train.flatMap((id) => [1, 2, 3, 4].map((n) => p(id, 'NIR', n, 'JPG')))));
    // gallery entries carry the distribution's parent folder in front of the session
    put(root, `protocols/vis_gallery_${fold}.txt`, crlf(test.map((id) => `NIR-VIS-2.0\\${p(id, 'VIS', 1, 'jpg')}`)));
    put(root, `protocols/nir_probe_${fold}.txt`, crlf([...test.flatMap((id) => [1, 2, 3].map((n) => p(id, 'NIR', n, 'bmp'))), 's2\\NIR\\00099\\001.bmp']));
  }
});

describe('CASIA NIR-VIS 2.0 reader', () => {
  it('reads View 1 with exact counts, subjects from folder names, and eyes from the eye file', () => {
    const { fold, missing } = readFold('casia-nir-vis-2.0-view1', root, 'dev');
    expect(fold.train.filter((s) => s.modality === 'VIS')).toHaveLength(4);
    expect(fold.train.filter((s) => s.modality === 'NIR')).toHaveLength(8);
    expect(fold.gallery).toHaveLength(4);
    expect(fold.probe).toHaveLength(12);
    expect(new Set(fold.gallery.map((s) => s.subject))).toEqual(new Set(['00003', '00004', '00005', '00006']));
    expect(fold.gallery.find((s) => s.subject === '00004')!.path).toBe(path.join(root, 's2/VIS/00004/001.JPG'));
    expect(missing).toEqual([expect.objectContaining({ role: 'probe', entry: 's2\\NIR\\00099\\001.bmp' })]);
    const withEyes = fold.train.find((s) => s.path.endsWith(path.join('00001', '001.bmp')))!;
    expect(withEyes.eyes).toEqual([[30, 40], [60, 41]]);
  });

  it('reads View 2 fold 1 and `check` reports counts, missing lists and the missing entry', async () => {
    const r = await checkProtocol('casia-nir-vis-2.0-view2', root, { folds: ['1', '2'] });
    const [f1, f2] = r.folds;
    expect(f1.counts).toEqual({ train: { VIS: 6, NIR: 12 }, gallery: { VIS: 3 }, probe: { NIR: 9 } });
    expect(f1.subjects).toEqual({ train: 3, gallery: 3, probe: 3 });
    expect(f1.missing.map((m) => m.entry)).toEqual(['s2\\NIR\\00099\\001.bmp']);
    expect(f2.missing.map((m) => m.entry)).toContain('protocols/vis_gallery_2.txt');
    expect(r.ok).toBe(false);
  });

  it('a 16-bit PNG where the spec declares 8-bit is a counted warning per protocol; list gaps are noted like every reader', async () => {
    const { png16 } = await tinyImages();
    // the lists name .bmp/.JPG; the stem is found as a 16-bit PNG (a sensor export dropped into the tree)
    fs.rmSync(path.join(root, 's1/NIR/00002/003.bmp'));
    put(root, 's1/NIR/00002/003.png', png16);
    const r = await checkProtocol('casia-nir-vis-2.0-view2', root, { folds: ['1'] });
    const f = r.folds[0];
    expect(f.bitDepthMismatch).toEqual([{ modality: 'NIR', declared: 8, found: 16, count: 1, examples: [path.join(root, 's1/NIR/00002/003.png')] }]);
    expect(r.warnings).toBe(1);
    expect(formatCheckReport(r)).toContain(
      `WARNING 1 NIR image is 16-bit where the spec declares bitDepth 8 (each is stretched from its own min..max to 0..255; set bitDepth in the spec if this is the data's real depth), e.g. ${path.join(root, 's1/NIR/00002/003.png')}`,
    );
    // the AppleDouble twin of an eye file (._NIR_eyes.txt) is not an eye file
    const eyesDir = path.join(root, 'eyes-only');
    put(eyesDir, 'NIR_eyes.txt', 's1\\NIR\\00001\\001.bmp 30 40 60 41\n');
    put(eyesDir, '._VIS_eyes.txt', 's1\\VIS\\00001\\001.bmp 1 2 3 4\n');
    expect([...loadEyeFiles([eyesDir]).keys()]).toEqual(['nir/00001/001']);
    fs.rmSync(path.join(root, 's1/NIR/00002/003.png'));
    put(root, 's1/NIR/00002/003.bmp', (await tinyImages()).bmp);
    // a training subject listed with VIS images but no NIR image
    const lists = path.join(root, 'protocols');
    const nirTrain = fs.readFileSync(path.join(lists, 'nir_train_1.txt'), 'utf8');
    fs.writeFileSync(path.join(lists, 'nir_train_1.txt'), nirTrain.split('\r\n').filter((l) => !l.includes('00002')).join('\r\n'));
    expect(readFold('casia-nir-vis-2.0-view2', root, '1').notes).toContain('NIR: no images for subject 00002');
    fs.writeFileSync(path.join(lists, 'nir_train_1.txt'), nirTrain);
  });

  it('reports an unreadable image by name', async () => {
    put(root, 's1/NIR/00001/004.bmp', 'garbage');
    const r = await checkProtocol('casia-nir-vis-2.0-view2', root, { folds: ['1'] });
    expect(r.folds[0].unreadable).toEqual([{ path: path.join(root, 's1/NIR/00001/004.bmp'), reason: 'not a BMP, JPEG or PNG file' }]);
  });

  it('--deep decodes every image and catches a truncated JPEG whose header looks fine', async () => {
    const file = path.join(root, 's1/VIS/00002/002.jpg');
    const jpg = fs.readFileSync(file);
    fs.writeFileSync(file, jpg.subarray(0, jpg.length >> 1));
    fs.rmSync(path.join(root, 's1/NIR/00001/004.bmp')); // the garbage file of the test above
    const shallow = await checkProtocol('casia-nir-vis-2.0-view2', root, { folds: ['1'] });
    expect(shallow.folds[0].unreadable.map((u) => u.path)).not.toContain(file);
    // the shallow OK line says what it did not do, and what doing it costs: decode time x image count
    expect(shallow.images).toBe(6 + 12 + 3 + 9 - 1); // the listed 4th NIR image of subject 1 is gone
    expect(shallow.deepSampled).toBe(8);
    expect(shallow.deepSeconds).toBeGreaterThan(0);
    expect(formatCheckReport({ ...shallow, ok: true, deepSeconds: 42 })).toMatch(
      /^OK: every listed file is present and readable; headers only: run again with --deep to decode all 29 images and catch truncated or corrupt files \(about 42 s on this machine, from 8 timed decodes\)$/m,
    );
    const deep = await checkProtocol('casia-nir-vis-2.0-view2', root, { folds: ['1'], deep: true });
    const hit = deep.folds[0].unreadable.find((u) => u.path === file)!;
    expect(hit.reason).toContain(`cannot decode image ${file}`);
    expect(formatCheckReport(deep)).toMatch(/^FAILED: \d+ missing, 1 unreadable; deep check: 28 of 29 images decoded in (under 1 s|\d+ s)$/m);
  });
});
