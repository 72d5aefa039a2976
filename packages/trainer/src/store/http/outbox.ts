// A remote worker's writes on their way to the tracking server: an append-only journal on local disk,
// in segment files of about `segmentBytes`, sent oldest first and deleted once the server acknowledged
// them. Bounded: when the journal holds `maxBytes`, `append` waits (the training loop pauses) until the
// server has taken enough of it; nothing is ever dropped to make room. Only the segment being written
// and the one being sent are held in memory, so a long outage costs disk, not RAM.
//
// The journal survives the worker's process dying with the page cache (no fsync per write): its purpose
// is riding out an unreachable server, not a crashed node. A crashed worker's run resumes from its last
// stored checkpoint. A journal left by a worker that died is adopted by the next one opened on the same
// folder (or `ssmb worker --replay DIR`): its entries are sent first, under their own lease (owner and
// attempt), and the server's write ledger acknowledges what it already has. A folder whose lock names a
// live process on this host is refused.
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { countPoints, toWire, type WorkerOp } from '../worker_ops.ts';

export interface OutboxEntry {
  /** The worker's sequence number (increasing, never reused by this worker). */
  seq: number;
  runId: number;
  /** The lease epoch ("attempt") the write is made under. */
  epoch: number;
  /** The lease owner (the worker id): a journal replayed by another worker sends it under this lease. */
  owner?: string;
  op: WorkerOp;
  /** A local file the server receives by upload (as op.upload) before the op is sent. */
  file?: string;
}

interface Segment {
  file: string;
  bytes: number;
  entries: number;
  points: number;
  /** In memory while it is written or sent; reloaded from disk otherwise. */
  loaded: OutboxEntry[] | null;
}

export interface OutboxState {
  entries: number;
  points: number;
  bytes: number;
}

export interface OutboxOptions {
  /** Bound of the journal on disk. */
  maxBytes: number;
  segmentBytes?: number;
  /** Called once each time `append` starts waiting for room (the loop pauses). */
  onFull?: (state: OutboxState) => void;
  /** Called when a waiting `append` could go on. */
  onRoom?: (state: OutboxState, waitedMs: number) => void;
}

/** What a journal left behind by an earlier worker held when this one adopted it. */
export interface AdoptedJournal {
  entries: number;
  points: number;
  /** Highest seq in it (this worker numbers its own writes after it). */
  maxSeq: number;
  /** A last line cut off by the crash (not a whole write): removed, and counted here. */
  torn: number;
}

const LOCK = 'worker.lock';

/** The pid in a lock file written by a process on this host that is still alive, else null. */
function liveLocker(file: string): number | null {
  if (!existsSync(file)) return null;
  const [host, pidText] = readFileSync(file, 'utf8').trim().split(':');
  const pid = Number(pidText);
  if (host !== hostname() || !Number.isInteger(pid) || pid <= 0 || pid === process.pid) return null;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? pid : null;
  }
}

export class Outbox {
  private sealed: Segment[] = [];
  private active: (Segment & { fd: number }) | null = null;
  /** Entries of the oldest segment already acknowledged. */
  private offset = 0;
  private next = 0;
  private waiters: Array<() => void> = [];
  private appendWaiters: Array<() => void> = [];
  private fullSince: number | null = null;
  readonly maxBytes: number;
  readonly segmentBytes: number;
  /** The journal of an earlier worker found in `dir` (sent before this worker's writes). */
  readonly adopted: AdoptedJournal = { entries: 0, points: 0, maxSeq: 0, torn: 0 };
  /** Unacknowledged entries per run id (what a worker reports of its buffer). */
  private readonly pending = new Map<number, number>();

  constructor(
    readonly dir: string,
    private readonly opts: OutboxOptions,
  ) {
    if (!Number.isFinite(opts.maxBytes) || opts.maxBytes < 64 * 1024) throw new RangeError(`outbox maxBytes must be >= 64 KiB, received ${opts.maxBytes}`);
    this.maxBytes = opts.maxBytes;
    this.segmentBytes = Math.min(opts.segmentBytes ?? 1 << 20, Math.floor(opts.maxBytes / 4));
    mkdirSync(dir, { recursive: true });
    const live = liveLocker(path.join(dir, LOCK));
    if (live !== null) throw new Error(`worker buffer folder ${dir} is in use by a running worker (pid ${live} on this host): pass another --buffer-dir`);
    writeFileSync(path.join(dir, LOCK), `${hostname()}:${process.pid}\n`);
    const left = readdirSync(dir).filter((f) => /^\d+\.jsonl$/.test(f)).sort();
    for (const f of left) this.adopt(path.join(dir, f));
    this.next = left.length ? Number.parseInt(left[left.length - 1], 10) + 1 : 0;
  }

  /** Takes over one segment file an earlier worker left (a torn last line is removed and counted). */
  private adopt(file: string): void {
    const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
    const entries: OutboxEntry[] = [];
    for (const [i, l] of lines.entries()) {
      try {
        entries.push(JSON.parse(l) as OutboxEntry);
      } catch (err) {
        if (i !== lines.length - 1) throw new Error(`worker buffer ${file}: line ${i + 1} is not a journal entry (${(err as Error).message}); move the folder aside`);
        this.adopted.torn++;
      }
    }
    if (entries.length === 0) return unlinkSync(file);
    if (this.adopted.torn) writeFileSync(file, entries.map((e) => `${JSON.stringify(e)}\n`).join(''));
    const points = countPoints(entries.map((e) => e.op));
    for (const e of entries) this.count(e.runId, 1);
    this.sealed.push({ file, bytes: statSync(file).size, entries: entries.length, points, loaded: null });
    this.adopted.entries += entries.length;
    this.adopted.points += points;
    this.adopted.maxSeq = Math.max(this.adopted.maxSeq, ...entries.map((e) => e.seq));
  }

  /** What waits to be sent. */
  get state(): OutboxState {
    const segs = [...this.sealed, ...(this.active ? [this.active] : [])];
    return {
      entries: segs.reduce((n, s) => n + s.entries, 0) - this.offset,
      points: segs.reduce((n, s) => n + s.points, 0),
      bytes: segs.reduce((n, s) => n + s.bytes, 0),
    };
  }

  get empty(): boolean {
    return this.state.entries === 0;
  }

  /** Unacknowledged entries per run id. */
  get runs(): Record<string, number> {
    return Object.fromEntries([...this.pending].map(([id, n]) => [String(id), n]));
  }

  private count(runId: number, by: number): void {
    const n = (this.pending.get(runId) ?? 0) + by;
    if (n > 0) this.pending.set(runId, n);
    else this.pending.delete(runId);
  }

  /** Appends one entry; waits while the journal is at its bound. */
  async append(entry: OutboxEntry): Promise<void> {
    const line = `${JSON.stringify(entry, toWire)}\n`;
    const n = Buffer.byteLength(line);
    if (n > this.maxBytes / 2) {
      throw new RangeError(`one ${entry.op.type} write of run ${entry.runId} is ${n} bytes, more than half the worker buffer (${this.maxBytes} bytes): raise --buffer-mb`);
    }
    while (this.state.bytes + n > this.maxBytes) {
      if (this.fullSince === null) {
        this.fullSince = Date.now();
        this.opts.onFull?.(this.state);
      }
      await new Promise<void>((r) => this.waiters.push(r));
    }
    if (this.fullSince !== null) {
      this.opts.onRoom?.(this.state, Date.now() - this.fullSince);
      this.fullSince = null;
    }
    if (this.active && this.active.bytes + n > this.segmentBytes && this.active.entries > 0) this.seal();
    if (!this.active) {
      const file = path.join(this.dir, `${String(this.next++).padStart(8, '0')}.jsonl`);
      this.active = { file, fd: openSync(file, 'a'), bytes: 0, entries: 0, points: 0, loaded: [] };
    }
    writeSync(this.active.fd, line);
    this.active.bytes += n;
    this.active.entries++;
    this.active.points += countPoints([entry.op]);
    this.active.loaded!.push(entry);
    this.count(entry.runId, 1);
    for (const w of this.appendWaiters.splice(0)) w();
  }

  private seal(): void {
    const a = this.active!;
    closeSync(a.fd);
    const { fd: _fd, ...seg } = a;
    // The first sealed segment is sent next: keep it in memory; later ones are read back when due.
    this.sealed.push({ ...seg, loaded: this.sealed.length === 0 ? seg.loaded : null });
    this.active = null;
  }

  /** The oldest unacknowledged entries (at most one segment), without removing them. */
  peek(): OutboxEntry[] {
    if (this.sealed.length === 0 && this.active && this.active.entries > 0) this.seal();
    const head = this.sealed[0];
    if (!head) return [];
    if (!head.loaded) {
      head.loaded = readFileSync(head.file, 'utf8')
        .split('\n')
        .filter(Boolean)
        // Non-finite numbers stay in their wire form ("NaN"): they are only ever sent on, never computed with.
        .map((l) => JSON.parse(l) as OutboxEntry);
    }
    return head.loaded.slice(this.offset);
  }

  /** The first `count` entries of peek() were delivered (or discarded, which the caller reports). */
  ack(count: number): void {
    const head = this.sealed[0];
    if (!head) return;
    if (!head.loaded) this.peek(); // loads the head segment
    for (const e of head.loaded!.slice(this.offset, this.offset + count)) this.count(e.runId, -1);
    this.offset += count;
    if (this.offset < head.entries) return;
    this.sealed.shift();
    this.offset = 0;
    unlinkSync(head.file);
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves when an entry is appended (the sender's idle wait). */
  whenAppended(): Promise<void> {
    if (!this.empty) return Promise.resolve();
    return new Promise<void>((r) => this.appendWaiters.push(r));
  }

  /** Closes the journal; `remove` deletes the folder (only when empty: undelivered writes stay on disk). */
  close(remove: boolean): void {
    if (this.active) {
      closeSync(this.active.fd);
      const a = this.active;
      this.active = null;
      if (a.entries > 0) this.sealed.push({ ...a, loaded: null });
      else unlinkSync(a.file);
    }
    if (remove && this.sealed.length === 0) rmSync(this.dir, { recursive: true, force: true });
    else rmSync(path.join(this.dir, LOCK), { force: true });
  }
}
