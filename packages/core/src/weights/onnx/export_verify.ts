// Checks an exported ONNX file against the model it came from: per-image embedding cosine and, for HFR
// models, the per-block expert choice.
import { tf } from '../../tf.ts';
import type { Backbone } from '../../models/backbone.ts';
import { createOnnxEmbedder } from './onnx_embedder.ts';
import { routingOutputName, type HfrExportable } from './onnx_export.ts';
import { cosine } from './nchw.ts';

export interface ExportCheck {
  cosines: number[];
  minCosine: number;
  /** per block tap: share of images whose chosen expert agrees (absent for a plain backbone) */
  routingAgreement: Record<string, number>;
  passed: boolean;
}

function isHfr(m: HfrExportable | Backbone): m is HfrExportable {
  return 'backbone' in m && 'blocks' in m;
}

/** `images` NHWC scaled [B,S,S,3]. Passes when every cosine >= threshold and every routing agrees fully. */
/** `provider`: the onnxruntime provider that runs the file (default cpu). */
export async function checkOnnxExport(model: HfrExportable | Backbone, file: string, images: Float32Array, threshold = 0.9999, provider?: string): Promise<ExportCheck> {
  const backbone = isHfr(model) ? model.backbone : model;
  const s = backbone.input.size;
  const e = backbone.embeddingSize;
  const b = images.length / (s * s * 3);
  const experts = new Map<string, number[]>();
  const x = tf.tensor4d(images, [b, s, s, 3]);
  const y = backbone.forward(x, {
    tapHook: (tap, h) => {
      if (!isHfr(model)) return;
      const block = model.blocks.get(tap);
      if (!block) return;
      const r = block.apply(h);
      experts.set(tap, Array.from(r.routing.expert.dataSync()));
      tf.dispose([r.routing.probs, r.routing.expert, r.routing.gate]);
      return r.y;
    },
  });
  const ours = y.dataSync() as Float32Array;
  tf.dispose([x, y]);
  const ort = await createOnnxEmbedder(file, { provider });
  try {
    const r = await ort.run(images);
    const cosines = Array.from({ length: b }, (_, i) => cosine(ours.subarray(i * e, (i + 1) * e), r.embedding.subarray(i * e, (i + 1) * e)));
    const routingAgreement: Record<string, number> = {};
    for (const [tap, mine] of experts) {
      const theirs = r.extra[routingOutputName(tap)];
      if (!theirs) throw new Error(`${file}: no output ${routingOutputName(tap)}; was it exported with its SSMB blocks?`);
      routingAgreement[tap] = mine.filter((k, i) => Number(theirs[i]) === k).length / b;
    }
    const minCosine = Math.min(...cosines);
    return { cosines, minCosine, routingAgreement, passed: minCosine >= threshold && Object.values(routingAgreement).every((a) => a === 1) };
  } finally {
    await ort.dispose();
  }
}
