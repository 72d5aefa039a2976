// Export of our models to ONNX (NCHW input 'input.1' [B,3,S,S] scaled (x - 127.5) / 127.5, like
// insightface's files): the plain backbone, and the HFR model (backbone + SSMB blocks with routing).
import { writeFileSync } from 'node:fs';
import type { IResNet } from '../../models/iresnet.ts';
import { OnnxGraphBuilder } from './onnx_graph_builder.ts';
import { emitIResNet, ONNX_INPUT, type EmitIResNetOptions } from './iresnet_onnx_graph.ts';
import { oursToInsightface } from './insightface_convert.ts';
import { encodeOnnxModel, ONNX_INT64 } from './onnx_proto.ts';
import type { PlainTensor } from './insightface_layout.ts';
import type { SSMBBlock } from '../../ssmb/ssmb_block.ts';
import type { TapName } from '../../models/iresnet_config.ts';
import { emitSsmbBlock, ssmbBlockTensors } from './ssmb_onnx_graph.ts';

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

export function backboneGraph(model: IResNet, opts: ExportOptions & Pick<EmitIResNetOptions, 'afterStage'> = {}, b = new OnnxGraphBuilder()) {
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

/** What the HFR exporter needs (an HFRModel has it): the frozen backbone and its SSMB blocks by tap. */
export interface HfrExportable {
  backbone: IResNet;
  blocks: ReadonlyMap<TapName, SSMBBlock>;
}

/** Output names of an exported HFR model: 'embedding' [B,E] plus one int64 [B] per block. */
export const routingOutputName = (tap: string) => `routing_${tap}`;

/**
 * Writes backbone + SSMB blocks as one ONNX graph. Outputs: 'embedding' [B,E] and, per block,
 * 'routing_<tap>' (int64 [B], the chosen expert) and 'probs_<tap>' ([B,N] router probabilities).
 */
export function exportHfrModelToOnnx(model: HfrExportable, file: string, opts: ExportOptions = {}): void {
  const byTap = model.blocks as ReadonlyMap<string, SSMBBlock>;
  const routed: { tap: string; expert: string; probs: string; n: number }[] = [];
  const b = new OnnxGraphBuilder();
  backboneGraph(model.backbone, {
    ...opts,
    afterStage: (tap, x) => {
      const block = byTap.get(tap);
      if (!block) return x;
      const t = ssmbBlockTensors(tap, block);
      const r = emitSsmbBlock(b, t, x);
      routed.push({ tap, expert: r.expert, probs: r.probs, n: t.numExperts });
      return r.y;
    },
  }, b);
  for (const r of routed) {
    b.output(r.expert, routingOutputName(r.tap), ['batch'], ONNX_INT64);
    b.output(r.probs, `probs_${r.tap}`, ['batch', r.n]);
  }
  const meta = {
    'ssmb.kind': 'hfr',
    'ssmb.config': JSON.stringify(model.backbone.config),
    'ssmb.blocks': JSON.stringify([...model.blocks].map(([tap, block]) => ({ tap, numExperts: block.numExperts, hidden: block.hidden, kind: block.kind }))),
  };
  writeFileSync(file, encodeOnnxModel(b.toModel({ graphName: `${model.backbone.config.arch}-ssmb`, metadata: meta })));
}
