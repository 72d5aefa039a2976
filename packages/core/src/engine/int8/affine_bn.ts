// Frozen BatchNormalization nodes as Mul + Add with per-channel constants, for the int8 graphs. Why:
// onnxruntime runs QLinearConv in NHWC and wraps each one in a Transpose pair; its transpose optimiser
// pushes those transposes through elementwise ops with broadcast constants (Mul, Add, PRelu, Relu,
// QuantizeLinear, DequantizeLinear) so that the pairs between two convs cancel, but not through
// BatchNormalization, which then runs in NCHW between two transposes of the whole map. (In the float graphs
// the BN is fused into onnxruntime's NCHWc convolutions instead, so they keep it.)
// The output keeps its name: a gradient derived from the BN form reads the same values.
import type { OnnxGraphBuilder } from '../../weights/onnx/onnx_graph_builder.ts';
import { ONNX_FLOAT, type OnnxNode } from '../../weights/onnx/onnx_proto.ts';
import { scaleShiftOf } from '../../weights/onnx/iresnet_onnx_graph.ts';
import { inferTypes } from '../vjp.ts';

/** Rewrites the constant BatchNormalization nodes among the first `limit` (inference-mode, one output). */
export function bnAsAffine(b: OnnxGraphBuilder, limit = b.nodes.length): number {
  const types = inferTypes(b, { symbolicDim: 1 }); // ranks only
  const replacement = new Map<number, OnnxNode[]>();
  for (let i = 0; i < limit; i++) {
    const n = b.nodes[i];
    if (n.opType !== 'BatchNormalization' || n.outputs.length !== 1) continue;
    const parts = n.inputs.slice(1, 5).map((v) => b.initializers.get(v));
    if (parts.length !== 4 || parts.some((p) => !p || p.dataType !== ONNX_FLOAT || p.dims.length !== 1)) continue;
    const rank = types.get(n.inputs[0])?.shape.length ?? 0;
    if (rank < 2) continue;
    const [g, beta, mean, v] = parts.map((p) => p!.data as Float32Array);
    const eps = typeof n.attrs.epsilon === 'number' ? n.attrs.epsilon : 1e-5;
    const { scale, shift } = scaleShiftOf(g, beta, mean, v, eps);
    const C = scale.length;
    const dims = [C, ...Array(rank - 2).fill(1)]; // broadcast over the channel axis 1
    const m = b.fresh(`${n.outputs[0]}_scaled`);
    replacement.set(i, [
      { name: `${n.name}_mul`, opType: 'Mul', domain: '', inputs: [n.inputs[0], b.constant('bn_scale', dims, scale)], outputs: [m], attrs: {} },
      { name: `${n.name}_add`, opType: 'Add', domain: '', inputs: [m, b.constant('bn_shift', dims, shift)], outputs: n.outputs, attrs: {} },
    ]);
  }
  const out = b.nodes.flatMap((n, i) => replacement.get(i) ?? [n]);
  b.nodes.splice(0, b.nodes.length, ...out);
  return replacement.size;
}

/**
 * Constant-slope PRelu with every slope in [0, 1] as Max(x, x * a), for the int8 graphs: onnxruntime's
 * PRelu kernel broadcasts the slope element by element, and around the NHWC int8 convs it took as long as
 * the convs themselves (IResNet-18, batch 16: PRelu 338 ms, QLinearConv 364 ms of a 1059 ms forward);
 * Mul and Max run vectorised. Returns how many were rewritten.
 */
export function preluAsMax(b: OnnxGraphBuilder, limit = b.nodes.length): number {
  const replacement = new Map<number, OnnxNode[]>();
  for (let i = 0; i < limit; i++) {
    const n = b.nodes[i];
    const slope = n.opType === 'PRelu' ? b.initializers.get(n.inputs[1]) : undefined;
    if (!slope || slope.dataType !== ONNX_FLOAT || !(slope.data as Float32Array).every((a) => a >= 0 && a <= 1)) continue;
    const m = b.fresh(`${n.outputs[0]}_neg`);
    replacement.set(i, [
      { name: `${n.name}_mul`, opType: 'Mul', domain: '', inputs: [n.inputs[0], n.inputs[1]], outputs: [m], attrs: {} },
      { name: `${n.name}_max`, opType: 'Max', domain: '', inputs: [n.inputs[0], m], outputs: n.outputs, attrs: {} },
    ]);
  }
  const out = b.nodes.flatMap((n, i) => replacement.get(i) ?? [n]);
  b.nodes.splice(0, b.nodes.length, ...out);
  return replacement.size;
}
