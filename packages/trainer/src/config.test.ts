import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, defaultConfig, flattenConfig, parseSetOverrides, parseSweepGrid, resolveConfig } from './config.ts';

describe('config', () => {
  it('has typed defaults', () => {
    const c = defaultConfig();
    expect(c.ssmb).toEqual({
      numExperts: 4, hiddenWidth: null, positions: ['stem', 'layer1', 'layer2'], expertKind: 'style', routerInput: 'style', routerJitter: 0, routing: 'top1',
    });
    expect(c.loss).toEqual({ margin: 0, lambdaTs: 1, alpha: 0.01 });
    expect(c.method).toBe('ssmb');
  });

  it('merges files (JSON and YAML) and --set overrides in order', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cfg-'));
    const yml = path.join(dir, 'a.yaml');
    const json = path.join(dir, 'b.json');
    writeFileSync(yml, 'ssmb:\n  numExperts: 2\n  positions: [stem]\noptim:\n  lr: 0.01\n');
    writeFileSync(json, JSON.stringify({ optim: { schedule: 'cosine' }, dataset: { fold: 3 } }));
    const c = resolveConfig({ files: [yml, json], sets: ['optim.lr=5e-4', 'loss.alpha=0', 'backbone.weights=w.safetensors'] });
    expect(c.ssmb.numExperts).toBe(2);
    expect(c.ssmb.positions).toEqual(['stem']);
    expect(c.optim).toMatchObject({ lr: 5e-4, schedule: 'cosine' });
    expect(c.dataset.fold).toBe('3');
    expect(c.loss.alpha).toBe(0);
    expect(c.backbone.weights).toBe('w.safetensors');
  });

  it('rejects unknown keys and wrong types naming the key and the expected type', () => {
    expect(() => resolveConfig({ sets: ['ssmb.numExpert=4'] })).toThrow(/unknown config key `ssmb.numExpert`/);
    expect(() => resolveConfig({ sets: ['bogus=1'] })).toThrow(/unknown config key `bogus`/);
    expect(() => resolveConfig({ sets: ['ssmb.numExperts=four'] })).toThrow(/config key `ssmb.numExperts`: expected number, got "four"/);
    expect(() => resolveConfig({ sets: ['optim.schedule=linear'] })).toThrow(/`optim.schedule`: expected one of "constant", "cosine", "step"/);
    expect(() => resolveConfig({ sets: ['ssmb.numExperts=0'] })).toThrow(/`ssmb.numExperts`/);
    expect(() => parseSetOverrides(['noequals'])).toThrow(ConfigError);
    expect(() => resolveConfig({ files: ['/nonexistent/x.yaml'] })).toThrow(/cannot read config file \/nonexistent\/x.yaml/);
  });

  it('ssmb.expertKind comes from core\'s expert-kind registry; router options name their valid values', () => {
    expect(resolveConfig({ sets: ['ssmb.expertKind=affine', 'ssmb.routing=soft', 'ssmb.routerInput=mean', 'ssmb.routerJitter=0.01'] }).ssmb).toMatchObject({
      expertKind: 'affine', routing: 'soft', routerInput: 'mean', routerJitter: 0.01,
    });
    expect(() => resolveConfig({ sets: ['ssmb.expertKind=conv'] })).toThrow(
      'config key `ssmb.expertKind`: expected one of "style", "style+spatial", "affine", "affine+spatial", got "conv"');
    expect(() => resolveConfig({ sets: ['ssmb.routing=top2'] })).toThrow('config key `ssmb.routing`: expected one of "top1", "soft", got "top2"');
    expect(() => resolveConfig({ sets: ['ssmb.routerInput=sigma'] })).toThrow('config key `ssmb.routerInput`: expected one of "style", "mean", got "sigma"');
    expect(() => resolveConfig({ sets: ['ssmb.routerJitter=1'] })).toThrow(/config key `ssmb.routerJitter`/);
    expect(() => resolveConfig({ sets: ['ssmb.routerJitter=-0.1'] })).toThrow(/config key `ssmb.routerJitter`/);
    expect(() => resolveConfig({ sets: ['ssmb.expertKind=affine', 'ssmb.hiddenWidth=32'] })).toThrow(
      /config key `ssmb.hiddenWidth`: 32 is set, but expert kind affine has no hidden layer \(leave it null\)/);
    expect(resolveConfig({ sets: ['ssmb.expertKind=style+spatial', 'ssmb.hiddenWidth=32'] }).ssmb.hiddenWidth).toBe(32);
    expect(() => parseSweepGrid(['ssmb.expertKind=style,afine'])).toThrow(/`ssmb.expertKind`: expected one of "style", "style\+spatial", "affine", "affine\+spatial", got "afine"/);
  });

  it('checks backbone.model against the backbone registry and ssmb.positions against its taps, listing both', () => {
    expect(() => resolveConfig({ sets: ['backbone.model=iresnet-synht'] })).toThrow(ConfigError);
    expect(() => resolveConfig({ sets: ['backbone.model=iresnet-synht'] })).toThrow(
      /config key `backbone.model`: unknown backbone "iresnet-synht"; registered backbones: iresnet18, iresnet34, iresnet50, iresnet100, iresnet-tiny, iresnet-synth/);
    expect(() => resolveConfig({ sets: ['ssmb.positions=[stem,block3,layer9]'] })).toThrow(
      /config key `ssmb.positions`: "block3", "layer9" are not taps of backbone iresnet-synth; its taps: stem, layer1, layer2, layer3, layer4/);
    expect(() => resolveConfig({ sets: ['ssmb.positions=[stem,stem]'] })).toThrow(/`ssmb.positions`: "stem" given twice/);
    expect(() => resolveConfig({ sets: ['dataset.imageSize=112'] })).toThrow(/`dataset.imageSize`: 112 does not match the input size 64 of backbone iresnet-synth/);
    // a sweep axis is checked the same way, before anything is launched
    expect(() => parseSweepGrid(['backbone.model=iresnet-tiny,resnet50'])).toThrow(/unknown backbone "resnet50"; registered backbones:/);
    expect(resolveConfig({ sets: ['backbone.model=iresnet50', 'ssmb.positions=[layer3,layer4]'] }).ssmb.positions).toEqual(['layer3', 'layer4']);
  });

  it('parses sweep grids into the cartesian product of overrides', () => {
    const grid = parseSweepGrid(['ssmb.numExperts=1,2,4', 'dataset.fold=all', 'ssmb.positions=[stem],[stem,layer1]']);
    expect(grid).toHaveLength(6);
    expect(grid[0]).toEqual({ ssmb: { numExperts: 1, positions: ['stem'] }, dataset: { fold: 'all' } });
    expect(grid[5]).toEqual({ ssmb: { numExperts: 4, positions: ['stem', 'layer1'] }, dataset: { fold: 'all' } });
    expect(() => parseSweepGrid(['ssmb.nExperts=1,2'])).toThrow(/unknown config key `ssmb.nExperts`/);
    expect(() => parseSweepGrid(['optim.lr=0.1,abc'])).toThrow(/`optim.lr`: expected number/);
    expect(() => parseSweepGrid(['seed=1', 'seed=2'])).toThrow(/given twice/);
  });

  it('flattens for the params table', () => {
    const f = flattenConfig(defaultConfig());
    expect(f['ssmb.numExperts']).toBe(4);
    expect(f['ssmb.positions']).toBe('["stem","layer1","layer2"]');
  });
});
