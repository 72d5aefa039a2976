// Response caching for GET endpoints. A cached body is reused only while the store is unchanged:
// the key includes SQLite's data_version (bumped by every commit from another connection, e.g. a worker)
// and a counter of this server's own writes (tags, archive, launch). Small LRU: reads stay exact.

export class LruCache<V> {
  private map = new Map<string, V>();
  constructor(private readonly max: number) {}

  get(key: string): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }

  set(key: string, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value as string);
  }

  get size(): number {
    return this.map.size;
  }
}

export class StoreVersion {
  private localWrites = 0;
  constructor(private readonly dataVersion: () => number) {}

  /** Call after this server wrote to the store. */
  bump(): void {
    this.localWrites++;
  }

  current(): string {
    return `${this.dataVersion()}.${this.localWrites}`;
  }
}
