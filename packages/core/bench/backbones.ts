// Per pre-trained family (dlib-resnet29, faceres-mobilenet): parameters, frozen forward img/s at batch 16,
// descriptor agreement with the package's own implementation, and what SSMB costs (the backbone alone vs
// with SSMB blocks at stem/layer1/layer2, N = 4, alternated in the same run so machine load hits both).
//   npx tsx packages/core/bench/backbones.ts [--backend wasm] [--reps 5] [--batch 16]
import { tf } from '../src/tf.ts';
import { initBackend } from '../src/backend.ts';
import { HFRModel, disposeHFROutput } from '../src/models/hfr_model.ts';
import { importPretrained, listPretrainedBackbones } from '../src/weights/pretrained.ts';
import { createPackageReference } from '../src/weights/package_reference.ts';
import { cosine } from '../src/weights/onnx/nchw.ts';
import { randomImagesNHWC } from '../src/weights/onnx/onnx_fixtures.ts';

const arg = (name: string, d: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : d;
};
const backend = await initBackend({ prefer: arg('backend', 'wasm') as never });
const REPS = Number(arg('reps', '5'));
const B = Number(arg('batch', '16'));
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const time = (fn: () => tf.Tensor | tf.Tensor[] | void) => {
  const t0 = performance.now();
  const out = fn();
  if (out) {
    const ts = Array.isArray(out) ? out : [out];
    ts[0].dataSync(); // wait for the result
    tf.dispose(ts);
  }
  return performance.now() - t0;
};

console.log(`backend ${backend}, batch ${B}, ${REPS} timed reps (median); load average ${(await import('node:os')).loadavg().map((v) => v.toFixed(1)).join(' ')}`);
for (const name of listPretrainedBackbones()) {
  const imp = importPretrained(name);
  const bb = imp.model;
  const S = bb.input.size, E = bb.embeddingSize;
  const x = tf.tensor4d(randomImagesNHWC(B, S, 3), [B, S, S, 3]);
  // agreement with the package on 4 of the images
  const ref = await createPackageReference(name);
  const four = tf.slice(x, 0, 4);
  const theirs = await ref.embed(tf.tidy(() => tf.add(tf.mul(four, 127.5), 127.5) as tf.Tensor4D));
  const ours = tf.tidy(() => bb.forward(four).dataSync() as Float32Array);
  const cos = [0, 1, 2, 3].map((i) => cosine(ours.subarray(i * E, (i + 1) * E), theirs.subarray(i * E, (i + 1) * E)));
  four.dispose();
  ref.dispose();
  const hfr = new HFRModel(bb, { taps: ['stem', 'layer1', 'layer2'], numExperts: 4 });
  tf.dispose(bb.forward(x)); // warm-up: fold cache, kernels
  disposeHFROutput(hfr.forward(x));
  const plain: number[] = [], withSsmb: number[] = [];
  for (let r = 0; r < REPS; r++) {
    plain.push(time(() => bb.forward(x)));
    withSsmb.push(time(() => {
      const o = hfr.forward(x);
      return [o.embedding, ...o.routings.flatMap((q) => [q.probs, q.expert, q.gate])];
    }));
  }
  const a = median(plain), b = median(withSsmb);
  const ssmbParams = hfr.trainableVariables.reduce((n, v) => n + v.size, 0);
  console.log(`${name}: ${bb.numParams()} parameters (${S}x${S} -> ${E}); forward ${a.toFixed(0)} ms/batch = ${(B / (a / 1000)).toFixed(1)} img/s; ` +
    `with SSMB (stem, layer1, layer2; N 4; ${ssmbParams} parameters) ${b.toFixed(0)} ms = ${(B / (b / 1000)).toFixed(1)} img/s, ratio ${(b / a).toFixed(3)}; ` +
    `cosine vs package min ${Math.min(...cos).toPrecision(10)} [plain ${plain.map((v) => v.toFixed(0)).join(',')}; ssmb ${withSsmb.map((v) => v.toFixed(0)).join(',')}]`);
  x.dispose();
  hfr.dispose();
}
