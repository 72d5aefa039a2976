// onnxruntime embeddings of our models built in memory by the engine (no export file): the frozen backbone
// alone (teacher embeddings T(v)) or with its SSMB blocks (evaluation, routing from the graph's outputs).
// Same Embedder interface as core's tfjs and file-based onnxruntime embedders.
import type { Embedder } from '../weights/onnx/onnx_embedder.ts';
import { checkPlacement, chooseProvider, createSession, loadOrt, resolveThreads, type GraphSessionOptions, type OrtLoadOptions } from './ort_session.ts';
import type { AdapterInfo } from './gpu.ts';
import type { Placement } from './placement.ts';
import { buildInferenceGraph, routingOutputName, SELECT_INPUT, type EngineModel } from './student_graph.ts';
import type { EngineBackbone } from './backbone_graph.ts';
import { openWithPrecision, type PrecisionDescription, type PrecisionOptions } from './int8/precision.ts';
import { weightCacheOf } from './int8/quantize_graph.ts';

export interface RoutedEmbedding {
  embedding: Float32Array; // [B,E]
  /** tap -> expert chosen per image [B], network order; empty for the backbone alone */
  experts: Map<string, Int32Array>;
}

export interface EngineEmbedder extends Embedder {
  readonly provider: string;
  /** why this provider (auto's decision, or 'configured') */
  readonly providerReason: string;
  readonly adapter: AdapterInfo | null;
  /** on a GPU provider, where onnxruntime placed the nodes (null: cpu, or not counted) */
  readonly placement: Placement | null;
  readonly threads: number;
  readonly taps: readonly string[];
  /** experts N of the label selection (label-selected blocks), null = the blocks route themselves */
  readonly selectExperts: number | null;
  /** fp32 or int8 (eval.precision), why, and the calibration used */
  readonly precision: PrecisionDescription;
  /** x: NHWC [B,S,S,3] scaled (v - 127.5) / 127.5; select: [B,N] 0/1 rows for label-selected blocks */
  embedRouted(x: Float32Array, select?: Float32Array): Promise<RoutedEmbedding>;
}

export interface EngineEmbedderOptions extends OrtLoadOptions, Pick<GraphSessionOptions, 'checkPlacement' | 'warn'>, PrecisionOptions {
  threads?: number;
  /** execution provider (config eval.provider / train.provider; env SSMB_ORT_PROVIDER wins) */
  provider?: string;
  /** the config key named in provider errors (default train.provider) */
  providerKey?: string;
  foldBn?: boolean;
}

export async function createEngineEmbedder(model: EngineModel | { backbone: EngineBackbone }, opts: EngineEmbedderOptions = {}): Promise<EngineEmbedder> {
  const ort = await loadOrt(opts);
  const choice = await chooseProvider(ort, opts.provider, { what: opts.providerKey });
  const provider = choice.name;
  const threads = resolveThreads(opts.threads);
  const { value: { g, session, what }, precision } = await openWithPrecision({ precisionKey: 'eval.precision', weights: weightCacheOf(model.backbone), ...opts }, async (int8) => {
    const g = buildInferenceGraph(model, { foldBn: opts.foldBn, provider, int8 });
    const what = `${int8 ? 'int8 ' : ''}embedding graph${g.taps.length ? ` with SSMB at ${g.taps.join(', ')}` : ''}`;
    return { g, what, session: await createSession(ort, g.bytes, { provider, threads }, what), int8Layers: g.int8?.layers.length ?? 0 };
  });
  const placement = await checkPlacement(g.bytes, provider, what, opts);
  const S = g.imageSize, per = S * S * 3;
  const N = g.selectExperts;
  const run = async (x: Float32Array, select?: Float32Array): Promise<RoutedEmbedding> => {
    if (!(x instanceof Float32Array) || x.length === 0 || x.length % per !== 0) {
      throw new Error(`onnxruntime embedder: input has ${x?.length ?? 'no'} values; expected B*${S}*${S}*3 float32 values (NHWC)`);
    }
    const B = x.length / per;
    const feeds: Record<string, InstanceType<typeof ort.Tensor>> = { images: new ort.Tensor('float32', x, [B, S, S, 3]) };
    if (N !== null) {
      if (!(select instanceof Float32Array) || select.length !== B * N) throw new Error(`onnxruntime embedder: the blocks choose their expert by the modality label; select has ${select?.length ?? 'no'} values, expected [${B},${N}]`);
      feeds[SELECT_INPUT] = new ort.Tensor('float32', select, [B, N]);
    } else if (select) {
      throw new Error('onnxruntime embedder: select was given, but the blocks route themselves (no label selection)');
    }
    const out = await session.run(feeds);
    const experts = new Map(g.taps.map((t) => [t, Int32Array.from(out[routingOutputName(t)].data as BigInt64Array, Number)] as const));
    return { embedding: out.embedding.data as Float32Array, experts };
  };
  return {
    engine: 'onnxruntime', provider, providerReason: choice.reason, adapter: choice.adapter, placement, threads, taps: g.taps, selectExperts: N, precision,
    inputSize: S, embeddingSize: g.embeddingSize,
    embedRouted: run,
    embed: async (x) => (await run(x)).embedding, // label-selected models need embedRouted's select
    dispose: () => session.release(),
  };
}
