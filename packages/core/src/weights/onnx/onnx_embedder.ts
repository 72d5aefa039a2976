// onnxruntime-node as an embedding-extraction engine. Callers hand over our usual input (NHWC, scaled
// (x - 127.5) / 127.5) whatever the file expects: NCHW files are transposed, files that normalise
// their own input get 0..255 pixels back.
import { readFileSync } from 'node:fs';
import '../../engine/ort_env.ts'; // before onnxruntime-node: telemetry off
import ort from 'onnxruntime-node';
import { decodeOnnxModel } from './onnx_proto.ts';
import { inputNormalisation } from './import_onnx_graph.ts';
import { nhwcToNchw } from './nchw.ts';
import { ensureRuntimeDir, providerEntry } from '../../engine/gpu.ts';

export interface Embedder {
  /** 'onnxruntime' or the tfjs engine name */
  readonly engine: string;
  readonly inputSize: number;
  readonly embeddingSize: number;
  /** x: NHWC batch [B,S,S,3] scaled (v - 127.5) / 127.5 -> embeddings [B,E] row-major */
  embed(x: Float32Array): Promise<Float32Array>;
  dispose(): Promise<void>;
}

export interface OnnxRunResult {
  embedding: Float32Array;
  /** every other graph output (e.g. `routing_stem` expert indices of an exported HFR model) */
  extra: Record<string, Float32Array | BigInt64Array | Int32Array>;
}

export interface OnnxEmbedder extends Embedder {
  readonly layout: 'NCHW' | 'NHWC';
  /** the file's fixed batch size (e.g. 1 for a batch-1 export), null when its batch dimension is symbolic */
  readonly fixedBatch: number | null;
  readonly outputNames: readonly string[];
  run(x: Float32Array): Promise<OnnxRunResult>;
}

export interface OnnxEmbedderOptions {
  /** onnxruntime intra-op threads (default: onnxruntime's choice) */
  threads?: number;
  /** graph output holding the embedding (default 'embedding' if present, else the first output) */
  outputName?: string;
  /** onnxruntime execution provider, already chosen (engine/ort_session.ts chooseProvider); default cpu */
  provider?: string;
}

/** `source`: an .onnx file path, or the model bytes. */
export async function createOnnxEmbedder(source: string | Uint8Array, opts: OnnxEmbedderOptions = {}): Promise<OnnxEmbedder> {
  let bytes: Uint8Array;
  const file = typeof source === 'string' ? source : 'ONNX model (in memory)';
  try {
    bytes = typeof source === 'string' ? readFileSync(source) : source;
  } catch (err) {
    throw new Error(`ONNX embedder: cannot read '${file}' (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); expected an .onnx model file`);
  }
  const model = decodeOnnxModel(bytes, file);
  if (model.graph.inputs.length !== 1) throw new Error(`${file}: expected one image input, found ${model.graph.inputs.map((i) => i.name).join(', ')}`);
  const input = model.graph.inputs[0];
  const dims = input.shape ?? [];
  const layout = dims[1] === 3 ? 'NCHW' : dims[3] === 3 ? 'NHWC' : null;
  if (!layout || typeof dims[2] !== 'number') throw new Error(`${file}: input '${input.name}' has shape [${dims}]; expected [B,3,S,S] or [B,S,S,3]`);
  const inputSize = dims[2];
  // A file exported with a fixed batch (often 1) only runs that batch size: feed it chunks of that size.
  const fixedBatch = typeof dims[0] === 'number' && dims[0] > 0 ? dims[0] : null;
  // Our own exports (metadata 'ssmb.kind') take the canonical input whatever their first ops are (a backbone
  // with another native normalisation converts inside its graph); foreign files are inspected.
  const rawPixels = model.metadata['ssmb.kind'] === undefined && inputNormalisation(model) === 'raw-pixels';
  const outputNames = model.graph.outputs.map((o) => o.name);
  const outName = opts.outputName ?? (outputNames.includes('embedding') ? 'embedding' : outputNames[0]);
  const outInfo = model.graph.outputs.find((o) => o.name === outName);
  if (!outInfo) throw new Error(`${file}: no graph output '${outName}' (outputs: ${outputNames.join(', ')})`);
  const embeddingSize = Number(outInfo.shape?.[1]);
  if (opts.provider === 'webgpu') ensureRuntimeDir();
  const session = await ort.InferenceSession.create(bytes, {
    ...(opts.threads ? { intraOpNumThreads: opts.threads, interOpNumThreads: 1 } : {}),
    ...(opts.provider ? { executionProviders: [providerEntry(opts.provider) as ort.InferenceSession.ExecutionProviderConfig] } : {}),
    graphOptimizationLevel: 'all',
  });
  const perImage = inputSize * inputSize * 3;

  type OutData = Float32Array | BigInt64Array | Int32Array;
  async function runBatch(x: Float32Array, b: number): Promise<Record<string, OutData>> {
    let feed = rawPixels ? x.map((v) => v * 127.5 + 127.5) : x;
    if (layout === 'NCHW') feed = nhwcToNchw(feed, b, inputSize, inputSize, 3);
    const shape = layout === 'NCHW' ? [b, 3, inputSize, inputSize] : [b, inputSize, inputSize, 3];
    const out = await session.run({ [input.name]: new ort.Tensor('float32', feed, shape) });
    return Object.fromEntries(outputNames.map((n) => [n, out[n].data as OutData]));
  }

  async function run(x: Float32Array): Promise<OnnxRunResult> {
    if (x.length === 0 || x.length % perImage !== 0) {
      throw new Error(`ONNX embedder: input has ${x.length} values; expected B*${inputSize}*${inputSize}*3 (NHWC)`);
    }
    const b = x.length / perImage;
    let outs: Record<string, OutData>;
    if (fixedBatch === null || fixedBatch === b) outs = await runBatch(x, b);
    else {
      // chunks of the file's batch size; the last one padded with zeros, whose outputs are dropped
      const parts: Record<string, OutData[]> = Object.fromEntries(outputNames.map((n) => [n, []]));
      for (let i = 0; i < b; i += fixedBatch) {
        const take = Math.min(fixedBatch, b - i);
        const chunk = new Float32Array(fixedBatch * perImage);
        chunk.set(x.subarray(i * perImage, (i + take) * perImage));
        const o = await runBatch(chunk, fixedBatch);
        for (const n of outputNames) parts[n].push(o[n].slice(0, (o[n].length / fixedBatch) * take) as OutData);
      }
      outs = Object.fromEntries(outputNames.map((n) => [n, concat(parts[n])]));
    }
    const extra: OnnxRunResult['extra'] = {};
    for (const name of outputNames) if (name !== outName) extra[name] = outs[name];
    return { embedding: outs[outName] as Float32Array, extra };
  }

  return {
    engine: 'onnxruntime',
    layout,
    fixedBatch,
    inputSize,
    embeddingSize,
    outputNames,
    run,
    embed: async (x) => (await run(x)).embedding,
    dispose: () => session.release(),
  };
}

function concat<T extends Float32Array | BigInt64Array | Int32Array>(parts: T[]): T {
  const total = parts.reduce((a, p) => a + p.length, 0);
  const Ctor = parts[0].constructor as new (n: number) => T;
  const out = new Ctor(total);
  let at = 0;
  for (const p of parts) {
    (out as unknown as { set(a: ArrayLike<unknown>, o: number): void }).set(p, at);
    at += p.length;
  }
  return out;
}
