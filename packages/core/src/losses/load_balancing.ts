// L_lb = mean over SSMB blocks of N * sum_i f_i P_i   (docs/design.md#losses)
// f_i = share of the batch routed to expert i (a count: carries no gradient); P_i = mean router probability.
import { tf } from '../tf.ts';

export function loadBalancingLoss(routings: { probs: tf.Tensor2D; expert: tf.Tensor1D }[]): tf.Scalar {
  if (routings.length === 0) throw new Error('loadBalancingLoss: routings is empty; expected one entry per SSMB block');
  return tf.tidy(() => {
    const perBlock = routings.map(({ probs, expert }, i) => {
      if (probs.rank !== 2 || expert.rank !== 1 || expert.shape[0] !== probs.shape[0]) {
        throw new Error(`loadBalancingLoss: routing ${i} has probs [${probs.shape}] and expert [${expert.shape}]; expected [B,N] and [B]`);
      }
      const N = probs.shape[1];
      const f = N > 1 ? tf.mean(tf.oneHot(tf.cast(expert, 'int32') as tf.Tensor1D, N, 1, 0, 'float32'), 0) : tf.ones([1]); // [N]
      const P = tf.mean(probs, 0); // [N]
      return tf.mul(N, tf.sum(tf.mul(f, P)));
    });
    return tf.div(tf.addN(perBlock), routings.length) as tf.Scalar;
  });
}
