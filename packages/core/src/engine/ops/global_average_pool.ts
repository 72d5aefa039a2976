// GlobalAveragePool: x [N,C,...] -> [N,C,1,...]; dx = dy / (spatial size), expanded back to x's shape.
import { input, registerOp } from '../op_registry.ts';

registerOp({
  opType: 'GlobalAveragePool',
  infer: (ctx) => {
    const x = input(ctx, 0);
    return [{ shape: x.shape.map((d, i) => (i < 2 ? d : 1)), dtype: x.dtype }];
  },
  grad: (ctx) => {
    const { b, dy } = ctx;
    const x = input(ctx, 0).shape;
    const count = x.slice(2).reduce((n, d) => n * d, 1);
    return [b.op1('Expand', [b.op1('Mul', [dy[0]!, b.scalar('inv_count', 1 / count)]), b.int64('shape', x)])];
  },
});
