import { describe, expect, it } from 'vitest';
import { OnnxGraphBuilder } from './onnx_graph_builder.ts';
import { foldConstants } from './fold_constants.ts';
import { ONNX_FLOAT, ONNX_INT64 } from './onnx_proto.ts';

describe('foldConstants', () => {
  it('evaluates shape-only ops of constants and keeps where each value came from', () => {
    const b = new OnnxGraphBuilder();
    const x = b.input('x', ['batch', 6]);
    const w = b.weight('w', [2, 3], Float32Array.from([1, 2, 3, 4, 5, 6]));
    const shape = b.int64('shape', [0, -1, 1]);
    const r = b.op1('Reshape', [w, shape]); // 0 copies dim 0, -1 is inferred
    const axes = b.int64('axes', [-1]);
    const u = b.op1('Unsqueeze', [r, axes]); // negative axis counts in the output rank
    const sq = b.op1('Squeeze', [u]); // no axes: every size-1 axis
    const f = b.op1('Flatten', [b.op1('Identity', [sq])], { axis: 0 });
    const i64 = b.int64('ints', [7, -2]);
    const c = b.op1('Cast', [i64], { to: ONNX_FLOAT });
    const y = b.op1('Gemm', [x, f]);
    b.output(b.op1('Add', [y, c]), 'out', ['batch', 2]);
    b.weight('unread', [1], Float32Array.from([9])); // no node reads it: it must stay (the mapper reports it)
    const { model, report } = foldConstants(b.toModel({ graphName: 'g', opset: 13 }));
    expect(report.folded).toEqual({ Reshape: 1, Unsqueeze: 1, Squeeze: 1, Identity: 1, Flatten: 1, Cast: 1 });
    expect(model.graph.nodes.map((n) => n.opType)).toEqual(['Gemm', 'Add', 'Identity']); // Identity: the graph output
    const fw = model.graph.initializers.get(f)!;
    expect(fw).toMatchObject({ dims: [1, 6], dataType: ONNX_FLOAT, source: 'w' });
    expect(Array.from(fw.data as Float32Array)).toEqual([1, 2, 3, 4, 5, 6]);
    const ci = model.graph.initializers.get(c)!;
    expect(ci).toMatchObject({ dims: [2], dataType: ONNX_FLOAT, source: i64 });
    expect(Array.from(ci.data as Float32Array)).toEqual([7, -2]);
    expect(report.dropped.sort()).toEqual([w, shape, axes, i64].sort());
    expect(model.graph.initializers.has('unread')).toBe(true);
  });

  it('leaves nodes with a non-constant input, and graph outputs, alone', () => {
    const b = new OnnxGraphBuilder();
    const x = b.input('x', ['batch', 2]);
    b.output(b.op1('Unsqueeze', [x], { axes: [1] }), 'out', ['batch', 1, 2]);
    const { model, report } = foldConstants(b.toModel({ graphName: 'g', opset: 11 }));
    expect(report.folded).toEqual({});
    expect(model.graph.nodes.map((n) => n.opType)).toEqual(['Unsqueeze', 'Identity']);
    void ONNX_INT64;
  });
});
