// Every table config shipped in tables/ must load, name registered protocols and models, and expand
// into run configs the trainer accepts.
import { describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { backboneInfo, hasBackbone, listExpertKinds } from '@ssmb/core';
import { getProtocol, protocolFolds } from '@ssmb/protocols';
import { loadTableConfig } from './load.ts';
import { cellsOf, expandGrid } from '../reproduce/grid.ts';
import { matchRow } from './match.ts';
import { evalProtocolProblems } from '../eval/eval_protocols.ts';
import { resolveConfig } from '../config.ts';
import { runIdentity } from '../reproduce/resume.ts';

const TABLES = path.resolve(import.meta.dirname, '../../../../tables');
const files = readdirSync(TABLES).filter((f) => f.endsWith('.yaml')).sort();

describe('shipped table configs', () => {
  it('ships the main, ablation and synthetic tables', () => {
    expect(files).toEqual(expect.arrayContaining([
      'synthetic.yaml', 'main-casia.yaml', 'main-polathermal.yaml', 'main-tufts.yaml', 'main-mcxface.yaml',
      'ablation-experts.yaml', 'ablation-positions.yaml',
      'main-casia-dlib.yaml', 'main-casia-faceres.yaml', 'main-tufts-dlib.yaml', 'main-tufts-faceres.yaml',
      'ablation-expert-kind.yaml', 'ablation-expert-kind-casia.yaml', 'ablation-expert-kind-mcxface.yaml', 'comparison.yaml',
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
      // each run is found again in each cell it fills (and only as its own row), and a label-aware method
      // has a label for every image it is evaluated on
      for (const cell of cellsOf(e)) expect(matchRow(config, cell.column, cfg), `${e.label} in ${cell.column}`).toBe(e.row);
      expect(evalProtocolProblems(cfg), e.label).toEqual([]);
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

  it.each(['ablation-expert-kind.yaml', 'ablation-expert-kind-casia.yaml', 'ablation-expert-kind-mcxface.yaml'])(
    '%s: every registered expert kind x N = 1, 2, 4, beside the frozen baseline', (file) => {
      const { config } = loadTableConfig(path.join(TABLES, file));
      const foldsOf = (p: string) => protocolFolds(getProtocol(p));
      const grid = expandGrid(config, { roots: Object.fromEntries(Object.keys(config.datasets).map((d) => [d, `/data/${d}`])), weights: '/w.safetensors', foldsOf });
      const cells = new Set<string>();
      for (const e of grid) {
        const cfg = resolveConfig({ base: e.overrides });
        cells.add(cfg.method === 'baseline' ? 'baseline' : `${cfg.ssmb.expertKind} N=${cfg.ssmb.numExperts}`);
        if (cfg.method === 'ssmb') expect(cfg.ssmb).toMatchObject({ routing: 'top1', routerInput: 'style', routerJitter: 0 });
      }
      expect([...cells].sort()).toEqual(['baseline', ...listExpertKinds().flatMap((k) => [1, 2, 4].map((n) => `${k} N=${n}`))].sort());
    });

  it('the synthetic expert-kind ablation shares its baseline and style rows with the quickstart table (same runs)', () => {
    const foldsOf = (p: string) => protocolFolds(getProtocol(p));
    const ids = (file: string) => {
      const { config } = loadTableConfig(path.join(TABLES, file));
      const grid = expandGrid(config, { roots: { synthetic: '/s' }, weights: '/w.safetensors', foldsOf });
      return new Set(grid.filter((e) => e.protocol === 'synthetic-vis-universal').map((e) => runIdentity(resolveConfig({ base: e.overrides }))));
    };
    const main = ids('synthetic.yaml'), ablation = ids('ablation-expert-kind.yaml');
    expect([...main].every((k) => ablation.has(k))).toBe(true); // baseline, N = 1, 2, 4 (style) x 3 folds
    expect(main.size).toBe(12);
  });
});
