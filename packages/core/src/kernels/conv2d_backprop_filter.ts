// Conv2DBackpropFilter for the wasm backend (tfjs-backend-wasm has none): dW is a conv2d of x with dy
// as the filter, batch and channels swapped, dilated by the forward stride, run on wasm's XNNPACK conv2d.
import { tf } from '../tf.ts';
import { KernelScope } from './kernel_scope.ts';
import { filterGradPadAfter } from './conv_geometry.ts';

const { backend_util } = tf;

export interface Conv2DBackpropFilterAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
}

export function conv2dBackpropFilterWasm(args: {
  inputs: { x: tf.TensorInfo; dy: tf.TensorInfo };
  attrs: Conv2DBackpropFilterAttrs;
  backend: tf.KernelBackend;
}): tf.TensorInfo {
  const { inputs: { x, dy }, attrs, backend } = args;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs;
  if (dataFormat !== undefined && dataFormat !== 'NHWC') {
    throw new Error(`Conv2DBackpropFilter (wasm): dataFormat '${dataFormat}' is not supported; expected 'NHWC'`);
  }
  if (x.shape.length !== 4 || dy.shape.length !== 4 || filterShape.length !== 4) {
    throw new Error(`Conv2DBackpropFilter (wasm): expected rank-4 x, dy and filterShape, received x ` +
      `[${x.shape}], dy [${dy.shape}], filterShape [${filterShape}]`);
  }
  const info = backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape,
    strides, 1, pad, dimRoundingMode, false, 'channelsLast');
  const { batchSize: B, inHeight: H, inWidth: W, outHeight: Ho, outWidth: Wo, outChannels: Co,
    filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  if (dy.shape[0] !== B || dy.shape[1] !== Ho || dy.shape[2] !== Wo || dy.shape[3] !== Co) {
    throw new Error(`Conv2DBackpropFilter (wasm): dy has shape [${dy.shape}], expected [${[B, Ho, Wo, Co]}] ` +
      `for x [${x.shape}] and filterShape [${filterShape}]`);
  }
  const scope = new KernelScope(backend as never, 'wasm');
  try {
    // dW[a,b,ci,co] = sum_{n,i,j} x[n, i*sh + a - top, j*sw + b - left, ci] * dy[n,i,j,co]
    const xt = scope.transpose(x, [3, 1, 2, 0]); // [Ci,H,W,B]: channels act as the batch
    const dyt = scope.transpose(dy, [1, 2, 0, 3]); // [Ho,Wo,B,Co]: dy acts as the filter
    const pads: [number, number, number, number] = [
      info.padInfo.top, filterGradPadAfter(kh, sh, Ho, H, info.padInfo.top),
      info.padInfo.left, filterGradPadAfter(kw, sw, Wo, W, info.padInfo.left),
    ];
    const dw = scope.conv(xt, dyt, pads, [sh, sw]); // [Ci,kh,kw,Co]
    return scope.close(scope.transpose(dw, [1, 2, 0, 3])); // [kh,kw,Ci,Co]
  } catch (err) {
    scope.abort();
    throw err;
  }
}
