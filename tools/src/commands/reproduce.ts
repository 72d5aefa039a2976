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
  RunStore, type QueueRun, type RunRecord,
  buildTable, flattenConfigValues, formatRoutingSummary, loadTableConfig, summariseRouting, toCsv, toLatex, toMarkdown, toText,
  type Config, type Overrides, type PaperTable, type RoutingSummary, type TableConfig,
  collectFoldResults, collectRouting, expandGrid, expectedFolds, parseRootFlags, preflight, PreflightError,
  resolveConfig, resolveInputs, runQueue, summarisePlan, type GridProgress, type PlannedEntry, type WorkerPool,
} from '@ssmb/trainer';
import { addLauncherOptions, arrayTasks, jobName, launcherKind, prepareSlurm, slurmPool, type LauncherCliOptions, type SlurmTarget } from '../launcher.ts';
import { serverRequest, serverTarget, type ServerTarget } from '../server_client.ts';
import { serverSource, storeSource, type GridRow, type GridRun, type ResultsReader } from '../grid_sources.ts';

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
  /** Start one worker process on the store (tests inject their own; through --server: `ssmb worker --server`). */
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
  /** The files written; null for --dry-run (it writes none). */
  files: { md: string; csv: string; tex: string } | null;
  /** Entries whose run did not complete (failed, cancelled, or left unfinished): named in the log; the command exits non-zero. */
  missing: MissingCell[];
  plan: { total: number; completed: number; pending: number; todo: number };
  failed: GridRun[];
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
export function spawnCliCommand(args: string[], logFile: string, env: NodeJS.ProcessEnv = {}): ChildProcess {
  mkdirSync(path.dirname(logFile), { recursive: true });
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: REPO_ROOT, stdio: ['ignore', fd, fd], env: { ...process.env, ...env } });
  child.once('spawn', () => closeSync(fd));
  child.once('error', () => closeSync(fd));
  return child;
}

/** A worker process draining the queue of `store`; its output goes to `logFile`. */
export function spawnCliWorker(store: string, _index: number, logFile: string): ChildProcess {
  return spawnCliCommand(['worker', '--store', store, '--until-empty', '--quiet'], logFile);
}

/** A worker process reporting to the tracking server (the token in its environment, never argv); output to `logFile`. */
export function spawnServerWorker(t: ServerTarget, logFile: string): ChildProcess {
  return spawnCliCommand(['worker', '--server', t.url, '--until-empty', '--quiet'], logFile, t.token ? { SSMB_TOKEN: t.token } : {});
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
export function gridReporter(
  evalsOf: (runId: number) => Array<{ metric: string; value: number }> | Promise<Array<{ metric: string; value: number }>>,
  total: number,
  log: Log,
  bar: boolean,
  everyMs = 30_000,
): { update: (p: GridProgress) => Promise<void>; stop: () => void } {
  const t0 = Date.now();
  let lastLine = t0;
  let done = 0; // finished runs reported so far (numbering stays right when several finish in one poll)
  const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(0)} s`;
  const multi = bar ? new cliProgress.MultiBar({ format: '{what} |{bar}| {value}/{total} | ETA {eta_formatted} | {running}', hideCursor: true, etaBuffer: 20 }, cliProgress.Presets.shades_classic) : null;
  let b: cliProgress.SingleBar | undefined;
  const rank1 = async (r: QueueRun) => {
    const m = (await evalsOf(r.id)).find((x) => x.metric === 'rank1');
    return m ? ` rank1 ${(m.value * 100).toFixed(1)}%` : '';
  };
  const describe = (p: GridProgress) => p.running.map((r) => `${r.name} step ${r.step}/${r.totalSteps ?? '?'}`).join(' ; ');
  return {
    async update(p) {
      for (const r of p.finished) {
        const what = r.status === 'completed' ? await rank1(r) : ` - ${r.error ?? ''}`;
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

/** The tracking server reproduce goes through (--server, or SSMB_SERVER when no --store is given), or null. */
function gridServer(opts: ReproduceOptions): ServerTarget | null {
  const o = opts.slurm ?? {};
  if (opts.store) {
    if (o.server) throw new Error('ssmb reproduce: pass --store FILE (this machine\'s store) or --server URL (the tracking server that owns it), not both');
    if (opts.launcher === 'slurm') {
      throw new Error(`--launcher slurm: the tasks report to the tracking server that owns the store: start it (\`ssmb serve --store ${opts.store} --host 0.0.0.0\`) and pass --server URL instead of --store`);
    }
    return null;
  }
  const t = serverTarget(o);
  // o.token: a caller in this process (the --token flag itself is refused)
  return t && o.token ? { ...t, token: o.token } : t;
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

  const server = gridServer(opts);
  // No server named: prepareSlurm says what to start and pass.
  if (opts.launcher === 'slurm' && !server) await prepareSlurm(opts.slurm ?? {}, config.slurm, DEFAULT_STORE);
  const storeFile = server ? null : path.resolve(opts.store ?? DEFAULT_STORE);
  // Slurm: sbatch present, resources valid (the tasks' output beside the server's store) -- before anything is queued.
  const slurm: SlurmTarget | null =
    opts.launcher === 'slurm' && !opts.dryRun && server
      ? await prepareSlurm({ ...opts.slurm, server: server.url, token: server.token ?? undefined }, config.slurm, (await serverRequest<{ store: string }>(server, 'GET', '/api/meta')).store)
      : null;
  // Through the server this process never opens the store. A dry run changes nothing: it reads the store
  // when there is one (else plans against an empty one).
  let store: RunStore | null = null;
  if (storeFile) {
    if (!opts.dryRun) mkdirSync(path.dirname(storeFile), { recursive: true });
    store = opts.dryRun ? RunStore.open(existsSync(storeFile) ? storeFile : ':memory:', existsSync(storeFile) ? { readonly: true } : {}) : RunStore.open(storeFile);
  }
  const source = store ? storeSource(store, storeFile!, !!opts.dryRun) : serverSource(server!, log);
  // Worker logs and tables beside the store (through the server: this checkout's .ssmb folder).
  const stateDir = storeFile ? path.dirname(storeFile) : STATE_DIR;
  let gaveUp: string | null = null;
  try {
    const grid = expandGrid(config, { roots: inputs.roots as Record<string, string>, weights: inputs.weights, foldsOf });
    const configs = grid.map((g) => resolveConfig({ base: g.overrides }));
    const experiment = `table:${config.name}`;
    const q = await source.queue(grid, configs, experiment, !!opts.dryRun);
    if (q.reclaimed.length) log(`resuming ${q.reclaimed.length} run(s) interrupted by a stopped worker: ${q.reclaimed.join(', ')}`);
    let rows = q.rows;
    log(`table ${config.name}: ${q.before.total} runs (${config.rows.length} rows x ${config.columns.length} columns x folds); ` +
      `${q.before.completed} already completed, ${q.before.pending} queued/running, ${q.before.todo} to run${server ? ` (store of ${server.url})` : ''}`);
    if (!opts.dryRun) {
      if (q.cancelled.length) log(`cancelled ${q.cancelled.length} queued run(s) of an earlier version of this table: ${q.cancelled.join(', ')}`);
      if (q.launched.length || q.requeued.length) log(`queued ${q.launched.length} new run(s)${q.requeued.length ? `, re-queued ${q.requeued.length} failed run(s)` : ''}`);
      const waitFor = rows.filter((p) => p.state !== 'completed').map((p) => p.run!.id);
      if (waitFor.length) {
        let pool: WorkerPool | undefined;
        let workers = Math.max(1, opts.workers ?? 2);
        const logDir = path.join(stateDir, 'logs');
        if (slurm) {
          pool = slurmPool(slurm, source.readRuns, waitFor, jobName(config.name), log);
          workers = arrayTasks({ resources: slurm.resources, runs: waitFor.length });
          log(`running ${waitFor.length} run(s) with a Slurm array job of ${workers} task(s) reporting to ${slurm.server}`);
        } else {
          log(`running ${waitFor.length} run(s) with ${workers} worker process(es)${server ? ` reporting to ${server.url}` : ''}; worker logs in ${logDir}`);
        }
        const reporter = gridReporter(async (id) => (await source.results([id])).getEvalMetrics(id), waitFor.length, log, opts.bar ?? process.stdout.isTTY === true);
        const spawnWorker = (i: number) => {
          const logFile = path.join(logDir, `worker-${i}.log`);
          return server ? spawnServerWorker(server, logFile) : (opts.spawnWorker ?? spawnCliWorker)(storeFile!, i, logFile);
        };
        let interrupted = false;
        try {
          ({ interrupted, gaveUp } = await runQueue({
            // Through the server, stale runs are its own to re-queue; here only runs of dead local workers.
            ...(store ? { store } : { readRuns: source.readRuns }),
            runIds: waitFor,
            workers,
            onWait: (_r, note) => log(note),
            ...(pool ? { pool } : { spawnWorker }),
            onProgress: reporter.update,
            onRequeue: (ids) => log(`re-queued stale run(s) ${ids.join(', ')} (their worker died; a live worker takes them)`),
          }));
        } catch (err) {
          // sbatch refused the array, the server stopped answering for good: what was queued stays queued.
          if (!server) throw err;
          throw new Error(`${(err as Error).message}; the table's runs stay queued on ${server.url}: run the same command again to go on (it reuses them)`);
        } finally {
          reporter.stop();
        }
        if (interrupted) throw new InterruptedError(pool?.interruptedNote?.());
      }
      rows = await source.current(grid, configs, experiment);
    }
    if (opts.dryRun) log('dry run: nothing was queued and no table file was written');
    const done = rows.filter((r) => r.state === 'completed').map((r) => r.run!.id);
    return finishTable(await source.results(done), config, rows, references, opts, stateDir, t0, log, gaveUp);
  } finally {
    store?.close();
  }
}

function finishTable(
  results: ResultsReader,
  config: TableConfig,
  plan: GridRow[],
  references: ReturnType<typeof loadTableConfig>['references'],
  opts: ReproduceOptions,
  stateDir: string,
  t0: number,
  log: Log,
  gaveUp: string | null,
): ReproduceResult {
  const table = buildTable(config, collectFoldResults(results, plan), { expectedFolds: expectedFolds(config, foldsOf), references });
  const failed = plan.filter((p) => p.run && (p.run.status === 'failed' || p.run.status === 'cancelled')).map((p) => p.run!);
  const routing = summariseRouting(collectRouting(results, plan));
  const runs = plan.map((p) => ({ row: p.entry.row, column: p.entry.column, fold: p.entry.fold, label: p.entry.label, runId: p.run?.id ?? null, status: p.run?.status ?? null, config: p.config }));
  const result = { config, table, plan: summarisePlan(plan), failed, routing, seconds: (Date.now() - t0) / 1000, runs };
  if (opts.dryRun) return { ...result, files: null, missing: [] };
  const missing = missingCells(plan, gaveUp);
  const outDir = path.resolve(opts.out ?? path.join(stateDir, 'tables'));
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
export function missingCells(plan: Array<Pick<GridRow, 'entry'> & { run?: Pick<GridRun, 'id' | 'status' | 'error'> | null }>, gaveUp: string | null): MissingCell[] {
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
    .option('--store <file>', 'run store (SQLite) on this machine (default: .ssmb/runs.sqlite of this checkout); on a cluster pass --server URL instead, the tracking server that owns the store')
    .option('--out <dir>', 'where to write <table>.md/.csv/.tex (default: <store dir>/tables)')
    .option('--workers <n>', 'worker processes', (v: string) => Number.parseInt(v, 10), 2)
    .option('--no-check-files', 'skip checking every listed dataset file before training')
    .option('--dry-run', 'report the plan (and problems) without running anything')
    .option('--on-missing <error|skip>', 'list entries whose file is missing: error (default) stops before any run; skip leaves them out, counted and marked in the table'))
    .action(async (o: LauncherCliOptions & { config: string; root: string[]; weights?: string; store?: string; out?: string; workers: number; checkFiles: boolean; dryRun?: boolean; onMissing?: OnMissing }) => {
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
