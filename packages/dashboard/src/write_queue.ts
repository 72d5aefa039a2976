// Workers' write batches are applied one at a time, each in its own turn of the event loop
// (setImmediate), not inline in their request handlers. Several workers sending at once would otherwise
// be applied back to back while the dashboard's reads wait behind all of them; queued this way, a read
// waits for at most the one batch being applied (a few ms: workers keep batches to a few thousand points).
export class WriteQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private pending = 0;

  /** Batches waiting or being applied. */
  get depth(): number {
    return this.pending;
  }

  /** Runs `fn` after every batch queued before it, in a later turn of the event loop. */
  run<T>(fn: () => T): Promise<T> {
    this.pending++;
    const next = this.tail.then(
      () =>
        new Promise<T>((resolve, reject) =>
          setImmediate(() => {
            try {
              resolve(fn());
            } catch (err) {
              reject(err);
            } finally {
              this.pending--;
            }
          }),
        ),
    );
    this.tail = next.catch(() => undefined);
    return next;
  }
}
