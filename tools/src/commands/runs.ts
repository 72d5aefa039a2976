// `ssmb runs ...`: list and inspect runs; cancel, re-queue, archive.
import type { Command } from 'commander';
import { cancelRunEverywhere, executorLabel, ownerIsDeadLocal, RunStore, type RunRecord, type RunStatus } from '@ssmb/trainer';

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

export function register(program: Command): void {
  const runs = program.command('runs').description('inspect and manage runs in the run store');
  runs
    .command('list')
    .requiredOption('--store <file>', 'run store')
    .option('--status <status>', 'queued|running|completed|failed|cancelled')
    .option('--experiment <name>')
    .option('--parent <id>', 'children of this sweep', runId)
    .option('--limit <n>', 'most recent N', (v) => Number.parseInt(v, 10), 50)
    .option('--archived', 'include archived runs')
    .option('--json', 'JSON output')
    .action((o) =>
      withStore(o.store, (s) => {
        const rows = s.listRuns({ status: o.status as RunStatus | undefined, experiment: o.experiment, parentRunId: o.parent, limit: o.limit, archived: o.archived ? 'include' : 'exclude' });
        if (o.json) return console.log(JSON.stringify(rows, null, 2));
        const now = Date.now();
        for (const r of rows) {
          const latest = s.getLatestMetrics(r.id);
          const loss = latest.loss?.value;
          const stale = staleReason(r, now);
          const status = stale ? 'stale' : r.status;
          console.log(
            [
              String(r.id).padStart(5), status.padEnd(9), r.kind.padEnd(8), r.experimentName, `${r.step}/${r.totalSteps ?? '-'}`, loss !== undefined ? `loss ${loss.toFixed(4)}` : '',
              r.launcher === 'local' ? '' : executorLabel(r), r.name, stale ?? '', r.error ? `error: ${r.error}` : '',
            ]
              .filter(Boolean)
              .join('  '),
          );
        }
      }, 'read'),
    );
  runs
    .command('show <runId>')
    .requiredOption('--store <file>', 'run store')
    .action((id: string, o) =>
      withStore(o.store, (s) => {
        const r = s.requireRun(runId(id));
        console.log(
          JSON.stringify(
            { ...r, params: s.getParams(r.id), tags: s.getTags(r.id), latest: s.getLatestMetrics(r.id), evaluation: s.getEvalMetrics(r.id), routing: s.getRouting(r.id), checkpoints: s.listCheckpoints(r.id), artifacts: s.listArtifacts(r.id) },
            (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v),
            2,
          ),
        );
      }, 'read'),
    );
  runs
    .command('cancel <runId>')
    .description('cancel a run (a sweep: its unfinished runs); a running run checkpoints and stops; a Slurm task running it is signalled (scancel)')
    .requiredOption('--store <file>', 'run store')
    .action(async (id: string, o) => {
      const store = RunStore.open(o.store, { mustExist: true });
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
