// The Slurm launcher: ONE `sbatch --array` job whose tasks each run `ssmb worker --server URL
// --until-empty`. The tasks claim queued runs from the tracking server (it alone owns the store), so
// the array size is a degree of parallelism, not a run-to-task mapping: a task that finishes early
// takes the next queued run, and a killed task's run is re-queued for the others. Resources come from
// the table config's `slurm:` section and/or command-line flags (flags win); unknown keys fail.
//
// The token never appears on a command line (other users see those in `ps` and `squeue`): it is passed
// to sbatch in the environment (SSMB_TOKEN, exported to the tasks, `--export=ALL`).
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

const name = z.string().regex(/^[A-Za-z0-9_.,:=@+-]+$/, 'expected a Slurm name (letters, digits and _ . , : = @ + -)');

/** `slurm:` in a table config, and the flags of `ssmb launch|reproduce --launcher slurm`. */
export const SlurmResourcesSchema = z
  .object({
    /** --partition */
    partition: name.optional(),
    /** --cpus-per-task */
    cpus: z.number().int().min(1).max(4096).optional(),
    /** --mem, e.g. 8G or 8000 (MiB) */
    mem: z.string().regex(/^\d+[KMGT]?$/i, 'expected a size like 8G, 512M or 8000 (MiB)').optional(),
    /** --time, e.g. 2:00:00, 1-12:00:00 or 90 (minutes) */
    time: z
      .string()
      .regex(/^(\d+-\d{1,2}(:\d{2}){0,2}|\d+(:\d{2}){0,2})$/, 'expected a Slurm time limit like 90, 2:00:00 or 1-12:00:00')
      .optional(),
    /** --gres, e.g. gpu:1 or gpu:a100:2 */
    gres: name.optional(),
    account: name.optional(),
    qos: name.optional(),
    constraint: z.string().regex(/^[A-Za-z0-9_&|!\[\]*()-]+$/, 'expected a Slurm feature expression like a100|v100').optional(),
    /** Array tasks (workers); default: one per run to execute. */
    tasks: z.number().int().min(1).max(100_000).optional(),
    /** At most this many tasks at once (`--array=0-N%P`). */
    maxParallel: z.number().int().min(1).optional(),
    /** Extra sbatch options, passed as given (e.g. --nodelist=n1, --exclusive). */
    sbatchArgs: z.array(z.string().regex(/^--?[A-Za-z]/, 'expected an sbatch option such as --exclusive')).optional(),
    /** Lease of each task's worker on its run (seconds). */
    leaseSeconds: z.number().min(5).optional(),
  })
  .strict();
export type SlurmResources = z.output<typeof SlurmResourcesSchema>;
export const SLURM_RESOURCE_KEYS = Object.keys(SlurmResourcesSchema.shape) as Array<keyof SlurmResources>;

/** sbatch (or squeue, scancel) is not installed here. */
export class SlurmMissingError extends Error {
  constructor(tool: string) {
    super(
      `--launcher slurm needs Slurm's ${tool}, which is not on PATH (${process.env.PATH ?? ''}): run this on a Slurm login node ` +
        '(or install the Slurm client, Debian/Ubuntu package slurm-client), or use --launcher local',
    );
    this.name = 'SlurmMissingError';
  }
}

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a Slurm client command; a missing binary is a SlurmMissingError. */
export function runSlurmCommand(tool: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(tool, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', (err: NodeJS.ErrnoException) => reject(err.code === 'ENOENT' ? new SlurmMissingError(tool) : err));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

/** Flags/config merged (flags win), validated. */
export function resolveSlurmResources(fromConfig: unknown, fromFlags: Partial<SlurmResources>): SlurmResources {
  const defined = Object.fromEntries(Object.entries(fromFlags).filter(([, v]) => v !== undefined));
  const res = SlurmResourcesSchema.safeParse({ ...((fromConfig as object | undefined) ?? {}), ...defined });
  if (!res.success) {
    throw new Error(`invalid Slurm resources:\n${res.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`).join('\n')}`);
  }
  return res.data;
}

export interface ArraySpec {
  resources: SlurmResources;
  /** Runs to execute: the default number of tasks. */
  runs: number;
  jobName: string;
  /** Folder for the batch script and the tasks' output (slurm-<job>_<task>.out); on storage the nodes share. */
  logDir: string;
  /** The worker's command (argv) each task executes, e.g. [".../tools/bin/ssmb", "worker"]. */
  workerCommand: string[];
  server: string;
  /** Folder containing the node binary the tasks should use (put first on PATH). */
  nodeDir?: string;
  /** Environment the tasks need besides the submitting shell's (SSMB_BACKEND, ...). */
  env?: Record<string, string>;
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The tasks of the array (`tasks` or one per run, never more than the runs). */
export function arrayTasks(spec: Pick<ArraySpec, 'resources' | 'runs'>): number {
  return Math.max(1, Math.min(spec.resources.tasks ?? spec.runs, Math.max(1, spec.runs)));
}

/** The sbatch options of the array job. */
export function sbatchOptions(spec: ArraySpec): string[] {
  const r = spec.resources;
  const n = arrayTasks(spec);
  return [
    `--job-name=${spec.jobName}`,
    `--array=0-${n - 1}${r.maxParallel ? `%${r.maxParallel}` : ''}`,
    `--output=${path.join(spec.logDir, 'slurm-%A_%a.out')}`,
    '--export=ALL',
    '--ntasks=1',
    ...(r.partition ? [`--partition=${r.partition}`] : []),
    ...(r.cpus ? [`--cpus-per-task=${r.cpus}`] : []),
    ...(r.mem ? [`--mem=${r.mem}`] : []),
    ...(r.time ? [`--time=${r.time}`] : []),
    ...(r.gres ? [`--gres=${r.gres}`] : []),
    ...(r.account ? [`--account=${r.account}`] : []),
    ...(r.qos ? [`--qos=${r.qos}`] : []),
    ...(r.constraint ? [`--constraint=${r.constraint}`] : []),
    ...(r.sbatchArgs ?? []),
  ];
}

/** The batch script: every task runs one worker until the queue is empty (its journal on node-local disk). */
export function batchScript(spec: ArraySpec): string {
  const lease = spec.resources.leaseSeconds ?? 60;
  const worker = [
    ...spec.workerCommand,
    '--server', spec.server,
    '--until-empty',
    '--quiet',
    '--lease-seconds', String(lease),
  ];
  return [
    '#!/bin/bash',
    '# Written by `ssmb launch|reproduce --launcher slurm`: each array task runs one worker that claims queued',
    '# runs from the tracking server until none is left. The token comes from the environment (SSMB_TOKEN).',
    ...sbatchOptions(spec).map((o) => `#SBATCH ${o}`),
    'set -euo pipefail',
    '# onnxruntime telemetry off unless the submitting user set ORT_DISABLE_TELEMETRY=0 (exported with --export=ALL)',
    'export ORT_DISABLE_TELEMETRY="${ORT_DISABLE_TELEMETRY:-1}"',
    ...(spec.nodeDir ? [`export PATH=${quote(spec.nodeDir)}:"$PATH"`] : []),
    ...Object.entries(spec.env ?? {}).map(([k, v]) => `export ${k}=${quote(v)}`),
    'buffer="${SLURM_TMPDIR:-${TMPDIR:-/tmp}}/ssmb-worker-${SLURM_ARRAY_JOB_ID:-$SLURM_JOB_ID}_${SLURM_ARRAY_TASK_ID:-0}-$$"',
    `exec ${worker.map(quote).join(' ')} --buffer-dir "$buffer"`,
    '',
  ].join('\n');
}

/** Submits the array job; returns its id and the script's path. */
export async function submitArray(spec: ArraySpec & { token: string | null }): Promise<{ jobId: string; script: string; tasks: number }> {
  mkdirSync(spec.logDir, { recursive: true });
  const script = path.join(spec.logDir, `${spec.jobName}-${Date.now()}.sbatch`);
  writeFileSync(script, batchScript(spec), { mode: 0o755 });
  const env = { ...process.env, ...(spec.token ? { SSMB_TOKEN: spec.token } : {}) };
  const res = await runSlurmCommand('sbatch', ['--parsable', script], env);
  if (res.code !== 0) throw new Error(`sbatch refused the array job (exit ${res.code}): ${(res.stderr || res.stdout).trim()} (script: ${script})`);
  const jobId = res.stdout.trim().split(';')[0];
  if (!/^\d+$/.test(jobId)) throw new Error(`sbatch answered "${res.stdout.trim()}", not a job id (script: ${script})`);
  return { jobId, script, tasks: arrayTasks(spec) };
}

/** Tasks of these jobs that are pending or running (0 once the jobs are done and gone). */
export async function activeTasks(jobIds: string[]): Promise<number> {
  if (jobIds.length === 0) return 0;
  const res = await runSlurmCommand('squeue', ['-h', '-r', '-j', jobIds.join(','), '-o', '%T']);
  if (res.code !== 0) {
    if (/Invalid job id/i.test(res.stderr)) return 0; // finished and purged
    throw new Error(`squeue failed (exit ${res.code}): ${res.stderr.trim()}`);
  }
  return res.stdout.split('\n').filter((l) => /^(PENDING|RUNNING|CONFIGURING|COMPLETING|SUSPENDED|REQUEUED|RESIZING)/.test(l.trim())).length;
}

/**
 * `scancel [options] TARGET` ("1234" or "1234_5"); never throws: the result says what happened.
 * `signal` + `batchOnly`: signal the task's worker (the batch step) instead of ending the task.
 */
export async function scancel(target: string, opts: { signal?: 'USR1' | 'TERM'; batchOnly?: boolean; pendingOnly?: boolean } = {}): Promise<{ ok: boolean; message: string }> {
  if (!/^\d+(_\d+)?$/.test(target)) return { ok: false, message: `not a Slurm job or array task id: ${target}` };
  const args = [...(opts.signal ? [`--signal=${opts.signal}`] : []), ...(opts.batchOnly ? ['--batch'] : []), ...(opts.pendingOnly ? ['--state=PENDING'] : []), target];
  const cmd = `scancel ${args.join(' ')}`;
  try {
    const res = await runSlurmCommand('scancel', args);
    return res.code === 0 ? { ok: true, message: cmd } : { ok: false, message: `${cmd} failed (exit ${res.code}): ${res.stderr.trim()}` };
  } catch (err) {
    return { ok: false, message: (err as Error).message.replace('--launcher slurm needs', 'cancelling a Slurm task needs') };
  }
}
