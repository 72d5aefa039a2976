// HttpStore: the run store of a remote worker, as a client of the tracking server's worker API
// (`ssmb serve`, routes under /api/worker). It implements WorkerStoreApi, so the worker loop and the
// run executors run unchanged on it or on the SQLite RunStore.
//
// - Claim and heartbeat are requests (a claim waits and retries while the server does not answer; a
//   heartbeat that gets no answer changes nothing: the run goes on).
// - Every write becomes an op in the on-disk outbox (outbox.ts) and returns at once; one sender
//   delivers the ops in order, in batches, retrying with back-off while the server does not answer,
//   and says so (which URL, what is buffered where). When the buffer reaches its bound, writes wait:
//   training pauses rather than dropping anything.
// - Files under `runFilesDir` (checkpoints, weights, score files of runs without outputDir) are
//   uploaded into the store's folder before their row is written; files elsewhere (an outputDir on
//   shared storage) are referenced by path. A resumed run downloads its checkpoint.
// - The worker's own credential: the first claim registers this worker (POST /api/worker/register,
//   with the server's token) and every worker route then sends the credential the server issued, which
//   names the lease owner; it is kept in the buffer folder (mode 0600) so buffered writes replay under it.
//   A 401 is retried a few times with back-off (a server restarting with its token), saying why.
// - Writes a dead worker left in its buffer folder are sent first by the next worker opened on that
//   folder (or `ssmb worker --replay DIR`), each under its own lease; what the server already has is
//   acknowledged by its ledger, what belongs to a lease that has since moved on is discarded and counted.
// - A backlog is reported to the server (POST /api/worker/buffer: host, buffer folder, undelivered writes
//   per run) when it answers again after an outage, when an adopted journal is replayed, and when the
//   worker stops with writes undelivered; while it drains, at most once a second, and once more when it is
//   empty. `ssmb runs list` shows the runs whose writes wait in a buffer.
// - The server answering LEASE_LOST (the run was re-queued or taken over) marks the run lost: the
//   heartbeat returns false, the worker stops it, and the attempt's remaining buffered writes are
//   discarded with a message saying how many.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import path from 'node:path';
import type { WorkerStoreApi } from '../store_api.ts';
import type { CheckpointRecord, EvalRow, EvaluationRecord, ExecutorInfo, MetricPoint, RunRecord } from '../types.ts';
import { countPoints, metricsOp, TERMINAL_OPS, toWire, type WorkerOp } from '../worker_ops.ts';
import { Outbox, type OutboxEntry, type OutboxState } from './outbox.ts';
import { networkReason, readAnswer, serverBase, serverCall, ServerError } from './server_call.ts';

export { ServerError } from './server_call.ts';

/** The codes StoreError uses, repeated here so this module needs nothing from run_store.ts (SQLite). */
export class HttpStoreError extends Error {
  constructor(
    readonly code: 'STORE_LEASE_LOST' | 'STORE_NOT_FOUND' | 'STORE_SERVER_REFUSED' | 'STORE_SERVER_UNREACHABLE',
    message: string,
  ) {
    super(message);
    this.name = 'HttpStoreError';
  }
}

export interface HttpStoreOptions {
  /** The tracking server, e.g. http://login1:7077. */
  url: string;
  /** The server's token (printed by `ssmb serve`); sent as Authorization: Bearer. */
  token?: string | null;
  /** This worker's folder for the write journal and the files of its runs (created; must be empty). */
  bufferDir: string;
  /** Bound of the write journal (default 512 MiB). */
  maxBufferBytes?: number;
  /** A claim gives up when the server has not answered for this long (default 10 min). */
  serverTimeoutMs?: number;
  /** Back-off between retries (default 250 ms doubling to 15 s). */
  retryMinMs?: number;
  retryMaxMs?: number;
  /** Status line interval while the server does not answer (default 30 s). */
  reportEveryMs?: number;
  log?: (line: string) => void;
}

interface Held {
  run: RunRecord;
  owner: string;
  epoch: number;
  /** Checkpoints with their server-side stored path (relative = inside the store) or a local path. */
  checkpoints: Array<CheckpointRecord & { stored?: string }>;
  evals: Omit<EvalRow, 'runId'>[];
  tags: Record<string, string>;
  metricKeys: Set<string>;
  cancelRequested: boolean;
}

/** The server's claim answer. */
interface ClaimResponse {
  run: RunRecord | null;
  checkpoints?: Array<{ id: number; step: number; path: string; createdAt: number }>;
  evaluations?: Array<Omit<EvalRow, 'runId'> & { value: number | string | null }>;
  tags?: Record<string, string>;
  metricKeys?: string[];
}

const MAX_BATCH_OPS = 5000;
/** Consecutive 401 answers a worker retries (with back-off) before it stops. */
const AUTH_RETRIES = 5;
/** This worker's identity in its buffer folder. */
const IDENTITY_FILE = 'worker-identity.json';

interface Identity {
  owner: string;
  credential: string;
}
/**
 * Metric points per request: the server applies a batch in one transaction on its event loop, so a
 * batch is kept small enough (a few ms) for the dashboard's reads to stay fast while workers write.
 */
const MAX_BATCH_POINTS = Number(process.env.SSMB_WORKER_BATCH_POINTS ?? 4096);
const mib = (b: number) => (b / (1 << 20)).toFixed(1);

export class HttpStore implements WorkerStoreApi {
  readonly location: string;
  readonly runFilesDir: string;
  /** The tracking server re-queues its remote workers' stale runs itself. */
  readonly workersReapStaleRuns = false;
  private readonly bufferDir: string;
  private readonly base: string;
  private readonly token: string | null;
  private readonly log: (line: string) => void;
  private readonly outbox: Outbox;
  private readonly held = new Map<number, Held>();
  /** "runId/epoch" of leases the server says are gone, with its message. */
  private readonly lost = new Map<string, string>();
  private readonly discarded = new Map<string, number>();
  private seq = 0;
  /** Highest seq delivered or discarded: every entry up to it is settled. */
  private settledSeq = 0;
  private settleWaiters: Array<{ seq: number; resolve: () => void; reject: (e: Error) => void }> = [];
  private fatal: Error | null = null;
  private pumping = false;
  private closed = false;
  private wake: (() => void) | null = null;
  private downSince: number | null = null;
  private lastDownLog = 0;
  private lastDownReason = '';
  private readonly uploaded = new Set<number>();
  /** Local checkpoint files retention deleted (their pending uploads are skipped without a warning). */
  private readonly pruned = new Set<string>();
  private readonly o: Required<Pick<HttpStoreOptions, 'serverTimeoutMs' | 'retryMinMs' | 'retryMaxMs' | 'reportEveryMs'>>;
  private identity: Identity | null = null;
  private authFailures = 0;
  private authSince = 0;
  /** Buffer reports, sent one after the other. */
  private reports: Promise<void> = Promise.resolve();
  private lastReport = 0;
  /** The server holds a report of this buffer with writes in it (followed until one says it is empty). */
  private reportedBacklog = false;
  private adoptionReported = false;

  constructor(opts: HttpStoreOptions) {
    this.base = serverBase(opts.url);
    this.location = this.base;
    this.token = opts.token ?? null;
    this.log = opts.log ?? ((l) => process.stderr.write(`${l}\n`));
    this.o = {
      serverTimeoutMs: opts.serverTimeoutMs ?? 600_000,
      retryMinMs: opts.retryMinMs ?? 250,
      retryMaxMs: opts.retryMaxMs ?? 15_000,
      reportEveryMs: opts.reportEveryMs ?? 30_000,
    };
    const dir = path.resolve(opts.bufferDir);
    this.bufferDir = dir;
    this.runFilesDir = path.join(dir, 'files');
    const idFile = path.join(dir, IDENTITY_FILE);
    if (existsSync(idFile)) this.identity = JSON.parse(readFileSync(idFile, 'utf8')) as Identity;
    this.outbox = new Outbox(path.join(dir, 'journal'), {
      maxBytes: opts.maxBufferBytes ?? 512 << 20,
      onFull: (s) =>
        this.log(
          `worker buffer ${this.outbox.dir} is full (bound ${mib(this.outbox.maxBytes)} MiB: ${s.entries} writes, ${s.points} metric points waiting for ${this.base}): ` +
            'training is paused until the server takes them; nothing is dropped (a larger bound: --buffer-mb)',
        ),
      onRoom: (_s, ms) => this.log(`worker buffer has room again after ${(ms / 1000).toFixed(1)} s: training goes on`),
    });
    const a = this.outbox.adopted;
    if (a.entries > 0 || a.torn > 0) {
      this.seq = a.maxSeq;
      this.log(
        `worker buffer ${this.outbox.dir} holds ${a.entries} undelivered write(s) (${a.points} metric points) of a worker that stopped: delivering them to ${this.base} first` +
          (a.torn ? `; ${a.torn} write cut off by its crash is not a whole write and was removed` : ''),
      );
      this.kick();
    }
  }

  /** Writes a stopped worker left in this buffer folder (adopted at start) and how many of all writes were discarded. */
  get replay(): { adopted: number; discarded: number } {
    return { adopted: this.outbox.adopted.entries, discarded: [...this.discarded.values()].reduce((n, v) => n + v, 0) };
  }

  /** What the journal holds now. */
  get buffered(): OutboxState {
    return this.outbox.state;
  }

  // ---- requests ----

  /** The worker's credential on worker routes (once registered), the server's token elsewhere. */
  private secretFor(pathname: string): string | null {
    const worker = pathname.startsWith('/api/worker/') && pathname !== '/api/worker/register';
    return (worker ? this.identity?.credential : this.token) ?? null;
  }

  /** Headers of a streamed upload or download (other requests go through serverCall). */
  private headers(pathname: string, extra: Record<string, string> = {}): Record<string, string> {
    const secret = this.secretFor(pathname);
    return { ...(secret ? { authorization: `Bearer ${secret}` } : {}), ...extra };
  }

  private async answer<T>(res: Response, method: string, pathname: string): Promise<T> {
    const answer = await readAnswer<T>(this.base, res, method, pathname);
    this.authFailures = 0;
    return answer;
  }

  /** Registers this worker (once; the identity is kept in the buffer folder). */
  private async me(name: string): Promise<Identity> {
    if (this.identity) return this.identity;
    const clean = name.replace(/[^\w.:@-]/g, '-').slice(0, 200) || 'worker';
    const id = await this.request<Identity>('POST', '/api/worker/register', { name: clean });
    mkdirSync(this.bufferDir, { recursive: true });
    writeFileSync(path.join(this.bufferDir, IDENTITY_FILE), JSON.stringify(id), { mode: 0o600 });
    this.identity = id;
    this.log(`worker registered with ${this.base} as ${id.owner}`);
    return id;
  }

  /** A 401 is retried up to AUTH_RETRIES times in a row (the server may be restarting with its token); true = retry. */
  private retryAuth(err: ServerError): boolean {
    if (err.status !== 401) return false;
    if (err.code === 'TOKEN_INVALID' && this.identity && err.message.includes('worker credential')) {
      // The server no longer knows this worker's credential (its secrets file was replaced): register again.
      this.identity = null;
      rmSync(path.join(this.bufferDir, IDENTITY_FILE), { force: true });
    }
    const now = Date.now();
    if (this.authFailures === 0) this.authSince = now;
    // Bounded by count and by --server-timeout, whichever comes first.
    if (++this.authFailures > AUTH_RETRIES || now - this.authSince >= this.o.serverTimeoutMs) return false;
    this.log(`${err.message}: retrying (${this.authFailures} of ${AUTH_RETRIES}); if the server was restarted with another token, restart this worker with it (SSMB_TOKEN)`);
    return true;
  }

  /** One request; throws ServerError (status 0 = no answer). */
  async request<T>(method: string, pathname: string, body?: unknown, timeoutMs = 30_000): Promise<T> {
    const answer = await serverCall<T>(this.base, method, pathname, { body, secret: this.secretFor(pathname), timeoutMs, replacer: toWire });
    this.authFailures = 0;
    return answer;
  }

  private backoff(attempt: number): number {
    const ms = Math.min(this.o.retryMaxMs, this.o.retryMinMs * 2 ** Math.min(attempt, 20));
    return ms * (0.8 + 0.4 * Math.random());
  }

  private reportDown(err: ServerError): void {
    const now = Date.now();
    const s = this.outbox.state;
    const what = `${s.entries} writes (${s.points} metric points, ${mib(s.bytes)} MiB) wait in ${this.outbox.dir} (bound ${mib(this.outbox.maxBytes)} MiB)`;
    if (this.downSince === null) {
      this.downSince = now;
      this.lastDownLog = now;
      this.lastDownReason = err.message;
      this.log(`${err.message}: runs go on; ${what}; retrying with back-off`);
    } else if (now - this.lastDownLog >= this.o.reportEveryMs || err.message !== this.lastDownReason) {
      this.lastDownLog = now;
      this.lastDownReason = err.message;
      this.log(`${err.message} (for ${((now - this.downSince) / 1000).toFixed(0)} s): ${what}; still retrying`);
    }
  }

  private reportUp(): void {
    if (this.downSince === null) return;
    const s = this.outbox.state;
    this.log(`tracking server ${this.base} answers again after ${((Date.now() - this.downSince) / 1000).toFixed(1)} s: delivering ${s.entries} buffered writes`);
    this.downSince = null;
    if (s.entries > 0) void this.reportBuffer(true);
  }

  /**
   * Tells the server what this buffer holds (best effort, in order). Unforced, only a backlog the server
   * was told about is followed: at most once a second while it drains, and once when it is empty.
   */
  reportBuffer(force = false): Promise<void> {
    if (!this.identity) return this.reports; // never registered: nothing was written under an identity
    const s = this.outbox.state;
    if (!force && (!this.reportedBacklog || (s.entries > 0 && Date.now() - this.lastReport < 1000))) return this.reports;
    this.lastReport = Date.now();
    this.reports = this.reports.then(async () => {
      const now = this.outbox.state;
      try {
        await this.request('POST', '/api/worker/buffer', { host: hostname(), dir: this.bufferDir, entries: now.entries, points: now.points, bytes: now.bytes, runs: this.outbox.runs }, 10_000);
        this.reportedBacklog = now.entries > 0;
      } catch {
        // best effort: the server does not answer; the next report says it
      }
    });
    return this.reports;
  }

  /** Resolves when the buffer reports made so far were sent (or failed). */
  settleReports(): Promise<void> {
    return this.reports;
  }

  private refused(err: ServerError): HttpStoreError {
    const hint =
      err.code === 'TOKEN_REQUIRED' || err.code === 'TOKEN_INVALID'
        ? ` (pass the token \`ssmb serve\` printed, in the SSMB_TOKEN environment variable or a file: --token-file FILE)`
        : '';
    return new HttpStoreError('STORE_SERVER_REFUSED', `${err.message}${hint}`);
  }

  // ---- the lease ----

  async claimRun(owner: string, leaseMs: number, opts: { kinds?: readonly string[]; runId?: number; executor?: ExecutorInfo } = {}): Promise<RunRecord | undefined> {
    this.throwIfFatal();
    const t0 = Date.now();
    for (let attempt = 0; ; attempt++) {
      try {
        const me = await this.me(owner);
        const res = await this.request<ClaimResponse>('POST', '/api/worker/claim', { owner: me.owner, leaseMs, ...opts });
        this.reportUp();
        if (!res.run) return undefined;
        const run = res.run;
        this.owners.set(leaseKey(run.id, run.leaseEpoch), me.owner);
        this.held.set(run.id, {
          run,
          owner: me.owner,
          epoch: run.leaseEpoch,
          // Checkpoints the server holds: `server:<stored path>` until downloaded (never a path of this machine).
          checkpoints: (res.checkpoints ?? []).map((c) => ({ ...c, runId: run.id, path: c.path === '' ? '' : `server:${c.path}`, stored: c.path })),
          evals: (res.evaluations ?? []).map((e) => ({ ...e, value: e.value === null ? Number.NaN : Number(e.value) })),
          tags: res.tags ?? {},
          metricKeys: new Set(res.metricKeys ?? []),
          cancelRequested: run.cancelRequestedAt !== null,
        });
        return run;
      } catch (err) {
        if (!(err instanceof ServerError)) throw err;
        if (this.retryAuth(err)) {
          await sleep(this.backoff(this.authFailures));
          continue;
        }
        if (!err.retryable) throw this.refused(err);
        if (Date.now() - t0 >= this.o.serverTimeoutMs) {
          throw new HttpStoreError(
            'STORE_SERVER_UNREACHABLE',
            `${err.message}; gave up claiming a run after ${((Date.now() - t0) / 1000).toFixed(0)} s (--server-timeout): is \`ssmb serve\` running there, and reachable from this node?`,
          );
        }
        this.reportDown(err);
        await sleep(this.backoff(attempt));
      }
    }
  }

  async heartbeat(runId: number, _owner: string, leaseMs: number, step?: number): Promise<boolean> {
    const h = this.held.get(runId);
    if (!h || this.lost.has(leaseKey(runId, h.epoch)) || this.fatal) return false;
    try {
      const res = await this.request<{ held: boolean; cancelRequested: boolean }>('POST', `/api/worker/runs/${runId}/heartbeat`, {
        owner: h.owner,
        attempt: h.epoch,
        leaseMs,
        ...(step !== undefined ? { step } : {}),
      });
      this.reportUp();
      h.cancelRequested = res.cancelRequested;
      return res.held;
    } catch (err) {
      if (!(err instanceof ServerError)) throw err;
      if (err.retryable || this.retryAuth(err)) {
        this.reportDown(err);
        return true; // unknown: the lease may well still hold; the run goes on
      }
      if (err.code === 'LEASE_LOST' || err.status === 404) {
        this.markLost(runId, h.epoch, err.message);
        return false;
      }
      this.setFatal(this.refused(err));
      return false;
    }
  }

  async requeueExpired(): Promise<{ requeued: number[]; failed: number[]; cancelled: number[] }> {
    try {
      return await this.request('POST', '/api/worker/requeue-expired', {});
    } catch (err) {
      if (err instanceof ServerError && err.retryable) return { requeued: [], failed: [], cancelled: [] }; // the server's own reaper does it too
      throw err;
    }
  }

  // ---- writes: into the outbox ----

  private holder(runId: number): Held {
    const h = this.held.get(runId);
    if (!h) throw new HttpStoreError('STORE_NOT_FOUND', `run ${runId} is not held by this worker (claim it first); ${this.base} was not written to`);
    return h;
  }

  private throwIfFatal(): void {
    if (this.fatal) throw this.fatal;
  }

  private async enqueue(runId: number, op: WorkerOp, file?: string): Promise<number> {
    this.throwIfFatal();
    const h = this.holder(runId);
    const key = leaseKey(runId, h.epoch);
    if (this.lost.has(key)) {
      this.discarded.set(key, (this.discarded.get(key) ?? 0) + 1);
      return 0;
    }
    const seq = ++this.seq;
    const entry: OutboxEntry = { seq, runId, epoch: h.epoch, owner: h.owner, op, ...(file ? { file } : {}) };
    await this.outbox.append(entry);
    this.kick();
    return seq;
  }

  /** Where a run's file goes: uploaded (under runFilesDir/run-<id>) or referenced (shared storage). */
  private fileOp(runId: number, file: string): { path?: string; upload?: string; file?: string } {
    if (file === '') return { path: '' };
    const abs = path.resolve(file);
    const rel = path.relative(path.join(this.runFilesDir, `run-${runId}`), abs);
    if (!rel.startsWith('..') && !path.isAbsolute(rel)) return { upload: rel.split(path.sep).join('/'), file: abs };
    return { path: abs };
  }

  async logMetrics(runId: number, points: MetricPoint[]): Promise<void> {
    if (points.length === 0) return;
    const h = this.holder(runId);
    for (const p of points) h.metricKeys.add(p.key);
    await this.enqueue(runId, metricsOp(points));
  }

  async truncateMetricsAfter(runId: number, step: number): Promise<void> {
    await this.enqueue(runId, { type: 'truncateMetrics', after: step });
  }

  async recordEvaluation(runId: number, ev: EvaluationRecord): Promise<void> {
    const h = this.holder(runId);
    h.evals = h.evals.filter((e) => !(e.protocol === ev.protocol && e.fold === ev.fold));
    for (const [metric, v] of Object.entries(ev.metrics)) h.evals.push({ protocol: ev.protocol, fold: ev.fold, metric, value: v.value, count: v.count ?? null });
    await this.enqueue(runId, { type: 'evaluation', evaluation: ev });
  }

  async addCheckpoint(runId: number, step: number, file: string): Promise<void> {
    const h = this.holder(runId);
    const ref = this.fileOp(runId, file);
    h.checkpoints = h.checkpoints.filter((c) => c.step !== step);
    h.checkpoints.push({ id: 0, runId, step, path: file === '' ? '' : path.resolve(file), createdAt: Date.now() });
    h.checkpoints.sort((a, b) => a.step - b.step);
    const { file: local, ...where } = ref;
    await this.enqueue(runId, { type: 'checkpoint', step, ...where }, local);
  }

  /** Retention pruned these: the server forgets the rows and deletes its copies of the files. */
  async removeCheckpoints(runId: number, steps: number[]): Promise<void> {
    const h = this.holder(runId);
    const drop = new Set(steps);
    for (const c of h.checkpoints) if (drop.has(c.step) && path.isAbsolute(c.path)) this.pruned.add(c.path);
    h.checkpoints = h.checkpoints.filter((c) => !drop.has(c.step));
    await this.enqueue(runId, { type: 'removeCheckpoints', steps });
  }

  /** A remote worker's run files are its own scratch copies: no other run starts from them. */
  initFromPaths(): string[] {
    return [];
  }

  async addArtifact(runId: number, kind: string, file: string): Promise<void> {
    const { file: local, ...where } = this.fileOp(runId, file);
    await this.enqueue(runId, { type: 'artifact', kind, ...where }, local);
  }

  async setTag(runId: number, key: string, value: string): Promise<void> {
    this.holder(runId).tags[key] = value;
    await this.enqueue(runId, { type: 'tag', key, value });
  }

  async setRunEnvironment(runId: number, env: { engine?: string; codeVersion?: string; totalSteps?: number }): Promise<void> {
    const h = this.holder(runId);
    if (env.totalSteps !== undefined) h.run = { ...h.run, totalSteps: env.totalSteps };
    await this.enqueue(runId, { type: 'environment', ...env });
  }

  async setProgress(runId: number, step: number): Promise<void> {
    const h = this.holder(runId);
    h.run = { ...h.run, step };
    await this.enqueue(runId, { type: 'progress', step });
  }

  /** Ends the run: the op is delivered after everything before it; false/throws when the lease was lost. */
  private async finish(runId: number, op: WorkerOp): Promise<boolean> {
    const h = this.holder(runId);
    const seq = await this.enqueue(runId, op);
    if (seq > 0) await this.settled(seq);
    const key = leaseKey(runId, h.epoch);
    this.held.delete(runId);
    if (this.lost.has(key)) {
      const n = this.discarded.get(key) ?? 0;
      throw new HttpStoreError('STORE_LEASE_LOST', `${this.lost.get(key)}${n ? ` (${n} writes of this attempt discarded)` : ''}`);
    }
    // Everything of the run reached the server (uploads included): its local copies are not needed.
    rmSync(path.join(this.runFilesDir, `run-${runId}`), { recursive: true, force: true });
    return true;
  }

  async releaseRun(runId: number, _owner: string): Promise<boolean> {
    try {
      return await this.finish(runId, { type: 'release' });
    } catch (err) {
      if (err instanceof HttpStoreError && err.code === 'STORE_LEASE_LOST') return false;
      throw err;
    }
  }

  async completeRun(runId: number): Promise<void> {
    await this.finish(runId, { type: 'complete' });
  }

  async failRun(runId: number, error: string): Promise<void> {
    await this.finish(runId, { type: 'fail', error });
  }

  async cancelRun(runId: number): Promise<void> {
    await this.finish(runId, { type: 'cancel' });
  }

  // ---- reads (the held run) ----

  async getRun(id: number): Promise<RunRecord | undefined> {
    return this.held.get(id)?.run;
  }

  async requireRun(id: number): Promise<RunRecord> {
    return this.holder(id).run;
  }

  async cancelRequested(runId: number): Promise<boolean> {
    return this.held.get(runId)?.cancelRequested ?? false;
  }

  async listCheckpoints(runId: number): Promise<CheckpointRecord[]> {
    return this.holder(runId).checkpoints.map(({ stored: _s, ...c }) => c);
  }

  /** The newest checkpoint with a path on this machine (downloaded from the store when it lives there). */
  async latestCheckpoint(runId: number): Promise<CheckpointRecord | undefined> {
    const h = this.holder(runId);
    const last = h.checkpoints.at(-1);
    if (!last || last.stored === undefined || last.stored === '') return last && (({ stored: _s, ...c }) => c)(last);
    let local: string;
    if (path.isAbsolute(last.stored)) {
      local = last.stored;
      if (!existsSync(local)) {
        throw new Error(
          `run ${runId}'s checkpoint ${local} (step ${last.step}) is not readable on this node: a run's outputDir must be on storage every node and the server share, or left unset (files are then uploaded to the server)`,
        );
      }
    } else {
      local = path.join(this.runFilesDir, `run-${runId}`, 'resume', path.basename(last.stored));
      await this.download(runId, last.stored, local);
    }
    last.path = local;
    delete last.stored;
    const { stored: _s, ...c } = last;
    return c;
  }

  private async download(runId: number, stored: string, to: string): Promise<void> {
    mkdirSync(path.dirname(to), { recursive: true });
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        res = await fetch(`${this.base}/api/runs/${runId}/artifact?path=${encodeURIComponent(stored)}`, { headers: this.headers('/api/runs/'), signal: AbortSignal.timeout(600_000) });
      } catch (err) {
        const e = new ServerError(0, networkReason(err).code, `tracking server ${this.base} does not answer (${networkReason(err).text})`);
        if (attempt * this.o.retryMaxMs > this.o.serverTimeoutMs) throw e;
        this.reportDown(e);
        await sleep(this.backoff(attempt));
        continue;
      }
      if (!res.ok || !res.body) await this.answer(res, 'GET', `/api/runs/${runId}/artifact`);
      const tmp = `${to}.part`;
      await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), createWriteStream(tmp));
      renameSync(tmp, to);
      this.reportUp();
      return;
    }
  }

  async getEvalMetrics(runId: number): Promise<Omit<EvalRow, 'runId'>[]> {
    return this.holder(runId).evals.map((e) => ({ ...e }));
  }

  async getTags(runId: number): Promise<Record<string, string>> {
    return { ...this.holder(runId).tags };
  }

  async metricKeys(runId: number): Promise<string[]> {
    return [...this.holder(runId).metricKeys].sort();
  }

  /** Exact history from the server, after this worker's buffered writes reached it. */
  async getMetricHistory(runId: number, key: string, range: { minStep?: number; maxStep?: number } = {}): Promise<{ step: number; value: number; time: number }[]> {
    this.holder(runId);
    await this.drain();
    const q = new URLSearchParams({ key, ...(range.minStep !== undefined ? { minStep: String(range.minStep) } : {}), ...(range.maxStep !== undefined ? { maxStep: String(range.maxStep) } : {}) });
    const res = await this.request<{ points: Array<{ step: number; value: number | string | null; time: number }> }>('GET', `/api/worker/runs/${runId}/history?${q}`);
    return res.points.map((p) => ({ ...p, value: p.value === null ? Number.NaN : Number(p.value) }));
  }

  // ---- the sender ----

  private kick(): void {
    if (this.wake) {
      const w = this.wake;
      this.wake = null;
      w();
    }
    if (!this.pumping) void this.pump();
  }

  /** Resolves when every write made so far reached the server (or was discarded with a message). */
  async drain(): Promise<void> {
    this.throwIfFatal();
    if (this.seq > this.settledSeq) await this.settled(this.seq);
  }

  private settled(seq: number): Promise<void> {
    if (this.fatal) return Promise.reject(this.fatal);
    if (seq <= this.settledSeq) return Promise.resolve();
    return new Promise((resolve, reject) => this.settleWaiters.push({ seq, resolve, reject }));
  }

  private settle(upTo: number): void {
    this.settledSeq = Math.max(this.settledSeq, upTo);
    this.settleWaiters = this.settleWaiters.filter((w) => (w.seq <= this.settledSeq ? (w.resolve(), false) : true));
  }

  private setFatal(err: Error): void {
    if (this.fatal) return;
    this.fatal = err;
    this.log(`${err.message}; this worker stops (its buffered writes stay in ${this.outbox.dir})`);
    for (const w of this.settleWaiters.splice(0)) w.reject(err);
  }

  private markLost(runId: number, epoch: number, message: string): void {
    const key = leaseKey(runId, epoch);
    if (this.lost.has(key)) return;
    this.lost.set(key, message);
    this.log(`run ${runId}: ${message}; this worker no longer holds it and stops it (its writes of attempt ${epoch} that did not reach the server are discarded and counted)`);
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    let failures = 0;
    try {
      while (!this.closed && !this.fatal) {
        if (!this.adoptionReported && this.outbox.adopted.entries > 0) {
          this.adoptionReported = true;
          await this.reportBuffer(true); // a stopped worker's journal: the server lists it until it is delivered
        }
        const entries = this.outbox.peek();
        if (entries.length === 0) {
          await new Promise<void>((r) => {
            this.wake = r;
            if (!this.outbox.empty || this.closed) r();
          });
          continue;
        }
        const first = entries[0];
        let n = 1;
        let points = countPoints([first.op]);
        while (n < entries.length && n < MAX_BATCH_OPS && entries[n].runId === first.runId && entries[n].epoch === first.epoch && !TERMINAL_OPS.has(entries[n - 1].op.type)) {
          points += countPoints([entries[n].op]);
          if (points > MAX_BATCH_POINTS) break;
          n++;
        }
        const batch = entries.slice(0, n);
        const key = leaseKey(first.runId, first.epoch);
        if (this.lost.has(key)) {
          this.discard(key, batch);
          continue;
        }
        try {
          await this.send(batch);
          failures = 0;
          this.reportUp();
          this.outbox.ack(n);
          this.settle(batch[n - 1].seq);
          void this.reportBuffer();
        } catch (err) {
          if (!(err instanceof ServerError)) {
            this.setFatal(err as Error);
            return;
          }
          if (err.retryable || this.retryAuth(err)) {
            this.reportDown(err);
            await sleep(this.backoff(failures++));
            continue;
          }
          if (err.code === 'LEASE_LOST' || err.status === 404 || err.status === 400 || err.status === 409 || err.status === 413) {
            this.markLost(first.runId, first.epoch, err.message);
            this.discard(key, batch);
            continue;
          }
          this.setFatal(this.refused(err));
          return;
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  private discard(key: string, batch: OutboxEntry[]): void {
    const n = batch.length;
    const total = (this.discarded.get(key) ?? 0) + n;
    this.discarded.set(key, total);
    const [runId, epoch] = key.split('/');
    this.log(`run ${runId}: discarded ${n} buffered write(s) of attempt ${epoch} (${countPoints(batch.map((e) => e.op))} metric points; ${total} so far): the run's next attempt resumes from its last stored checkpoint`);
    this.outbox.ack(n);
    this.settle(batch[n - 1].seq);
    void this.reportBuffer();
  }

  private async send(batch: OutboxEntry[]): Promise<void> {
    const runId = batch[0].runId;
    const h = this.held.get(runId);
    // The lease the writes were made under (an adopted journal's own owner), not whoever holds the run now.
    const owner = batch[0].owner ?? this.owners.get(leaseKey(runId, batch[0].epoch)) ?? h?.owner;
    if (!owner) throw new Error(`internal: no owner for run ${runId} attempt ${batch[0].epoch}`);
    const ops: Array<WorkerOp & { seq: number }> = [];
    for (const e of batch) {
      if (e.file && !this.uploaded.has(e.seq)) {
        if (!existsSync(e.file)) {
          // Pruned by checkpoint retention before it was sent: intended, the row is removed too.
          if (!this.pruned.has(e.file)) this.log(`run ${runId}: ${e.op.type} file ${e.file} is gone before it was uploaded; its row is not recorded`);
          continue;
        }
        await this.upload(runId, batch[0].epoch, owner, (e.op as { upload: string }).upload, e.file);
        this.uploaded.add(e.seq);
      }
      ops.push({ ...e.op, seq: e.seq } as WorkerOp & { seq: number });
    }
    if (ops.length === 0) return;
    await this.request('POST', `/api/worker/runs/${runId}/writes`, { owner, attempt: batch[0].epoch, ops }, 120_000);
  }

  /** Who holds a lease, kept after the run is finished locally (its last ops may still be in flight). */
  private readonly owners = new Map<string, string>();

  private async upload(runId: number, epoch: number, owner: string, name: string, file: string): Promise<void> {
    const hash = createHash('sha256');
    await pipeline(createReadStream(file), hash);
    const sha = hash.digest('hex');
    const size = statSync(file).size;
    let res: Response;
    try {
      res = await fetch(`${this.base}/api/worker/runs/${runId}/files/${name.split('/').map(encodeURIComponent).join('/')}`, {
        method: 'PUT',
        headers: this.headers('/api/worker/runs/', { 'content-type': 'application/octet-stream', 'content-length': String(size), 'x-ssmb-sha256': sha, 'x-ssmb-owner': owner, 'x-ssmb-attempt': String(epoch) }),
        body: Readable.toWeb(createReadStream(file)) as unknown as BodyInit,
        duplex: 'half',
        signal: AbortSignal.timeout(600_000),
      } as RequestInit & { duplex: 'half' });
    } catch (err) {
      const r = networkReason(err);
      throw new ServerError(0, r.code, `tracking server ${this.base} does not answer (${r.text})`);
    }
    await this.answer(res, 'PUT', `/api/worker/runs/${runId}/files/${name}`);
  }

  /**
   * Stops the sender. Undelivered writes stay in the buffer folder (named in the message), with the
   * identity they replay under; when everything was delivered both are removed (the buffer folder itself
   * only when left empty).
   */
  close(): void {
    this.closed = true;
    this.kick();
    const s = this.outbox.state;
    this.outbox.close(true);
    if (s.entries > 0) {
      this.log(`worker stopped with ${s.entries} writes (${s.points} metric points) not delivered to ${this.base}: they stay in ${this.outbox.dir}`);
      return;
    }
    rmSync(this.runFilesDir, { recursive: true, force: true });
    // The identity is kept only so that undelivered writes replay under it: with none left it goes too.
    rmSync(path.join(this.bufferDir, IDENTITY_FILE), { force: true });
    try {
      rmdirSync(this.bufferDir);
    } catch {
      // not empty (the user's own folder holds other files): leave it
    }
  }
}

const leaseKey = (runId: number, epoch: number) => `${runId}/${epoch}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
