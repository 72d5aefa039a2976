// Checkpoint files and the store's checkpoint rows kept consistent: stale temp files of a killed writer
// removed when a run starts or resumes, orphan files and rows reconciled, and old checkpoints pruned
// (keep the newest K and the best by a metric; never the newest, which a resume starts from).
// Order of writes: a checkpoint file is complete before its row exists (saveCheckpoint, then
// addCheckpoint), and a pruned row is deleted before its file, so a crash at any point leaves at worst a
// file without a row (removed at the next start), never a row whose file is gone.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, type Config } from '../config.ts';
import type { CheckpointRecord, WorkerStoreApi } from '../store/run_store.ts';
import type { RunContext } from '../worker/run_context.ts';
import { metricSpec } from '../tables/metrics.ts';

/** `.step-00000012.ckpt.tmp-4242`: what writeFileAtomic leaves when its process dies mid-write. */
/** What retention needs of the store: the SQLite store, or the tracking server's client (HttpStore). */
export type CheckpointStore = Pick<WorkerStoreApi, 'listCheckpoints' | 'removeCheckpoints' | 'getMetricHistory' | 'initFromPaths'>;

export const TEMP_CHECKPOINT_FILE = /^\.step-\d+\.ckpt\.tmp-\d+$/;
/** `step-00000012.ckpt` (checkpointPath). */
export const CHECKPOINT_FILE = /^step-\d+\.ckpt$/;

export function checkpointDir(runDir: string): string {
  return path.join(runDir, 'checkpoints');
}

export interface ReconcileReport {
  /** temp files of interrupted writes, deleted */
  removedTemp: string[];
  /** complete checkpoint files without a store row (written, then the process died), deleted */
  removedOrphans: string[];
  /** rows whose file no longer exists (deleted by hand), forgotten */
  forgottenSteps: number[];
}

/**
 * Run at the start of every attempt, before the resume point is chosen: only the lease holder writes a
 * run's directory, so every temp file in it is a dead writer's. Rows whose file is missing are dropped
 * only while the checkpoint directory itself exists (an unmounted output directory must fail loudly at
 * load time, not silently restart the run from step 0).
 */
export async function reconcileCheckpoints(store: CheckpointStore, runId: number, runDir: string): Promise<ReconcileReport> {
  const dir = checkpointDir(runDir);
  const report: ReconcileReport = { removedTemp: [], removedOrphans: [], forgottenSteps: [] };
  if (!existsSync(dir)) return report;
  const rows = (await store.listCheckpoints(runId)).filter((c) => c.path !== ''); // noop runs record steps without files
  const known = new Set(rows.map((c) => path.resolve(c.path)));
  let inUse: Set<string> | undefined;
  for (const name of readdirSync(dir)) {
    const file = path.join(dir, name);
    if (TEMP_CHECKPOINT_FILE.test(name)) {
      rmSync(file, { force: true });
      report.removedTemp.push(file);
    } else if (CHECKPOINT_FILE.test(name) && !known.has(path.resolve(file)) && !(inUse ??= await initFromFiles(store)).has(path.resolve(file))) {
      rmSync(file, { force: true });
      report.removedOrphans.push(file);
    }
  }
  const gone = rows.filter((c) => path.dirname(path.resolve(c.path)) === path.resolve(dir) && !existsSync(c.path)).map((c) => c.step);
  if (gone.length > 0) {
    await store.removeCheckpoints(runId, gone);
    report.forgottenSteps = gone;
  }
  return report;
}

/** Files other runs start from (`--init-from`): never deleted, whoever wrote them. */
async function initFromFiles(store: CheckpointStore): Promise<Set<string>> {
  return new Set((await store.initFromPaths()).map((p) => path.resolve(p)));
}

/** Human-readable summary of a reconciliation (empty when nothing was done). */
export function describeReconcile(runId: number, r: ReconcileReport): string[] {
  const lines: string[] = [];
  if (r.removedTemp.length) lines.push(`run ${runId}: removed ${r.removedTemp.length} temporary checkpoint file(s) of an interrupted write (${r.removedTemp.map((f) => path.basename(f)).join(', ')})`);
  if (r.removedOrphans.length) lines.push(`run ${runId}: removed ${r.removedOrphans.length} checkpoint file(s) written after the last recorded one (${r.removedOrphans.map((f) => path.basename(f)).join(', ')})`);
  if (r.forgottenSteps.length) lines.push(`run ${runId}: checkpoint file(s) of step(s) ${r.forgottenSteps.join(', ')} are missing; resuming from the newest checkpoint that exists`);
  return lines;
}

/** The checkpoint an attempt starts from, after reconciling the run's checkpoint files and rows. */
export async function resumeCheckpoint(ctx: Pick<RunContext, 'store' | 'run' | 'runDir' | 'log'>): Promise<CheckpointRecord | undefined> {
  for (const line of describeReconcile(ctx.run.id, await reconcileCheckpoints(ctx.store, ctx.run.id, ctx.runDir))) ctx.log(line);
  const last = await ctx.store.latestCheckpoint(ctx.run.id);
  if (last && last.step > 0) ctx.log(`run ${ctx.run.id}: resuming from the checkpoint of step ${last.step}`);
  return last;
}

export type BestMode = 'max' | 'min';

/** Which way `checkpoint.keepBest` is better: the config's bestMode, else from the metric's name. */
export function bestModeOf(c: Pick<Config['checkpoint'], 'keepBest' | 'bestMode'>): BestMode | null {
  if (c.keepBest === null) return null;
  if (c.bestMode) return c.bestMode;
  const key = c.keepBest;
  if (key === 'loss' || key.startsWith('loss/')) return 'min';
  if (key.startsWith('eval/')) {
    try {
      return metricSpec(key.slice('eval/'.length)).better === 'higher' ? 'max' : 'min';
    } catch {
      // unknown eval metric: fall through to the error below
    }
  }
  throw new ConfigError(`config key \`checkpoint.keepBest\`: cannot tell whether ${JSON.stringify(key)} is better high or low; set checkpoint.bestMode to max or min`);
}

export interface PruneResult {
  kept: number[];
  deleted: CheckpointRecord[];
}

/**
 * Deletes checkpoints beyond the newest `keepLast` and the best by `keepBest` (rows first, then files).
 * The newest checkpoint is never deleted, nor one that another run was launched from (--init-from).
 * Rows without a file path (noop runs) are left alone.
 */
export async function pruneCheckpoints(store: CheckpointStore, runId: number, policy: Config['checkpoint']): Promise<PruneResult> {
  const all = (await store.listCheckpoints(runId)).filter((c) => c.path !== ''); // ascending steps
  if (policy.keepLast === 0 || all.length <= 1) return { kept: all.map((c) => c.step), deleted: [] };
  const keep = new Set(all.slice(-Math.max(1, policy.keepLast)).map((c) => c.step));
  const mode = bestModeOf(policy);
  if (mode && policy.keepBest) {
    let best: { step: number; value: number } | null = null;
    for (const c of all) {
      const at = (await store.getMetricHistory(runId, policy.keepBest, { minStep: c.step, maxStep: c.step })).at(-1);
      if (!at || Number.isNaN(at.value)) continue;
      // strictly better only: on a tie the earlier checkpoint stays the best (fewer deletions later)
      if (!best || (mode === 'max' ? at.value > best.value : at.value < best.value)) best = { step: c.step, value: at.value };
    }
    if (best) keep.add(best.step);
  }
  let deleted = all.filter((c) => !keep.has(c.step));
  if (deleted.length > 0) {
    const inUse = await initFromFiles(store);
    for (const c of deleted) if (inUse.has(path.resolve(c.path))) keep.add(c.step);
    deleted = deleted.filter((c) => !keep.has(c.step));
  }
  if (deleted.length > 0) {
    await store.removeCheckpoints(runId, deleted.map((c) => c.step));
    // Files of this machine; the tracking server deletes its copies of what a remote worker prunes.
    for (const c of deleted) if (path.isAbsolute(c.path)) rmSync(c.path, { force: true });
  }
  return { kept: all.filter((c) => keep.has(c.step)).map((c) => c.step), deleted };
}
