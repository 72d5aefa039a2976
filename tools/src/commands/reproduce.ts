// `ssmb reproduce --config tables/<name>.yaml`: run a paper table's grid (rows x protocols x folds)
// with worker processes, skip runs already completed in the store, and write the table as Markdown,
// CSV and LaTeX. Everything missing (dataset roots, weights, protocol files) is reported before any
// training starts. The quickstart reuses runReproduce for its synthetic table.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { checkProtocol, getProtocol, ON_MISSING, protocolFolds, type OnMissing } from '@ssmb/protocols';
import {
  RunStore, type RunRecord,
  buildTable, flattenConfigValues, formatRoutingSummary, loadTableConfig, summariseRouting, toCsv, toLatex, toMarkdown, toText,
  type Config, type FoldResult, type Overrides, type PaperTable, type RoutingSummary, type TableConfig,
  cancelStaleQueued, collectFoldResults, collectRouting, enqueuePlan, expandGrid, expectedFolds, parseRootFlags, planGrid, preflight, PreflightError,
  reclaimDeadLeases, resolveInputs, runQueue, summarisePlan, type GridProgress, type PlannedEntry, type WorkerPool,
} from '@ssmb/trainer';
import { addLauncherOptions, arrayTasks, checkServerServes, jobName, launcherKind, prepareSlurm, slurmPool, type LauncherCliOptions, type SlurmTarget } from '../launcher.ts';

export const REPO_ROOT = path.resolve(import.meta.dirname, '..', '..', '..');
export const CLI = path.join(REPO_ROOT, 'tools', 'src', 'cli.ts');
export const STATE_DIR = path.join(REPO_ROOT, '.ssmb');
export const DEFAULT_STORE = path.join(STATE_DIR, 'runs.sqlite');

export type Log = (line: string) => void;

/** Stopped by Ctrl-C / SIGTERM: the workers checkpointed and released their runs (or a Slurm job goes on). */
export class InterruptedError extends Error {
  constructor(note?: string) {
    super(note ? `interrupted: ${note}` : 'interrupted: running runs were checkpointed and released; run the same command again to resume where it stopped');
    this.name = 'InterruptedError';
  }
}

export interface ReproduceOptions {
  /** Table config file (YAML). */
  config: string;
  /** `--root name=DIR` values. */
  roots?: Record<string, string>;
  weights?: string;
  store?: string;
  /** Directory for <table>.md/.csv/.tex; default <store dir>/tables. */
  out?: string;
  workers?: number;
  /** Check every listed file of every protocol before training (default true). */
  checkFiles?: boolean;
  /** Plan and report only. */
  dryRun?: boolean;
  log?: Log;
  /** Start one worker process on the store (tests inject their own). */
  spawnWorker?: (store: string, index: number, logFile: string) => ChildProcess;
  /** Draw a live progress bar (default: when stdout is a terminal). */
  bar?: boolean;
  /** Overrides merged over the table's `base` (e.g. shorter training for a smoke test). */
  base?: Overrides;
  /** dataset.onMissing for every run: 'skip' lets list entries without a file be left out (counted, and
   *  marked in the table) instead of stopping the table before it starts. */
  onMissing?: OnMissing;
  /** Line printed before the table. */
  header?: string;
  /** Who executes the runs: worker processes here (default), or one Slurm array job (`slurm` options). */
  launcher?: 'local' | 'slurm';
  /** --server, --token-file (or SSMB_TOKEN) and the resource flags of --launcher slurm (over the table's `slurm:` section). */
  slurm?: LauncherCliOptions;
}

/** A grid entry without a completed run when the table was written: its cell is "-" (or averages fewer folds). */
export interface MissingCell {
  label: string;
  runId: number | null;
  status: RunRecord['status'] | null;
  why: string;
}

export interface ReproduceResult {
  config: TableConfig;
  table: PaperTable;
  /** The per-fold results behind the table (with trial counts): row differences with their intervals. */
  results: FoldResult[];
  /** The files written; null for --dry-run (it writes none). */
  files: { md: string; csv: string; tex: string } | null;
  /** Entries whose run did not complete (failed, cancelled, or left unfinished): named in the log; the command exits non-zero. */
  missing: MissingCell[];
  plan: { total: number; completed: number; pending: number; todo: number };
  failed: RunRecord[];
  routing: RoutingSummary[];
  seconds: number;
  /** Every grid entry with the stored run it maps to (null before one exists), in grid order. */
  runs: TableRun[];
}

export interface TableRun {
  row: string;
  column: string;
  fold: string;
  label: string;
  runId: number | null;
  status: RunRecord['status'] | null;
  config: Config;
}

/** `ssmb <args>` in a child process, its output appended to `logFile`. */
export function spawnCliCommand(args: string[], logFile: string): ChildProcess {
  mkdirSync(path.dirname(logFile), { recursive: true });
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: REPO_ROOT, stdio: ['ignore', fd, fd], env: process.env });
  child.once('spawn', () => closeSync(fd));
  child.once('error', () => closeSync(fd));
  return child;
}

/** A worker process draining the queue of `store`; its output goes to `logFile`. */
export function spawnCliWorker(store: string, _index: number, logFile: string): ChildProcess {
  return spawnCliCommand(['worker', '--store', store, '--until-empty', '--quiet'], logFile);
}

const foldsOf = (protocol: string) => protocolFolds(getProtocol(protocol));
const hasProtocol = (name: string) => {
  try {
    getProtocol(name);
    return true;
  } catch {
    return false;
  }
};

/**
 * Every missing or unreadable file a protocol lists under root (the first 100, then a count). With
 * onMissing 'skip', missing entries and subjects of a role are not problems: the runs skip and count them.
 */
export async function datasetProblems(protocol: string, root: string, onMissing: OnMissing = 'error'): Promise<string[]> {
  const report = await checkProtocol(protocol, root);
  const abs = (p: string) => (p.includes('/') && !path.isAbsolute(p) ? path.join(root, p) : p); // name real paths
  const skippable = (m: { role?: string; kind?: string }) => onMissing === 'skip' && m.role !== undefined && m.kind !== 'list' && m.kind !== undefined;
  const problems = report.folds.flatMap((f) => [
    ...f.missing.filter((m) => !skippable(m)).map((m) => `fold ${f.fold}: missing ${m.list && m.list !== m.entry ? `${abs(m.list)}: ` : ''}${abs(m.entry)} (${m.reason})`),
    ...f.unreadable.map((u) => `fold ${f.fold}: unreadable ${u.path} (${u.reason})`),
  ]);
  const unique = [...new Set(problems)];
  return unique.length > 100 ? [...unique.slice(0, 100), `... and ${unique.length - 100} more (run \`ssmb protocols check\` for the full list)`] : unique;
}

/**
 * Live progress. Terminal: a bar over runs (or over steps when a single long run is waited for, like
 * the backbone pre-training), with finished runs logged above it. Otherwise: one line per finished
 * run plus a status line every `everyMs` naming the running runs and their steps.
 */
export function gridReporter(store: RunStore, total: number, log: Log, bar: boolean, everyMs = 30_000): { update: (p: GridProgress) => void; stop: () => void } {
  const t0 = Date.now();
  let lastLine = t0;
  let done = 0; // finished runs reported so far (numbering stays right when several finish in one poll)
  const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(0)} s`;
  const multi = bar ? new cliProgress.MultiBar({ format: '{what} |{bar}| {value}/{total} | ETA {eta_formatted} | {running}', hideCursor: true, etaBuffer: 20 }, cliProgress.Presets.shades_classic) : null;
  let b: cliProgress.SingleBar | undefined;
  const rank1 = (r: RunRecord) => {
    const m = store.getEvalMetrics(r.id).find((x) => x.metric === 'rank1');
    return m ? ` rank1 ${(m.value * 100).toFixed(1)}%` : '';
  };
  const describe = (p: GridProgress) => p.running.map((r) => `${r.name} step ${r.step}/${r.totalSteps ?? '?'}`).join(' ; ');
  return {
    update(p) {
      for (const r of p.finished) {
        const what = r.status === 'completed' ? rank1(r) : ` - ${r.error ?? ''}`;
        const line = `[${++done}/${p.total}] ${r.status} ${r.name}${what} (${elapsed()})`;
        if (multi) multi.log(`${line}\n`);
        else log(line);
      }
      if (multi) {
        const single = total === 1 && p.running.length === 1 && (p.running[0].totalSteps ?? 0) > 0;
        const [value, of, what] = single ? [p.running[0].step, p.running[0].totalSteps!, 'steps'] : [p.completed + p.failed, total, 'runs'];
        if (!b) b = multi.create(of, value, { what, running: '' });
        b.setTotal(of);
        b.update(value, { what, running: single ? p.running[0].name : describe(p) });
      } else if (Date.now() - lastLine >= everyMs && p.running.length) {
        lastLine = Date.now();
        log(`      ${p.completed + p.failed}/${p.total} runs done, running: ${describe(p)} (${elapsed()})`);
      }
    },
    stop() {
      multi?.stop();
    },
  };
}

export async function runReproduce(opts: ReproduceOptions): Promise<ReproduceResult> {
  const t0 = Date.now();
  const log = opts.log ?? ((l: string) => process.stdout.write(`${l}\n`));
  const loaded = loadTableConfig(opts.config);
  const references = loaded.references;
  if (opts.onMissing !== undefined && !ON_MISSING.includes(opts.onMissing)) {
    throw new Error(`--on-missing must be one of ${ON_MISSING.join(', ')}, received ${JSON.stringify(opts.onMissing)}`);
  }
  const base = { ...(opts.base ? flattenConfigValues(opts.base) : {}), ...(opts.onMissing ? { 'dataset.onMissing': opts.onMissing } : {}) };
  const config: TableConfig = Object.keys(base).length ? { ...loaded.config, base: { ...flattenConfigValues(loaded.config.base), ...base } as Overrides } : loaded.config;
  const inputs = resolveInputs(config, { baseDir: REPO_ROOT, roots: opts.roots, weights: opts.weights });
  const onMissing = (flattenConfigValues(config.base)['dataset.onMissing'] as OnMissing | undefined) ?? 'error';
  const problems = await preflight(config, inputs, {
    hasProtocol,
    datasetProblems: opts.checkFiles === false ? undefined : (protocol, root) => datasetProblems(protocol, root, onMissing),
  });
  if (problems.length) throw new PreflightError(problems, config.name);

  const storeFile = path.resolve(opts.store ?? DEFAULT_STORE);
  // Slurm: sbatch present, a server named, resources valid -- before anything is queued.
  const slurm: SlurmTarget | null = opts.launcher === 'slurm' && !opts.dryRun ? await prepareSlurm(opts.slurm ?? {}, config.slurm, storeFile) : null;
  // A dry run changes nothing: it reads the store when there is one (else plans against an empty one).
  if (!opts.dryRun) mkdirSync(path.dirname(storeFile), { recursive: true });
  const store = opts.dryRun ? RunStore.open(existsSync(storeFile) ? storeFile : ':memory:', existsSync(storeFile) ? { readonly: true } : {}) : RunStore.open(storeFile);
  let gaveUp: string | null = null;
  try {
    const grid = expandGrid(config, { roots: inputs.roots as Record<string, string>, weights: inputs.weights, foldsOf });
    // Runs of dead workers on this machine resume at once; with a tracking server (Slurm), the server
    // alone re-queues stale runs: it owns the store.
    const reclaimed = opts.dryRun || slurm ? [] : reclaimDeadLeases(store);
    if (reclaimed.length) log(`resuming ${reclaimed.length} run(s) interrupted by a stopped worker: ${reclaimed.join(', ')}`);
    let plan = planGrid(grid, store.listRuns());
    const before = summarisePlan(plan);
    log(`table ${config.name}: ${before.total} runs (${config.rows.length} rows x ${config.columns.length} columns x folds); ` +
      `${before.completed} already completed, ${before.pending} queued/running, ${before.todo} to run`);
    if (!opts.dryRun) {
      const experiment = `table:${config.name}`;
      const { launched, requeued } = enqueuePlan(store, plan, experiment);
      const stale = cancelStaleQueued(store, experiment, plan.map((p) => p.run!.id));
      if (stale.length) log(`cancelled ${stale.length} queued run(s) of an earlier version of this table: ${stale.join(', ')}`);
      if (launched.length || requeued.length) log(`queued ${launched.length} new run(s)${requeued.length ? `, re-queued ${requeued.length} failed run(s)` : ''}`);
      const waitFor = plan.filter((p) => p.state !== 'completed').map((p) => p.run!.id);
      if (waitFor.length) {
        let pool: WorkerPool | undefined;
        let workers = Math.max(1, opts.workers ?? 2);
        if (slurm) {
          await checkServerServes(slurm, store, waitFor[0]).catch((err: Error) => {
            throw new Error(`${err.message}; the table's runs stay queued in ${storeFile}: run the same command again once the server answers`);
          });
          pool = slurmPool(slurm, store, waitFor, jobName(config.name), log);
          workers = arrayTasks({ resources: slurm.resources, runs: waitFor.length });
          log(`running ${waitFor.length} run(s) with a Slurm array job of ${workers} task(s) reporting to ${slurm.server}`);
        } else {
          log(`running ${waitFor.length} run(s) with ${workers} worker process(es); worker logs in ${path.join(path.dirname(storeFile), 'logs')}`);
        }
        const reporter = gridReporter(store, waitFor.length, log, opts.bar ?? process.stdout.isTTY === true);
        const spawnWorker = opts.spawnWorker ?? spawnCliWorker;
        let interrupted = false;
        try {
          ({ interrupted, gaveUp } = await runQueue({
            store,
            runIds: waitFor,
            workers,
            reapStale: !slurm,
            onWait: (_r, note) => log(note),
            ...(pool ? { pool } : { spawnWorker: (i: number) => spawnWorker(storeFile, i, path.join(path.dirname(storeFile), 'logs', `worker-${i}.log`)) }),
            onProgress: reporter.update,
            onRequeue: (ids) => log(`re-queued stale run(s) ${ids.join(', ')} (their worker died; a live worker takes them)`),
          }));
        } finally {
          reporter.stop();
        }
        if (interrupted) throw new InterruptedError(pool?.interruptedNote?.());
      }
      plan = planGrid(grid, store.listRuns());
    }
    if (opts.dryRun) log('dry run: nothing was queued and no table file was written');
    return finishTable(store, config, plan, references, opts, storeFile, t0, log, gaveUp);
  } finally {
    store.close();
  }
}

function finishTable(
  store: RunStore,
  config: TableConfig,
  plan: PlannedEntry[],
  references: ReturnType<typeof loadTableConfig>['references'],
  opts: ReproduceOptions,
  storeFile: string,
  t0: number,
  log: Log,
  gaveUp: string | null,
): ReproduceResult {
  const results = collectFoldResults(store, plan);
  const table = buildTable(config, results, { expectedFolds: expectedFolds(config, foldsOf), references });
  const failed = plan.filter((p) => p.run && (p.run.status === 'failed' || p.run.status === 'cancelled')).map((p) => p.run!);
  const routing = summariseRouting(collectRouting(store, plan));
  const runs = plan.map((p) => ({ row: p.entry.row, column: p.entry.column, fold: p.entry.fold, label: p.entry.label, runId: p.run?.id ?? null, status: p.run?.status ?? null, config: p.config }));
  const result = { config, table, results, plan: summarisePlan(plan), failed, routing, seconds: (Date.now() - t0) / 1000, runs };
  if (opts.dryRun) return { ...result, files: null, missing: [] };
  const missing = missingCells(plan, gaveUp);
  const outDir = path.resolve(opts.out ?? path.join(path.dirname(storeFile), 'tables'));
  mkdirSync(outDir, { recursive: true });
  const files = { md: path.join(outDir, `${config.name}.md`), csv: path.join(outDir, `${config.name}.csv`), tex: path.join(outDir, `${config.name}.tex`) };
  writeFileSync(files.md, toMarkdown(table));
  writeFileSync(files.csv, toCsv(table));
  writeFileSync(files.tex, toLatex(table));
  log('');
  if (opts.header) log(opts.header);
  log(toText(table));
  log(`table written to ${files.md}, ${files.csv}, ${files.tex}`);
  if (missing.length) {
    log(`the table is INCOMPLETE: ${missing.length} of ${plan.length} run(s) did not complete, their cells are "-" or average fewer folds (rerun the same command to retry them):`);
    for (const m of missing) log(`  ${m.runId === null ? 'no run' : `run ${m.runId}`} ${m.label}: ${m.why}`);
  }
  return { ...result, files, missing };
}

/** Every grid entry without a completed run, and why. */
export function missingCells(plan: PlannedEntry[], gaveUp: string | null): MissingCell[] {
  return plan
    .filter((p) => p.run?.status !== 'completed')
    .map((p) => {
      const r = p.run;
      const why = !r ? 'never queued'
        : r.status === 'failed' ? `failed: ${r.error ?? 'no error recorded'}`
        : r.status === 'cancelled' ? 'cancelled'
        : `still ${r.status}${gaveUp ? `: ${gaveUp}` : ''}`;
      return { label: p.entry.label, runId: r?.id ?? null, status: r?.status ?? null, why };
    });
}

export { formatRoutingSummary };

export function register(program: Command): void {
  addLauncherOptions(program
    .command('reproduce')
    .description('run a paper table grid (rows x protocols x folds), skipping completed runs, and write it as Markdown, CSV and LaTeX')
    .requiredOption('--config <file>', 'table config, e.g. tables/main-casia.yaml')
    .option('--root <dataset=DIR>', 'dataset root (repeatable), e.g. --root casia=/data/CASIA-NIR-VIS-2.0', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--weights <file>', 'pre-trained backbone weights (safetensors)')
    .option('--store <file>', 'run store (SQLite)', DEFAULT_STORE)
    .option('--out <dir>', 'where to write <table>.md/.csv/.tex (default: <store dir>/tables)')
    .option('--workers <n>', 'worker processes', (v: string) => Number.parseInt(v, 10), 2)
    .option('--no-check-files', 'skip checking every listed dataset file before training')
    .option('--dry-run', 'report the plan (and problems) without running anything')
    .option('--on-missing <error|skip>', 'list entries whose file is missing: error (default) stops before any run; skip leaves them out, counted and marked in the table'))
    .action(async (o: LauncherCliOptions & { config: string; root: string[]; weights?: string; store: string; out?: string; workers: number; checkFiles: boolean; dryRun?: boolean; onMissing?: OnMissing }) => {
      const res = await runReproduce({
        config: o.config,
        roots: parseRootFlags(o.root),
        weights: o.weights,
        store: o.store,
        out: o.out,
        workers: o.workers,
        checkFiles: o.checkFiles,
        dryRun: o.dryRun,
        onMissing: o.onMissing,
        launcher: launcherKind(o),
        slurm: o,
      });
      if (res.routing.length) process.stdout.write(`\nRouting\n${formatRoutingSummary(res.routing, labelsOf(res.config))}`);
      if (res.missing.length) process.exitCode = 1;
    });
}

/** Row/column id -> label maps for routing summaries. */
export function labelsOf(cfg: TableConfig): { rows: Record<string, string>; columns: Record<string, string> } {
  return {
    rows: Object.fromEntries(cfg.rows.map((r) => [r.id, r.label])),
    columns: Object.fromEntries(cfg.columns.map((c) => [c.id, c.label])),
  };
}
