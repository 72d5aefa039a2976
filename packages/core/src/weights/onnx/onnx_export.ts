// Export of our models to ONNX: input 'input.1' [B,3,S,S] NCHW, RGB scaled (x - 127.5) / 127.5 (our
// canonical input, like insightface's files; each backbone converts to its native normalisation inside
// its graph), output 'embedding' [B,E]. The plain backbone, and the HFR model (backbone + SSMB blocks
// with routing). The network itself is the backbone's own emitOnnx (Backbone interface).
import { writeFileSync } from 'node:fs';
import type { Backbone, EmitOnnxOptions } from '../../models/backbone.ts';
import { OnnxGraphBuilder } from './onnx_graph_builder.ts';
import { ONNX_INPUT } from './iresnet_onnx_graph.ts';
import { encodeOnnxModel, ONNX_INT64 } from './onnx_proto.ts';
import type { SSMBBlock } from '../../ssmb/ssmb_block.ts';
import { requireTap } from '../../models/backbone.ts';
import { emitSsmbBlock, initializerParams, ssmbSpec } from './ssmb_onnx_graph.ts';

export interface ExportOptions {
  /** fold conv->BN pairs (smaller, faster graph; default false keeps insightface's parameter names) */
  foldBn?: boolean;
}

export interface BackboneGraphOptions extends ExportOptions {
  afterTap?: EmitOnnxOptions['afterTap'];
  /** the pre-interface name of afterTap (IResNet's emitIResNet hook), still accepted */
  afterStage?: EmitOnnxOptions['afterTap'];
}

/** Graph input 'input.1' + the backbone's network + output 'embedding'. */
export function backboneGraph(model: Backbone, opts: BackboneGraphOptions = {}, b = new OnnxGraphBuilder()) {
  const s = model.input.size;
  const x = b.input(ONNX_INPUT, ['batch', 3, s, s]);
  const emb = model.emitOnnx(b, x, { foldBn: opts.foldBn, afterTap: opts.afterTap ?? opts.afterStage });
  b.output(emb, 'embedding', ['batch', model.embeddingSize]);
  return b;
}

/** Writes the backbone alone (an IResNet in insightface's layout, which our importer and insightface tools read). */
export function exportBackboneToOnnx(model: Backbone, file: string, opts: ExportOptions = {}): void {
  const b = backboneGraph(model, opts);
  const bytes = encodeOnnxModel(b.toModel({ graphName: model.name, metadata: { 'ssmb.kind': 'backbone', 'ssmb.family': model.family, 'ssmb.config': JSON.stringify(model.config) } }));
  writeFileSync(file, bytes);
}

/** What the HFR exporter needs (an HFRModel has it): the frozen backbone and its SSMB blocks by tap. */
export interface HfrExportable {
  backbone: Backbone;
  blocks: ReadonlyMap<string, SSMBBlock>;
}

/** Output names of an exported HFR model: 'embedding' [B,E] plus one int64 [B] per block. */
export const routingOutputName = (tap: string) => `routing_${tap}`;

/**
 * Writes backbone + SSMB blocks as one ONNX graph. Outputs: 'embedding' [B,E] and, per block,
 * 'routing_<tap>' (int64 [B], the chosen expert) and 'probs_<tap>' ([B,N] router probabilities).
 */
export function exportHfrModelToOnnx(model: HfrExportable, file: string, opts: ExportOptions = {}): void {
  const byTap = model.blocks;
  const routed: { tap: string; expert: string; probs: string; n: number }[] = [];
  const b = new OnnxGraphBuilder();
  backboneGraph(model.backbone, {
    ...opts,
    afterTap: (tap, x) => {
      const block = byTap.get(tap);
      if (!block) return x;
      const spec = ssmbSpec(tap, block, requireTap(model.backbone, tap).spatial);
      const r = emitSsmbBlock(b, spec, x, initializerParams(b, tap, block), { form: 'inference' }); // never differentiated
      routed.push({ tap, expert: r.expert, probs: r.probs, n: spec.numExperts });
      return r.y;
    },
  }, b);
  for (const r of routed) {
    b.output(r.expert, routingOutputName(r.tap), ['batch'], ONNX_INT64);
    b.output(r.probs, `probs_${r.tap}`, ['batch', r.n]);
  }
  const meta = {
    'ssmb.kind': 'hfr',
    'ssmb.family': model.backbone.family,
    'ssmb.config': JSON.stringify(model.backbone.config),
    'ssmb.blocks': JSON.stringify([...model.blocks].map(([tap, block]) => ({ tap, numExperts: block.numExperts, hidden: block.hidden, kind: block.kind, routerInput: block.router.routerInput, routing: block.router.routing }))),
  };
  writeFileSync(file, encodeOnnxModel(b.toModel({ graphName: `${model.backbone.name}-ssmb`, metadata: meta })));
}
