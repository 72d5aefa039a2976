// Model-level measurements for bench.ts: IResNet-18 inference, SSMB overhead and the SSMB training step.
import { tf } from '../src/index.ts';
import { createIResNet, requireTap } from '../src/models/registry.ts';
import { HFRModel } from '../src/models/hfr_model.ts';
import { crossModalContrastiveLoss } from '../src/losses/cross_modal_contrastive.ts';
import { teacherStudentLoss } from '../src/losses/teacher_student.ts';
import { loadBalancingLoss } from '../src/losses/load_balancing.ts';
import { timeIt } from './timing.ts';


export const BATCH = 16;
export const INPUT = 112;

export interface InferenceResult {
  backboneMs: number;
  ssmbMs: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const imgPerSec = (images: number, ms: number) => images / (ms / 1e3);

export async function benchInference(reps: number): Promise<InferenceResult> {
  console.log(`\n== IResNet-18 inference (frozen, batch ${BATCH}, ${INPUT}x${INPUT}) and SSMB overhead`);
  const hfr = new HFRModel(createIResNet('iresnet18', { frozen: true, seed: 0 }), {
    taps: ['stem', 'layer1', 'layer2'], numExperts: 4, kind: 'style', seed: 0,
  });
  const x = tf.randomNormal([BATCH, INPUT, INPUT, 3]) as tf.Tensor4D;
  const plain = () => hfr.teacherForward(x);
  const withSsmb = () => {
    const out = hfr.forward(x);
    return [out.embedding, ...out.routings.flatMap((r) => [r.probs, r.expert, r.gate])];
  };
  // Interleaved single runs, medians: the machine is shared, so load drifts between the two otherwise.
  timeIt(plain, 0, 1); // warm-up (first runs fold BN and build XNNPACK operators)
  timeIt(withSsmb, 0, 1);
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < reps; i++) {
    a.push(timeIt(plain, 1, 0));
    b.push(timeIt(withSsmb, 1, 0));
  }
  const backboneMs = median(a);
  const ssmbMs = median(b);
  console.log(`iresnet18 forward:            ${backboneMs.toFixed(0)} ms/batch = ${imgPerSec(BATCH, backboneMs).toFixed(2)} img/s`);
  console.log(`iresnet18 + SSMB forward:     ${ssmbMs.toFixed(0)} ms/batch = ${imgPerSec(BATCH, ssmbMs).toFixed(2)} img/s`);
  const overhead = ssmbMs / backboneMs - 1;
  console.log(`SSMB overhead: ratio ${(ssmbMs / backboneMs).toFixed(3)} (${(overhead * 100).toFixed(1)}%; target <= 5%: ` +
    `${overhead <= 0.05 ? 'met' : 'NOT met'}) [per-run ms plain ${a.map((v) => v.toFixed(0)).join(',')}; ssmb ${b.map((v) => v.toFixed(0)).join(',')}]`);
  // The same overhead from its parts: the three SSMB blocks alone on tap-shaped inputs (small, steady
  // timings) against the backbone, less sensitive to load drift than the difference of two long runs.
  let blocksMs = 0;
  for (const [tap, block] of hfr.blocks) {
    const t = requireTap(hfr.backbone, tap);
    const h = tf.randomNormal([BATCH, t.spatial, t.spatial, t.channels]) as tf.Tensor4D;
    blocksMs += timeIt(() => {
      const { y, routing } = block.apply(h);
      return [y, routing.probs, routing.expert, routing.gate];
    }, reps);
    h.dispose();
  }
  console.log(`SSMB blocks alone: ${blocksMs.toFixed(0)} ms/batch -> overhead ${((100 * blocksMs) / backboneMs).toFixed(1)}% of the backbone`);
  x.dispose();
  hfr.dispose();
  return { backboneMs, ssmbMs };
}

/**
 * One SSMB training step as the trainer runs it: batch of BATCH images = BATCH/2 (v, t) pairs, half
 * genuine; teacher T(v) without a tape; student on all BATCH images; L = L_cc + L_ts + 0.01 L_lb; Adam
 * on the SSMB parameters only (the backbone is frozen, so gradients flow back to the stem SSMB as dx only).
 */
export async function benchTraining(reps: number): Promise<void> {
  const pairs = BATCH / 2;
  console.log(`\n== SSMB training step (frozen iresnet18, SSMB at stem/layer1/layer2, N=4, batch ${BATCH} images = ` +
    `${pairs} pairs, Adam)`);
  const hfr = new HFRModel(createIResNet('iresnet18', { frozen: true, seed: 0 }), {
    taps: ['stem', 'layer1', 'layer2'], numExperts: 4, kind: 'style', seed: 0,
  });
  const v = tf.randomNormal([pairs, INPUT, INPUT, 3]) as tf.Tensor4D;
  const t = tf.randomNormal([pairs, INPUT, INPUT, 3]) as tf.Tensor4D;
  const y = Array.from({ length: pairs }, (_, i) => (i % 2 === 0 ? 1 : 0));
  const vt = tf.concat([v, t], 0) as tf.Tensor4D; // [BATCH,S,S,3]
  const optimizer = tf.train.adam(1e-3);
  const vars = hfr.trainableVariables;
  // `cachedTv`: the teacher embeddings precomputed once (the trainer's TeacherCache), so no teacher forward.
  const step = (cachedTv?: tf.Tensor2D): tf.Tensor => {
    const tv = cachedTv ?? hfr.teacherForward(v); // [pairs,E], no tape
    const cost = optimizer.minimize(() => {
      const out = hfr.forward(vt);
      const [sv, st] = tf.split(out.embedding, 2, 0) as [tf.Tensor2D, tf.Tensor2D];
      const lcc = crossModalContrastiveLoss(sv, st, y);
      const lts = teacherStudentLoss(sv, st, tv, y);
      const llb = loadBalancingLoss(out.routings);
      return tf.addN([lcc, lts, tf.mul(0.01, llb)]) as tf.Scalar;
    }, true, vars) as tf.Scalar;
    if (!cachedTv) tv.dispose();
    return cost;
  };
  step().dispose(); // warm-up: folds BN into the frozen convs and creates Adam's slots
  const before = tf.memory().numTensors;
  const stepMs = timeIt(() => step(), reps, 0);
  const leaked = tf.memory().numTensors - before;
  const rate = imgPerSec(BATCH, stepMs);
  console.log(`training step: ${stepMs.toFixed(0)} ms/step = ${rate.toFixed(2)} img/s (target >= 4 img/s: ` +
    `${rate >= 4 ? 'met' : 'NOT met'}); tensor count change over ${reps} steps: ${leaked}`);
  const cachedTv = hfr.teacherForward(v); // [pairs,E]
  const cachedMs = timeIt(() => step(cachedTv), reps, 0);
  console.log(`training step without the teacher forward (teacher embeddings cached): ${cachedMs.toFixed(0)} ms/step = ` +
    `${imgPerSec(BATCH, cachedMs).toFixed(2)} img/s (${(stepMs / cachedMs).toFixed(2)}x)`);
  cachedTv.dispose();

  // Where the time goes: one profiled step, kernel time per op.
  const prof = await tf.profile(() => step());
  const perKernel = new Map<string, number>();
  for (const k of prof.kernels) {
    // Op wrappers and customGrad scopes ('unnamed scope'): the kernels inside them are listed too.
    if (k.name.endsWith('__op') || k.name === 'unnamed scope') continue;
    perKernel.set(k.name, (perKernel.get(k.name) ?? 0) + Number(k.kernelTimeMs));
  }
  const total = [...perKernel.values()].reduce((s, ms) => s + ms, 0);
  console.log('profile of one step (tf.profile kernel time, wall clock: inflated by load, shares still tell):');
  for (const [name, ms] of [...perKernel].sort((p, q) => q[1] - p[1]).slice(0, 10)) {
    console.log(`  ${name.padEnd(24)} ${ms.toFixed(0).padStart(7)}  ${((100 * ms) / total).toFixed(1)}%`);
  }
  tf.dispose([v, t, vt]);
  optimizer.dispose();
  hfr.dispose();
}
