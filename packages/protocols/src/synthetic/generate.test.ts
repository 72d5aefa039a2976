import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkProtocol } from '../check.ts';
import { decodeImage } from '../image/decode.ts';
import { loadAlignedBatch } from '../image/load.ts';
import { readFold } from '../registry.ts';
import { tempRoot } from '../testing/fake_tree.ts';
import { generateSyntheticDataset, type SyntheticResult } from './generate.ts';

const base = tempRoot('synthetic');
afterAll(() => fs.rmSync(base, { recursive: true, force: true }));
const small = { identities: 8, imagesPerIdentity: 3, pretrainIdentities: 5, pretrainImagesPerIdentity: 2, size: 32 };
const root = path.join(base, 'a');
let first: SyntheticResult;

beforeAll(async () => {
  first = await generateSyntheticDataset(root, small);
});

describe('generateSyntheticDataset', () => {
  it('writes the native-like tree with exact per-fold counts for every synthetic protocol', async () => {
    expect(first.cached).toBe(false);
    expect(first.manifest.counts).toEqual({ images: 8 * 3 * 4 + 10, hfrImages: 96, pretrainImages: 10 });
    // 8 identities -> 4 train / 4 test per fold
    const probes: Record<string, number> = { vis: 4 * 2, nir: 12, thermal: 12, sketch: 12, universal: 36 };
    const trains: Record<string, number> = { vis: 12, nir: 24, thermal: 24, sketch: 24, universal: 48 };
    for (const [task, nProbe] of Object.entries(probes)) {
      const r = await checkProtocol(`synthetic-vis-${task}`, root);
      expect(r.ok).toBe(true);
      expect(r.folds.map((f) => f.fold)).toEqual(['1', '2', '3']);
      for (const f of r.folds) {
        expect(f.counts.gallery).toEqual({ VIS: 4 });
        expect(Object.values(f.counts.probe).reduce((a, b) => a + b, 0)).toBe(nProbe);
        expect(Object.values(f.counts.train).reduce((a, b) => a + b, 0)).toBe(trains[task]);
        expect(f.subjects).toEqual({ train: 4, gallery: 4, probe: 4 });
      }
    }
    const uni = readFold('synthetic-vis-universal', root, '2').fold;
    expect(new Set(uni.probe.map((s) => s.modality))).toEqual(new Set(['NIR', 'THERMAL', 'SKETCH']));
    const trainIds = new Set(uni.train.map((s) => s.subject));
    expect(uni.probe.some((s) => trainIds.has(s.subject))).toBe(false);
    const folds = ['1', '2', '3'].map((k) => readFold('synthetic-vis-nir', root, k).fold.gallery.map((s) => s.subject).join());
    expect(new Set(folds).size).toBeGreaterThan(1); // seeded identity splits differ between folds
    const pre = readFold('synthetic-pretrain-vis', root, 'all').fold;
    expect(pre.train).toHaveLength(10);
    expect(pre.train.every((s) => s.subject.startsWith('p'))).toBe(true); // disjoint from HFR ids (h....)
    expect(pre.gallery).toHaveLength(8);
    expect(pre.probe).toHaveLength(16);
  });

  it('is deterministic from the seed, and a second run with the same options is a no-op', async () => {
    const rel = 'THERMAL/h0003/001.png';
    const again = await generateSyntheticDataset({ root, ...small }); // contract form
    expect(again.cached).toBe(true);
    const other = await generateSyntheticDataset(path.join(base, 'b'), small);
    expect(fs.readFileSync(path.join(base, 'b', rel)).equals(fs.readFileSync(path.join(root, rel)))).toBe(true);
    const reseeded = await generateSyntheticDataset(path.join(base, 'b'), { ...small, seed: 7 });
    expect(reseeded.cached).toBe(false);
    expect(fs.readFileSync(path.join(base, 'b', rel)).equals(fs.readFileSync(path.join(root, rel)))).toBe(false);
    expect(other.imagesPerSecond).toBeGreaterThan(0);
  });

  it('refuses a non-empty directory it did not write, and unknown options', async () => {
    const foreign = path.join(base, 'foreign');
    fs.mkdirSync(foreign);
    fs.writeFileSync(path.join(foreign, 'thesis.tex'), 'precious');
    await expect(generateSyntheticDataset(foreign, small)).rejects.toThrow(/not empty and holds no synthetic manifest/);
    expect(fs.readFileSync(path.join(foreign, 'thesis.tex'), 'utf8')).toBe('precious');
    // an interrupted generation (marker, no manifest) is ours: it is cleaned and regenerated
    const interrupted = path.join(base, 'interrupted');
    fs.mkdirSync(path.join(interrupted, 'VIS', 'h0001'), { recursive: true });
    fs.writeFileSync(path.join(interrupted, '.partial'), '');
    const redo = await generateSyntheticDataset(interrupted, { ...small, pretrainIdentities: 0 });
    expect(redo.manifest.counts.images).toBe(96);
    expect(fs.existsSync(path.join(interrupted, '.partial'))).toBe(false);
    await expect(generateSyntheticDataset(path.join(base, 'c'), { ...small, colour: 1 } as never)).rejects.toThrow(/unknown synthetic option 'colour'/);
    await expect(generateSyntheticDataset(path.join(base, 'c'), { ...small, severity: { NIR: 2 } })).rejects.toThrow(/severity.NIR must be in \[0, 1\]/);
  });

  it('images decode, eyes are recorded, and alignment uses them (no fallbacks)', async () => {
    const f = readFold('synthetic-vis-universal', root, '1').fold;
    const vis = await decodeImage(f.gallery[0].path);
    const th = await decodeImage(f.probe.find((s) => s.modality === 'THERMAL')!.path);
    expect([vis.width, vis.channels, th.channels]).toEqual([32, 3, 1]);
    const { stats, data } = await loadAlignedBatch([...f.gallery, ...f.probe], 32);
    expect(stats.fallback).toBe(0);
    expect(stats.eyes).toBe(f.gallery.length + f.probe.length);
    expect(data.every(Number.isFinite)).toBe(true);
  });

  it('modalities differ as documented: thermal face warmer than background, sketch mostly white paper', async () => {
    const f = readFold('synthetic-vis-universal', root, '1').fold;
    for (const s of f.probe.filter((p) => p.modality === 'THERMAL').slice(0, 4)) {
      const img = await decodeImage(s.path);
      const centre = img.data[16 * 32 + 16];
      const corner = img.data[1 * 32 + 1];
      expect(centre - corner).toBeGreaterThan(60);
    }
    for (const s of f.probe.filter((p) => p.modality === 'SKETCH').slice(0, 4)) {
      const img = await decodeImage(s.path);
      const mean = img.data.reduce((a, b) => a + b, 0) / img.data.length;
      expect(mean).toBeGreaterThan(150);
    }
  });
});
