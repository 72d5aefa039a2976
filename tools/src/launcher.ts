// `--launcher local|slurm` for `ssmb launch` and `ssmb reproduce`: the options, and the Slurm side.
// With slurm, ONE `sbatch --array` job is submitted whose tasks run `ssmb worker --server URL --until-empty`
// against the tracking server (`ssmb serve`, which owns the store). `reproduce` and `launch` without
// --store queue the runs through that server; `launch --store FILE` queues them in the file and asks the
// server first whether it serves that store (it must know the run just queued), so tasks never report
// to the wrong place.
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { Command } from 'commander';
import { readToken, tokenFlag } from './token.ts';
import {
  activeTasks, arrayTasks, resolveSlurmResources, runSlurmCommand, serverBase, serverCall, ServerError, submitArray, type RunRecord, type RunStore, type SlurmResources, type WorkerPool,
} from '@ssmb/trainer';

export const LAUNCHERS = ['local', 'slurm'] as const;
export type LauncherKind = (typeof LAUNCHERS)[number];

/** The ssmb command a Slurm task runs (the repository is on storage the nodes share). */
export const SSMB_BIN = path.resolve(import.meta.dirname, '..', 'bin', 'ssmb');

export interface LauncherCliOptions {
  launcher?: string;
  server?: string;
  token?: string;
  tokenFile?: string;
  partition?: string;
  cpus?: number;
  mem?: string;
  time?: string;
  gres?: string;
  account?: string;
  qos?: string;
  constraint?: string;
  tasks?: number;
  maxParallel?: number;
  sbatchArg?: string[];
  workerLeaseSeconds?: number;
  slurmLogDir?: string;
}

const positiveInt = (flag: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} must be a positive integer, got ${v}`);
  return n;
};

/** The launcher flags, shared by `launch` and `reproduce`. */
export function addLauncherOptions(cmd: Command): Command {
  return cmd
    .option('--launcher <kind>', `who executes the runs: ${LAUNCHERS.join('|')}`, 'local')
    .option('--server <url>', 'the tracking server that owns the store (`ssmb serve`), e.g. http://login1:7077 (or SSMB_SERVER): runs are queued through it and Slurm tasks report to it')
    .option('--token-file <file>', 'slurm: file holding the server\'s token (mode 0600; default: SSMB_TOKEN); passed to the tasks in their environment, never on a command line')
    .addOption(tokenFlag())
    .option('--partition <name>', 'slurm: partition')
    .option('--cpus <n>', 'slurm: CPUs per task', positiveInt('--cpus'))
    .option('--mem <size>', 'slurm: memory per task, e.g. 8G')
    .option('--time <limit>', 'slurm: time limit per task, e.g. 2:00:00')
    .option('--gres <spec>', 'slurm: generic resources per task, e.g. gpu:1')
    .option('--account <name>', 'slurm: account to charge')
    .option('--qos <name>', 'slurm: quality of service')
    .option('--constraint <features>', 'slurm: node features, e.g. a100')
    .option('--tasks <n>', 'slurm: array tasks (default: one per run to execute)', positiveInt('--tasks'))
    .option('--max-parallel <n>', 'slurm: at most this many tasks at once', positiveInt('--max-parallel'))
    .option('--sbatch-arg <arg>', 'slurm: extra sbatch option, e.g. --exclusive; repeatable', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--worker-lease-seconds <s>', 'slurm: lease of each task\'s worker on its run (a killed task\'s run is re-queued after it)', (v: string) => Number.parseFloat(v))
    .option('--slurm-log-dir <dir>', "slurm: folder for the batch script and the tasks' output (default <store dir>/logs/slurm; must be on shared storage)");
}

export function launcherKind(o: LauncherCliOptions): LauncherKind {
  const k = o.launcher ?? 'local';
  if (!(LAUNCHERS as readonly string[]).includes(k)) throw new Error(`--launcher must be one of ${LAUNCHERS.join(', ')}, got ${k}`);
  return k as LauncherKind;
}

/** The resource flags given (table config values are merged under them). */
export function slurmFlags(o: LauncherCliOptions): Partial<SlurmResources> {
  return {
    partition: o.partition, cpus: o.cpus, mem: o.mem, time: o.time, gres: o.gres, account: o.account, qos: o.qos, constraint: o.constraint,
    tasks: o.tasks, maxParallel: o.maxParallel, sbatchArgs: o.sbatchArg?.length ? o.sbatchArg : undefined, leaseSeconds: o.workerLeaseSeconds,
  };
}

export interface SlurmTarget {
  server: string;
  token: string | null;
  resources: SlurmResources;
  logDir: string;
}

/**
 * Checks what can be checked before a run is queued: sbatch is installed (else a clear message), a
 * server URL is given, the resources are valid.
 */
export async function prepareSlurm(o: LauncherCliOptions, fromConfig: unknown, storeFile: string): Promise<SlurmTarget> {
  const res = await runSlurmCommand('sbatch', ['--version']); // a missing sbatch throws SlurmMissingError
  if (res.code !== 0) throw new Error(`sbatch --version failed (exit ${res.code}): ${(res.stderr || res.stdout).trim()}: is this a Slurm login node?`);
  const server = o.server ?? process.env.SSMB_SERVER;
  if (!server) {
    throw new Error(
      `--launcher slurm: the tasks report to a tracking server: start one on this store (\`ssmb serve --store ${storeFile} --host 0.0.0.0\`, it prints its URL and token) and pass --server URL with the token in SSMB_TOKEN (or --token-file FILE)`,
    );
  }
  return {
    server: serverBase(server),
    token: o.token ?? readToken(o), // o.token: a caller in this process (the --token flag itself is refused)
    resources: resolveSlurmResources(fromConfig, slurmFlags(o)),
    logDir: path.resolve(o.slurmLogDir ?? path.join(path.dirname(path.resolve(storeFile)), 'logs', 'slurm')),
  };
}

/** The server must serve the store these runs were queued in: it has to know `runId`, as queued. */
export async function checkServerServes(t: SlurmTarget, store: RunStore, runId: number): Promise<void> {
  const run = store.requireRun(runId);
  const start = `start it with \`ssmb serve --store ${store.file} --host 0.0.0.0\` (nothing was submitted)`;
  let served: { run?: { createdAt?: number; name?: string } };
  try {
    served = await serverCall(t.server, 'GET', `/api/runs/${runId}`, { secret: t.token, timeoutMs: 15_000 });
  } catch (err) {
    if (!(err instanceof ServerError)) throw err;
    if (err.status === 0) throw new Error(`the tracking server ${t.server} does not answer (${err.code}): ${start}`);
    if (err.status === 401) throw new Error(`the tracking server ${t.server} refused the token (${err.code}): pass the token \`ssmb serve\` printed in SSMB_TOKEN or --token-file FILE (nothing was submitted)`);
    if (err.status === 404) throw new Error(`the tracking server ${t.server} serves another store: it does not have run ${runId} just queued in ${store.file}; ${start}`);
    throw new Error(`the ${err.message} (nothing was submitted)`);
  }
  if (served.run?.createdAt !== run.createdAt || served.run?.name !== run.name) {
    throw new Error(`the tracking server ${t.server} serves another store: it does not have run ${runId} just queued in ${store.file}; ${start}`);
  }
}

/** A Slurm job name from an experiment or table name. */
export function jobName(what: string): string {
  const clean = what.replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40);
  return `ssmb-${clean || createHash('sha1').update(what).digest('hex').slice(0, 8)}`;
}

/** Submits one array job for `runIds` (already queued) and records its id on them (through the server,
 *  `store` null, the tasks record it when they claim a run). */
export async function submitForRuns(t: SlurmTarget, store: RunStore | null, runIds: number[], name: string, tasks?: number): Promise<{ jobId: string; tasks: number; script: string }> {
  const spec = {
    resources: tasks ? { ...t.resources, tasks } : t.resources,
    runs: runIds.length,
    jobName: name,
    logDir: t.logDir,
    workerCommand: [SSMB_BIN, 'worker'],
    server: t.server,
    nodeDir: path.dirname(process.execPath),
  };
  const sub = await submitArray({ ...spec, token: t.token });
  store?.setRunLauncher(runIds, 'slurm', sub.jobId);
  return sub;
}

/** runQueue's pool for a Slurm array: starting = submitting; alive = its tasks pending or running. The runs
 *  are read through the tracking server (`readRuns`): the tasks record their job when they claim a run. */
export function slurmPool(
  t: SlurmTarget,
  readRuns: (ids: number[]) => Promise<Array<Pick<RunRecord, 'id' | 'status' | 'launcher' | 'launcherJob'>>>,
  runIds: number[],
  name: string,
  log: (l: string) => void,
): WorkerPool {
  const jobs = new Set<string>();
  const known = async () => {
    // Jobs submitted now, and those an earlier call submitted for these runs (a rerun after Ctrl-C waits for them).
    for (const r of await readRuns(runIds)) {
      if (r.launcher === 'slurm' && r.launcherJob && (r.status === 'queued' || r.status === 'running')) jobs.add(r.launcherJob);
    }
    return [...jobs];
  };
  return {
    async start(n) {
      const pending = (await readRuns(runIds)).filter((r) => r.status === 'queued').map((r) => r.id);
      const sub = await submitForRuns(t, null, pending.length ? pending : runIds, name, n);
      jobs.add(sub.jobId);
      log(`submitted Slurm array job ${sub.jobId} (${sub.tasks} task${sub.tasks === 1 ? '' : 's'} of \`ssmb worker --server ${t.server} --until-empty\`; output in ${t.logDir})`);
    },
    active: async () => activeTasks(await known()),
    interrupt() {},
    settle: async () => {},
    interruptedNote: () =>
      `Slurm job(s) ${[...jobs].join(', ') || '(none)'} keep running and report to ${t.server}: run the same command again to wait for them and write the table, or stop them with scancel`,
  };
}

export { arrayTasks };
