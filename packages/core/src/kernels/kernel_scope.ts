// Composes registered wasm kernels at the TensorInfo level (below the engine, so nothing is taped or
// tracked) and frees every intermediate it made except the ones handed back to the engine.
import { tf } from '../tf.ts';

type TensorInfo = tf.TensorInfo;
type Backend = tf.KernelBackend & {
  disposeData(dataId: object, force?: boolean): boolean;
  // tfjs-backend-wasm's BackendWasm: allocate an output / view a tensor's bytes on the wasm heap.
  makeOutput?(shape: number[], dtype: tf.DataType): TensorInfo;
  typedArrayFromHeap?(t: TensorInfo): Float32Array;
};
type Inputs = Record<string, TensorInfo> | TensorInfo[];

export class KernelScope {
  private readonly made: TensorInfo[] = [];

  constructor(
    readonly backend: Backend,
    readonly backendName: string,
  ) {}

  /** Runs the kernel `name` registered for this backend; the result is freed by `close` unless kept. */
  run(name: string, inputs: Inputs, attrs: Record<string, unknown> = {}): TensorInfo {
    const kernel = tf.getKernel(name, this.backendName);
    if (kernel == null) {
      throw new Error(`kernel '${name}' is not registered for backend '${this.backendName}'`);
    }
    const out = kernel.kernelFunc({
      inputs: inputs as unknown as tf.NamedTensorInfoMap,
      attrs: attrs as tf.NamedAttrMap,
      backend: this.backend,
    });
    if (Array.isArray(out)) throw new Error(`kernel '${name}' returned several outputs; expected one`);
    this.made.push(out);
    return out;
  }

  reshape(x: TensorInfo, shape: number[]): TensorInfo {
    return this.run('Reshape', { x }, { shape });
  }

  transpose(x: TensorInfo, perm: number[]): TensorInfo {
    return this.run('Transpose', { x }, { perm });
  }

  /** Slices away rows/cols given as non-negative crops from each side of axes 1 and 2 (NHWC). */
  crop(x: TensorInfo, top: number, bottom: number, left: number, right: number): TensorInfo {
    if (top === 0 && bottom === 0 && left === 0 && right === 0) return x;
    const [b, h, w, c] = x.shape;
    return this.run('Slice', { x }, { begin: [0, top, left, 0], size: [b, h - top - bottom, w - left - right, c] });
  }

  /**
   * Stride-1 NHWC conv2d with explicit (possibly negative) pads and a filter dilation: negative pads
   * crop the input first, since the wasm conv only pads.
   */
  conv(
    x: TensorInfo,
    filter: TensorInfo,
    pads: [number, number, number, number],
    dilations: [number, number] = [1, 1],
  ): TensorInfo {
    const [t, b, l, r] = pads;
    const xc = this.crop(x, Math.max(0, -t), Math.max(0, -b), Math.max(0, -l), Math.max(0, -r));
    const pad = [[0, 0], [Math.max(0, t), Math.max(0, b)], [Math.max(0, l), Math.max(0, r)], [0, 0]];
    return this.run('Conv2D', { x: xc, filter }, {
      strides: [1, 1], pad, dataFormat: 'NHWC', dilations, dimRoundingMode: undefined,
    });
  }

  /** Stride-1 NHWC depthwise conv2d with explicit (possibly negative) pads, like `conv`. */
  depthwise(x: TensorInfo, filter: TensorInfo, pads: [number, number, number, number]): TensorInfo {
    const [t, b, l, r] = pads;
    const xc = this.crop(x, Math.max(0, -t), Math.max(0, -b), Math.max(0, -l), Math.max(0, -r));
    const pad = [[0, 0], [Math.max(0, t), Math.max(0, b)], [Math.max(0, l), Math.max(0, r)], [0, 0]];
    return this.run('DepthwiseConv2dNative', { x: xc, filter }, { strides: [1, 1], pad, dilations: [1, 1], dimRoundingMode: undefined });
  }

  /**
   * Interleaves stride phases: out[b, m*sh + ry, l*sw + rx, c] = phases[ry*sw + rx][b, m, l, c], with
   * each phase [B, ceil(H/sh), ceil(W/sw), C] and rows/cols beyond H, W dropped.
   */
  interleave(phases: TensorInfo[], [sh, sw]: [number, number], outShape: [number, number, number, number]): TensorInfo {
    const { makeOutput, typedArrayFromHeap } = this.backend;
    if (!makeOutput || !typedArrayFromHeap) throw new Error(`backend '${this.backendName}' exposes no heap views`);
    const [B, H, W, C] = outShape;
    const M = Math.ceil(H / sh);
    const L = Math.ceil(W / sw);
    const out = makeOutput.call(this.backend, outShape, 'float32');
    this.made.push(out);
    // Views are taken after the allocation: growing the wasm memory detaches older views.
    const dst = typedArrayFromHeap.call(this.backend, out);
    phases.forEach((phase, p) => {
      const ry = Math.floor(p / sw);
      const rx = p % sw;
      const src = typedArrayFromHeap.call(this.backend, phase); // [B,M,L,C]
      for (let b = 0; b < B; b++) {
        for (let m = 0; m < M; m++) {
          const y = m * sh + ry;
          if (y >= H) break;
          const srcRow = ((b * M + m) * L) * C;
          const dstRow = ((b * H + y) * W) * C;
          for (let l = 0, x = rx; l < L && x < W; l++, x += sw) {
            dst.set(src.subarray(srcRow + l * C, srcRow + (l + 1) * C), dstRow + x * C);
          }
        }
      }
    });
    return out;
  }

  /**
   * Builds a new float32 tensor of `shape` by writing every element with `fill(dst, src)` in JS, where
   * `src` views `from` on the heap (for small tensors such as filters: wasm's Reverse and StridedSlice go
   * element by element through generic index math and are slower than one direct loop).
   */
  build(from: TensorInfo, shape: number[], fill: (dst: Float32Array, src: Float32Array) => void): TensorInfo {
    const { makeOutput, typedArrayFromHeap } = this.backend;
    if (!makeOutput || !typedArrayFromHeap) throw new Error(`backend '${this.backendName}' exposes no heap views`);
    const out = makeOutput.call(this.backend, shape, 'float32');
    this.made.push(out);
    fill(typedArrayFromHeap.call(this.backend, out), typedArrayFromHeap.call(this.backend, from));
    return out;
  }

  zeros(shape: number[]): TensorInfo {
    return this.run('Fill', {}, { shape, value: 0, dtype: 'float32' });
  }

  /**
   * Frees every intermediate except the `keep` object itself. Reshape results alias their input's data
   * and hold their own reference, so freeing by object (not by data id) keeps the counts right.
   */
  close(keep: TensorInfo): TensorInfo {
    for (const t of this.made) {
      if (t !== keep) this.backend.disposeData(t.dataId);
    }
    this.made.length = 0;
    return keep;
  }

  /** Frees every intermediate (used when a kernel fails half way). */
  abort(): void {
    for (const t of this.made) this.backend.disposeData(t.dataId);
    this.made.length = 0;
  }
}
