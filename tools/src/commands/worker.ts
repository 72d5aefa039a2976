// `ssmb worker`: claim queued runs and execute them (leases, heartbeats, SIGTERM release). On the
// store's machine it opens the SQLite store (--store); anywhere else it reports to the tracking server
// (--server URL, the token in SSMB_TOKEN or --token-file; `ssmb serve`), buffering its writes on local disk while the server does not
// answer.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { defaultOwner, HttpStore, runWorker, type WorkerStoreApi } from '@ssmb/trainer';
import { readToken, tokenFlag } from '../token.ts';

export function register(program: Command): void {
  program
    .command('worker')
    .description('execute queued runs; several workers may share one store (--store) or one tracking server (--server)')
    .option('--store <file>', 'run store (SQLite file) on this machine')
    .option('--server <url>', 'tracking server (`ssmb serve`) to report to instead, e.g. http://login1:7077 (or SSMB_SERVER)')
    .option('--token-file <file>', "file holding the server's token (mode 0600; default: the SSMB_TOKEN environment variable); the worker registers with it and then uses its own credential")
    .addOption(tokenFlag())
    .option('--buffer-dir <dir>', 'with --server: folder for writes waiting for the server and for run files (default: a new folder under the temp dir)')
    .option('--buffer-mb <n>', 'with --server: bound of the buffered writes; at the bound training pauses until the server takes them', Number.parseFloat, 512)
    .option('--server-timeout <s>', 'with --server: give up claiming a run when the server has not answered for this long', Number.parseFloat, 600)
    .option('--lease-seconds <s>', 'lease length; a run whose lease expires is re-queued', Number.parseFloat, 60)
    .option('--poll-seconds <s>', 'wait between queue polls when idle', Number.parseFloat, 2)
    .option('--until-empty', 'exit when no run is queued instead of waiting for more')
    .option('--max-runs <n>', 'exit after this many runs', (v) => Number.parseInt(v, 10))
    .option('--owner <id>', 'worker id recorded as the lease owner (default host:pid:random)')
    .option('-q, --quiet', 'log lines instead of a progress bar')
    .action(async (o) => {
      const server: string | undefined = o.server ?? process.env.SSMB_SERVER;
      if (!!o.store === !!server) throw new Error('ssmb worker needs exactly one of --store FILE (this machine) or --server URL (a tracking server)');
      const owner: string = o.owner ?? defaultOwner();
      let http: HttpStore | undefined;
      let store: string | WorkerStoreApi = o.store;
      if (server) {
        if (!(o.bufferMb >= 1)) throw new Error(`--buffer-mb must be at least 1, got ${o.bufferMb}`);
        const bufferDir = o.bufferDir ?? mkdtempSync(path.join(tmpdir(), `ssmb-worker-${owner.replace(/[^\w.-]+/g, '_')}-`));
        http = new HttpStore({
          url: server,
          token: readToken(o),
          bufferDir,
          maxBufferBytes: Math.round(o.bufferMb * 1024 * 1024),
          serverTimeoutMs: o.serverTimeout * 1000,
        });
        store = http;
        process.stderr.write(`worker ${owner}: reporting to ${http.location}; writes wait in ${bufferDir} while it does not answer\n`);
      }
      try {
        const s = await runWorker({
          store,
          owner,
          leaseMs: o.leaseSeconds * 1000,
          pollMs: o.pollSeconds * 1000,
          untilEmpty: !!o.untilEmpty,
          maxRuns: o.maxRuns,
          quiet: !!o.quiet,
        });
        await http?.drain();
        console.log(
          `worker ${s.owner}: completed ${s.completed.length}, failed ${s.failed.length}, released ${s.released.length}, lost ${s.lost.length}, cancelled ${s.cancelled.length}`,
        );
        if (s.failed.length > 0) process.exitCode = 1;
      } finally {
        http?.close();
      }
    });
}
