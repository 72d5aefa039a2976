// `ssmb resume RUN_ID`: continue a stopped, failed or crashed run from its last checkpoint, exactly.
import type { Command } from 'commander';
import { RunStore, runWorker } from '@ssmb/trainer';

export function register(program: Command): void {
  program
    .command('resume <runId>')
    .description('continue a run from its last checkpoint (same steps, same schedule, same RNG)')
    .requiredOption('--store <file>', 'run store (SQLite file)')
    .option('--lease-seconds <s>', 'lease length: if this process dies, the run can be resumed again after this long', Number.parseFloat, 60)
    .option('-q, --quiet', 'log lines instead of a progress bar')
    .action(async (runIdText: string, o) => {
      const runId = Number.parseInt(runIdText, 10);
      if (!Number.isInteger(runId) || String(runId) !== runIdText.trim()) throw new Error(`RUN_ID must be a run number, got "${runIdText}"`);
      if (!(o.leaseSeconds > 0)) throw new Error(`--lease-seconds must be a positive number of seconds, got ${o.leaseSeconds}`);
      const store = RunStore.open(o.store, { mustExist: true });
      try {
        store.requeueExpired();
        const run = store.requireRun(runId);
        if (run.kind === 'sweep') throw new Error(`run ${runId} is a sweep parent; resume its children (ssmb runs list --store ${o.store} --parent ${runId})`);
        if (run.status === 'completed') throw new Error(`run ${runId} is already completed`);
        if (run.status === 'running') {
          throw new Error(`run ${runId} is held by worker ${run.leaseOwner} until ${new Date(run.leaseExpiresAt ?? 0).toISOString()}; stop that worker or wait for its lease to expire (a shorter --lease-seconds makes a crashed resume release it sooner)`);
        }
        if (run.status === 'failed' || run.status === 'cancelled') store.requeueRun(runId);
        const ckpt = store.latestCheckpoint(runId);
        console.error(`resuming run ${runId} from ${ckpt ? `step ${ckpt.step} (${ckpt.path})` : 'the start (no checkpoint yet)'}`);
        const s = await runWorker({ store, runId, quiet: !!o.quiet, leaseMs: o.leaseSeconds * 1000 });
        if (s.failed.length > 0 || s.completed.length === 0) process.exitCode = 1;
        else console.log(`run ${runId} completed`);
      } finally {
        store.close();
      }
    });
}
