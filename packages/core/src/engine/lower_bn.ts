// A rewrite of the engine's graphs for onnxruntime's CPU layout: a frozen (constant) BatchNormalization
// that reads an SSMB block's output becomes the depthwise 1x1 Conv it computes,
//   y = x * scale / sqrt(var + eps) + (bias - mean * scale / sqrt(var + eps))   per channel.
// Why: onnxruntime runs convolutions in its blocked NCHWc layout and turns a constant BatchNormalization
// into an NCHWc depthwise conv only when its input is already blocked. An SSMB block's output is not
// (its per-sample broadcasts run on NCHW), so the BN after it ran as a plain NCHW kernel and then a
// second reorder fed the conv after it. As a Conv it is always blocked: onnxruntime reorders the block's
// output once and both of its readers (this conv and, in IResNet, the downsample conv) share that reorder.
// Measured on IResNet-18 (batch 16, 2 threads, blocks at stem/layer1/layer2, CPU time of a forward):
// 813 -> 781 ms; in the training graph no gain was measured, so only inference graphs are rewritten.
import type { OnnxGraphBuilder } from '../weights/onnx/onnx_graph_builder.ts';
import type { OnnxNode } from '../weights/onnx/onnx_proto.ts';
import { ONNX_FLOAT } from '../weights/onnx/onnx_proto.ts';
import { scaleShiftOf } from '../weights/onnx/iresnet_onnx_graph.ts';

/** Rewrites, in place (order kept), the constant BatchNormalization nodes whose input is one of `values`
 *  (NCHW maps); returns how many. A BN with a non-constant part or training outputs is left as it is. */
export function lowerBnReading(b: OnnxGraphBuilder, values: ReadonlySet<string>): number {
  let lowered = 0;
  const consts = new Set<string>();
  for (let i = 0; i < b.nodes.length; i++) {
    const node = b.nodes[i];
    if (node.opType !== 'BatchNormalization' || !values.has(node.inputs[0]) || node.outputs.length !== 1) continue;
    const parts = node.inputs.slice(1, 5).map((n) => b.initializers.get(n));
    if (parts.length !== 4 || parts.some((p) => !p || p.dataType !== ONNX_FLOAT || p.dims.length !== 1 || p.dims[0] !== parts[0]!.dims[0])) continue;
    const [scale, bias, mean, variance] = parts.map((p) => p!.data as Float32Array);
    const C = scale.length;
    const eps = typeof node.attrs.epsilon === 'number' ? node.attrs.epsilon : 1e-5; // ONNX's default
    const { scale: w, shift: c } = scaleShiftOf(scale, bias, mean, variance, eps);
    node.inputs.slice(1, 5).forEach((n) => consts.add(n));
    const conv: OnnxNode = {
      name: `${node.name}_dwconv`, opType: 'Conv', domain: '', outputs: node.outputs, attrs: { group: C, kernel_shape: [1, 1] },
      inputs: [node.inputs[0], b.constant(`${node.name}_dw_w`, [C, 1, 1, 1], w), b.constant(`${node.name}_dw_b`, [C], c)],
    };
    b.nodes[i] = conv;
    lowered++;
  }
  const used = new Set(b.nodes.flatMap((n) => n.inputs));
  for (const name of consts) if (!used.has(name)) b.initializers.delete(name);
  return lowered;
}
