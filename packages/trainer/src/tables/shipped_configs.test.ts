// Every table config shipped in tables/ must load, name registered protocols and models, and expand
// into run configs the trainer accepts.
import { describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { backboneInfo, hasBackbone } from '@ssmb/core';
import { getProtocol, protocolFolds } from '@ssmb/protocols';
import { loadTableConfig } from './load.ts';
import { expandGrid } from '../reproduce/grid.ts';
import { resolveConfig } from '../config.ts';

const TABLES = path.resolve(import.meta.dirname, '../../../../tables');
const files = readdirSync(TABLES).filter((f) => f.endsWith('.yaml')).sort();

describe('shipped table configs', () => {
  it('ships the main, ablation and synthetic tables', () => {
    expect(files).toEqual(expect.arrayContaining([
      'synthetic.yaml', 'main-casia.yaml', 'main-polathermal.yaml', 'main-tufts.yaml', 'main-mcxface.yaml',
      'ablation-experts.yaml', 'ablation-positions.yaml',
      'main-casia-dlib.yaml', 'main-casia-faceres.yaml', 'main-tufts-dlib.yaml', 'main-tufts-faceres.yaml',
    ]));
  });

  it.each(files)('%s loads and expands into valid run configs', (file) => {
    const { config } = loadTableConfig(path.join(TABLES, file));
    const foldsOf = (p: string) => protocolFolds(getProtocol(p));
    const roots = Object.fromEntries(Object.keys(config.datasets).map((d) => [d, `/data/${d}`]));
    const grid = expandGrid(config, { roots, weights: '/w.safetensors', foldsOf });
    expect(grid.length).toBeGreaterThan(0);
    const identities = new Set<string>();
    for (const e of grid) {
      const cfg = resolveConfig({ base: e.overrides }); // throws on unknown keys / bad values
      expect(cfg.dataset.protocol).toBe(e.protocol);
      expect(hasBackbone(cfg.backbone.model), cfg.backbone.model).toBe(true); // a registered backbone
      const taps = backboneInfo(cfg.backbone.model).taps.map((t) => t.name);
      for (const p of cfg.ssmb.positions) expect(taps).toContain(p);
      identities.add(JSON.stringify(cfg));
    }
    expect(identities.size).toBe(grid.length); // every cell x fold is a distinct run
  });

  it('the real pre-trained backbones run on the real datasets: dlib / faceres on CASIA (eye files) and Tufts (faces detected)', () => {
    const foldsOf = (p: string) => protocolFolds(getProtocol(p));
    for (const [file, model, detect] of [
      ['main-casia-dlib.yaml', 'dlib-resnet29', undefined], ['main-casia-faceres.yaml', 'faceres-mobilenet', undefined],
      ['main-tufts-dlib.yaml', 'dlib-resnet29', true], ['main-tufts-faceres.yaml', 'faceres-mobilenet', true],
    ] as const) {
      const { config } = loadTableConfig(path.join(TABLES, file));
      expect(config.weights).toBe(`data/weights/${model}.safetensors`); // what import-weights --family writes
      const grid = expandGrid(config, { roots: { casia: '/c', tufts: '/t' }, weights: '/w/imported.safetensors', foldsOf });
      for (const e of grid) {
        const cfg = resolveConfig({ base: e.overrides });
        expect(cfg.backbone.model).toBe(model);
        expect(cfg.dataset.detectFaces).toBe(detect);
        expect(cfg.backbone.weights, file).toBe('/w/imported.safetensors');
      }
    }
  });

  it('main CASIA table covers View 2 folds 1-10 and Polathermal 5 splits', () => {
    const foldsOf = (p: string) => protocolFolds(getProtocol(p));
    const casia = loadTableConfig(path.join(TABLES, 'main-casia.yaml')).config;
    expect(foldsOf(casia.columns[0].protocol)).toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '9', '10']);
    const pola = loadTableConfig(path.join(TABLES, 'main-polathermal.yaml')).config;
    for (const c of pola.columns) expect(foldsOf(c.protocol)).toHaveLength(5);
  });
});
