// Our tfjs model behind the same Embedder interface as onnxruntime, so evaluation and benchmarks can
// swap engines.
import { tf } from '../../tf.ts';
import type { Embedder } from './onnx_embedder.ts';

export interface TfjsEmbedderSource {
  inputSize: number;
  embeddingSize: number;
  /** x [B,S,S,3] -> embedding [B,E] */
  forward(x: tf.Tensor4D): tf.Tensor2D;
}

export function createTfjsEmbedder(src: TfjsEmbedderSource): Embedder {
  const perImage = src.inputSize * src.inputSize * 3;
  return {
    engine: tf.getBackend(),
    inputSize: src.inputSize,
    embeddingSize: src.embeddingSize,
    async embed(x: Float32Array): Promise<Float32Array> {
      if (x.length === 0 || x.length % perImage !== 0) {
        throw new Error(`tfjs embedder: input has ${x.length} values; expected B*${src.inputSize}*${src.inputSize}*3 (NHWC)`);
      }
      const b = x.length / perImage;
      const y = tf.tidy(() => src.forward(tf.tensor4d(x, [b, src.inputSize, src.inputSize, 3]))); // [B,E]
      const out = (await y.data()) as Float32Array;
      y.dispose();
      return out;
    },
    dispose: async () => {},
  };
}
