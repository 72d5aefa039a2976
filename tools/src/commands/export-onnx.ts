// `ssmb export-onnx RUN_ID`: the run's latest checkpoint as an ONNX model that onnxruntime runs.
// SSMB runs give backbone + SSMB blocks with per-block routing outputs; pretrain runs (or --backbone-only)
// give the plain backbone. The model is the trainer's own (loadRunModel: the backbone from the run's init
// file or config.backbone.weights, the blocks from the checkpoint, as a resumed run loads them).
import type { Command } from 'commander';
import {
  checkOnnxExport, chooseProvider, exportBackboneToOnnx, exportHfrModelToOnnx, initBackend, loadOrt, randomImagesNHWC,
  type ExportCheck,
} from '@ssmb/core';
import { loadRunModel, RunStore } from '@ssmb/trainer';

export interface ExportOnnxOptions {
  store: string;
  out: string;
  foldBn?: boolean;
  backboneOnly?: boolean;
  /** compare the file with our model on `count` seeded random images (embedding cosine, routing) */
  verify?: boolean;
  count?: number;
  /** onnxruntime execution provider that runs the file for --verify (auto | cpu | webgpu | cuda; default cpu) */
  provider?: string;
}

async function verifyExport(model: Parameters<typeof checkOnnxExport>[0], o: ExportOnnxOptions, log: (line: string) => void): Promise<ExportCheck | undefined> {
  if (!o.verify) return undefined;
  const size = ('backbone' in model ? model.backbone : model).input.size;
  const provider = (await chooseProvider(await loadOrt(), o.provider ?? 'cpu', { what: '--provider' })).name;
  const c = await checkOnnxExport(model, o.out, randomImagesNHWC(o.count ?? 8, size, 1), 0.9999, provider);
  const routing = Object.entries(c.routingAgreement).map(([tap, a]) => `${tap} ${(a * 100).toFixed(0)}%`).join(', ');
  log(`verify (${c.cosines.length} random images, onnxruntime ${provider}): cosine min ${c.minCosine.toPrecision(8)}${routing ? `, routing agreement ${routing}` : ''} -> ${c.passed ? 'PASS' : 'FAIL'}`);
  if (!c.passed) process.exitCode = 1;
  return c;
}

export async function exportOnnx(runId: number, o: ExportOnnxOptions, log: (line: string) => void = console.log): Promise<{ kind: 'hfr' | 'backbone'; checkpoint: string | null; check?: ExportCheck }> {
  await initBackend(); // reading the weights back goes through tfjs variables
  const store = RunStore.open(o.store, { readonly: true });
  let loaded;
  try {
    loaded = loadRunModel(store, runId, { backboneOnly: o.backboneOnly });
  } finally {
    store.close();
  }
  const { config, checkpoint } = loaded;
  const at = `run ${runId}${checkpoint ? ` step ${checkpoint.step}` : ''}`;
  try {
    if (loaded.kind === 'backbone') {
      exportBackboneToOnnx(loaded.model, o.out, { foldBn: o.foldBn });
      log(`${at}: backbone ${loaded.model.name} (${loaded.model.family}) -> ${o.out}`);
      return { kind: 'backbone', checkpoint: checkpoint?.path ?? null, check: await verifyExport(loaded.model, o, log) };
    }
    const s = config.ssmb;
    exportHfrModelToOnnx(loaded.model, o.out, { foldBn: o.foldBn });
    log(`${at}: ${loaded.model.backbone.name} + SSMB at ${s.positions.join(', ')} (${s.numExperts} experts, ${s.expertKind}) -> ${o.out}; outputs embedding, ${s.positions.map((t) => `routing_${t}`).join(', ')}`);
    return { kind: 'hfr', checkpoint: checkpoint?.path ?? null, check: await verifyExport(loaded.model, o, log) };
  } finally {
    loaded.model.dispose();
  }
}

export function register(program: Command): void {
  program
    .command('export-onnx <runId>')
    .description("export a run's latest checkpoint to ONNX (SSMB runs: embedding + per-block routing outputs)")
    .requiredOption('--store <file>', 'run store (SQLite file)')
    .requiredOption('-o, --out <file>', 'ONNX file to write')
    .option('--fold-bn', 'fold conv->BN pairs (smaller, faster graph)')
    .option('--backbone-only', 'export the backbone alone, without the SSMB blocks')
    .option('--verify', 'compare the file with our model on random images (embedding cosine >= 0.9999, same experts)')
    .option('--count <n>', 'random images for --verify', (v) => Number.parseInt(v, 10), 8)
    .option('--provider <name>', 'onnxruntime execution provider of --verify: auto, cpu, webgpu, cuda (default cpu)')
    .action(async (id: string, o: ExportOnnxOptions) => {
      const runId = Number.parseInt(id, 10);
      if (!Number.isInteger(runId) || String(runId) !== id.trim()) throw new Error(`RUN_ID must be a run number, got "${id}"`);
      await exportOnnx(runId, o);
    });
}
