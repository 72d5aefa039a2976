// Transpose (perm, default reversed axes): dx = Transpose(dy, inverse perm).
import { attrInts, input, registerOp } from '../op_registry.ts';

function permOf(node: Parameters<typeof attrInts>[0], rank: number): number[] {
  const perm = attrInts(node, 'perm', Array.from({ length: rank }, (_, i) => rank - 1 - i));
  if (perm.length !== rank || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)) {
    throw new Error(`Transpose node ${node.name}: perm [${perm}] is not a permutation of ${rank} axes`);
  }
  return perm;
}

registerOp({
  opType: 'Transpose',
  infer: (ctx) => {
    const x = input(ctx, 0);
    return [{ shape: permOf(ctx.node, x.shape.length).map((p) => x.shape[p]), dtype: x.dtype }];
  },
  grad: (ctx) => {
    const perm = permOf(ctx.node, input(ctx, 0).shape.length);
    const inverse = perm.map((_, i) => perm.indexOf(i));
    return [ctx.b.op1('Transpose', [ctx.dy[0]!], { perm: inverse })];
  },
});
