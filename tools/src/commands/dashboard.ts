// `ssmb dashboard serve`: the results dashboard (fastify API + the React app) over a run store.
import type { Command } from 'commander';
import { buildServer, ensureWebBuild, isLoopback, openDashboardStore, storeLauncher } from '@ssmb/dashboard';
import { DEFAULT_STORE } from './reproduce.ts';

export interface ServeOptions {
  store: string;
  host: string;
  port: number;
  token?: string;
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
  const data = openDashboardStore(o.store);
  const { app, policy } = await buildServer({ data, host: o.host, token: o.token, launcher: storeLauncher(data.store) });
  let address: string;
  try {
    address = await app.listen({ host: o.host, port: o.port });
  } catch (err) {
    data.store.close();
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE') throw new Error(`port ${o.port} on ${o.host} is in use: pick another with --port`);
    throw err;
  }
  const url = isLoopback(o.host) ? address : `http://${o.host.includes(':') ? `[${o.host}]` : o.host}:${(app.server.address() as { port: number }).port}`;
  log(`dashboard: ${url}  (store ${o.store})`);
  if (policy.token) {
    log(`token: ${policy.token}`);
    log(policy.exposed
      ? 'writes (tags, archive, launch) and reads from other hosts need this token: paste it into the token field of the page'
      : 'writes (tags, archive, launch) need this token');
  }
  return {
    url,
    token: policy.token,
    close: async () => {
      await app.close();
      data.store.close();
    },
  };
}

export function register(program: Command): void {
  const dash = program.command('dashboard').description('results dashboard over a run store');
  dash
    .command('serve')
    .description('serve the dashboard (JSON API + app); loopback by default, a token guards writes on other addresses')
    .option('--store <file>', 'run store (SQLite file)', DEFAULT_STORE)
    .option('--port <n>', 'TCP port', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`--port must be an integer 0..65535, got ${v}`);
      return n;
    }, 7077)
    .option('--host <address>', 'address to bind; a non-loopback address requires a token for writes', '127.0.0.1')
    .option('--token <token>', 'token for writes (default: generated and printed when the host is not loopback)')
    .action(async (o: { store: string; port: number; host: string; token?: string }) => {
      const running = await serveDashboard(o);
      await new Promise<void>((resolve) => {
        const stop = () => {
          void running.close().then(resolve);
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
