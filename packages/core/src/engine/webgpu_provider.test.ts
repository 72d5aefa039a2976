// Choosing onnxruntime's execution provider: auto's decision from the machine (PCI display devices, Vulkan
// driver manifests, an adapter probe), webgpu's adapter check naming what is missing, the WebGPU graph
// rewrites computing exactly what the CPU graph computes, and the placement log parser.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { OnnxGraphBuilder } from '../weights/onnx/onnx_graph_builder.ts';
import { encodeOnnxModel, ONNX_INT64 } from '../weights/onnx/onnx_proto.ts';
import { ensureRuntimeDir, vulkanDrivers } from './gpu.ts';
import { lowerForWebGpu } from './lower_webgpu.ts';
import { chooseProvider, loadOrt } from './ort_session.ts';
import { fallbackOps, parsePlacementLog } from './placement.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'ssmb-provider-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A fake /sys/bus/pci/devices with the given (class, vendor) devices, and an ICD directory with manifests. */
function machine(name: string, devices: [string, string][], manifests: Record<string, string>) {
  const pciRoot = path.join(tmp, name, 'pci'), icd = path.join(tmp, name, 'icd.d');
  devices.forEach(([cls, vendor], i) => {
    const d = path.join(pciRoot, `0000:00:0${i}.0`);
    mkdirSync(d, { recursive: true });
    writeFileSync(path.join(d, 'class'), `${cls}\n`);
    writeFileSync(path.join(d, 'vendor'), `${vendor}\n`);
  });
  mkdirSync(icd, { recursive: true });
  for (const [file, lib] of Object.entries(manifests)) writeFileSync(path.join(icd, file), JSON.stringify({ file_format_version: '1.0.0', ICD: { library_path: lib, api_version: '1.3.0' } }));
  return { pciRoot, icdDirs: [icd] };
}

describe('train.provider / eval.provider', () => {
  it('auto is cpu, with the reason, on a machine without a GPU, with only a software Vulkan, or without a working GPU driver', async () => {
    const ort = await loadOrt();
    const env = {};
    const noGpu = machine('nogpu', [['0x020000', '0x1af4']], { 'lvp_icd.json': 'libvulkan_lvp.so' });
    expect(await chooseProvider(ort, 'auto', { env, machine: noGpu })).toEqual({ name: 'cpu', reason: 'auto: cpu, no GPU for webgpu: no display controller on the PCI bus', adapter: null });
    const soft = machine('soft', [['0x030000', '0x1a03']], { 'lvp_icd.json': 'libvulkan_lvp.so' });
    expect((await chooseProvider(ort, 'auto', { env, machine: soft })).reason).toBe(
      'auto: cpu, no GPU for webgpu: only software Vulkan drivers (lvp_icd.json), slower than the CPU provider');
    // a GPU and its vendor's manifest, but the driver library is not there: the probe finds no adapter
    const broken = machine('broken', [['0x030200', '0x10de']], { 'nvidia_icd.json': 'libGLX_nvidia_absent.so.0', 'lvp_icd.json': 'libvulkan_lvp.so' });
    const r = await chooseProvider(ort, 'auto', { env, machine: broken });
    expect(r.name).toBe('cpu');
    expect(r.reason).toMatch(/^auto: cpu, no GPU for webgpu: no hardware adapter \(.*adapter.*; drivers nvidia_icd.json\)$/);
  });

  it('webgpu without an adapter is an error naming the provider and what is missing; the software adapter is one', async () => {
    const ort = await loadOrt();
    const none = path.join(tmp, 'none_icd.json');
    await expect(chooseProvider(ort, 'webgpu', { env: { VK_DRIVER_FILES: none } })).rejects.toThrow(
      new RegExp(`train.provider 'webgpu': onnxruntime's WebGPU provider has no adapter: .*adapter.*; Vulkan loader \\S+libvulkan.so.1; Vulkan drivers \\(\\$VK_DRIVER_FILES\\): ${none} \\(does not exist\\)`));
    await expect(chooseProvider(ort, 'cpu', { env: { SSMB_ORT_PROVIDER: 'webgpu', VK_DRIVER_FILES: none } })).rejects.toThrow(/SSMB_ORT_PROVIDER='webgpu': onnxruntime's WebGPU provider has no adapter/);
    // this machine's software Vulkan (scripts/system-packages.txt): an adapter, named, and marked software
    const soft = await chooseProvider(ort, 'webgpu', { env: process.env });
    expect(soft).toMatchObject({ name: 'webgpu', reason: 'configured', adapter: { name: expect.stringMatching(/llvmpipe/), type: 'CPU', software: true } });
    expect(soft.adapter!.driver).toMatch(/llvmpipe Mesa/);
  });

  it('names the Vulkan drivers the loader would read: VK_DRIVER_FILES wins over the directories', () => {
    const m = machine('dirs', [], { 'nvidia_icd.json': '/usr/lib/libGLX_nvidia.so.0', 'lvp_icd.json': '/usr/lib/libvulkan_lvp.so' });
    expect(vulkanDrivers({}, m.icdDirs).drivers.map((d) => [path.basename(d.manifest), d.software])).toEqual([['lvp_icd.json', true], ['nvidia_icd.json', false]]);
    const only = path.join(m.icdDirs[0], 'nvidia_icd.json');
    expect(vulkanDrivers({ VK_DRIVER_FILES: only }, m.icdDirs)).toEqual({ source: '$VK_DRIVER_FILES', drivers: [{ manifest: only, library: '/usr/lib/libGLX_nvidia.so.0', software: false }] });
  });

  it('sets XDG_RUNTIME_DIR when unset (Dawn needs one), and keeps the user\'s', () => {
    const env: NodeJS.ProcessEnv = {};
    ensureRuntimeDir(env);
    expect(env.XDG_RUNTIME_DIR).toBe(os.tmpdir());
    const mine = { XDG_RUNTIME_DIR: '/run/user/1000' };
    ensureRuntimeDir(mine);
    expect(mine.XDG_RUNTIME_DIR).toBe('/run/user/1000');
  });
});

describe('the WebGPU rewrites compute what the graph computed (on the CPU provider, exactly)', () => {
  it('Sum -> Adds, OneHot(ArgMax) -> the first row maximum (ties too), output Identity -> the producer', async () => {
    const build = () => {
      const b = new OnnxGraphBuilder();
      const p = b.input('p', [5, 3]), a = b.input('a', [5, 3]), c = b.input('c', [5, 3]);
      const e = b.op1('ArgMax', [p], { axis: 1, keepdims: 0 });
      const hot = b.op1('OneHot', [e, b.int64('depth', [3], []), b.constant('v', [2], Float32Array.of(0, 1))], { axis: -1 });
      b.output(b.op1('Sum', [hot, a, c]), 'y', [5, 3]);
      b.output(e, 'expert', [5], ONNX_INT64);
      return b;
    };
    const plain = build(), lowered = build();
    expect(lowerForWebGpu(lowered)).toEqual({ sum: 1, oneHot: 1, logSoftmax: 0, outputIdentity: 2, floatInputs: [] });
    const ops = lowered.nodes.map((n) => n.opType);
    expect(ops).not.toContain('Sum');
    expect(ops).not.toContain('OneHot');
    expect(ops).not.toContain('Identity');
    const ort = await loadOrt();
    // rows with a unique maximum, a two-way tie, a three-way tie (ArgMax takes the first)
    const p = Float32Array.of(0.1, 0.7, 0.2, 0.5, 0.5, 0, 1 / 3, 1 / 3, 1 / 3, 0.2, 0.3, 0.5, 0, 0.6, 0.6);
    const a = Float32Array.from({ length: 15 }, (_, i) => Math.sin(i)), c = Float32Array.from({ length: 15 }, (_, i) => Math.cos(3 * i) * 1e-3);
    const run = async (b: OnnxGraphBuilder) => {
      const s = await ort.InferenceSession.create(encodeOnnxModel(b.toModel({ graphName: 't' })));
      const out = await s.run({ p: new ort.Tensor('float32', p, [5, 3]), a: new ort.Tensor('float32', a, [5, 3]), c: new ort.Tensor('float32', c, [5, 3]) });
      await s.release();
      return { y: Array.from(out.y.data as Float32Array), expert: Array.from(out.expert.data as BigInt64Array, Number) };
    };
    const [want, got] = [await run(plain), await run(lowered)];
    expect(want.expert).toEqual([1, 0, 0, 2, 1]);
    expect(got).toEqual(want);
  });

  it('class labels: a OneHot of an int64 input takes the labels as float32; LogSoftmax in elementary ops (1e-6)', async () => {
    const build = () => {
      const b = new OnnxGraphBuilder();
      const x = b.input('x', [4, 5]), labels = b.input('labels', [4], ONNX_INT64);
      const hot = b.op1('OneHot', [labels, b.int64('depth', [5], []), b.constant('v', [2], Float32Array.of(0, 1))], { axis: -1 });
      b.output(b.op1('Mul', [hot, b.op1('LogSoftmax', [x], { axis: -1 })]), 'y', [4, 5]);
      return b;
    };
    const plain = build(), lowered = build();
    expect(lowerForWebGpu(lowered)).toEqual({ sum: 0, oneHot: 1, logSoftmax: 1, outputIdentity: 1, floatInputs: ['labels'] });
    const ort = await loadOrt();
    const x = Float32Array.from({ length: 20 }, (_, i) => 30 * Math.sin(i)), labels = [4, 0, 2, 2];
    const run = async (b: OnnxGraphBuilder, l: InstanceType<typeof ort.Tensor>) => {
      const s = await ort.InferenceSession.create(encodeOnnxModel(b.toModel({ graphName: 't' })));
      const out = await s.run({ x: new ort.Tensor('float32', x, [4, 5]), labels: l });
      await s.release();
      return Array.from(out.y.data as Float32Array);
    };
    const want = await run(plain, new ort.Tensor('int64', BigInt64Array.from(labels.map(BigInt)), [4]));
    const got = await run(lowered, new ort.Tensor('float32', Float32Array.from(labels), [4]));
    expect(want.filter((v) => v !== 0)).toHaveLength(4);
    got.forEach((v, i) => expect(Math.abs(v - want[i]), `y[${i}]`).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(want[i]))));
  });

  it('a OneHot of a computed int64 that is not an ArgMax is left alone (and shows in the placement check)', () => {
    const b = new OnnxGraphBuilder();
    const i = b.op1('Cast', [b.input('f', [4])], { to: 7 });
    b.output(b.op1('OneHot', [i, b.int64('depth', [3], []), b.constant('v', [2], Float32Array.of(0, 1))], { axis: -1 }), 'y', [4, 3]);
    expect(lowerForWebGpu(b)).toMatchObject({ oneHot: 0, outputIdentity: 1 });
    expect(b.nodes.map((n) => n.opType)).toEqual(['Cast', 'OneHot']);
  });
});

describe('placement log', () => {
  it('counts the nodes per provider and names the ones that fell back', () => {
    const log = [
      '2026-12-07 17:46:13.768 [V:onnxruntime:, session_state.cc:1377 VerifyEachNodeIsAssignedToAnEp] Node placements',
      '2026-12-07 17:46:13.768 [V:onnxruntime:, session_state.cc:1383 VerifyEachNodeIsAssignedToAnEp]  Node(s) placed on [CPUExecutionProvider]. Number of nodes: 3',
      '2026-12-07 17:46:13.768 [V:onnxruntime:, session_state.cc:1385 VerifyEachNodeIsAssignedToAnEp]   OneHot (OneHot_15)',
      '2026-12-07 17:46:13.768 [V:onnxruntime:, session_state.cc:1385 VerifyEachNodeIsAssignedToAnEp]   Sum (Sum_41)',
      '2026-12-07 17:46:13.768 [V:onnxruntime:, session_state.cc:1385 VerifyEachNodeIsAssignedToAnEp]   Sum (Sum_86)',
      '2026-12-07 17:46:13.768 [V:onnxruntime:, session_state.cc:1383 VerifyEachNodeIsAssignedToAnEp]  Node(s) placed on [WebGpuExecutionProvider]. Number of nodes: 2',
      '2026-12-07 17:46:13.768 [V:onnxruntime:, session_state.cc:1385 VerifyEachNodeIsAssignedToAnEp]   Conv (Conv_1)',
      '2026-12-07 17:46:13.768 [V:onnxruntime:, session_state.cc:1385 VerifyEachNodeIsAssignedToAnEp]   Relu (PRelu_2_relu)',
    ].join('\n');
    const p = parsePlacementLog(log, 'webgpu');
    expect(p).toEqual({
      byProvider: { CPUExecutionProvider: 3, WebGpuExecutionProvider: 2 },
      fallback: [{ opType: 'OneHot', node: 'OneHot_15' }, { opType: 'Sum', node: 'Sum_41' }, { opType: 'Sum', node: 'Sum_86' }],
    });
    expect(fallbackOps(p)).toEqual({ OneHot: 1, Sum: 2 });
    expect(parsePlacementLog('[V:onnxruntime:, session_state.cc:1383 VerifyEachNodeIsAssignedToAnEp]  All nodes placed on [WebGpuExecutionProvider]. Number of nodes: 568', 'webgpu'))
      .toEqual({ byProvider: { WebGpuExecutionProvider: 568 }, fallback: [] });
    expect(parsePlacementLog('[V:onnxruntime:, session_state.cc:1383 VerifyEachNodeIsAssignedToAnEp]  All nodes placed on [CPUExecutionProvider]. Number of nodes: 2', 'webgpu').fallback)
      .toEqual([{ opType: '(every node)', node: '' }, { opType: '(every node)', node: '' }]);
    expect(() => parsePlacementLog('nothing', 'webgpu')).toThrow(/onnxruntime wrote no node placements in its verbose log/);
  });
});
