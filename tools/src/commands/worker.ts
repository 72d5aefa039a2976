// `ssmb worker`: claim queued runs from the store and execute them (leases, heartbeats, SIGTERM release).
import type { Command } from 'commander';
import { runWorker } from '@ssmb/trainer';

export function register(program: Command): void {
  program
    .command('worker')
    .description('execute queued runs; several workers may share one store')
    .requiredOption('--store <file>', 'run store (SQLite file)')
    .option('--lease-seconds <s>', 'lease length; a run whose lease expires is re-queued', Number.parseFloat, 60)
    .option('--poll-seconds <s>', 'wait between queue polls when idle', Number.parseFloat, 2)
    .option('--until-empty', 'exit when no run is queued instead of waiting for more')
    .option('--max-runs <n>', 'exit after this many runs', (v) => Number.parseInt(v, 10))
    .option('--owner <id>', 'worker id recorded as the lease owner (default host:pid:random)')
    .option('-q, --quiet', 'log lines instead of a progress bar')
    .action(async (o) => {
      const s = await runWorker({
        store: o.store,
        owner: o.owner,
        leaseMs: o.leaseSeconds * 1000,
        pollMs: o.pollSeconds * 1000,
        untilEmpty: !!o.untilEmpty,
        maxRuns: o.maxRuns,
        quiet: !!o.quiet,
      });
      console.log(`worker ${s.owner}: completed ${s.completed.length}, failed ${s.failed.length}, released ${s.released.length}, lost ${s.lost.length}`);
      if (s.failed.length > 0) process.exitCode = 1;
    });
}
