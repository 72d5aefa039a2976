// Inference weights derived from a model's variables (affine layers folded into convs), cached until any
// variable is reassigned (its dataId changes): what a frozen backbone runs on.
import { tf } from '../tf.ts';

export class FoldCache<T> {
  private ids?: unknown[];
  private value?: T;
  private tensors: tf.Tensor[] = [];

  /** `build` runs inside a tidy; every tensor of its result is kept until the cache is rebuilt or disposed. */
  get(params: Map<string, tf.Variable>, build: () => T, tensorsOf: (v: T) => tf.Tensor[]): T {
    const ids = [...params.values()].map((v) => v.dataId);
    if (this.value !== undefined && this.ids && this.ids.length === ids.length && this.ids.every((id, i) => id === ids[i])) return this.value;
    this.dispose();
    let built!: T;
    tf.tidy(() => {
      built = build();
      const ts = tensorsOf(built);
      // kept: the cache outlives whatever tidy scope the first frozen forward ran in
      for (const t of ts) tf.keep(t);
      this.tensors = ts;
    });
    this.value = built;
    this.ids = ids;
    return built;
  }

  dispose(): void {
    tf.dispose(this.tensors);
    this.tensors = [];
    this.value = undefined;
    this.ids = undefined;
  }
}
