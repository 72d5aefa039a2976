// BatchNormalization in inference form (training_mode 0): y = scale (x - mean) / sqrt(var + eps) + B,
// per channel on axis 1. For a frozen backbone every parameter is a constant and dx is one per-channel
// scale (onnxruntime folds the constant arithmetic when the session loads). The parameters may also be
// values of the graph (SSMB writes its per-sample modulation as a BatchNormalization on an [1,B*C,H,W]
// view), so each of them has its gradient:
//   inv = 1/sqrt(var + eps), xhat = (x - mean) inv
//   dx = dy scale inv; dscale = sum dy xhat; dB = sum dy; dmean = -dB scale inv;
//   dvar = -0.5 scale inv^3 sum dy (x - mean)
import { reshape } from '../grad_util.ts';
import { attrInt, input, registerOp } from '../op_registry.ts';

registerOp({
  opType: 'BatchNormalization',
  infer: (ctx) => {
    const x = input(ctx, 0);
    if (attrInt(ctx.node, 'training_mode', 0) !== 0 || ctx.node.outputs.filter((o) => o !== '').length > 1) {
      throw new Error(`BatchNormalization node ${ctx.node.name}: the engine handles the inference form only (training_mode 0, one output)`);
    }
    if (x.shape.length < 2) throw new Error(`BatchNormalization node ${ctx.node.name}: x has shape [${x.shape}]; expected [N,C,...]`);
    for (let i = 1; i <= 4; i++) {
      const p = input(ctx, i).shape;
      if (p.length !== 1 || p[0] !== x.shape[1]) throw new Error(`BatchNormalization node ${ctx.node.name}: input ${i} has shape [${p}]; expected [${x.shape[1]}]`);
    }
    return [x];
  },
  grad: (ctx) => {
    const { b, dy, needs, node } = ctx;
    const xs = input(ctx, 0).shape;
    const C = xs[1];
    const eps = typeof node.attrs.epsilon === 'number' ? node.attrs.epsilon : 1e-5;
    const [x, scale, , mean, variance] = node.inputs;
    const bc = [1, C, ...xs.slice(2).map(() => 1)]; // per-channel broadcast shape
    const nonChannel = b.int64('axes', xs.map((_, i) => i).filter((i) => i !== 1));
    const sumNC = (v: string) => reshape(b, b.op1('ReduceSum', [v, nonChannel], { keepdims: 0 }), [C]); // [C]
    const inv = b.op1('Div', [b.scalar('one', 1), b.op1('Sqrt', [b.op1('Add', [variance, b.scalar('eps', eps)])])]); // [C]
    const g = dy[0]!;
    const out: (string | null)[] = [null, null, null, null, null];
    if (needs[0]) out[0] = b.op1('Mul', [g, reshape(b, b.op1('Mul', [scale, inv]), bc)]);
    if (needs[1] || needs[4]) {
      const centred = b.op1('Sub', [x, reshape(b, mean, bc)]); // [x]
      const s = sumNC(b.op1('Mul', [g, centred])); // [C] sum dy (x - mean)
      if (needs[1]) out[1] = b.op1('Mul', [s, inv]);
      if (needs[4]) out[4] = b.op1('Mul', [s, b.op1('Mul', [scale, b.op1('Mul', [b.scalar('minus_half', -0.5), b.op1('Mul', [inv, b.op1('Mul', [inv, inv])])])])]);
    }
    if (needs[2] || needs[3]) {
      const db = sumNC(g); // [C]
      if (needs[2]) out[2] = db;
      if (needs[3]) out[3] = b.op1('Neg', [b.op1('Mul', [db, b.op1('Mul', [scale, inv])])]);
    }
    return out;
  },
});
