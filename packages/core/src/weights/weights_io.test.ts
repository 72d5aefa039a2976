import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../tf.ts';
import { HFRModel } from '../models/hfr_model.ts';
import { IResNet } from '../models/iresnet.ts';
import { createIResNet } from '../models/registry.ts';
import { loadModel, loadWeightsInto, readNamedTensors, readWeightsFile, saveWeights } from './weights_io.ts';
import { encodeSafetensors } from './safetensors.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'ssmb-weights-'));
beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const bits = (v: tf.Tensor) => Array.from(new Uint32Array((v.dataSync() as Float32Array).slice().buffer));

function randomiseAll(params: Map<string, tf.Variable>, seed: number): void {
  let i = 0;
  for (const v of params.values()) v.assign(tf.randomNormal(v.shape, 0, 1, 'float32', seed + i++));
}

describe('weights I/O (safetensors)', () => {
  it('writes the documented safetensors layout with config and version in __metadata__', () => {
    const m = createIResNet('iresnet-tiny');
    const file = path.join(dir, 'layout.safetensors');
    saveWeights(m, file, { run: 'r1' });
    const bytes = readFileSync(file);
    const n = Number(bytes.readBigUInt64LE(0));
    expect((8 + n) % 8).toBe(0);
    const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
    expect(header.__metadata__).toMatchObject({ format: 'ssmb-weights', format_version: '2', model_kind: 'backbone', model_family: 'iresnet', run: 'r1' });
    expect(JSON.parse(header.__metadata__.model_config)).toEqual(m.config);
    const e = header['conv1.weight'];
    expect(e.dtype).toBe('F32');
    expect(e.shape).toEqual([3, 3, 3, 8]);
    const [b, end] = e.data_offsets;
    expect(end - b).toBe(3 * 3 * 3 * 8 * 4);
    const first = bytes.readFloatLE(8 + n + b);
    expect(first).toBe(m.params.get('conv1.weight')!.dataSync()[0]);
    m.dispose();
  });

  it('round-trips an IResNet and an HFR model bit-exactly', () => {
    const a = createIResNet('iresnet-tiny', { seed: 1 });
    randomiseAll(a.params, 100);
    const file = path.join(dir, 'tiny.safetensors');
    saveWeights(a, file);
    const b = loadModel(file) as IResNet;
    expect(b).toBeInstanceOf(IResNet);
    expect(b.config).toEqual(a.config);
    for (const [k, v] of a.params) expect(bits(b.params.get(k)!), k).toEqual(bits(v));

    const h = new HFRModel(a, { numExperts: 2, kind: 'style+spatial', taps: ['layer1'] });
    randomiseAll(new Map(h.trainableVariables.map((v, i) => [String(i), v])), 300);
    const hf = path.join(dir, 'hfr.safetensors');
    saveWeights(h, hf);
    const h2 = loadModel(hf) as HFRModel;
    expect(h2).toBeInstanceOf(HFRModel);
    expect(h2.config).toEqual(h.config);
    expect([...h2.params.keys()]).toEqual([...h.params.keys()]);
    for (const [k, v] of h.params) expect(bits(h2.params.get(k)!), k).toEqual(bits(v));
    const x = tf.randomUniform([2, 32, 32, 3], -1, 1, 'float32', 4) as tf.Tensor4D;
    const [e1, e2] = tf.tidy(() => [h.forward(x).embedding, h2.forward(x).embedding]);
    expect(Array.from(e2.dataSync())).toEqual(Array.from(e1.dataSync()));
    tf.dispose([x, e1, e2]);
    h.dispose();
    h2.dispose();
    b.dispose();
  });

  it('names every mismatched tensor with expected vs found shapes, and assigns nothing', () => {
    const a = createIResNet('iresnet-tiny');
    const file = path.join(dir, 'e16.safetensors');
    saveWeights(a, file);
    const other = createIResNet('iresnet-tiny', { overrides: { embeddingSize: 12 } });
    const before = bits(other.params.get('conv1.weight')!);
    let msg = '';
    try {
      loadWeightsInto(other, file);
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toContain(`${file} does not match the model (6 tensor(s))`);
    expect(msg).toContain('fc.weight: expected shape [64,12], found [64,16]');
    expect(msg).toContain('fc.bias: expected shape [12], found [16]');
    for (const k of ['weight', 'bias', 'running_mean', 'running_var']) expect(msg).toContain(`features.${k}: expected shape [12], found [16]`);
    expect(bits(other.params.get('conv1.weight')!)).toEqual(before);
    // Missing and unexpected tensors are reported too.
    const deeper = createIResNet('iresnet-tiny', { overrides: { depths: [2, 1, 1, 1] } });
    expect(() => loadWeightsInto(deeper, file)).toThrow(/layer1\.1\.conv1\.weight: missing from the file \(expected shape \[3,3,8,8\]\)/);
    const h = new HFRModel(createIResNet('iresnet-tiny'), { numExperts: 2 });
    const hf = path.join(dir, 'hfr-mismatch.safetensors');
    saveWeights(h, hf);
    expect(() => loadWeightsInto(h.backbone, hf)).toThrow(/ssmb\.layer1\.router\.weight: in the file but not in the model/);
    [a, other, deeper, h].forEach((m) => m.dispose());
  });

  it('reads files written before the Backbone interface (format_version 1, model_kind iresnet | hfr)', () => {
    const a = createIResNet('iresnet-tiny', { seed: 4 });
    randomiseAll(a.params, 500);
    const h = new HFRModel(a, { numExperts: 2, taps: ['layer2'] });
    randomiseAll(new Map(h.trainableVariables.map((v, i) => [String(i), v])), 600);
    // exactly what the version-1 writer put in __metadata__: the IResNet config without family / name
    const { family: _f, name: _n, ...v1Config } = a.config;
    const tensors = (m: { params: Map<string, tf.Variable> }) => new Map([...m.params].map(([k, v]) => [k, { dtype: 'F32' as const, shape: v.shape, data: v.dataSync() as Float32Array }]));
    const v1 = (kind: string, config: unknown) => ({ format: 'ssmb-weights', format_version: '1', model_kind: kind, model_config: JSON.stringify(config) });
    const bf = path.join(dir, 'v1-backbone.safetensors');
    writeFileSync(bf, encodeSafetensors(tensors(a), v1('iresnet', v1Config)));
    const hf = path.join(dir, 'v1-hfr.safetensors');
    writeFileSync(hf, encodeSafetensors(tensors(h), v1('hfr', { backbone: v1Config, ssmb: h.config })));
    expect(readWeightsFile(bf).description).toEqual({ kind: 'backbone', family: 'iresnet', config: a.config });
    const b = loadModel(bf) as IResNet;
    expect(b.config).toEqual(a.config);
    for (const [k, v] of a.params) expect(bits(b.params.get(k)!), k).toEqual(bits(v));
    const h2 = loadModel(hf) as HFRModel;
    expect(h2.config).toEqual(h.config);
    for (const [k, v] of h.params) expect(bits(h2.params.get(k)!), k).toEqual(bits(v));
    [b, h2, h].forEach((m) => m.dispose());
  });

  it('weights of another backbone family are refused, the error naming both', () => {
    const a = createIResNet('iresnet-tiny');
    const file = path.join(dir, 'other-family.safetensors');
    // a file that says it holds another family (what import-weights writes for dlib-resnet29)
    writeFileSync(file, encodeSafetensors(new Map([...a.params].map(([k, v]) => [k, { dtype: 'F32' as const, shape: v.shape, data: v.dataSync() as Float32Array }])), {
      format: 'ssmb-weights', format_version: '2', model_kind: 'backbone', model_family: 'dlib-resnet29',
      model_config: JSON.stringify({ family: 'dlib-resnet29', name: 'dlib-resnet29' }),
    }));
    expect(() => loadWeightsInto(a, file, { what: 'backbone iresnet-tiny' })).toThrow(
      /holds a dlib-resnet29 backbone \(dlib-resnet29\); backbone iresnet-tiny is a iresnet backbone \(iresnet-tiny\)/);
    a.dispose();
  });

  it('one loader for every file a model starts from: ssmb-weights, checkpoint layout, foreign state dicts, variable maps', () => {
    const a = createIResNet('iresnet-tiny', { seed: 8 });
    randomiseAll(a.params, 700);
    const h = new HFRModel(a, { numExperts: 2, taps: ['stem'] });
    randomiseAll(new Map(h.trainableVariables.map((v, i) => [String(i), v])), 800);
    const hf = path.join(dir, 'one-loader-hfr.safetensors');
    saveWeights(h, hf);
    // a backbone from an HFR file: backbone.* matched without the prefix; the SSMB tensors are unused
    const b = createIResNet('iresnet-tiny');
    expect(() => loadWeightsInto(b, hf)).toThrow(/ssmb\.stem\.router\.weight: in the file but not in the model/);
    const rep = loadWeightsInto(b, hf, { unused: 'allow' });
    expect(rep.unused.sort()).toEqual([...h.params.keys()].filter((k) => k.startsWith('ssmb.')).sort());
    for (const [k, v] of a.params) expect(bits(b.params.get(k)!), k).toEqual(bits(v));
    // SSMB variables from a checkpoint-layout file (model/<name> + optimiser state, which is skipped)
    const ssmb = new Map([...h.params].filter(([k]) => k.startsWith('ssmb.')));
    const ck = path.join(dir, 'ckpt-layout.safetensors');
    const entries = new Map<string, { dtype: 'F32'; shape: number[]; data: Float32Array }>();
    for (const [k, v] of ssmb) {
      entries.set(`model/${k}`, { dtype: 'F32', shape: v.shape, data: v.dataSync() as Float32Array });
      entries.set(`adam.m/${k}`, { dtype: 'F32', shape: v.shape, data: new Float32Array(v.size) });
    }
    writeFileSync(ck, encodeSafetensors(entries, { format: 'ssmb-checkpoint/1' }));
    expect([...readNamedTensors(ck).tensors.keys()].sort()).toEqual([...ssmb.keys()].sort());
    const h2 = new HFRModel(createIResNet('iresnet-tiny'), { numExperts: 2, taps: ['stem'] });
    const target = new Map([...h2.params].filter(([k]) => k.startsWith('ssmb.')));
    expect(loadWeightsInto(target, ck).loaded).toBe(ssmb.size);
    for (const [k, v] of ssmb) expect(bits(target.get(k)!), k).toEqual(bits(v));
    // a missing file is named
    expect(() => loadWeightsInto(b, path.join(dir, 'nope.safetensors'))).toThrow(/cannot read weights file .*nope\.safetensors \(ENOENT\)/);
    [b, h, h2].forEach((m) => m.dispose());
  });

  it('rejects files that are not ours, truncated or corrupt', () => {
    const bad = path.join(dir, 'bad.safetensors');
    writeFileSync(bad, Buffer.from('hello'));
    expect(() => readWeightsFile(bad)).toThrow(/5 bytes is too short/);
    const m = createIResNet('iresnet-tiny');
    saveWeights(m, bad);
    m.dispose();
    const good = readFileSync(bad);
    writeFileSync(bad, good.subarray(0, good.length - 10));
    expect(() => readWeightsFile(bad)).toThrow(/is inconsistent or truncated/);
    const hdr = Buffer.from(JSON.stringify({ __metadata__: { format: 'other' } }));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(hdr.length));
    writeFileSync(bad, Buffer.concat([len, hdr]));
    expect(() => readWeightsFile(bad)).toThrow(/__metadata__.format is "other"; expected "ssmb-weights"/);
  });
});
