// Greater (broadcasting comparison, bool output): a selector, so no gradient flows through it. The
// ArcFace loss graph uses it for tf.step's branch mask (1 where the angular margin applies), whose
// gradient tfjs defines as zero too.
import { broadcastShapes } from '../grad_util.ts';
import { input, registerOp } from '../op_registry.ts';

registerOp({
  opType: 'Greater',
  infer: (ctx) => [{ shape: broadcastShapes(ctx, [input(ctx, 0).shape, input(ctx, 1).shape]), dtype: 'bool' }],
  nonDifferentiable: true,
});
