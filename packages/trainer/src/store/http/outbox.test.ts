import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { metricsOp } from '../worker_ops.ts';
import { Outbox, type OutboxEntry, type OutboxState } from './outbox.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'outbox-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

let seq = 0;
const entry = (points: number): OutboxEntry => ({
  seq: ++seq,
  runId: 1,
  epoch: 1,
  op: metricsOp(Array.from({ length: points }, (_, i) => ({ key: 'loss', step: seq * 1000 + i, value: i === 0 ? Number.NaN : i, time: 0 }))),
});

describe('worker outbox', () => {
  it('keeps entries in order across segment files on disk and deletes a segment once it is acknowledged', async () => {
    const box = new Outbox(path.join(dir, 'j'), { maxBytes: 1 << 20, segmentBytes: 4096 });
    const sent: number[] = [];
    for (let i = 0; i < 40; i++) await box.append(entry(20));
    expect(readdirSync(path.join(dir, 'j')).length).toBeGreaterThan(3);
    expect(box.state.entries).toBe(40);
    for (;;) {
      const batch = box.peek();
      if (batch.length === 0) break;
      sent.push(...batch.slice(0, 3).map((e) => e.seq));
      // Read back from disk, NaN is in its wire form ("NaN", which the server decodes); never 0 or null.
      for (const e of batch.slice(0, 3)) expect(String((e.op as { v: unknown[] }).v[0])).toBe('NaN');
      box.ack(Math.min(3, batch.length));
    }
    expect(sent).toEqual(Array.from({ length: 40 }, (_, i) => sent[0] + i));
    expect(box.state).toMatchObject({ entries: 0, bytes: 0 });
    expect(readdirSync(path.join(dir, 'j'))).toEqual(['worker.lock']); // every segment deleted; the lock goes with close()
    box.close(true);
  });

  it('at its bound, append waits (nothing is dropped) with one message, and goes on when the sender frees room', async () => {
    const full: OutboxState[] = [];
    const room: number[] = [];
    const box = new Outbox(path.join(dir, 'j'), { maxBytes: 64 * 1024, segmentBytes: 8 * 1024, onFull: (s) => full.push(s), onRoom: (_s, ms) => room.push(ms) });
    let appended = 0;
    const writer = (async () => {
      for (let i = 0; i < 200; i++) {
        await box.append(entry(40));
        appended++;
      }
    })();
    await new Promise((r) => setTimeout(r, 100));
    expect(appended).toBeLessThan(200); // paused at the bound
    expect(full).toHaveLength(1);
    expect(full[0].bytes).toBeGreaterThan(40 * 1024);
    expect(box.state.bytes).toBeLessThanOrEqual(64 * 1024);
    const delivered: number[] = [];
    while (delivered.length < 200) {
      const batch = box.peek();
      if (batch.length === 0) {
        await new Promise((r) => setTimeout(r, 5));
        continue;
      }
      delivered.push(...batch.map((e) => e.seq));
      box.ack(batch.length);
      await new Promise((r) => setImmediate(r));
    }
    await writer;
    expect(appended).toBe(200);
    expect(new Set(delivered).size).toBe(200);
    expect(delivered).toEqual([...delivered].sort((a, b) => a - b));
    expect(room.length).toBeGreaterThanOrEqual(1);
    box.close(true);
  });

  it('adopts the journal a dead worker left (a torn last line removed and counted), refuses a folder a live worker holds, and a single write larger than half the bound', async () => {
    const j = path.join(dir, 'j');
    const box = new Outbox(j, { maxBytes: 64 * 1024 });
    for (let i = 1; i <= 3; i++) await box.append({ ...entry(1), seq: i, owner: 'dead:1:aa' });
    box.close(true); // not removed: entries were never delivered
    appendFileSync(path.join(j, readdirSync(j).find((f) => f.endsWith('.jsonl'))!), '{"seq":4,"runId":1,"ep'); // cut off by the crash
    const next = new Outbox(j, { maxBytes: 64 * 1024 });
    expect(next.adopted).toEqual({ entries: 3, points: 3, maxSeq: 3, torn: 1 });
    expect(next.peek().map((e) => [e.seq, e.owner])).toEqual([[1, 'dead:1:aa'], [2, 'dead:1:aa'], [3, 'dead:1:aa']]);
    await next.append({ ...entry(1), seq: 4 });
    next.ack(3);
    expect(next.peek().map((e) => e.seq)).toEqual([4]); // its own writes come after the adopted ones
    // The lock names a live process of this host (our parent): the folder is in use.
    writeFileSync(path.join(j, 'worker.lock'), `${hostname()}:${process.ppid}\n`);
    expect(() => new Outbox(j, { maxBytes: 64 * 1024 })).toThrow(`worker buffer folder ${j} is in use by a running worker (pid ${process.ppid} on this host): pass another --buffer-dir`);
    writeFileSync(path.join(dir, 'x'), '');
    const small = new Outbox(path.join(dir, 'k'), { maxBytes: 64 * 1024 });
    await expect(small.append(entry(4000))).rejects.toThrow(/more than half the worker buffer .*--buffer-mb/);
  });

  it('counts undelivered entries per run, across segments, acknowledgements and an adopted journal', async () => {
    const box = new Outbox(path.join(dir, 'j'), { maxBytes: 1 << 20, segmentBytes: 4096 });
    for (let i = 0; i < 30; i++) await box.append({ ...entry(20), runId: i % 3 === 0 ? 7 : 9 });
    expect(box.runs).toEqual({ 7: 10, 9: 20 });
    box.ack(box.peek().length); // the first segment delivered
    const left = box.runs;
    expect(left[7] + left[9]).toBe(box.state.entries);
    box.close(false);
    // The next worker on the folder adopts the journal: the same counts.
    const next = new Outbox(path.join(dir, 'j'), { maxBytes: 1 << 20, segmentBytes: 4096 });
    expect(next.runs).toEqual(left);
    while (next.peek().length) next.ack(next.peek().length);
    expect(next.runs).toEqual({});
    next.close(true);
  });
});
