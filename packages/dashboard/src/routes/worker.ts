// The workers' API (access 'worker': a worker's own credential, access.ts). A remote worker (`ssmb
// worker --server URL`, HttpStore) registers once with the server's token and gets a credential naming
// its owner id; every other route acts as that owner (a body or header naming another owner is
// refused). Workers claim a queued run with a lease, renew it, send their writes in
// ordered, idempotent batches (metrics, evaluations with curves and routing, checkpoint and artifact
// rows, tags, the run's end), upload files into the store's folder, and read back what a resumed run
// needs. Every write names the lease it is made under (owner + attempt = lease epoch): a worker whose
// lease was taken over gets LEASE_LOST and stops. A batch sent again after a lost answer is
// acknowledged from the store's ledger, not applied twice.
//
//   POST /api/worker/register                { name } (the server's token) -> { owner, credential }
//   POST /api/worker/claim                   { owner?, leaseMs, kinds?, runId?, executor? } -> { run, checkpoints, evaluations, tags, metricKeys }
//   POST /api/worker/runs/:id/heartbeat      { owner, attempt, leaseMs, step? } -> { held, cancelRequested }
//   POST /api/worker/runs/:id/writes         { owner, attempt, ops: [{ seq, type, ... }] } -> { applied, duplicates }
//   PUT  /api/worker/runs/:id/files/NAME     raw bytes, headers x-ssmb-owner, x-ssmb-attempt, x-ssmb-sha256 (a file
//                                            name; at most WORKER_UPLOAD_LIMIT, and the run's quota in all)
//   GET  /api/worker/runs/:id/history?key=   the exact history of one metric (non-finite values as "NaN", "Infinity", "-Infinity")
//   POST /api/worker/requeue-expired         re-queue runs whose lease expired (after the start-up grace)
//   POST /api/worker/buffer                  { host, dir, entries, points, bytes, runs: { runId: writes } }: the caller's buffer
//                                            of undelivered writes, recorded in <store>/worker-buffers.json (0 entries: removed)
//   GET  /api/worker-buffers                 (read) the buffers workers last reported holding undelivered writes
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, lstatSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { LAUNCHABLE_KINDS, UploadName, WorkerWritesBody, readWorkerBuffers, recordWorkerBuffer, toWire, type RunStore, type SequencedOp } from '@ssmb/trainer';
import { ApiError, apiError } from '../errors.ts';
import { callerWorker, workerCredential } from '../access.ts';
import { checkRecordedPath, runPlaces } from '../artifacts.ts';
import { RunIdParams, parse } from '../schemas.ts';
import { WORKER_BODY_LIMIT, WORKER_UPLOAD_LIMIT } from '../defaults.ts';
import type { RouteDeps } from './deps.ts';
import { WriteQueue } from '../write_queue.ts';

const worker = { access: 'worker' } as const;

/** Metric points applied per transaction (one turn of the event loop, a few ms). */
const SLICE_POINTS = 1024;

type MetricsOp = SequencedOp & { type: 'metrics' };
/** A unit of work applied in one transaction: whole ops, or points [from, to) of one large metrics op. */
type Part = { ops: SequencedOp[] } | { op: MetricsOp; from: number; to: number };

/**
 * Consecutive ops in groups of at most SLICE_POINTS points; a metrics op larger than that is cut into
 * slices of SLICE_POINTS points (the store's ledger keeps how far it got, so it is still applied once).
 */
function parts(ops: SequencedOp[]): Part[] {
  const out: Part[] = [];
  let cur: SequencedOp[] = [];
  let points = 0;
  const flush = () => {
    if (cur.length) out.push({ ops: cur });
    cur = [];
    points = 0;
  };
  for (const op of ops) {
    const n = op.type === 'metrics' ? op.k.length : 0;
    if (n > SLICE_POINTS) {
      flush();
      for (let from = 0; from < n; from += SLICE_POINTS) out.push({ op: op as MetricsOp, from, to: Math.min(n, from + SLICE_POINTS) });
      continue;
    }
    if (cur.length > 0 && points + n > SLICE_POINTS) flush();
    cur.push(op);
    points += n;
  }
  flush();
  return out;
}

/** The store methods the workers' API needs beyond the dashboard's (the SQLite RunStore has them all). */
export type WorkerServerStore = Pick<
  RunStore,
  | 'dir' | 'getRun' | 'runStates' | 'claimRun' | 'renewLease' | 'applyWorkerWrites' | 'applyMetricsSlice' | 'requeueExpired' | 'getMetricHistory' | 'getEvalMetrics' | 'getTags' | 'metricKeys'
  | 'listFiles' | 'listCheckpoints' | 'initFromPaths'
>;

/** The store behind the dashboard, when it has the worker methods (the SQLite RunStore does). */
export function workerStoreOf(s: RouteDeps['store']): WorkerServerStore | null {
  const w = s as unknown as Partial<WorkerServerStore>;
  return typeof w.applyWorkerWrites === 'function' && typeof w.applyMetricsSlice === 'function' && typeof w.renewLease === 'function' ? (w as WorkerServerStore) : null;
}

const owner = z.string().min(1).max(300).optional();
const attempt = z.number().int().min(1);
const leaseMs = z.number().int().min(1_000).max(7 * 86_400_000);
const ClaimBody = z
  .object({
    owner,
    leaseMs,
    kinds: z.array(z.enum(LAUNCHABLE_KINDS)).min(1).optional(),
    runId: z.number().int().min(1).optional(),
    executor: z
      .object({ launcher: z.string().min(1).max(50), job: z.string().max(200).nullable(), task: z.string().max(50).nullable() })
      .strict()
      .optional(),
  })
  .strict();
const RegisterBody = z.object({ name: z.string().min(1).max(200).regex(/^[\w.:@-]+$/, 'expected letters, digits and . _ : @ - (like host:pid)') }).strict();
const HeartbeatBody = z.object({ owner, attempt, leaseMs, step: z.number().int().min(0).optional() }).strict();
const count = z.number().int().min(0);
const BufferBody = z
  .object({
    host: z.string().min(1).max(255),
    dir: z.string().min(1).max(4096),
    entries: count,
    points: count,
    bytes: count,
    runs: z.record(z.string().regex(/^[1-9]\d*$/, 'expected run ids as keys'), z.number().int().min(1)),
  })
  .strict();
const HistoryQuery = z
  .object({ key: z.string().min(1).max(200), minStep: z.coerce.number().int().optional(), maxStep: z.coerce.number().int().optional() })
  .strict();
const UploadHeaders = z.object({
  'x-ssmb-owner': owner,
  'x-ssmb-attempt': z.coerce.number().int().min(1),
  'x-ssmb-sha256': z.string().regex(/^[0-9a-f]{64}$/, 'expected the file\'s SHA-256 as 64 hex digits'),
});

export interface WorkerApiOptions {
  /** Re-queueing expired leases waits until this time (ms since the epoch): the start-up grace. */
  reapAfter: number;
}

export function registerWorkerRoutes(app: FastifyInstance, d: RouteDeps, store: WorkerServerStore, o: WorkerApiOptions): void {
  const runDir = (id: number) => path.join(store.dir, 'artifacts', `run-${id}`);
  const queue = new WriteQueue();
  const published = async (id: number) => {
    for (const run of await store.runStates([id])) d.feed.publish({ type: 'run-updated', run });
  };
  /** The caller's owner id; a body or header naming another one is refused. */
  const actingAs = (req: FastifyRequest, claimed: string | undefined, field: string): string => {
    const me = callerWorker(req);
    if (claimed !== undefined && claimed !== me) throw apiError('WORKER_NOT_OWNER', `${field}: received "${claimed}"; this credential is ${me}'s.`, field);
    return me;
  };
  const requireRun = async (params: unknown) => {
    const { id } = parse(RunIdParams, params, 'params');
    const run = await store.getRun(id);
    if (!run) throw apiError('RUN_NOT_FOUND', `Received id ${id}.`, 'params.id');
    return run;
  };

  // Registration takes the server's token (access 'write'); the owner id gets a random suffix, so no
  // worker can register as another one.
  app.post('/api/worker/register', { config: { access: 'write' } }, async (req) => {
    const { name } = parse(RegisterBody, req.body, 'body');
    const owner = `${name}~${randomBytes(6).toString('base64url')}`;
    return { owner, credential: workerCredential(d.policy, owner) };
  });

  app.post('/api/worker/claim', { config: worker }, async (req) => {
    const b = parse(ClaimBody, req.body, 'body');
    const me = actingAs(req, b.owner, 'body.owner');
    const run = store.claimRun(me, b.leaseMs, { kinds: b.kinds, runId: b.runId, executor: b.executor, resumeOwn: true });
    if (!run) return { run: null };
    await published(run.id);
    return {
      run,
      checkpoints: store
        .listFiles(run.id)
        .filter((f) => f.kind === 'checkpoint')
        .map((f) => ({ id: 0, step: f.step, path: f.storedPath, createdAt: f.createdAt })),
      evaluations: store.getEvalMetrics(run.id).map((e) => ({ ...e, value: toWire('', e.value) })),
      tags: store.getTags(run.id),
      metricKeys: store.metricKeys(run.id),
    };
  });

  app.post('/api/worker/runs/:id/heartbeat', { config: worker }, async (req) => {
    const run = await requireRun(req.params);
    const b = parse(HeartbeatBody, req.body, 'body');
    const r = store.renewLease(run.id, { owner: actingAs(req, b.owner, 'body.owner'), epoch: b.attempt }, b.leaseMs, b.step);
    if (!r.held) throw apiError('LEASE_LOST', `${r.state}.`);
    return { held: true, cancelRequested: r.cancelRequested };
  });

  app.post('/api/worker/runs/:id/writes', { config: worker, bodyLimit: WORKER_BODY_LIMIT }, async (req) => {
    const run = await requireRun(req.params);
    // Validation too waits its turn: on a batch of thousands of points it costs milliseconds.
    const me = callerWorker(req);
    const { lease, ops } = await queue.run(() => validateWrites(run, me, req.body));
    // Applied in slices of about SLICE_POINTS metric points, each one transaction in its own turn of the
    // event loop, so the dashboard's reads interleave with a large batch. Each op is recorded in the
    // ledger with its slice, so a batch cut by a lost lease between slices is still applied at most once.
    // Checkpoints a worker's retention pruned: their files in the store's folder go too (after the rows),
    // unless a run starts from them.
    const pruned = ops.flatMap((op) => (op.type === 'removeCheckpoints' ? op.steps : []));
    const prunedFiles = pruned.length
      ? store.listCheckpoints(run.id).filter((c) => pruned.includes(c.step) && c.path.startsWith(runDir(run.id) + path.sep)).map((c) => c.path)
      : [];
    const res = { applied: 0, duplicates: 0 };
    for (const part of parts(ops)) {
      const r = await queue.run(() => ('ops' in part ? store.applyWorkerWrites(run.id, lease, part.ops) : store.applyMetricsSlice(run.id, lease, part.op, part.from, part.to)));
      res.applied += r.applied;
      res.duplicates += r.duplicates;
    }
    if (prunedFiles.length && res.applied > 0) {
      const inUse = new Set(store.initFromPaths().map((p) => path.resolve(p)));
      for (const f of prunedFiles) if (!inUse.has(f) && !store.listCheckpoints(run.id).some((c) => c.path === f)) rmSync(f, { force: true });
    }
    if (res.applied > 0 && ops.some((op) => op.type !== 'metrics')) await published(run.id);
    return res;
  });

  const validateWrites = (run: { id: number; config: unknown }, me: string, body: unknown) => {
    const runId = run.id;
    const b = parse(WorkerWritesBody, body, 'body');
    if (b.owner !== me) throw apiError('WORKER_NOT_OWNER', `body.owner: received "${b.owner}"; this credential is ${me}'s.`, 'body.owner');
    const places = runPlaces(run, store.dir);
    const ops = b.ops.map((op, i) => {
      if ('path' in op && typeof op.path === 'string' && op.path !== '') checkRecordedPath(op.path, places, d.storeFiles, `body.ops.${i}.path`);
      if (!('upload' in op) || op.upload === undefined) return op;
      const file = path.join(runDir(runId), op.upload);
      if (!existsSync(file)) {
        throw apiError('VALIDATION', `body.ops.${i}.upload: ${op.upload} was not uploaded; send it first with PUT /api/worker/runs/${runId}/files/${op.upload}.`, `body.ops.${i}.upload`);
      }
      const { upload: _u, ...rest } = op;
      return { ...rest, path: file };
    }) as SequencedOp[];
    return { lease: { owner: b.owner, epoch: b.attempt }, ops };
  };

  app.get('/api/worker/runs/:id/history', { config: { ...worker, cache: false } }, async (req) => {
    const run = await requireRun(req.params);
    const q = parse(HistoryQuery, req.query, 'query');
    // NaN and +-Infinity as "NaN" / "Infinity" / "-Infinity" (JSON has none of them; null would come back as NaN).
    const points = store.getMetricHistory(run.id, q.key, { minStep: q.minStep, maxStep: q.maxStep }).map((p) => ({ ...p, value: toWire('', p.value) }));
    return { runId: run.id, key: q.key, points };
  });

  // What a worker's buffer holds, as it reports it (after an outage, while replaying, when it stops with
  // writes undelivered): `ssmb runs list` shows the runs whose writes wait there.
  app.post('/api/worker/buffer', { config: worker }, async (req) => {
    const b = parse(BufferBody, req.body, 'body');
    const listed = recordWorkerBuffer(store.dir, { owner: callerWorker(req), ...b, reportedAt: Date.now() });
    return { listed: listed.length };
  });

  app.get('/api/worker-buffers', { config: { access: 'read', cache: false } }, async () => ({ buffers: readWorkerBuffers(store.dir) }));

  app.post('/api/worker/requeue-expired', { config: worker }, async () => {
    if (Date.now() < o.reapAfter) return { requeued: [], failed: [], cancelled: [], graceUntil: o.reapAfter };
    const r = store.requeueExpired();
    for (const id of [...r.requeued, ...r.failed, ...r.cancelled]) await published(id);
    return r;
  });

  // Uploads: raw bytes streamed to a temporary file next to the target, checked against the SHA-256 the
  // worker computed, then renamed into place (a cut upload never leaves a partial file behind). The name
  // must be a file: not a folder, not under a file. Filesystem errors become UPLOAD_CONFLICT (never a 500
  // with a server path); the temporary file goes whatever happens. A run's files together stay within
  // its quota (bytes in flight counted, so parallel uploads cannot pass it together).
  const inFlight = new Map<number, number>();
  void app.register(async (scope) => {
    scope.addContentTypeParser('application/octet-stream', (_req, payload, done) => done(null, payload));
    scope.put('/api/worker/runs/:id/files/*', { config: worker }, async (req) => {
      const run = await requireRun(req.params);
      const name = parse(z.object({ '*': UploadName }), req.params, 'params')['*'];
      const h = parse(UploadHeaders, req.headers, 'headers');
      const me = actingAs(req, h['x-ssmb-owner'], 'headers.x-ssmb-owner');
      if (run.status !== 'running' || run.leaseOwner !== me || run.leaseEpoch !== h['x-ssmb-attempt']) {
        throw apiError('LEASE_LOST', `worker ${me} attempt ${h['x-ssmb-attempt']} does not hold run ${run.id} (it is ${run.status}).`);
      }
      const body = req.body as Readable | undefined;
      if (!body || typeof (body as Readable).pipe !== 'function') {
        throw apiError('VALIDATION', 'body: send the file itself, with Content-Type: application/octet-stream.', 'body');
      }
      const dir = runDir(run.id);
      const dest = path.join(dir, name);
      uploadTarget(dir, name);
      const replaced = existsSync(dest) ? statSync(dest).size : 0;
      const room = d.runUploadQuota - (folderBytes(dir) - replaced) - (inFlight.get(run.id) ?? 0);
      const declared = Number(req.headers['content-length'] ?? 0);
      const quota = (extra: string) => apiError('UPLOAD_QUOTA', `Run ${run.id} may hold ${d.runUploadQuota} bytes of uploads; ${Math.max(0, room)} are left${extra}.`, 'body');
      if (declared > room) throw quota(`, this upload declares ${declared}`);
      const limit = Math.min(WORKER_UPLOAD_LIMIT, room);
      const tmp = `${dest}.upload-${randomBytes(4).toString('hex')}`;
      const hash = createHash('sha256');
      let bytes = 0;
      const count = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          bytes += chunk.length;
          inFlight.set(run.id, (inFlight.get(run.id) ?? 0) + chunk.length);
          if (bytes > limit) return cb(bytes > WORKER_UPLOAD_LIMIT ? apiError('BODY_TOO_LARGE', `An upload is at most ${WORKER_UPLOAD_LIMIT} bytes.`) : quota(''));
          hash.update(chunk);
          cb(null, chunk);
        },
      });
      try {
        mkdirSync(path.dirname(dest), { recursive: true });
        await pipeline(body, count, createWriteStream(tmp, { flags: 'wx' }));
        const sha = hash.digest('hex');
        if (sha !== h['x-ssmb-sha256']) {
          throw apiError('VALIDATION', `body: received ${bytes} bytes with SHA-256 ${sha}, not the ${h['x-ssmb-sha256']} the worker sent (the upload was cut; it is retried).`, 'body');
        }
        renameSync(tmp, dest);
        return { runId: run.id, path: path.relative(store.dir, dest), bytes, sha256: sha };
      } catch (err) {
        throw fsConflict(err, name);
      } finally {
        rmSync(tmp, { force: true });
        const left = (inFlight.get(run.id) ?? 0) - bytes;
        if (left > 0) inFlight.set(run.id, left);
        else inFlight.delete(run.id);
      }
    });
  });
}

/** Throws UPLOAD_CONFLICT unless `name` can be a file in `dir`: no part of it is a file, the name is not a folder. */
function uploadTarget(dir: string, name: string): void {
  const parts = name.split('/');
  let at = dir;
  for (let i = 0; i < parts.length; i++) {
    at = path.join(at, parts[i]);
    let st;
    try {
      st = lstatSync(at);
    } catch {
      return; // the rest does not exist yet
    }
    const last = i === parts.length - 1;
    if (last ? !st.isFile() : !st.isDirectory()) {
      throw apiError('UPLOAD_CONFLICT', `params.*: received "${name}"; "${parts.slice(0, i + 1).join('/')}" is ${st.isDirectory() ? 'a folder' : st.isFile() ? 'a file' : 'not a regular file'} in the run's folder.`, 'params.*');
    }
  }
}

/** Bytes of the files under `dir` (0 when it does not exist). */
function folderBytes(dir: string): number {
  let n = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true, recursive: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    if (!e.isFile()) continue;
    try {
      n += statSync(path.join(e.parentPath, e.name)).size;
    } catch {
      // removed meanwhile
    }
  }
  return n;
}

/** A filesystem error of an upload as a catalogued answer (no server path in it); others pass through. */
function fsConflict(err: unknown, name: string): unknown {
  if (err instanceof ApiError) return err;
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EISDIR' || code === 'ENOTDIR' || code === 'EEXIST' || code === 'ENOENT' || code === 'ENOTEMPTY') {
    return apiError('UPLOAD_CONFLICT', `params.*: received "${name}" (${code}).`, 'params.*');
  }
  return err;
}
