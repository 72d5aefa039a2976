// `ssmb export-onnx RUN_ID`: the run's latest checkpoint as an ONNX model that onnxruntime runs.
// SSMB runs give backbone + SSMB blocks with per-block routing outputs; pretrain runs (or --backbone-only)
// give the plain backbone. Checkpoints are safetensors files whose model tensors are named
// `model/<parameter>` (the trainer's checkpoint layout); the backbone of an SSMB run comes from the
// run's init file or config.backbone.weights, or from the run seed when it had neither.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import {
  checkOnnxExport, createModel, exportBackboneToOnnx, exportHfrModelToOnnx, HFRModel, initBackend, randomImagesNHWC, readSafetensorsStateDict, tf,
  type ExportCheck,
  type IResNet, type PlainTensor,
} from '@ssmb/core';
import { RunStore, validateConfig } from '@ssmb/trainer';

export interface ExportOnnxOptions {
  store: string;
  out: string;
  foldBn?: boolean;
  backboneOnly?: boolean;
  /** compare the file with our model on `count` seeded random images (embedding cosine, routing) */
  verify?: boolean;
  count?: number;
}

const CHECKPOINT_MODEL_PREFIX = 'model/';

function readTensors(file: string, what: string): Map<string, PlainTensor> {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new Error(`${what} '${file}' cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return readSafetensorsStateDict(bytes, `${what} ${file}`).stateDict;
}

/** Assigns every variable from `tensors[prefix + name]`; one error lists everything missing or mis-shaped. */
function assignAll(vars: Map<string, tf.Variable>, tensors: Map<string, PlainTensor>, prefix: string, what: string): void {
  const problems: string[] = [];
  for (const [name, v] of vars) {
    const t = tensors.get(prefix + name);
    if (!t) problems.push(`${prefix}${name} [${v.shape}] missing`);
    else if (t.shape.join(',') !== v.shape.join(',')) problems.push(`${prefix}${name} has [${t.shape}], expected [${v.shape}]`);
    else tf.tidy(() => v.assign(tf.tensor(t.data, v.shape)));
  }
  if (problems.length) throw new Error(`${what} does not fit the model: ${problems.join('; ')}`);
}

/** Backbone weights into `backbone` from an IResNet weights file (`<name>`), an HFR weights file
 *  (`backbone.<name>`) or a checkpoint (`model/<name>`, `model/backbone.<name>`). */
function loadBackboneFile(backbone: IResNet, file: string): void {
  const tensors = readTensors(file, 'backbone weights file');
  const prefix = ['model/backbone.', 'model/', 'backbone.'].find((p) => tensors.has(`${p}conv1.weight`)) ?? '';
  assignAll(backbone.params, tensors, prefix, `backbone weights file ${file}`);
}

async function verifyExport(model: Parameters<typeof checkOnnxExport>[0], o: ExportOnnxOptions, log: (line: string) => void): Promise<ExportCheck | undefined> {
  if (!o.verify) return undefined;
  const size = ('backbone' in model ? model.backbone : model).config.inputSize;
  const c = await checkOnnxExport(model, o.out, randomImagesNHWC(o.count ?? 8, size, 1));
  const routing = Object.entries(c.routingAgreement).map(([tap, a]) => `${tap} ${(a * 100).toFixed(0)}%`).join(', ');
  log(`verify (${c.cosines.length} random images): cosine min ${c.minCosine.toPrecision(8)}${routing ? `, routing agreement ${routing}` : ''} -> ${c.passed ? 'PASS' : 'FAIL'}`);
  if (!c.passed) process.exitCode = 1;
  return c;
}

export async function exportOnnx(runId: number, o: ExportOnnxOptions, log: (line: string) => void = console.log): Promise<{ kind: 'hfr' | 'backbone'; checkpoint: string; check?: ExportCheck }> {
  await initBackend(); // reading the weights back goes through tfjs variables
  const store = RunStore.open(o.store);
  let run, ck;
  try {
    run = store.requireRun(runId);
    ck = store.latestCheckpoint(runId);
  } finally {
    store.close();
  }
  if (!ck) throw new Error(`run ${runId} (${run.status}) has no checkpoint yet; export needs a checkpointed run (see \`ssmb runs show ${runId} --store ${o.store}\`)`);
  const config = validateConfig(run.config);
  const tensors = readTensors(ck.path, `checkpoint of run ${runId}`);
  const hasSsmb = [...tensors.keys()].some((k) => k.startsWith(`${CHECKPOINT_MODEL_PREFIX}ssmb.`));
  const backbone = createModel(config.backbone.model, { seed: config.seed });
  try {
    if (!hasSsmb || o.backboneOnly) {
      if (hasSsmb || run.kind !== 'pretrain') {
        // an SSMB run's checkpoint holds only the blocks: the backbone is the one it was trained on
        const file = run.initFrom ?? config.backbone.weights;
        if (file) loadBackboneFile(backbone, file);
      } else {
        assignAll(backbone.params, tensors, CHECKPOINT_MODEL_PREFIX, `checkpoint ${ck.path}`);
      }
      backbone.setFrozen(true);
      exportBackboneToOnnx(backbone, o.out, { foldBn: o.foldBn });
      log(`run ${runId} step ${ck.step}: backbone ${backbone.config.arch} -> ${o.out}`);
      return { kind: 'backbone', checkpoint: ck.path, check: await verifyExport(backbone, o, log) };
    }
    const initFile = run.initFrom ?? config.backbone.weights;
    if (initFile) loadBackboneFile(backbone, initFile);
    const model = new HFRModel(backbone, {
      taps: config.ssmb.positions, numExperts: config.ssmb.numExperts, hidden: config.ssmb.hiddenWidth ?? undefined,
      kind: config.ssmb.expertKind, seed: config.seed,
    });
    const ssmb = new Map([...model.params].filter(([k]) => k.startsWith('ssmb.')));
    assignAll(ssmb, tensors, CHECKPOINT_MODEL_PREFIX, `checkpoint ${ck.path}`);
    try {
      exportHfrModelToOnnx(model, o.out, { foldBn: o.foldBn });
      log(`run ${runId} step ${ck.step}: ${backbone.config.arch} + SSMB at ${config.ssmb.positions.join(', ')} (${config.ssmb.numExperts} experts, ${config.ssmb.expertKind}) -> ${o.out}; outputs embedding, ${config.ssmb.positions.map((t) => `routing_${t}`).join(', ')}`);
      return { kind: 'hfr', checkpoint: ck.path, check: await verifyExport(model, o, log) };
    } finally {
      for (const b of model.blocks.values()) b.dispose();
    }
  } finally {
    backbone.dispose();
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
    .action(async (id: string, o: ExportOnnxOptions) => {
      const runId = Number.parseInt(id, 10);
      if (!Number.isInteger(runId) || String(runId) !== id.trim()) throw new Error(`RUN_ID must be a run number, got "${id}"`);
      await exportOnnx(runId, o);
    });
}
