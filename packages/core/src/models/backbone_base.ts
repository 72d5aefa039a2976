// What every backbone family shares: named parameters, freezing, counting, lookup by name. A family
// extends this and writes only its architecture (forward, emitOnnx, folding); which parameters stay
// fixed even when the network trains (running statistics, ...) is the family's `trainableParam` hook.
import type { tf } from '../tf.ts';
import type { Backbone, BackboneConfig, BackboneForwardOptions, EmitOnnxOptions, InputContract, TapInfo } from './backbone.ts';
import type { OnnxGraphBuilder } from '../weights/onnx/onnx_graph_builder.ts';

export abstract class BackboneBase implements Backbone {
  abstract readonly family: string;
  abstract readonly config: BackboneConfig;
  abstract readonly input: InputContract;
  abstract readonly embeddingSize: number;
  abstract readonly taps: readonly TapInfo[];
  abstract readonly params: Map<string, tf.Variable>;
  #frozen = false;

  abstract forward(x: tf.Tensor4D, opts?: BackboneForwardOptions): tf.Tensor2D;
  abstract emitOnnx(b: OnnxGraphBuilder, x: string, opts?: EmitOnnxOptions): string;

  get name(): string {
    return this.config.name;
  }

  get frozen(): boolean {
    return this.#frozen;
  }

  /** Frozen: no trainable variables (and the family's folded inference path). */
  setFrozen(frozen: boolean): void {
    this.#frozen = frozen;
    for (const [name, v] of this.params) v.trainable = !frozen && this.trainableParam(name);
  }

  get trainableVariables(): tf.Variable[] {
    return [...this.params.values()].filter((v) => v.trainable);
  }

  numParams(): number {
    let n = 0;
    for (const v of this.params.values()) n += v.size;
    return n;
  }

  /** Disposes the parameters; a family with cached folded weights disposes those first, then calls this. */
  dispose(): void {
    for (const v of this.params.values()) v.dispose();
  }

  /** A parameter that a non-frozen network still never trains (e.g. BN running statistics) answers false. */
  protected trainableParam(_name: string): boolean {
    return true;
  }

  protected param(name: string): tf.Variable {
    const v = this.params.get(name);
    if (!v) throw new Error(`${this.family}: no parameter "${name}" (it has ${this.params.size}: ${[...this.params.keys()].slice(0, 5).join(', ')}, ...)`);
    return v;
  }
}
