// onnxruntime embeddings of our models built in memory by the engine (no export file): the frozen backbone
// alone (teacher embeddings T(v)) or with its SSMB blocks (evaluation, routing from the graph's outputs).
// Same Embedder interface as core's tfjs and file-based onnxruntime embedders.
import type { Embedder } from '../weights/onnx/onnx_embedder.ts';
import { createSession, loadOrt, resolveProvider, resolveThreads, type OrtLoadOptions } from './ort_session.ts';
import { buildInferenceGraph, routingOutputName, type EngineModel } from './student_graph.ts';
import type { EngineBackbone } from './backbone_graph.ts';

export interface RoutedEmbedding {
  embedding: Float32Array; // [B,E]
  /** tap -> expert chosen per image [B], network order; empty for the backbone alone */
  experts: Map<string, Int32Array>;
}

export interface EngineEmbedder extends Embedder {
  readonly provider: string;
  readonly threads: number;
  readonly taps: readonly string[];
  /** x: NHWC [B,S,S,3] scaled (v - 127.5) / 127.5 */
  embedRouted(x: Float32Array): Promise<RoutedEmbedding>;
}

export interface EngineEmbedderOptions extends OrtLoadOptions {
  threads?: number;
  provider?: string;
  foldBn?: boolean;
}

export async function createEngineEmbedder(model: EngineModel | { backbone: EngineBackbone }, opts: EngineEmbedderOptions = {}): Promise<EngineEmbedder> {
  const ort = await loadOrt(opts);
  const provider = resolveProvider(ort, opts.provider);
  const threads = resolveThreads(opts.threads);
  const g = buildInferenceGraph(model, { foldBn: opts.foldBn });
  const session = await createSession(ort, g.bytes, { provider, threads }, `embedding graph${g.taps.length ? ` with SSMB at ${g.taps.join(', ')}` : ''}`);
  const S = g.imageSize, per = S * S * 3;
  const run = async (x: Float32Array): Promise<RoutedEmbedding> => {
    if (!(x instanceof Float32Array) || x.length === 0 || x.length % per !== 0) {
      throw new Error(`onnxruntime embedder: input has ${x?.length ?? 'no'} values; expected B*${S}*${S}*3 float32 values (NHWC)`);
    }
    const out = await session.run({ images: new ort.Tensor('float32', x, [x.length / per, S, S, 3]) });
    const experts = new Map(g.taps.map((t) => [t, Int32Array.from(out[routingOutputName(t)].data as BigInt64Array, Number)] as const));
    return { embedding: out.embedding.data as Float32Array, experts };
  };
  return {
    engine: 'onnxruntime', provider, threads, taps: g.taps,
    inputSize: S, embeddingSize: g.embeddingSize,
    embedRouted: run,
    embed: async (x) => (await run(x)).embedding,
    dispose: () => session.release(),
  };
}
