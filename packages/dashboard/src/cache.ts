// Response caching for GET endpoints. A cached body is reused only while the store is unchanged: the key
// includes the store's data version (SQLite's data_version for other connections' commits, e.g. a worker,
// plus total_changes() for this connection's own writes). Small LRU; reads stay exact.

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
