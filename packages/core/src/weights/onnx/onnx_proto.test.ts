import { describe, expect, it } from 'vitest';
import { decodeOnnxModel, encodeOnnxModel, ONNX_INT64 } from './onnx_proto.ts';
import { OnnxGraphBuilder } from './onnx_graph_builder.ts';

describe('onnx_proto', () => {
  it('round-trips tensors, attributes and value infos through protobuf bytes', () => {
    const b = new OnnxGraphBuilder();
    const x = b.input('x', ['batch', 4]);
    const w = b.weight('w', [4, 2], Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]));
    const y = b.op1('Gemm', [x, w], { alpha: 1, beta: 0.5, transB: 0 });
    const axes = b.int64('axes', [1]);
    const z = b.op1('ReduceMean', [y, axes], { keepdims: 0 });
    b.output(z, 'out', ['batch']);
    const bytes = encodeOnnxModel(b.toModel({ graphName: 'g', metadata: { k: 'v' } }));
    const m = decodeOnnxModel(bytes);
    expect(m.metadata).toEqual({ k: 'v' });
    expect(m.opset).toEqual([{ domain: '', version: 13 }]);
    expect(m.graph.inputs).toEqual([{ name: 'x', elemType: 1, shape: ['batch', 4] }]);
    expect(Array.from(m.graph.initializers.get('w')!.data as Float32Array)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const ax = m.graph.initializers.get(axes)!;
    expect(ax.dataType).toBe(ONNX_INT64);
    expect(Array.from(ax.data as BigInt64Array)).toEqual([1n]);
    const gemm = m.graph.nodes.find((n) => n.opType === 'Gemm')!;
    expect(gemm.attrs).toEqual({ alpha: 1, beta: 0.5, transB: 0 });
    expect(m.graph.nodes.find((n) => n.opType === 'ReduceMean')!.attrs).toEqual({ keepdims: 0 });
  });

  it('rejects bytes that are not an ONNX model, naming the source', () => {
    expect(() => decodeOnnxModel(Uint8Array.from([0xff, 0xff, 0xff, 0xff]), 'bad.onnx')).toThrow(/bad\.onnx/);
    expect(() => decodeOnnxModel(new Uint8Array(0), 'empty.onnx')).toThrow(/empty\.onnx: ONNX model has no graph nodes/);
  });
});
