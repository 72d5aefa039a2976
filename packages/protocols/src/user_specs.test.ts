// User protocols in SSMB_PROTOCOLS_DIR: a spec names its own reader module, carries its split definition,
// finds its split file beside it; broken specs are reported and never take the others down.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkProtocol, formatCheckReport } from './check.ts';
import {
  getProtocol, listInvalidProtocols, listProtocols, loadFold, protocolFolds, protocolSource, readFold, reloadProtocols, staleSplitReason,
} from './registry.ts';
import { writeProtocolSplit } from './spec_splits.ts';
import { put, tempRoot, tinyImages } from './testing/fake_tree.ts';

const specs = tempRoot('user-specs');
const data = tempRoot('user-data');
const previous = process.env.SSMB_PROTOCOLS_DIR;
afterAll(() => {
  if (previous === undefined) delete process.env.SSMB_PROTOCOLS_DIR;
  else process.env.SSMB_PROTOCOLS_DIR = previous;
  reloadProtocols();
  for (const d of [specs, data]) fs.rmSync(d, { recursive: true, force: true });
});

const NAME = 'ssmb-camx-vis-swir-s3-seed7';
const SPLIT = 'ssmb-camx-6-4-s3-seed7';

// A reader written as a user writes one: plain JavaScript, no import from this repository.
const READER = `import path from 'node:path';
export default {
  name: 'camx',
  description: 'CamX: <subject>/{vis,swir}/*.png',
  scan(root, files) {
    const samples = [];
    for (const { name, subject } of files.subjectFolders([])) {
      for (const [folder, modality] of [['vis', 'VIS'], ['swir', 'SWIR']]) {
        for (const f of files.images([name, folder])) samples.push({ path: path.join(root, name, folder, f), subject, modality });
      }
    }
    return { samples };
  },
};
`;

const spec = (extra = '') => `name: ${NAME}
description: CamX VIS-SWIR, our split
reader: ./readers/camx.mjs
origin: ssmb
roles:
  train: { modalities: [VIS, SWIR] }
  gallery: { modalities: [VIS], perSubject: 1 }
  probe: { modalities: [SWIR] }
folds:
  kind: subjects
  split: ${SPLIT}
  definition: { seed: 7, subjects: { from: 1, to: 10 }, folds: 3, train: 6${extra} }
`;

const head = 'description: x\norigin: ssmb\nroles: {train: {modalities: [VIS]}, gallery: {modalities: [VIS]}, probe: {modalities: [NIR]}}\nfolds: {kind: fixed-test, name: "1", test: [1]}\n';

beforeAll(async () => {
  const { png } = await tinyImages();
  for (let id = 1; id <= 10; id++) {
    const dir = String(id).padStart(3, '0'); // 001..010: zero-padded, each once
    for (const n of [1, 2]) put(data, `${dir}/vis/${n}.png`, png);
    if (id !== 4) for (const n of [1, 2, 3]) put(data, `${dir}/swir/${n}.png`, png); // subject 4 lacks SWIR
  }
  put(data, '002/vis/._1.png', 'AppleDouble');
  put(specs, 'readers/camx.mjs', READER);
  put(specs, `${NAME}.yaml`, spec());
  // what users get wrong, one file each: none of it may stop the others from loading
  put(specs, 'broken-yaml.yaml', 'name: broken-yaml\nroles: [unclosed\n');
  put(specs, 'unknown-key.yaml', `name: unknown-key\nreader: tufts-face\nflavour: 1\n${head}`);
  put(specs, 'unknown-reader.yaml', `name: unknown-reader\nreader: nosuch\n${head}`);
  put(specs, 'no-module.yaml', `name: no-module\nreader: ./readers/absent.mjs\n${head}`);
  put(specs, 'tufts-vis-thermal-90-22.yaml', `name: tufts-vis-thermal-90-22\nreader: tufts-face\n${head}`);
  put(specs, '._notes.yaml', 'AppleDouble');
  process.env.SSMB_PROTOCOLS_DIR = [specs, path.join(specs, 'absent-dir')].join(path.delimiter); // a typo in the path list too
  reloadProtocols();
});

describe('user protocols (SSMB_PROTOCOLS_DIR)', () => {
  it('malformed user specs are listed as invalid with the reason; built-ins and the good spec still load', async () => {
    const bad = Object.fromEntries(listInvalidProtocols().map((i) => [i.name, i.reason]));
    expect(Object.keys(bad).sort()).toEqual(['absent-dir', 'broken-yaml', 'no-module', 'tufts-vis-thermal-90-22', 'unknown-key', 'unknown-reader']);
    expect(bad['absent-dir']).toBe(`protocol directory ${path.join(specs, 'absent-dir')} cannot be read (ENOENT); check SSMB_PROTOCOLS_DIR`);
    expect(bad['broken-yaml']).toMatch(/^is not valid YAML: /);
    expect(bad['unknown-key']).toContain('flavour');
    expect(bad['unknown-reader']).toMatch(/unknown dataset reader 'nosuch'; known readers: casia-nir-vis-2.0, /);
    expect(bad['no-module']).toBe(`reader module ./readers/absent.mjs not found: expected the file ${path.join(specs, 'readers/absent.mjs')} (relative to the spec)`);
    expect(bad['tufts-vis-thermal-90-22']).toMatch(/defined twice: .*packages\/protocols\/specs\/tufts-vis-thermal-90-22\.yaml and /);
    const names = listProtocols().map((p) => p.name);
    expect(names).toContain(NAME);
    expect(names).toContain('synthetic-vis-nir');
    expect(protocolSource('tufts-vis-thermal-90-22')).toMatch(/packages\/protocols\/specs\//); // the built-in kept its name
    expect(() => getProtocol('unknown-key')).toThrow(`protocol spec ${path.join(specs, 'unknown-key.yaml')} is invalid: `);
  });

  it('before `protocols splits`, the missing split file names where it was looked for and the command that writes it', () => {
    expect(() => protocolFolds(getProtocol(NAME))).toThrow(
      `split file ${SPLIT}.json not found in ${specs} or ${path.resolve(import.meta.dirname, '..', 'splits')}: run \`ssmb protocols splits ${path.join(specs, `${NAME}.yaml`)}\``,
    );
  });

  it('writes the split file next to the spec from its definition; that file is found there and never parsed as a spec', async () => {
    const w = writeProtocolSplit(path.join(specs, `${NAME}.yaml`));
    expect(w.status).toBe('written');
    expect(w.file).toBe(path.join(specs, `${SPLIT}.json`));
    expect(w.split.folds.map((f) => [f.train.length, f.test.length])).toEqual([[6, 4], [6, 4], [6, 4]]);
    expect(w.split.generator).toBe('ssmb protocols splits');
    expect(writeProtocolSplit(NAME).status).toBe('unchanged'); // by protocol name too
    reloadProtocols();
    expect(listInvalidProtocols().map((i) => i.source)).not.toContain(w.file);
    expect(protocolFolds(getProtocol(NAME))).toEqual(['1', '2', '3']);

    // the module reader, the split beside the spec, gaps worded like every reader's, system files ignored
    const r = await checkProtocol(NAME, data);
    expect(r.ok).toBe(true);
    const test = w.split.folds[0].test;
    expect(r.folds[0].subjects).toEqual({ train: 6, gallery: 4, probe: test.includes('4') ? 3 : 4 });
    expect(r.folds[0].counts.gallery).toEqual({ VIS: 4 });
    expect(r.folds[0].notes).toContain('SWIR: no images for subject 4');
    expect(r.folds[0].notes).toContain('ignored 1 system file (._*, .DS_Store, __MACOSX, Thumbs.db, desktop.ini)');
    const fold = await loadFold(NAME, data, '2');
    expect(fold.probe.every((s) => s.modality === 'SWIR' && w.split.folds[1].test.includes(s.subject))).toBe(true);
  });

  it('a changed definition does not overwrite a split silently; a name that contradicts the definition is refused', () => {
    const file = path.join(specs, `${NAME}.yaml`);
    const original = fs.readFileSync(file, 'utf8');
    fs.writeFileSync(file, original.replace('seed: 7,', 'seed: 8,'));
    expect(() => writeProtocolSplit(file)).toThrow(`split ${SPLIT}: its name says seed 7 but the definition gives seed 8; rename the split or fix the definition`);
    fs.writeFileSync(file, original.replace(SPLIT, 'camx-split'));
    expect(writeProtocolSplit(file).status).toBe('written');
    fs.writeFileSync(file, original.replace(SPLIT, 'camx-split').replace('train: 6', 'train: 5'));
    expect(() => writeProtocolSplit(file)).toThrow(`${path.join(specs, 'camx-split.json')} exists and differs from what the definition in ${file} gives; pass --force`);
    expect(writeProtocolSplit(file, { force: true }).status).toBe('replaced');
    fs.rmSync(path.join(specs, 'camx-split.json'));
    fs.writeFileSync(file, original);
  });

  it('a split file written before the definition changed: check warns, a run refuses, `protocols splits --force` clears it', async () => {
    const file = path.join(specs, `${NAME}.yaml`);
    const splitFile = path.join(specs, `${SPLIT}.json`);
    const original = fs.readFileSync(file, 'utf8');
    const written = fs.readFileSync(splitFile, 'utf8');
    // the same ten subjects in another order: the split's name still fits, its folds do not
    fs.writeFileSync(file, original.replace('subjects: { from: 1, to: 10 }', 'subjects: [10, 9, 8, 7, 6, 5, 4, 3, 2, 1]'));
    reloadProtocols();
    const r = await checkProtocol(NAME, data, { folds: ['1'] });
    expect(r.ok).toBe(true);
    expect(r.staleSplit).toMatch(new RegExp(`^split file ${splitFile} is stale: it was written from split definition sha256:[0-9a-f]{16}, but ${file} now defines sha256:[0-9a-f]{16} \\(seed 7, 10 subjects, 3 folds of 6 train\\); rewrite it with \`ssmb protocols splits ${file} --force\``));
    expect(formatCheckReport(r).split('\n')[1]).toBe(`WARNING ${r.staleSplit}; a run refuses this split until then`);
    expect(formatCheckReport(r).split('\n').at(-1)).toMatch(/^OK: every listed file is present and readable \(a stale split file above\); /);
    await expect(loadFold(NAME, data, '1')).rejects.toThrow(`protocol ${NAME}: ${r.staleSplit}`);
    expect(writeProtocolSplit(file, { force: true }).status).toBe('replaced');
    expect((await checkProtocol(NAME, data, { folds: ['1'] })).staleSplit).toBeNull();
    await loadFold(NAME, data, '1');
    // a file written before hashes were recorded (no "definition" line) is stale only if its folds differ
    fs.writeFileSync(file, original);
    fs.writeFileSync(splitFile, written.replace(/^ "definition": .*\n/m, ''));
    reloadProtocols();
    expect(fs.readFileSync(splitFile, 'utf8')).not.toContain('definition');
    expect(staleSplitReason(getProtocol(NAME))).toBeNull();
    fs.writeFileSync(file, original.replace('subjects: { from: 1, to: 10 }', 'subjects: [10, 9, 8, 7, 6, 5, 4, 3, 2, 1]'));
    reloadProtocols();
    expect(staleSplitReason(getProtocol(NAME))).toMatch(/is stale: it was written from another split definition, but /);
    fs.writeFileSync(file, original);
    fs.writeFileSync(splitFile, written);
    reloadProtocols();
  });

  it('a module reader: a relative root reads the same absolute files; a folder it takes nothing from is noted', async () => {
    const { png } = await tinyImages();
    put(data, 'previews/1.png', png);
    const rel = path.relative(process.cwd(), data);
    const a = await loadFold(NAME, data, '1');
    const r = await loadFold(NAME, rel, '1');
    expect(r.probe).toEqual(a.probe);
    expect(r.probe.every((s) => s.path.startsWith(data + path.sep))).toBe(true);
    expect(r.notes).toContain("previews/: not read (reader 'camx' takes no image from this folder)");
    fs.rmSync(path.join(data, 'previews'), { recursive: true });
  });

  it('a reader module that returns bad samples is named, with the field and what was expected', async () => {
    put(specs, 'readers/bad.mjs', "export default { name: 'bad', description: 'x', scan(root) { return { samples: [{ path: 'rel/1.png', subject: '1', modality: 'VIS' }] }; } };\n");
    put(specs, 'bad-reader.yaml', `name: bad-reader\nreader: ./readers/bad.mjs\n${head}`);
    put(specs, 'readers/empty.mjs', 'export const x = 1;\n');
    put(specs, 'empty-reader.yaml', `name: empty-reader\nreader: ./readers/empty.mjs\n${head}`);
    reloadProtocols();
    await expect(loadFold('bad-reader', data, '1')).rejects.toThrow(`reader 'bad' (scan of ${data}): sample 0 has path "rel/1.png"; expected an absolute file path`);
    await expect(checkProtocol('empty-reader', data)).rejects.toThrow(`reader module ${path.join(specs, 'readers/empty.mjs')} exports no reader: expected its default export to be a reader`);
    expect(() => readFold(getProtocol('empty-reader'), data, '1')).toThrow(/not loaded yet: await loadProtocolReader\('empty-reader'\) first/);
    for (const f of ['bad-reader.yaml', 'empty-reader.yaml', 'readers/bad.mjs', 'readers/empty.mjs']) fs.rmSync(path.join(specs, f));
    reloadProtocols();
  });

  it('zero-padded duplicate subject folders through the resolver (a user reader) are an error naming both', async () => {
    const { png } = await tinyImages();
    put(data, '10/vis/1.png', png); // beside 010/
    await expect(loadFold(NAME, data, '1')).rejects.toThrow(`subject folders 010 and 10 (under ${data}) are the same subject 10`);
    fs.rmSync(path.join(data, '10'), { recursive: true });
  });
});
