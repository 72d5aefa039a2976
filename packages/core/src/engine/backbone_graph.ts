// The engine's one door to a backbone: only the Backbone interface (models/backbone.ts). Every ONNX
// emission of the frozen backbone goes through emitBackbone (`backbone.emitOnnx` with `afterTap`, which
// is how SSMB blocks are inserted), and every fact the engine needs about the network (input size,
// embedding width, the spatial side of a tap) through the accessors below. A new family trains on this
// engine when its emitOnnx uses ops the gradient table has (ops/); otherwise deriveVjp names the op.
import { requireTap, type Backbone, type EmitOnnxOptions } from '../models/backbone.ts';
import type { OnnxGraphBuilder } from '../weights/onnx/onnx_graph_builder.ts';

export type EngineBackbone = Backbone;

/** Replaces a tap's NCHW value (how SSMB blocks are inserted); returns the value the network continues with. */
export type AfterTap = NonNullable<EmitOnnxOptions['afterTap']>;

/** Emits the frozen backbone on NCHW canonical input `x`; returns the embedding value [B,E]. */
export function emitBackbone(b: OnnxGraphBuilder, backbone: EngineBackbone, x: string, opts: { afterTap?: AfterTap; foldBn?: boolean } = {}): string {
  return backbone.emitOnnx(b, x, { afterTap: opts.afterTap, foldBn: opts.foldBn });
}

export const inputSizeOf = (backbone: EngineBackbone): number => backbone.input.size;
export const embeddingSizeOf = (backbone: EngineBackbone): number => backbone.embeddingSize;
export const tapSpatialOf = (backbone: EngineBackbone, tap: string): number => requireTap(backbone, tap).spatial;
export const backboneNameOf = (backbone: EngineBackbone): string => backbone.name;
