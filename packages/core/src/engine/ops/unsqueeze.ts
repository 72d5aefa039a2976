// Unsqueeze (opset 13: axes as a constant input, positions in the output): dx = dy reshaped back.
import { reshape } from '../grad_util.ts';
import { axisOf, constInts, input, registerOp } from '../op_registry.ts';

registerOp({
  opType: 'Unsqueeze',
  infer: (ctx) => {
    const x = input(ctx, 0);
    const r = x.shape.length + constInts(ctx, 1, 'axes').length;
    const axes = constInts(ctx, 1, 'axes').map((a) => axisOf(ctx, a, r));
    const shape: number[] = [];
    let k = 0;
    for (let i = 0; i < r; i++) shape.push(axes.includes(i) ? 1 : x.shape[k++]);
    return [{ shape, dtype: x.dtype }];
  },
  grad: (ctx) => [reshape(ctx.b, ctx.dy[0]!, input(ctx, 0).shape), null],
});
