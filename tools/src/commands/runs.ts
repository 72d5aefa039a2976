// `ssmb runs ...`: list and inspect runs; cancel, re-queue, archive. `list`, `show` and `cancel` also
// work through the tracking server (--server URL): on a cluster the server alone opens the store.
// `list` flags runs whose writes wait undelivered in a remote worker's buffer (as the worker last
// reported it to the server) and says how to deliver them.
import type { Command } from 'commander';
import {
  cancelRunEverywhere, executorLabel, ownerIsDeadLocal, readWorkerBuffers, RunStore, undeliveredByRun, type RunRecord, type RunStatus, type WorkerBufferReport,
} from '@ssmb/trainer';
import { serverRequest, storeOrServer, type ServerTarget } from '../server_client.ts';
import { tokenFlag } from '../token.ts';

/** Reads open the store read-only; writes need it to exist: neither ever creates a store (a typo'd --store fails naming the path). */
function withStore<T>(file: string, fn: (s: RunStore) => T, mode: 'read' | 'write' = 'write'): T {
  const store = RunStore.open(file, mode === 'read' ? { readonly: true } : { mustExist: true });
  try {
    return fn(store);
  } finally {
    store.close();
  }
}

/**
 * Why a running run is stale, or null: its lease expired (the worker died or hangs), or its worker is a
 * process of this machine that is gone. A live worker, the tracking server or a launcher's loop
 * re-queues it; it resumes from its last checkpoint.
 */
export function staleReason(r: Pick<RunRecord, 'status' | 'leaseExpiresAt' | 'leaseOwner'>, now = Date.now()): string | null {
  if (r.status !== 'running') return null;
  if (r.leaseExpiresAt !== null && r.leaseExpiresAt < now) return `lease of ${r.leaseOwner} expired ${Math.round((now - r.leaseExpiresAt) / 1000)} s ago`;
  if (ownerIsDeadLocal(r.leaseOwner)) return `worker ${r.leaseOwner} is gone (its process ended)`;
  return null;
}

const runId = (text: string) => {
  const id = Number.parseInt(text, 10);
  if (!Number.isInteger(id) || String(id) !== text.trim()) throw new Error(`RUN_ID must be a run number, got "${text}"`);
  return id;
};

/** One line of `runs list`. */
function listLine(
  r: Pick<RunRecord, 'id' | 'status' | 'kind' | 'experimentName' | 'step' | 'totalSteps' | 'launcher' | 'launcherJob' | 'launcherTask' | 'name' | 'error'>,
  loss: number | undefined,
  stale: string | null,
  undelivered: Array<{ host: string; dir: string; writes: number }> = [],
): string {
  return [
    String(r.id).padStart(5), (stale ? 'stale' : r.status).padEnd(9), r.kind.padEnd(8), r.experimentName, `${r.step}/${r.totalSteps ?? '-'}`, loss !== undefined ? `loss ${loss.toFixed(4)}` : '',
    r.launcher === 'local' ? '' : executorLabel(r), r.name, stale ?? '', r.error ? `error: ${r.error}` : '',
    ...undelivered.map((u) => `undelivered: ${u.writes} write(s) in ${u.host}:${u.dir}`),
  ]
    .filter(Boolean)
    .join('  ');
}

/** After the list: every buffer a worker reported holding undelivered writes, and how to deliver them. */
function bufferLines(buffers: WorkerBufferReport[], server: string | null, now = Date.now()): string[] {
  return buffers.map((b) => {
    const runs = Object.keys(b.runs).join(', ');
    const replay = `ssmb worker --server ${server ?? 'URL'} --replay ${b.dir}`;
    return `worker buffer ${b.host}:${b.dir} holds ${b.entries} undelivered write(s) of run(s) ${runs} (reported ${Math.round((now - b.reportedAt) / 1000)} s ago by ${b.owner}): ` +
      `a worker started on that folder delivers them, or \`${replay}\` on ${b.host}`;
  });
}

type ServerRun = Parameters<typeof listLine>[0] & { stale: boolean; leaseExpiresAt: number | null; latest: Record<string, { value: number }> };

/** `runs list --server`: the server's runs API (the experiment named by its id in /api/meta). */
async function listViaServer(t: ServerTarget, o: { status?: string; experiment?: string; parent?: number; limit: number; archived?: boolean; json?: boolean }): Promise<void> {
  const q = new URLSearchParams({ limit: String(o.limit), archived: o.archived ? 'include' : 'exclude' });
  if (o.status) q.set('status', o.status);
  if (o.parent !== undefined) q.set('parent', String(o.parent));
  if (o.experiment !== undefined) {
    const meta = await serverRequest<{ experiments: Array<{ id: number; name: string }> }>(t, 'GET', '/api/meta');
    const e = meta.experiments.find((x) => x.name === o.experiment);
    if (!e) throw new Error(`--experiment ${o.experiment}: the tracking server ${t.url} has no such experiment; it has: ${meta.experiments.map((x) => x.name).join(', ') || '(none)'}`);
    q.set('experiment', String(e.id));
  }
  const page = await serverRequest<{ total: number; runs: ServerRun[] }>(t, 'GET', `/api/runs?${q}`);
  if (o.json) return console.log(JSON.stringify(page.runs, null, 2));
  const { buffers } = await serverRequest<{ buffers: WorkerBufferReport[] }>(t, 'GET', '/api/worker-buffers');
  const undelivered = undeliveredByRun(buffers);
  const now = Date.now();
  for (const r of page.runs) {
    const stale = r.stale ? (r.leaseExpiresAt !== null && r.leaseExpiresAt < now ? `lease expired ${Math.round((now - r.leaseExpiresAt) / 1000)} s ago` : 'its worker is gone') : null;
    console.log(listLine(r, r.latest.loss?.value, stale, undelivered.get(r.id)));
  }
  if (page.total > page.runs.length) console.log(`(${page.runs.length} of ${page.total} runs shown: --limit N for more)`);
  for (const l of bufferLines(buffers, t.url, now)) console.log(l);
}

export function register(program: Command): void {
  const runs = program.command('runs').description('inspect and manage runs in the run store');
  const serverFlags = (c: Command) =>
    c.option('--server <url>', 'the tracking server that owns the store, e.g. http://login1:7077 (or SSMB_SERVER), instead of --store')
      .option('--token-file <file>', "file holding the server's token (mode 0600; default: the SSMB_TOKEN environment variable)")
      .addOption(tokenFlag());
  serverFlags(runs
    .command('list')
    .option('--store <file>', 'run store (SQLite file on this machine)'))
    .option('--status <status>', 'queued|running|completed|failed|cancelled')
    .option('--experiment <name>')
    .option('--parent <id>', 'children of this sweep', runId)
    .option('--limit <n>', 'most recent N', (v) => Number.parseInt(v, 10), 50)
    .option('--archived', 'include archived runs')
    .option('--json', 'JSON output')
    .action(async (o) => {
      const where = storeOrServer(o, 'runs list');
      if (where.server) return listViaServer(where.server, o);
      withStore(where.store, (s) => {
        const rows = s.listRuns({ status: o.status as RunStatus | undefined, experiment: o.experiment, parentRunId: o.parent, limit: o.limit, archived: o.archived ? 'include' : 'exclude' });
        if (o.json) return console.log(JSON.stringify(rows, null, 2));
        // Buffers remote workers reported to the tracking server on this store (it keeps them beside the store).
        const buffers = readWorkerBuffers(s.dir);
        const undelivered = undeliveredByRun(buffers);
        const now = Date.now();
        for (const r of rows) console.log(listLine(r, s.getLatestMetrics(r.id).loss?.value, staleReason(r, now), undelivered.get(r.id)));
        for (const l of bufferLines(buffers, null, now)) console.log(l);
      }, 'read');
    });
  serverFlags(runs
    .command('show <runId>')
    .option('--store <file>', 'run store (SQLite file on this machine)'))
    .action(async (id: string, o) => {
      const where = storeOrServer(o, 'runs show');
      if (where.server) return console.log(JSON.stringify(await serverRequest(where.server, 'GET', `/api/runs/${runId(id)}`), null, 2));
      withStore(where.store, (s) => {
        const r = s.requireRun(runId(id));
        console.log(
          JSON.stringify(
            { ...r, params: s.getParams(r.id), tags: s.getTags(r.id), latest: s.getLatestMetrics(r.id), evaluation: s.getEvalMetrics(r.id), routing: s.getRouting(r.id), checkpoints: s.listCheckpoints(r.id), artifacts: s.listArtifacts(r.id) },
            (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v),
            2,
          ),
        );
      }, 'read');
    });
  serverFlags(runs
    .command('cancel <runId>')
    .description('cancel a run (a sweep: its unfinished runs); a running run checkpoints and stops; a Slurm task running it is signalled (scancel)')
    .option('--store <file>', 'run store (SQLite file on this machine)'))
    .action(async (id: string, o) => {
      const where = storeOrServer(o, 'runs cancel');
      if (where.server) {
        const res = await serverRequest<{ outcome: string; launcher: Array<{ ok: boolean; message: string }> }>(where.server, 'POST', `/api/runs/${runId(id)}/cancel`, {});
        console.log(res.outcome === 'cancelled' ? `run ${id} cancelled` : `run ${id}: cancel requested; its worker checkpoints and stops it`);
        for (const l of res.launcher) console.log(`  ${l.ok ? '' : 'warning: '}${l.message}`);
        return;
      }
      const store = RunStore.open(where.store, { mustExist: true });
      try {
        const res = await cancelRunEverywhere(store, runId(id));
        console.log(res.outcome === 'cancelled' ? `run ${id} cancelled` : `run ${id}: cancel requested; its worker checkpoints and stops it`);
        for (const l of res.launcher) console.log(`  ${l.ok ? '' : 'warning: '}${l.message}`);
      } finally {
        store.close();
      }
    });
  runs.command('requeue <runId>').requiredOption('--store <file>', 'run store').action((id: string, o) => withStore(o.store, (s) => s.requeueRun(runId(id))));
  runs
    .command('archive <runId>')
    .requiredOption('--store <file>', 'run store')
    .option('--restore', 'un-archive')
    .action((id: string, o) => withStore(o.store, (s) => s.archiveRuns([runId(id)], !o.restore)));
  runs
    .command('tag <runId> <key> [value]')
    .requiredOption('--store <file>', 'run store')
    .option('--delete', 'remove the tag')
    .action((id: string, key: string, value: string | undefined, o) =>
      withStore(o.store, (s) => (o.delete ? s.deleteTag(runId(id), key) : s.setTag(runId(id), key, value ?? ''))),
    );
}
