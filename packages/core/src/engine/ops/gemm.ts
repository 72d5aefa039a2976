// Gemm: Y = alpha A' B' + beta C, A' = transA ? A^T : A, B' = transB ? B^T : B, C broadcast to [M,N].
// dA' = alpha dY B'^T and dB' = alpha A'^T dY, each written as one Gemm with the transposes folded into
// its flags; dC = beta dY summed back to C's shape.
import { reduceTo } from '../grad_util.ts';
import { attrInt, input, registerOp } from '../op_registry.ts';

const FLOAT = (node: { attrs: Record<string, unknown> }, k: string, d: number) => (typeof node.attrs[k] === 'number' ? (node.attrs[k] as number) : d);

registerOp({
  opType: 'Gemm',
  infer: (ctx) => {
    const a = input(ctx, 0).shape, bb = input(ctx, 1).shape;
    if (a.length !== 2 || bb.length !== 2) throw new Error(`Gemm node ${ctx.node.name}: inputs must be 2-D, got [${a}] and [${bb}]`);
    const tA = attrInt(ctx.node, 'transA', 0), tB = attrInt(ctx.node, 'transB', 0);
    const [m, k] = tA ? [a[1], a[0]] : a;
    const [k2, n] = tB ? [bb[1], bb[0]] : bb;
    if (k !== k2) throw new Error(`Gemm node ${ctx.node.name}: inner dimensions differ (A [${a}] transA ${tA}, B [${bb}] transB ${tB})`);
    return [{ shape: [m, n], dtype: 'float32' }];
  },
  grad: (ctx) => {
    const { b, dy, needs, node } = ctx;
    const [A, B] = node.inputs;
    const tA = attrInt(node, 'transA', 0), tB = attrInt(node, 'transB', 0);
    const alpha = FLOAT(node, 'alpha', 1), beta = FLOAT(node, 'beta', 1);
    const g = dy[0]!;
    const at = { alpha };
    // dA = alpha dY B'^T (transA 0) or its transpose alpha B' dY^T (transA 1)
    const dA = !needs[0] ? null : tA
      ? b.op1('Gemm', [B, g], { ...at, transA: tB, transB: 1 })
      : b.op1('Gemm', [g, B], { ...at, transA: 0, transB: tB ? 0 : 1 });
    // dB = alpha A'^T dY (transB 0) or its transpose alpha dY^T A' (transB 1)
    const dB = !needs[1] ? null : tB
      ? b.op1('Gemm', [g, A], { ...at, transA: 1, transB: tA })
      : b.op1('Gemm', [A, g], { ...at, transA: tA ? 0 : 1, transB: 0 });
    let dC: string | null = null;
    if (node.inputs[2] && needs[2]) {
      const scaled = beta === 1 ? g : b.op1('Mul', [g, b.scalar('beta', beta)]);
      dC = reduceTo(b, scaled, ctx.outputs[0].shape, input(ctx, 2).shape);
    }
    return node.inputs.length > 2 ? [dA, dB, dC] : [dA, dB];
  },
});
