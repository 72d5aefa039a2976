// `ssmb worker`: claim queued runs and execute them (leases, heartbeats, SIGTERM release). On the
// store's machine it opens the SQLite store (--store); anywhere else it reports to the tracking server
// (--server URL, the token in SSMB_TOKEN or --token-file; `ssmb serve`), buffering its writes on local disk
// while the server does not answer. Writes a worker that died left in its buffer folder are delivered by
// the next worker started on that folder, or by `--replay DIR` alone.
import { existsSync, mkdtempSync } from 'node:fs';
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
    .option('--replay <dir>', 'with --server: only deliver the writes a stopped worker left in this buffer folder, then exit')
    .option('-q, --quiet', 'log lines instead of a progress bar')
    .action(async (o) => {
      const server: string | undefined = o.server ?? process.env.SSMB_SERVER;
      if (!!o.store === !!server) throw new Error('ssmb worker needs exactly one of --store FILE (this machine) or --server URL (a tracking server)');
      if (o.replay) return replay(o.replay, server, o);
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
        await http?.settleReports(); // the server hears that the buffer is empty
        console.log(
          `worker ${s.owner}: completed ${s.completed.length}, failed ${s.failed.length}, released ${s.released.length}, lost ${s.lost.length}, cancelled ${s.cancelled.length}`,
        );
        if (s.failed.length > 0) process.exitCode = 1;
      } finally {
        // Stopping with writes undelivered (the server does not answer, or this worker failed): the server
        // is told where they wait, so `ssmb runs list` names the folder to replay.
        if (http && http.buffered.entries > 0) await http.reportBuffer(true);
        http?.close();
      }
    });
}

/** `--replay DIR`: deliver a stopped worker's buffered writes, say what was delivered and what was discarded. */
async function replay(dir: string, server: string | undefined, o: { tokenFile?: string; bufferMb: number }): Promise<void> {
  if (!server) throw new Error('--replay DIR delivers buffered writes to a tracking server: pass --server URL');
  if (!existsSync(path.join(dir, 'journal'))) throw new Error(`--replay ${dir}: no worker journal there (expected ${path.join(dir, 'journal')}, the buffer folder a worker printed)`);
  const http = new HttpStore({ url: server, token: readToken(o), bufferDir: dir, maxBufferBytes: Math.round(o.bufferMb * 1024 * 1024) });
  try {
    await http.drain();
    await http.settleReports(); // the server drops the buffer from its list
    const r = http.replay;
    console.log(`replayed ${dir}: ${r.adopted - r.discarded} write(s) delivered to ${http.location}, ${r.discarded} discarded (their lease had moved on: the run resumed from a stored checkpoint)`);
  } finally {
    http.close();
  }
}
