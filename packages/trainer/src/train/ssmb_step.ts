// One SSMB training step (docs/design.md#losses): L = L_cc + lambda_ts L_ts + alpha L_lb over a batch of
// (VIS anchor, partner) pairs; the teacher is the frozen backbone; only SSMB parameters get gradients.
// With a TeacherCache the teacher embeddings are looked up instead of recomputed (same values).
// Two engines, one Adam: ssmbStep (tfjs autodiff) and ortSsmbStep (core's onnxruntime training graph:
// loss and gradients in one session run); both return the same metrics, and the optimiser state is the
// same tensors either way, so a checkpoint written by one resumes on the other.
import { crossModalContrastiveLoss, loadBalancingLoss, teacherStudentLoss, tf, type HFRModel, type OrtSsmbTrainer, type UniformSource } from '@ssmb/core';
import type { Config } from '../config.ts';
import type { Adam } from './adam.ts';
import { gather, type ImageSet } from './data.ts';
import type { PairBatch } from './pair_sampler.ts';
import type { TeacherCache } from './teacher_cache.ts';
import { TRAIN_METRICS, routingEntropyKey, routingShareKey } from '../metric_keys.ts';

export interface StepResult {
  metrics: Record<string, number>;
}

/** Mean per-sample router entropy (nats) and the share of samples routed to each expert. */
export function routingStats(probs: Float32Array, experts: Int32Array, n: number): { entropy: number; shares: number[] } {
  const b = experts.length;
  let h = 0;
  for (let i = 0; i < probs.length; i++) if (probs[i] > 0) h -= probs[i] * Math.log(probs[i]);
  const shares = new Array<number>(n).fill(0);
  for (const k of experts) shares[k] += 1 / b;
  return { entropy: h / b, shares };
}

/** The anchors then their partners, [2B,S,S,3] in one buffer (the student's batch). */
function pairImages(images: ImageSet, batch: PairBatch): Float32Array {
  const xv = gather(images, batch.anchors); // [B,S,S,3]
  const pairs = new Float32Array(2 * xv.length);
  pairs.set(xv, 0);
  gather(images, batch.partners, pairs.subarray(xv.length)); // [B,S,S,3] after the anchors
  return pairs;
}

function routingMetrics(metrics: Record<string, number>, tap: string, probs: Float32Array, experts: Int32Array, n: number): void {
  const { entropy, shares } = routingStats(probs, experts, n);
  metrics[routingEntropyKey(tap)] = entropy;
  shares.forEach((s, k) => (metrics[routingShareKey(tap, k)] = s));
}

/** The step on onnxruntime: parameters in, loss parts, routing and gradients out, Adam (tfjs) applied here. */
export async function ortSsmbStep(trainer: OrtSsmbTrainer, adam: Adam, images: ImageSet, batch: PairBatch, lr: number, teacher: TeacherCache, select?: Float32Array): Promise<StepResult> {
  const params = new Map<string, Float32Array>();
  for (const [k, v] of adam.vars) params.set(k, v.dataSync() as Float32Array);
  const out = await trainer.step({ images: pairImages(images, batch), labels: Float32Array.from(batch.labels), teacher: teacher.rows(batch.anchors), params, select });
  const grads: Record<string, tf.Tensor> = {};
  for (const [k, v] of adam.vars) grads[k] = tf.tensor(out.grads.get(k)!, v.shape);
  adam.apply(grads, lr);
  tf.dispose(Object.values(grads));
  const metrics: Record<string, number> = {
    [TRAIN_METRICS.loss]: out.loss,
    [TRAIN_METRICS.lossCc]: out.lossCc,
    [TRAIN_METRICS.lossTs]: out.lossTs,
    [TRAIN_METRICS.lossLb]: out.lossLb,
    [TRAIN_METRICS.lr]: lr,
  };
  for (const r of out.routing) routingMetrics(metrics, r.tap, r.probs, r.expert, r.numExperts);
  return { metrics };
}

/** The loss metrics of one evaluation of the objective on fixed pairs (loss/fixed and its parts). */
function fixedLossMetrics(loss: number, cc: number, ts: number, lb: number): Record<string, number> {
  return { [TRAIN_METRICS.lossFixed]: loss, [TRAIN_METRICS.lossFixedCc]: cc, [TRAIN_METRICS.lossFixedTs]: ts, [TRAIN_METRICS.lossFixedLb]: lb };
}

/** The training objective on `batch` at the current parameters on onnxruntime, nothing updated: `trainer` is
 *  a session built with gradients: false for batch.anchors.length pairs (one forward). */
export async function ortSsmbLoss(trainer: OrtSsmbTrainer, params: ReadonlyMap<string, tf.Variable>, images: ImageSet, batch: PairBatch, teacher: TeacherCache, select?: Float32Array): Promise<Record<string, number>> {
  const values = new Map<string, Float32Array>();
  for (const [k, v] of params) values.set(k, v.dataSync() as Float32Array);
  const out = await trainer.evaluate({ images: pairImages(images, batch), labels: Float32Array.from(batch.labels), teacher: teacher.rows(batch.anchors), params: values, select });
  return fixedLossMetrics(out.loss, out.lossCc, out.lossTs, out.lossLb);
}

/** The same on tfjs: the student forward in inference mode (no router jitter, no tape) and the losses of
 *  ssmbStep, in one tidy. */
export function ssmbLoss(model: HFRModel, images: ImageSet, batch: PairBatch, loss: Config['loss'], teacher: TeacherCache, select?: Float32Array): Record<string, number> {
  const B = batch.anchors.length;
  const S = images.size;
  const pairs = pairImages(images, batch); // [2B,S,S,3]
  const routed: tf.Tensor[] = []; // the forward hands its routing tensors out of every tidy (keep): disposed below
  const parts = tf.tidy(() => {
    const y = tf.tensor1d(batch.labels);
    const tv = teacher.lookup(batch.anchors); // [B,E]
    const out = model.forward(tf.tensor4d(pairs, [2 * B, S, S, 3]), { select: selectTensor(select, 2 * B) }); // student on [2B,S,S,3], training: false
    const sv = tf.slice(out.embedding, [0, 0], [B, -1]) as tf.Tensor2D; // [B,E]
    const st = tf.slice(out.embedding, [B, 0], [B, -1]) as tf.Tensor2D; // [B,E]
    const lcc = crossModalContrastiveLoss(sv, st, y, loss.margin);
    const lts = teacherStudentLoss(sv, st, tv, y);
    const llb = loadBalancingLoss(out.routings);
    for (const r of out.routings) routed.push(r.probs, r.expert, r.gate);
    const total = tf.add(tf.add(lcc, tf.mul(lts, loss.lambdaTs)), tf.mul(llb, loss.alpha));
    return tf.stack([total, lcc, lts, llb]); // [4]: one small tensor out of the tidy
  });
  const [total, cc, ts, lb] = parts.dataSync();
  tf.dispose([parts, ...routed]);
  return fixedLossMetrics(total, cc, ts, lb);
}

/** Label-selected blocks: the [2B,N] selection rows as a tensor (undefined for routed blocks). */
function selectTensor(select: Float32Array | undefined, images: number): tf.Tensor2D | undefined {
  return select ? tf.tensor2d(select, [images, select.length / images]) : undefined;
}

/** `rng`: the run's seeded generator, for the router jitter (ssmb.routerJitter > 0; nothing drawn at 0).
 *  `select`: label-selected blocks' [2B,N] rows (anchors, then partners). */
export function ssmbStep(model: HFRModel, adam: Adam, images: ImageSet, batch: PairBatch, loss: Config['loss'], lr: number, teacher?: TeacherCache, rng?: UniformSource, select?: Float32Array): StepResult {
  const B = batch.anchors.length;
  const S = images.size;
  const pairs = pairImages(images, batch); // [2B,S,S,3]
  const names = new Map<string, string>();
  for (const [key, v] of adam.vars) names.set(v.name, key);
  const vars = [...adam.vars.values()];
  const kept: tf.Tensor[] = [];
  const taps: string[] = [];
  const y = tf.tensor1d(batch.labels);
  const sel = selectTensor(select, 2 * B); // [2B,N] or undefined
  const tv = teacher
    ? teacher.lookup(batch.anchors) // [B,E]
    : tf.tidy(() => model.teacherForward(tf.tensor4d(pairs.subarray(0, B * S * S * 3), [B, S, S, 3]))); // [B,E], no gradient needed
  const { value, grads } = tf.variableGrads(() => {
    const out = model.forward(tf.tensor4d(pairs, [2 * B, S, S, 3]), { training: true, rng, select: sel }); // student on [2B,S,S,3]
    const sv = tf.slice(out.embedding, [0, 0], [B, -1]) as tf.Tensor2D; // [B,E]
    const st = tf.slice(out.embedding, [B, 0], [B, -1]) as tf.Tensor2D; // [B,E]
    const lcc = crossModalContrastiveLoss(sv, st, y, loss.margin);
    const lts = teacherStudentLoss(sv, st, tv, y);
    const llb = loadBalancingLoss(out.routings);
    kept.push(tf.keep(lcc), tf.keep(lts), tf.keep(llb));
    for (const r of out.routings) {
      taps.push(r.tap);
      kept.push(tf.keep(r.probs), tf.keep(r.expert));
    }
    return tf.add(tf.add(lcc, tf.mul(lts, loss.lambdaTs)), tf.mul(llb, loss.alpha)) as tf.Scalar;
  }, vars);
  const named: Record<string, tf.Tensor> = {};
  for (const [engineName, g] of Object.entries(grads)) named[names.get(engineName)!] = g;
  adam.apply(named, lr);
  const metrics: Record<string, number> = {
    [TRAIN_METRICS.loss]: value.dataSync()[0],
    [TRAIN_METRICS.lossCc]: kept[0].dataSync()[0],
    [TRAIN_METRICS.lossTs]: kept[1].dataSync()[0],
    [TRAIN_METRICS.lossLb]: kept[2].dataSync()[0],
    [TRAIN_METRICS.lr]: lr,
  };
  for (let i = 0; i < taps.length; i++) {
    const probs = kept[3 + 2 * i].dataSync() as Float32Array;
    const experts = kept[4 + 2 * i].dataSync() as Int32Array;
    routingMetrics(metrics, taps[i], probs, experts, model.config.numExperts);
  }
  tf.dispose([value, y, tv, ...kept, ...Object.values(grads), ...(sel ? [sel] : [])]);
  return { metrics };
}
