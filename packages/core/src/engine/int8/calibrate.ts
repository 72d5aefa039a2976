// Activation ranges for the int8 graphs, measured on the run's own images: the engine's embedding graph of
// the model (float, the same emission the int8 graphs rewrite) with ReduceMin/ReduceMax of every frozen
// layer's input and output as extra outputs (scalars: no activation map leaves onnxruntime), run over the
// calibration images in batches; the range of a layer is the min/max over all of them (onnxruntime's
// MinMax calibration). Images of every modality the run trains on go in: a VIS-only calibration clips the
// NIR and thermal maps, whose statistics differ. The result says how many images of each modality it saw,
// so the run can record it.
import { createSession, loadOrt, resolveThreads, type OrtLoadOptions } from '../ort_session.ts';
import type { OnnxGraphBuilder } from '../../weights/onnx/onnx_graph_builder.ts';
import { frozenLayers } from './quantize_graph.ts';
import type { Calibration, LayerRange } from './quant_params.ts';

// the types live with the quantization numbers: quantize_graph.ts reads them without importing this module
export type { Calibration, LayerRange } from './quant_params.ts';



/** What a run records of its calibration (the ranges themselves are rebuilt from the same images). */
export function describeCalibration(c: Calibration): string {
  const mods = Object.entries(c.perModality).map(([m, n]) => `${m} ${n}`).join(', ');
  return `${c.method} over ${c.images} training images (${mods}), batch ${c.batch}, ${c.ranges.size} layers`;
}

export interface CalibrationSet {
  modality: string;
  /** NHWC [N,S,S,3] scaled (v - 127.5) / 127.5 */
  images: Float32Array;
}

const minName = (layer: string, at: 'in' | 'out') => `calib_min_${at}:${layer}`;
const maxName = (layer: string, at: 'in' | 'out') => `calib_max_${at}:${layer}`;

/** Adds the min/max outputs of every frozen layer to a float graph; returns the layers and their ops. */
export function addCalibrationOutputs(b: OnnxGraphBuilder): { layer: string; op: string }[] {
  const layers = frozenLayers(b);
  for (const { index, layer, op } of layers) {
    const n = b.nodes[index];
    const at: ['in' | 'out', string][] = [['in', n.inputs[0]]];
    if (op === 'Conv') at.push(['out', n.outputs[0]]);
    for (const [where, v] of at) {
      b.output(b.op1('ReduceMin', [v], { keepdims: 0 }), minName(layer, where), []); // scalar
      b.output(b.op1('ReduceMax', [v], { keepdims: 0 }), maxName(layer, where), []); // scalar
    }
  }
  return layers.map(({ layer, op }) => ({ layer, op }));
}

export interface CalibrateOptions extends OrtLoadOptions {
  /** images per run; fewer calibration images than this are refused */
  batch: number;
  threads?: number;
}

/** Checks the calibration images (every set NHWC, none empty, at least `batch` in all); counts them. */
export function checkCalibrationSets(sets: CalibrationSet[], imageSize: number, batch: number): { perModality: Record<string, number>; total: number } {
  if (!Number.isInteger(batch) || batch < 1) throw new Error(`int8 calibration: batch is ${batch}; expected a positive integer`);
  if (!Array.isArray(sets) || sets.length === 0) throw new Error('int8 calibration: no image sets; expected the run\'s training images of every modality');
  const per = imageSize * imageSize * 3;
  const perModality: Record<string, number> = {};
  for (const s of sets) {
    if (!(s.images instanceof Float32Array) || s.images.length % per !== 0) {
      throw new Error(`int8 calibration: the ${s.modality} images have ${s.images?.length ?? 'no'} values; expected N*${imageSize}*${imageSize}*3 float32 values (NHWC)`);
    }
    if (s.images.length === 0) throw new Error(`int8 calibration: no ${s.modality} images; every modality of the run calibrates (a missing one would have its maps clipped)`);
    perModality[s.modality] = (perModality[s.modality] ?? 0) + s.images.length / per;
  }
  const total = Object.values(perModality).reduce((a, c) => a + c, 0);
  if (total < batch) throw new Error(`int8 calibration: ${total} images (${Object.entries(perModality).map(([m, n]) => `${m} ${n}`).join(', ')}); expected at least the batch, ${batch}`);
  return { perModality, total };
}

/**
 * Runs the instrumented graph `bytes` (built by the caller with addCalibrationOutputs; input 'images'
 * NHWC, dynamic batch) over every set, in batches; returns the ranges.
 */
export async function calibrateGraph(bytes: Uint8Array, layers: { layer: string; op: string }[], imageSize: number, sets: CalibrationSet[], opts: CalibrateOptions): Promise<Calibration> {
  const { batch } = opts;
  const { perModality, total } = checkCalibrationSets(sets, imageSize, batch);
  const per = imageSize * imageSize * 3;
  const ort = await loadOrt(opts);
  const session = await createSession(ort, bytes, { provider: 'cpu', threads: resolveThreads(opts.threads) }, 'int8 calibration graph');
  const ranges = new Map<string, LayerRange>(layers.map(({ layer }) => [layer, { inMin: Infinity, inMax: -Infinity, outMin: NaN, outMax: NaN }]));
  try {
    for (const s of sets) {
      const n = s.images.length / per;
      for (let i = 0; i < n; i += batch) {
        const m = Math.min(batch, n - i);
        const x = new ort.Tensor('float32', s.images.subarray(i * per, (i + m) * per), [m, imageSize, imageSize, 3]);
        const out = await session.run({ images: x });
        const v = (name: string) => (out[name].data as Float32Array)[0];
        for (const { layer, op } of layers) {
          const r = ranges.get(layer)!;
          r.inMin = Math.min(r.inMin, v(minName(layer, 'in')));
          r.inMax = Math.max(r.inMax, v(maxName(layer, 'in')));
          if (op === 'Conv') {
            r.outMin = Number.isNaN(r.outMin) ? v(minName(layer, 'out')) : Math.min(r.outMin, v(minName(layer, 'out')));
            r.outMax = Number.isNaN(r.outMax) ? v(maxName(layer, 'out')) : Math.max(r.outMax, v(maxName(layer, 'out')));
          }
        }
      }
    }
  } finally {
    await session.release();
  }
  return { method: 'minmax', images: total, perModality, batch, ranges };
}
