// Export of our models to ONNX (NCHW input 'input.1' [B,3,S,S] scaled (x - 127.5) / 127.5, like
// insightface's files): the plain backbone, and the HFR model (backbone + SSMB blocks with routing).
import { writeFileSync } from 'node:fs';
import type { IResNet } from '../../models/iresnet.ts';
import { OnnxGraphBuilder } from './onnx_graph_builder.ts';
import { emitIResNet, ONNX_INPUT, type EmitIResNetOptions } from './iresnet_onnx_graph.ts';
import { oursToInsightface } from './insightface_convert.ts';
import { encodeOnnxModel } from './onnx_proto.ts';
import type { PlainTensor } from './insightface_layout.ts';

export interface ExportOptions {
  /** fold conv->BN pairs (smaller, faster graph; default false keeps insightface's parameter names) */
  foldBn?: boolean;
}

/** Our parameters as plain PyTorch-layout tensors (reads the variables once). */
export function backboneStateDict(model: IResNet) {
  const ours = new Map<string, PlainTensor>();
  for (const [name, v] of model.params) ours.set(name, { shape: v.shape, data: v.dataSync() as Float32Array });
  return oursToInsightface(ours, model.config);
}

export function backboneGraph(model: IResNet, opts: ExportOptions & Pick<EmitIResNetOptions, 'afterStage'> = {}) {
  const b = new OnnxGraphBuilder();
  const s = model.config.inputSize;
  const x = b.input(ONNX_INPUT, ['batch', 3, s, s]);
  const emb = emitIResNet(b, backboneStateDict(model), model.config, x, opts);
  b.output(emb, 'embedding', ['batch', model.config.embeddingSize]);
  return b;
}

/** Writes the backbone alone (an insightface-layout IResNet that our importer and insightface tools read). */
export function exportBackboneToOnnx(model: IResNet, file: string, opts: ExportOptions = {}): void {
  const b = backboneGraph(model, opts);
  const bytes = encodeOnnxModel(b.toModel({ graphName: model.config.arch, metadata: { 'ssmb.kind': 'backbone', 'ssmb.config': JSON.stringify(model.config) } }));
  writeFileSync(file, bytes);
}
