// `ssmb launch`: queue one run, or a sweep (--grid key=v1,v2 ...), in the run store (--store) or through
// the tracking server that owns it (--server alone: its launch API, the cluster path); --work runs them
// here; --launcher slurm submits one Slurm array job of workers reporting to the tracking server.
import type { Command } from 'commander';
import { getProtocol } from '@ssmb/protocols';
import {
  collect, configFromCli, LAUNCHABLE_KINDS, launchRun, launchSweep, planSweep, PreflightError, protocolFoldNames, RunStore, runInputProblems, runKindFor, runWorker,
  type Config, type PreflightProblem, type RunKind,
} from '@ssmb/trainer';
import { addLauncherOptions, checkServerServes, jobName, launcherKind, prepareSlurm, submitForRuns, type SlurmTarget } from '../launcher.ts';
import { serverRequest, serverTarget, type ServerTarget } from '../server_client.ts';

const KINDS: readonly string[] = LAUNCHABLE_KINDS;

const hasProtocol = (name: string) => {
  try {
    getProtocol(name);
    return true;
  } catch {
    return false;
  }
};

/** What the runs would read, checked before anything is queued (as `ssmb reproduce` does). */
export function launchProblems(configs: Config[], kind: Exclude<RunKind, 'sweep'> | undefined, initFrom: string | undefined): PreflightProblem[] {
  const seen = new Set<string>();
  return configs
    .flatMap((c) => runInputProblems(c, runKindFor(c, kind), { initFrom, hasProtocol }))
    .filter((p) => !seen.has(p.message) && !!seen.add(p.message));
}

export function register(program: Command): void {
  addLauncherOptions(
    program
      .command('launch')
      .description('queue a run (or a sweep with --grid) in the run store; --launcher slurm submits workers as one Slurm array job')
      .option('--store <file>', 'run store (SQLite file; created when missing); without it, the runs are queued through --server URL')
      .option('--experiment <name>', 'experiment name', 'default')
      .option('--name <name>', 'run name')
      .option('-c, --config <file>', 'config override file (JSON or YAML); repeatable', collect, [])
      .option('-s, --set <key=value>', 'config override, e.g. ssmb.numExperts=4; repeatable', collect, [])
      .option('-g, --grid <key=v1,v2>', 'sweep axis, e.g. ssmb.numExperts=1,2,4,8 or dataset.fold=all; repeatable', collect, [])
      .option('--kind <kind>', `run kind: ${KINDS.join('|')} (default: train, or evaluate for method=baseline)`)
      .option('--max-attempts <n>', 'attempts before a crashed run is failed', (v) => Number.parseInt(v, 10), 3)
      .option('--init-from <file>', 'start the new run(s) from these weights (a checkpoint or weights file)')
      .option('--work', 'then run a worker in this process until the queue is empty')
      .option('-q, --quiet', 'log lines instead of a progress bar'),
  ).action(async (o: Record<string, any>) => {
    if (o.kind && !KINDS.includes(o.kind)) throw new Error(`--kind must be one of ${KINDS.join(', ')}, got ${o.kind}`);
    const launcher = launcherKind(o);
    if (launcher === 'slurm' && o.work) throw new Error('--work runs the queue in this process; with --launcher slurm the array job runs it: pass one of them');
    const config = configFromCli(o);
    const kind = o.kind as Exclude<RunKind, 'sweep'> | undefined;
    const configs = o.grid.length > 0 ? (await planSweep(config, o.grid, protocolFoldNames)).map((p) => p.config) : [config];
    const problems = launchProblems(configs, kind, o.initFrom);
    if (problems.length > 0) throw new PreflightError(problems, '', 'launch', 'found before queueing; nothing was queued');
    if (!o.store) {
      const server = serverTarget(o);
      if (!server) throw new Error('ssmb launch needs --store FILE (a store on this machine) or --server URL (the tracking server that owns the store; or SSMB_SERVER)');
      return launchViaServer(server, o, runKindFor(config, kind), launcher === 'slurm' ? o : null);
    }
    const slurm = launcher === 'slurm' ? await prepareSlurm(o, undefined, o.store) : null;
    const store = RunStore.open(o.store);
    try {
      const opts = { experiment: o.experiment, name: o.name, kind, maxAttempts: o.maxAttempts, initFrom: o.initFrom };
      let ids: number[];
      let cancelId: number;
      if (o.grid.length > 0) {
        const { parentId, childIds } = await launchSweep(store, config, o.grid, protocolFoldNames, opts);
        console.log(`queued sweep ${parentId} with ${childIds.length} runs: ${childIds.join(' ')}`);
        ids = childIds;
        cancelId = parentId;
      } else {
        const id = launchRun(store, config, opts);
        console.log(`queued run ${id}`);
        ids = [id];
        cancelId = id;
      }
      if (slurm) {
        try {
          await checkServerServes(slurm, store, ids[0]);
          const sub = await submitForRuns(slurm, store, ids, jobName(o.experiment));
          console.log(`submitted Slurm array job ${sub.jobId} (${sub.tasks} task(s) of \`ssmb worker --server ${slurm.server} --until-empty\`); task output in ${slurm.logDir}`);
          console.log(`follow it with \`ssmb runs list --store ${o.store}\` or the dashboard at ${slurm.server}`);
        } catch (err) {
          store.cancelRun(cancelId);
          throw new Error(`${(err as Error).message}; the ${ids.length} run(s) just queued were cancelled`);
        }
      }
      if (o.work) {
        const s = await runWorker({ store, untilEmpty: true, quiet: o.quiet });
        console.log(`completed ${s.completed.length}, failed ${s.failed.length}`);
        if (s.failed.length > 0) process.exitCode = 1;
      }
    } finally {
      store.close();
    }
  });
}

/**
 * Queues through the server's launch API (the same the Launch page uses: its path limits apply), then,
 * for --launcher slurm, submits the array job; when that fails the runs just queued are cancelled.
 */
async function launchViaServer(t: ServerTarget, o: Record<string, any>, kind: Exclude<RunKind, 'sweep'>, slurmFlags: Record<string, any> | null): Promise<void> {
  const unsupported = [
    o.config.length ? '--config (pass the values with --set)' : '',
    o.initFrom ? '--init-from' : '',
    o.maxAttempts !== 3 ? '--max-attempts' : '',
    o.work ? '--work (start `ssmb worker --server URL` instead)' : '',
  ].filter(Boolean);
  if (unsupported.length) throw new Error(`ssmb launch --server: ${unsupported.join(', ')} need --store (the server's launch API takes --set, --grid, --kind, --name, --experiment); nothing was queued`);
  const meta = slurmFlags ? await serverRequest<{ store: string }>(t, 'GET', '/api/meta') : null;
  // Before anything is queued: sbatch is installed, the resources are valid (task output beside the server's store).
  const slurm: SlurmTarget | null = slurmFlags ? await prepareSlurm({ ...slurmFlags, server: t.url, token: t.token ?? undefined }, undefined, meta!.store) : null;
  const res = await serverRequest<{ runIds: number[]; sweepId?: number }>(t, 'POST', '/api/launch', {
    experiment: o.experiment, kind, set: o.set, ...(o.name ? { name: o.name } : {}), ...(o.grid.length ? { grid: o.grid.join('\n') } : {}),
  });
  console.log(res.sweepId !== undefined ? `queued sweep ${res.sweepId} with ${res.runIds.length} runs: ${res.runIds.join(' ')}` : `queued run ${res.runIds[0]}`);
  if (!slurm) return;
  try {
    const sub = await submitForRuns(slurm, null, res.runIds, jobName(o.experiment));
    console.log(`submitted Slurm array job ${sub.jobId} (${sub.tasks} task(s) of \`ssmb worker --server ${slurm.server} --until-empty\`); task output in ${slurm.logDir}`);
    console.log(`follow it with \`ssmb runs list --server ${t.url}\` or the dashboard at ${t.url}`);
  } catch (err) {
    await serverRequest(t, 'POST', `/api/runs/${res.sweepId ?? res.runIds[0]}/cancel`, {});
    throw new Error(`${(err as Error).message}; the ${res.runIds.length} run(s) just queued were cancelled`);
  }
}
