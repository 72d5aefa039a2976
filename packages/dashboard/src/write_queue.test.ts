import { describe, expect, it } from 'vitest';
import { WriteQueue } from './write_queue.ts';

describe('WriteQueue', () => {
  it('applies batches one at a time in order, lets other work run between them, and keeps going after a failure', async () => {
    const q = new WriteQueue();
    const order: string[] = [];
    const busy = (ms: number) => {
      const t = Date.now();
      while (Date.now() - t < ms) {
        // a synchronous SQLite transaction
      }
    };
    const a = q.run(() => (busy(20), order.push('a'), 1));
    const b = q.run(() => {
      order.push('b');
      throw new Error('bad batch');
    });
    const c = q.run(() => (busy(20), order.push('c'), 3));
    expect(q.depth).toBe(3);
    // A "read" scheduled now runs before the second batch, not after all of them.
    const read = new Promise<void>((r) => setImmediate(() => (order.push('read'), r())));
    await expect(a).resolves.toBe(1);
    await expect(b).rejects.toThrow('bad batch');
    await expect(c).resolves.toBe(3);
    await read;
    expect(order.indexOf('read')).toBeLessThan(order.indexOf('c'));
    expect(order.filter((x) => x !== 'read')).toEqual(['a', 'b', 'c']);
    expect(q.depth).toBe(0);
  });
});
