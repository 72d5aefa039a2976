// A remote worker's writes on their way to the tracking server: an append-only journal on local disk,
// in segment files of about `segmentBytes`, sent oldest first and deleted once the server acknowledged
// them. Bounded: when the journal holds `maxBytes`, `append` waits (the training loop pauses) until the
// server has taken enough of it; nothing is ever dropped to make room. Only the segment being written
// and the one being sent are held in memory, so a long outage costs disk, not RAM.
//
// The journal survives the worker's process dying with the page cache (no fsync per write): its purpose
// is riding out an unreachable server, not a crashed node. A crashed worker's run resumes from its last
// stored checkpoint.
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { countPoints, toWire, type WorkerOp } from '../worker_ops.ts';

export interface OutboxEntry {
  /** The worker's sequence number (increasing, never reused by this worker). */
  seq: number;
  runId: number;
  /** The lease epoch ("attempt") the write is made under. */
  epoch: number;
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

  constructor(
    readonly dir: string,
    private readonly opts: OutboxOptions,
  ) {
    if (!Number.isFinite(opts.maxBytes) || opts.maxBytes < 64 * 1024) throw new RangeError(`outbox maxBytes must be >= 64 KiB, received ${opts.maxBytes}`);
    this.maxBytes = opts.maxBytes;
    this.segmentBytes = Math.min(opts.segmentBytes ?? 1 << 20, Math.floor(opts.maxBytes / 4));
    mkdirSync(dir, { recursive: true });
    const left = readdirSync(dir).filter((f) => f.endsWith('.jsonl'));
    if (left.length) throw new Error(`worker buffer folder ${dir} already holds ${left.length} journal file(s) of another worker: pass an empty --buffer-dir`);
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
  }
}
