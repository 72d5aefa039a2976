// MatMul (NumPy semantics, rank >= 2, batch axes broadcast): Y = A B.
// dA = dY B^T, dB = A^T dY, summed over broadcast batch axes. A 2-D operand against a batched one is
// the common case (per-sample vectors times a shared matrix): its gradient is one 2-D matmul over the
// flattened batch instead of a batched matmul plus a reduction.
import { broadcastShapes, reduceTo, reshape, transposeLast2 } from '../grad_util.ts';
import { input, registerOp, sizeOf } from '../op_registry.ts';

registerOp({
  opType: 'MatMul',
  infer: (ctx) => {
    const a = input(ctx, 0).shape, bb = input(ctx, 1).shape;
    if (a.length < 2 || bb.length < 2) throw new Error(`MatMul node ${ctx.node.name}: the engine handles rank >= 2 operands, got [${a}] and [${bb}]`);
    if (a[a.length - 1] !== bb[bb.length - 2]) throw new Error(`MatMul node ${ctx.node.name}: inner dimensions differ, [${a}] x [${bb}]`);
    const batch = broadcastShapes(ctx, [a.slice(0, -2), bb.slice(0, -2)]);
    return [{ shape: [...batch, a[a.length - 2], bb[bb.length - 1]], dtype: 'float32' }];
  },
  grad: (ctx) => {
    const { b, dy, needs, node } = ctx;
    const [A, B] = node.inputs;
    const a = input(ctx, 0).shape, bb = input(ctx, 1).shape, y = ctx.outputs[0].shape;
    const g = dy[0]!;
    const [M, K, N] = [a[a.length - 2], a[a.length - 1], bb[bb.length - 1]];
    let dA: string | null = null, dB: string | null = null;
    if (needs[0]) {
      // also covers a shared A [M,K] against a batched B: the batch axes are summed back by reduceTo
      dA = reduceTo(b, b.op1('MatMul', [g, transposeLast2(b, B, bb.length)]), [...y.slice(0, -2), M, K], a);
    }
    if (needs[1]) {
      if (bb.length === 2 && y.length > 2) {
        // shared B [K,N]: dB = A_flat^T dY_flat over every batch row
        const rows = sizeOf(y.slice(0, -1));
        const aFlat = reshape(b, a.length === y.length ? A : b.op1('Expand', [A, b.int64('shape', [...y.slice(0, -2), M, K])]), [rows, K]);
        dB = b.op1('Gemm', [aFlat, reshape(b, g, [rows, N])], { transA: 1 });
      } else {
        dB = reduceTo(b, b.op1('MatMul', [transposeLast2(b, A, a.length), g]), [...y.slice(0, -2), K, N], bb);
      }
    }
    return [dA, dB];
  },
});
