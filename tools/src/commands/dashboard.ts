// `ssmb dashboard`: the results dashboard (fastify API + the React app) over a run store, and the
// tracking server remote workers report to (`ssmb worker --server URL`). `ssmb serve` and
// `ssmb dashboard serve` are the same command, except that `ssmb serve` creates a missing store: the
// tracking server is started first on a cluster, while the dashboard is pointed at results (a typo'd
// --store must not show an empty store).
import type { Command } from 'commander';
import path from 'node:path';
import { DEFAULT_HOST, DEFAULT_MAX_SWEEP_RUNS, DEFAULT_PORT, RUN_UPLOAD_QUOTA, SECRETS_FILE, buildServer, ensureWebBuild, isLoopback, openDashboardStore } from '@ssmb/dashboard';
import { DEFAULT_STORE } from './reproduce.ts';
import { readToken, tokenFlag } from '../token.ts';

export interface ServeOptions {
  store: string;
  host: string;
  port: number;
  /** A fixed token (from SSMB_TOKEN or --token-file; the CLI never takes it from argv). */
  token?: string;
  tokenFile?: string;
  /** Extra Host names the server answers to (a reverse proxy's name, this machine's DNS name). */
  allowHost?: string[];
  /** Folders launched runs may write to, and read datasets / weights from (besides the store's folder). */
  outputRoot?: string[];
  dataRoot?: string[];
  weightsRoot?: string[];
  maxSweepRuns?: number;
  /** Table configs folder (default: the repository's tables/). */
  tables?: string;
  /** Bytes of uploads one run may hold, in GiB (default RUN_UPLOAD_QUOTA). */
  runUploadQuotaGb?: number;
  /** Wait this long after start before re-queueing runs whose lease expired (workers reconnect). */
  staleGraceSeconds?: number;
  /** Create the store (and its folder) when missing (`ssmb serve`). */
  create?: boolean;
  /** Build the single-page app first when it is missing or stale (needs vite, a dev dependency). */
  build?: boolean;
  log?: (line: string) => void;
}

export interface RunningDashboard {
  url: string;
  token: string | null;
  close(): Promise<void>;
}

export async function serveDashboard(o: ServeOptions): Promise<RunningDashboard> {
  const log = o.log ?? console.log;
  if (o.build !== false) {
    try {
      const b = await ensureWebBuild();
      if (b.built) log(`built the dashboard app in ${(b.ms / 1000).toFixed(1)} s`);
    } catch (err) {
      log(`warning: could not build the dashboard app (${(err as Error).message}); the API still works under /api`);
    }
  }
  const store = openDashboardStore(o.store, { create: !!o.create });
  const secretsFile = path.join(store.dir, SECRETS_FILE);
  const server = await buildServer({
    store,
    host: o.host,
    token: o.token,
    allowHosts: o.allowHost,
    roots: { output: o.outputRoot, data: o.dataRoot, weights: o.weightsRoot },
    maxSweepRuns: o.maxSweepRuns,
    ...(o.tables !== undefined ? { tablesDir: o.tables } : {}),
    ...(o.staleGraceSeconds !== undefined ? { staleGraceMs: o.staleGraceSeconds * 1000 } : {}),
    ...(o.runUploadQuotaGb !== undefined ? { runUploadQuota: Math.round(o.runUploadQuotaGb * 1024 ** 3) } : {}),
  }).catch((err) => {
    store.close(); // a refused token or secrets file: nothing stays open
    throw err;
  });
  const { app, policy, roots } = server;
  let address: string;
  try {
    address = await app.listen({ host: o.host, port: o.port });
  } catch (err) {
    store.close();
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE') throw new Error(`port ${o.port} on ${o.host} is in use: pick another with --port`);
    throw err;
  }
  const url = isLoopback(o.host) ? address : `http://${o.host.includes(':') ? `[${o.host}]` : o.host}:${(app.server.address() as { port: number }).port}`;
  log(`dashboard: ${url}  (store ${o.store})`);
  if (policy.token) {
    log(`token: ${policy.token}${o.token === undefined ? `  (generated; kept for restarts in ${secretsFile}, mode 0600)` : ''}`);
    log(policy.exposed
      ? 'changes (tags, archive, cancel, launch) and reads from other hosts need this token: paste it into the token field of the page'
      : 'changes (tags, archive, cancel, launch) need this token');
  }
  log(`workers elsewhere report here: ${policy.token ? 'SSMB_TOKEN=<token> ' : ''}ssmb worker --server ${url} (each registers and gets its own credential; stale runs are re-queued by this server)`);
  log(`launched runs write under ${roots.output.join(', ')}; read datasets from ${roots.data.join(', ')} and weights from ${roots.weights.join(', ')}`);
  return {
    url,
    token: policy.token,
    close: async () => {
      await app.close();
      store.close();
    },
  };
}

const collect = (v: string, prev: string[]) => [...prev, v];
const positiveInt = (flag: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} must be a positive integer, got ${v}`);
  return n;
};

function addServeOptions(cmd: Command, create = false): Command {
  return cmd
    .option('--store <file>', create ? 'run store (SQLite file; created with its folder when missing)' : 'run store (SQLite file written by the trainer)', DEFAULT_STORE)
    .option('--port <n>', 'TCP port', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`--port must be an integer 0..65535, got ${v}`);
      return n;
    }, DEFAULT_PORT)
    .option('--host <address>', 'address to bind; a non-loopback address requires a token for changes and for reads from other hosts', DEFAULT_HOST)
    .option('--token-file <file>', 'file holding a fixed token (mode 0600; or the SSMB_TOKEN environment variable); default: generated when the host is not loopback, kept in the store folder')
    .addOption(tokenFlag())
    .option('--allow-host <name>', 'also answer to this Host name (reverse proxy, DNS name); repeatable', collect, [])
    .option('--output-root <dir>', "folder launched runs may write to besides the store's; repeatable", collect, [])
    .option('--data-root <dir>', "folder launched runs may read datasets from besides the store's; repeatable", collect, [])
    .option('--weights-root <dir>', "folder launched runs may read weights from besides the store's; repeatable", collect, [])
    .option('--max-sweep-runs <n>', 'largest sweep the Launch page queues', positiveInt('--max-sweep-runs'), DEFAULT_MAX_SWEEP_RUNS)
    .option('--tables <dir>', "table configs for the Paper tables page (default: the repository's tables/)")
    .option('--run-upload-quota-gb <n>', `uploads (checkpoints, weights) one run may hold in the store's folder, GiB (default ${RUN_UPLOAD_QUOTA / 1024 ** 3})`, (v) => {
      const n = Number(v);
      if (!(n > 0)) throw new Error(`--run-upload-quota-gb must be a positive number, got ${v}`);
      return n;
    })
    .option('--stale-grace-seconds <s>', 'after start, wait this long before re-queueing runs whose lease expired (their workers reconnect)', Number.parseFloat)
    .action(async (o: ServeOptions) => {
      const running = await serveDashboard({ ...o, create, token: readToken(o) ?? undefined });
      await new Promise<void>((resolve) => {
        const stop = () => {
          void running.close().then(resolve);
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}

export function register(program: Command): void {
  const dash = addServeOptions(
    program.command('dashboard').description('serve the results dashboard (JSON API + app) over a run store; loopback by default'),
  );
  // `dashboard serve --store X`: the options after `serve` are serve's, not the parent's. Commander needs
  // positional options on every level above for that; the root program has no options of its own.
  program.enablePositionalOptions();
  dash.enablePositionalOptions();
  addServeOptions(dash.command('serve').description('the same as `ssmb dashboard`'));
  addServeOptions(program.command('serve').description('the tracking server: the same as `ssmb dashboard` (dashboard + the workers\' API), and creates a missing store'), true);
}
