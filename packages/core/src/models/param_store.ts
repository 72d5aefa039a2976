// Named parameter store shared by the models: one tf.Variable per insightface state-dict key.
// tf variable names must be globally unique in the engine, so the insightface-style key lives in the
// map and the engine name is left automatic (several models can coexist in one process).
import { tfSeed } from '../random_seed.ts';
import { tf } from '../tf.ts';

export class ParamStore {
  readonly params = new Map<string, tf.Variable>();
  private seedCounter: number;

  constructor(seed = 0) {
    this.seedCounter = seed * 100_003;
  }

  /** Registers `name` with `init`'s value; the store owns the variable. */
  add(name: string, init: tf.Tensor, trainable = true): tf.Variable {
    if (this.params.has(name)) throw new Error(`ParamStore.add: parameter "${name}" is already defined`);
    const v = tf.variable(init, trainable);
    init.dispose();
    this.params.set(name, v);
    return v;
  }

  /** He-normal init (std = sqrt(2 / fanIn)), seeded so a given model seed is reproducible. */
  heNormal(name: string, shape: number[], fanIn: number): tf.Variable {
    return this.add(name, tf.randomNormal(shape, 0, Math.sqrt(2 / fanIn), 'float32', this.nextSeed()));
  }

  /** PyTorch nn.Linear default init: U(-1/sqrt(fanIn), 1/sqrt(fanIn)). */
  uniformFanIn(name: string, shape: number[], fanIn: number): tf.Variable {
    const b = 1 / Math.sqrt(fanIn);
    return this.add(name, tf.randomUniform(shape, -b, b, 'float32', this.nextSeed()));
  }

  fill(name: string, shape: number[], value: number, trainable = true): tf.Variable {
    return this.add(name, tf.fill(shape, value), trainable);
  }

  get(name: string): tf.Variable {
    const v = this.params.get(name);
    if (!v) throw new Error(`ParamStore.get: unknown parameter "${name}"`);
    return v;
  }

  nextSeed(): number {
    return tfSeed(this.seedCounter++);
  }
}
