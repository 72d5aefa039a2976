// MaxPool (2-D, NCHW; dlib ResNet-29's stem pool, before its first tap). Shapes only: the engine
// trains SSMB blocks, whose gradients never pass through a pool that precedes every tap, so MaxPool
// has no VJP here (it would need the argmax indices and a scatter-add over overlapping windows). If a
// block is ever placed before one, deriveVjp names MaxPool as the op it cannot differentiate.
import { attrInt, attrInts, input, registerOp } from '../op_registry.ts';

registerOp({
  opType: 'MaxPool',
  noGradient: 'shapes only: SSMB gradients do not cross a pool that precedes every tap',
  infer: (ctx) => {
    const { node } = ctx;
    const x = input(ctx, 0);
    if (x.shape.length !== 4) throw new Error(`MaxPool node ${node.name}: input has shape [${x.shape}]; the engine handles 2-D pools on NCHW values`);
    if (node.outputs.length > 1 && node.outputs[1] !== '') throw new Error(`MaxPool node ${node.name}: the Indices output is not supported by the engine`);
    const k = attrInts(node, 'kernel_shape');
    const s = attrInts(node, 'strides', [1, 1]);
    const d = attrInts(node, 'dilations', [1, 1]);
    const p = attrInts(node, 'pads', [0, 0, 0, 0]);
    const autoPad = node.attrs.auto_pad ?? 'NOTSET';
    if (autoPad !== 'NOTSET' && autoPad !== 'VALID') throw new Error(`MaxPool node ${node.name}: auto_pad ${String(autoPad)}; the engine expects explicit pads`);
    const ceil = attrInt(node, 'ceil_mode', 0) === 1;
    const side = (n: number, i: number) => {
      const v = (n + p[i] + p[i + 2] - ((k[i] - 1) * d[i] + 1)) / s[i] + 1;
      return ceil ? Math.ceil(v) : Math.floor(v);
    };
    return [{ shape: [x.shape[0], x.shape[1], side(x.shape[2], 0), side(x.shape[3], 1)], dtype: x.dtype }];
  },
});
