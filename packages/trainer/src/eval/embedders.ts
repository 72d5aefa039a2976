// Evaluation engines behind core's Embedder interface: `tfjs` runs our model (the default);
// `onnxruntime` exports it to a temporary ONNX file with core's exporter and runs that with
// onnxruntime-node. Routing comes from the engine that embeds: tfjs from HFRModel.forward, onnxruntime
// from the exported graph's `routing_<tap>` outputs (the expert each block chose), so the routing table
// of an onnxruntime evaluation is what the exported file decides.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  createOnnxEmbedder, createTfjsEmbedder, exportBackboneToOnnx, exportHfrModelToOnnx, HFRModel, routingOutputName, tf,
  type Backbone, type Embedder,
} from '@ssmb/core';

import type { Config } from '../config.ts';

export type EvalEngine = Config['eval']['engine'];

export interface RoutedEmbeddings {
  embedding: Float32Array; // [B,E]
  /** block (tap) -> expert chosen per image [B], in network order; empty for a plain backbone */
  experts: Map<string, Int32Array>;
}

/** core's Embedder plus the routing decisions of the same forward pass. */
export interface EvalEmbedder extends Embedder {
  /** what the store records: 'onnxruntime' or 'tfjs-<tf backend>' */
  readonly label: string;
  /** x: NHWC [B,S,S,3] scaled (v - 127.5) / 127.5 */
  embedRouted(x: Float32Array): Promise<RoutedEmbeddings>;
}

function backboneOf(model: HFRModel | Backbone): Backbone {
  return model instanceof HFRModel ? model.backbone : model;
}

export function tfjsEvalEmbedder(model: HFRModel | Backbone): EvalEmbedder {
  const backbone = backboneOf(model);
  backbone.setFrozen(true);
  const size = backbone.input.size;
  const base = createTfjsEmbedder({
    inputSize: size,
    embeddingSize: backbone.embeddingSize,
    forward: (x) => (model instanceof HFRModel ? model.forward(x).embedding : model.forward(x)), // [B,E]; inside core's tidy
  });
  const routed = async (x: Float32Array): Promise<RoutedEmbeddings> => {
    if (!(model instanceof HFRModel)) return { embedding: await base.embed(x), experts: new Map() };
    const per = size * size * 3;
    if (x.length === 0 || x.length % per !== 0) throw new Error(`tfjs embedder: input has ${x.length} values; expected B*${size}*${size}*3 (NHWC)`);
    let taps: string[] = [];
    const [e, ...ks] = tf.tidy(() => {
      const out = model.forward(tf.tensor4d(x, [x.length / per, size, size, 3])); // [B,S,S,3] -> [B,E]
      taps = out.routings.map((r) => r.tap);
      return [out.embedding, ...out.routings.map((r) => r.expert)] as tf.Tensor[]; // [B,E], [B] per block
    });
    try {
      const embedding = (await e.data()) as Float32Array;
      const experts = new Map<string, Int32Array>();
      for (let j = 0; j < ks.length; j++) experts.set(taps[j], Int32Array.from(await ks[j].data()));
      return { embedding, experts };
    } finally {
      tf.dispose([e, ...ks]);
    }
  };
  return { ...base, label: `tfjs-${base.engine}`, embedRouted: routed };
}

/** Exports the model (unfolded BN: the same arithmetic as ours) and opens it with onnxruntime. */
export async function onnxEvalEmbedder(model: HFRModel | Backbone): Promise<EvalEmbedder> {
  const dir = mkdtempSync(path.join(tmpdir(), 'ssmb-eval-onnx-'));
  const file = path.join(dir, 'model.onnx');
  let ort;
  try {
    if (model instanceof HFRModel) exportHfrModelToOnnx(model, file);
    else exportBackboneToOnnx(model, file);
    ort = await createOnnxEmbedder(file);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const session = ort;
  // the graph's routing outputs are in network order
  const taps = session.outputNames.filter((n) => n.startsWith(routingOutputName(''))).map((n) => n.slice(routingOutputName('').length));
  return {
    engine: session.engine,
    label: session.engine,
    inputSize: session.inputSize,
    embeddingSize: session.embeddingSize,
    embed: (x) => session.embed(x),
    async embedRouted(x) {
      const r = await session.run(x);
      const experts = new Map(taps.map((t) => [t, Int32Array.from(r.extra[routingOutputName(t)] as BigInt64Array, Number)] as const));
      return { embedding: r.embedding, experts };
    },
    async dispose() {
      try {
        await session.dispose();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

export async function createEvalEmbedder(model: HFRModel | Backbone, engine: EvalEngine): Promise<EvalEmbedder> {
  return engine === 'onnxruntime' ? onnxEvalEmbedder(model) : tfjsEvalEmbedder(model);
}

/** Runs `fn` with an embedder of the model's current weights and disposes it (and its temp file) after. */
export async function withEvalEmbedder<T>(model: HFRModel | Backbone, engine: EvalEngine, fn: (e: EvalEmbedder) => Promise<T>): Promise<T> {
  const e = await createEvalEmbedder(model, engine);
  try {
    return await fn(e);
  } finally {
    await e.dispose();
  }
}
