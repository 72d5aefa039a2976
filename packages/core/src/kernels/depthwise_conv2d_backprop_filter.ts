// DepthwiseConv2dNativeBackpropFilter for the wasm backend, which has none (training a MobileNet such as
// faceres with its own weights trainable failed there). A depthwise filter is tiny ([kh,kw,C,m]), so the
// correlation dW[i,j,c,q] = sum_{b,y,x} x_pad[b, y*s+i, x*s+j, c] * dy[b,y,x,c*m+q] runs as one direct loop
// over the wasm heap (contiguous channel rows, float64 accumulators), with no intermediate tensors.
import { tf } from '../tf.ts';

const { backend_util } = tf;

type WasmBackend = tf.KernelBackend & {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
};

export interface DepthwiseBackpropFilterAttrs {
  strides: number | [number, number];
  dilations?: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
}

export function depthwiseConv2dBackpropFilterWasm(args: {
  inputs: { x: tf.TensorInfo; dy: tf.TensorInfo };
  attrs: DepthwiseBackpropFilterAttrs;
  backend: tf.KernelBackend;
}): tf.TensorInfo {
  const { inputs: { x, dy }, attrs, backend } = args;
  const { strides, dilations, pad, dimRoundingMode, filterShape } = attrs;
  if (x.shape.length !== 4 || dy.shape.length !== 4 || filterShape.length !== 4) {
    throw new Error(`DepthwiseConv2dNativeBackpropFilter (wasm): expected rank-4 x, dy and filterShape, received x [${x.shape}], dy [${dy.shape}], filterShape [${filterShape}]`);
  }
  const dil = dilations ?? 1;
  if (!(dil === 1 || (Array.isArray(dil) && dil[0] === 1 && dil[1] === 1))) {
    throw new Error(`DepthwiseConv2dNativeBackpropFilter (wasm): dilations ${JSON.stringify(dil)} are not supported; expected 1`);
  }
  const info = backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode, true, 'channelsLast');
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: C, outHeight: Ho, outWidth: Wo, outChannels: Co,
    filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const m = Co / C;
  if (dy.shape[0] !== B || dy.shape[1] !== Ho || dy.shape[2] !== Wo || dy.shape[3] !== Co) {
    throw new Error(`DepthwiseConv2dNativeBackpropFilter (wasm): dy has shape [${dy.shape}], expected [${[B, Ho, Wo, Co]}] for x [${x.shape}] and filterShape [${filterShape}]`);
  }
  const top = info.padInfo.top, left = info.padInfo.left;
  const acc = new Float64Array(kh * kw * Co); // [kh,kw,C*m]
  const wb = backend as WasmBackend;
  const out = wb.makeOutput(filterShape, 'float32');
  // views after the allocation: growing the wasm memory detaches older ones
  const X = wb.typedArrayFromHeap(x), DY = wb.typedArrayFromHeap(dy);
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const a0 = (i * kw + j) * Co;
      for (let b = 0; b < B; b++) {
        for (let yo = 0; yo < Ho; yo++) {
          const iy = yo * sh + i - top;
          if (iy < 0 || iy >= H) continue;
          for (let xo = 0; xo < Wo; xo++) {
            const ix = xo * sw + j - left;
            if (ix < 0 || ix >= W) continue;
            const xr = ((b * H + iy) * W + ix) * C;
            const dr = ((b * Ho + yo) * Wo + xo) * Co;
            if (m === 1) {
              for (let c = 0; c < C; c++) acc[a0 + c] += X[xr + c] * DY[dr + c];
            } else {
              for (let c = 0; c < C; c++) {
                const xv = X[xr + c];
                for (let q = 0; q < m; q++) acc[a0 + c * m + q] += xv * DY[dr + c * m + q];
              }
            }
          }
        }
      }
    }
  }
  wb.typedArrayFromHeap(out).set(acc); // [kh,kw,C,m] row-major = [kh,kw,C*m]
  return out;
}
