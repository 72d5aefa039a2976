// Bad input to the engine: each a clear error naming the thing and what was expected; `auto` falls back.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../tf.ts';
import { createBackbone } from '../models/registry.ts';
import { HFRModel } from '../models/hfr_model.ts';
import { OnnxGraphBuilder } from '../weights/onnx/onnx_graph_builder.ts';
import { deriveVjp, inferTypes } from './vjp.ts';
import { registerOp } from './op_registry.ts';
import { chooseEngine } from './select.ts';
import { listProviders, loadOrt, resolveProvider, resolveThreads } from './ort_session.ts';
import { OrtSsmbTrainer } from './ssmb_trainer.ts';
import { engineModelOf } from './student_graph.ts';
import { createEngineEmbedder } from './embedder.ts';

let dir: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = mkdtempSync(path.join(os.tmpdir(), 'ssmb-engine-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('engine errors', () => {
  it('a provider that is not installed, or that onnxruntime-node does not have, is named with the fix', async () => {
    const ort = await loadOrt();
    const empty = path.join(dir, 'bin'); // a binding directory without the CUDA provider libraries
    expect(listProviders(ort, { binDir: empty }).find((p) => p.name === 'cpu')?.installed).toBe(true);
    expect(() => resolveProvider(ort, 'cuda', { binDir: empty, env: {} })).toThrow(
      /train.provider 'cuda': the onnxruntime execution provider 'cuda' is not installed \(missing libonnxruntime_providers_cuda.so.*install it with node node_modules\/onnxruntime-node\/script\/install --onnxruntime-node-install=cuda12/);
    expect(() => resolveProvider(ort, 'rocm', { env: {} })).toThrow(/train.provider 'rocm': onnxruntime-node has no execution provider 'rocm'; it offers cpu/);
    expect(() => resolveProvider(ort, 'cpu', { env: { SSMB_ORT_PROVIDER: 'cuda' }, binDir: empty })).toThrow(/SSMB_ORT_PROVIDER='cuda'/);
    // installed once its libraries are there (what the install script writes)
    for (const lib of ['libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_shared.so']) writeFileSync(path.join(dir, lib), '');
    expect(resolveProvider(ort, 'cuda', { binDir: dir, env: {} })).toBe('cuda');
    expect(resolveProvider(ort, undefined, { env: {} })).toBe('cpu');
  });

  it('threads must be 0 (all cores) or a positive integer', () => {
    expect(resolveThreads(0)).toBe(os.availableParallelism());
    expect(resolveThreads(3)).toBe(3);
    expect(() => resolveThreads(-1)).toThrow(/train.threads is -1; expected 0 \(all cores\) or a positive integer/);
    expect(() => resolveThreads(1.5)).toThrow(/train.threads is 1.5/);
  });

  it('onnxruntime-node that does not load is an error naming it; auto falls back to tfjs with that reason', async () => {
    const broken = { importModule: async () => { throw new Error('libonnxruntime.so.1: cannot open shared object file'); } };
    await expect(loadOrt(broken)).rejects.toThrow(/onnxruntime-node could not be loaded: libonnxruntime.so.1: cannot open shared object file/);
    const model = new HFRModel(createBackbone('iresnet-tiny'), { taps: ['stem'], numExperts: 2 });
    const create = () => OrtSsmbTrainer.create(engineModelOf(model), { pairs: 2, loss: { margin: 0, lambdaTs: 1, alpha: 0.01 }, ...broken });
    const auto = await chooseEngine('auto', create);
    expect(auto).toEqual({ engine: 'tfjs', reason: expect.stringMatching(/onnxruntime unavailable: onnxruntime-node could not be loaded: libonnxruntime/) });
    await expect(chooseEngine('onnxruntime', create)).rejects.toThrow(/onnxruntime-node could not be loaded/);
    expect(await chooseEngine('tfjs', create)).toEqual({ engine: 'tfjs', reason: 'tfjs was configured' });
    await expect(chooseEngine('fast' as never, create)).rejects.toThrow(/engine 'fast' is not an engine; expected one of auto, tfjs, onnxruntime/);
    model.dispose();
  });

  it('wrong input shapes to a training step or an embedder name the input and the expected shape', async () => {
    const model = new HFRModel(createBackbone('iresnet-tiny'), { taps: ['stem'], numExperts: 2 });
    const trainer = await OrtSsmbTrainer.create(engineModelOf(model), { pairs: 2, loss: { margin: 0, lambdaTs: 1, alpha: 0.01 }, threads: 1 });
    const params = new Map([...model.params].filter(([k]) => k.startsWith('ssmb.')).map(([k, v]) => [k, v.dataSync() as Float32Array]));
    const ok = { images: new Float32Array(4 * 32 * 32 * 3), labels: new Float32Array(2), teacher: new Float32Array(2 * 16), params };
    await expect(trainer.step({ ...ok, images: new Float32Array(3 * 32 * 32 * 3) })).rejects.toThrow(/images has 9216 values; expected \[4,32,32,3\] = 12288 float32 values/);
    await expect(trainer.step({ ...ok, teacher: new Float32Array(5) })).rejects.toThrow(/teacher has 5 values; expected \[2,16\]/);
    const missing = new Map(params);
    missing.delete('ssmb.stem.router.bias');
    await expect(trainer.step({ ...ok, params: missing })).rejects.toThrow(/parameter ssmb.stem.router.bias is missing; expected \[2\]/);
    await expect(trainer.step({ ...ok, params: new Map([...params, ['ssmb.layer9.x', new Float32Array(1)]]) })).rejects.toThrow(/unknown parameter\(s\) ssmb.layer9.x/);
    const r = await trainer.step(ok);
    expect(Number.isFinite(r.loss)).toBe(true);
    await trainer.release();
    const emb = await createEngineEmbedder({ backbone: model.backbone }, { threads: 1 });
    await expect(emb.embed(new Float32Array(100))).rejects.toThrow(/input has 100 values; expected B\*32\*32\*3 float32 values \(NHWC\)/);
    await emb.dispose();
    model.dispose();
  });

  it('a model the engine cannot express names the op: unknown to the op table, or not differentiable where a gradient is needed', () => {
    const b = new OnnxGraphBuilder();
    const x = b.input('x', [2, 3]);
    b.op1('Tanh', [x]);
    expect(() => inferTypes(b)).toThrow(/the engine cannot express op 'Tanh' \(node Tanh_0\): it is not in the engine's op table; ops it knows: .*Conv/);
    const g = new OnnxGraphBuilder();
    const w = g.input('w', [2, 3]);
    const y = g.op1('Relu', [w]);
    expect(() => deriveVjp(g, { wrt: ['w'], seeds: [{ value: 'nope' }] })).toThrow(/seed value 'nope' is not in the graph/);
    expect(() => deriveVjp(g, { wrt: ['v'], seeds: [{ value: y }] })).toThrow(/wrt value 'v' is not in the graph/);
    const k = g.op1('ArgMax', [y], { axis: 1, keepdims: 0 });
    expect(() => deriveVjp(g, { wrt: ['w'], seeds: [{ value: k }] })).toThrow(/seed value '.*' is int64; expected a float32 value/);
    // an op with static shapes but no gradient (MaxPool: shapes only, declared with its reason) on the path
    const h = new OnnxGraphBuilder();
    const hw = h.input('w', [1, 2, 5, 5]);
    const out = h.op1('Relu', [h.op1('MaxPool', [hw], { kernel_shape: [3, 3], strides: [2, 2] })]);
    expect(() => deriveVjp(h, { wrt: ['w'], seeds: [{ value: out }] })).toThrow(/the engine cannot differentiate op 'MaxPool' \(node MaxPool_0\): it has no gradient in the engine's gradient table \(shapes only: .*\).*ops with gradients: Add, /);
    const dyn = new OnnxGraphBuilder();
    dyn.input('x', ['batch', 3]);
    expect(() => inferTypes(dyn)).toThrow(/graph input 'x' has shape \[batch,3\]; the training engine builds its graphs for concrete shapes/);
  });
});
