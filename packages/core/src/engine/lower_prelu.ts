// A rewrite of the engine's graphs for onnxruntime's CPU layout: every PRelu whose slope is a constant
// per-channel [C,1,1] (a frozen backbone's) on an NCHW map becomes
//   y = x + (1 - a) relu(-x)                  (x > 0: x; x <= 0: x - (1 - a) x = a x)
// written as BatchNormalization(scale -1) -> Relu -> BatchNormalization(scale 1 - a) -> Add(x).
// Why: onnxruntime runs convolutions in its blocked NCHWc layout, and PRelu is not an NCHWc op, so each
// PRelu costs a generic broadcasting kernel plus a reorder out of NCHWc and one back in (measured on
// IResNet-18: PRelu 114 ms + reorders 47 ms of a 663 ms forward, batch 16, 2 threads). BatchNormalization
// with constant statistics is turned by onnxruntime into an NCHWc depthwise 1x1 convolution, the Relu is
// fused into the first and the Add into the second: two blocked passes and no reorder. The engine's
// gradient table differentiates the rewritten nodes as it does any others (BatchNormalization, Relu, Add).
// Each BatchNormalization has mean 0, variance 1 and epsilon 0, so it is exactly a per-channel scale.
// Exported ONNX files keep PRelu (insightface's layout); only the engine's in-memory graphs are rewritten.
import type { OnnxGraphBuilder } from '../weights/onnx/onnx_graph_builder.ts';
import type { OnnxNode } from '../weights/onnx/onnx_proto.ts';
import { ONNX_FLOAT } from '../weights/onnx/onnx_proto.ts';
import { inferTypes } from './vjp.ts';

/** Rewrites the builder's constant-slope PRelu nodes in place (order kept); returns how many. */
export function lowerConstantPrelu(b: OnnxGraphBuilder): number {
  const types = inferTypes(b, { symbolicDim: 1 }); // ranks and channels only: a dynamic batch is fine
  const out: OnnxNode[] = [];
  let lowered = 0;
  const slopes = new Set<string>(); // initializers of rewritten PRelu nodes, dropped when nothing else reads them
  for (const node of b.nodes) {
    const slope = node.opType === 'PRelu' ? b.initializers.get(node.inputs[1]) : undefined;
    const x = types.get(node.inputs[0]);
    const C = x?.shape.length === 4 ? x.shape[1] : -1;
    const perChannel = slope && slope.dataType === ONNX_FLOAT && slope.dims.length === 3 && slope.dims[0] === C && slope.dims[1] === 1 && slope.dims[2] === 1;
    if (!perChannel) {
      out.push(node);
      continue;
    }
    const a = slope.data as Float32Array;
    slopes.add(node.inputs[1]);
    const zeros = new Float32Array(C), ones = new Float32Array(C).fill(1);
    const bn = (v: string, scale: Float32Array, hint: string) => {
      const o = b.fresh(`${node.name}_${hint}`);
      out.push({
        name: `${node.name}_${hint}`, opType: 'BatchNormalization', domain: '', outputs: [o], attrs: { epsilon: 0 },
        inputs: [v, b.constant(`${hint}_scale`, [C], scale), b.constant(`${hint}_bias`, [C], zeros), b.constant(`${hint}_mean`, [C], zeros), b.constant(`${hint}_var`, [C], ones)],
      });
      return o;
    };
    const neg = bn(node.inputs[0], new Float32Array(C).fill(-1), 'neg'); // -x [B,C,H,W]
    const r = b.fresh(`${node.name}_relu`);
    out.push({ name: `${node.name}_relu`, opType: 'Relu', domain: '', inputs: [neg], outputs: [r], attrs: {} }); // relu(-x)
    const scaled = bn(r, Float32Array.from(a, (s) => 1 - s), 'one_minus_slope'); // (1 - a) relu(-x)
    out.push({ name: `${node.name}_add`, opType: 'Add', domain: '', inputs: [node.inputs[0], scaled], outputs: [node.outputs[0]], attrs: {} });
    lowered++;
  }
  b.nodes.splice(0, b.nodes.length, ...out);
  const used = new Set(out.flatMap((n) => n.inputs));
  for (const name of [...b.initializers.keys()]) if (!used.has(name) && b.initializers.get(name)!.dataType === ONNX_FLOAT && slopes.has(name)) b.initializers.delete(name);
  return lowered;
}
