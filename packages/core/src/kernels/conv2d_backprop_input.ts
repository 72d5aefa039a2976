// Fast Conv2DBackpropInput for the wasm backend: dx is assembled from stride*stride phase convolutions
// that run on wasm's own XNNPACK conv2d (no multiplications by inserted zeros), then interleaved.
import { tf } from '../tf.ts';
import { KernelScope } from './kernel_scope.ts';
import { phase1d } from './conv_geometry.ts';

const { backend_util } = tf;

export interface Conv2DBackpropInputAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  inputShape: [number, number, number, number];
}

export function conv2dBackpropInputWasm(args: {
  inputs: { dy: tf.TensorInfo; filter: tf.TensorInfo };
  attrs: Conv2DBackpropInputAttrs;
  backend: tf.KernelBackend;
}): tf.TensorInfo {
  const { inputs: { dy, filter }, attrs, backend } = args;
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs;
  if (dataFormat !== undefined && dataFormat !== 'NHWC') {
    throw new Error(`Conv2DBackpropInput (wasm): dataFormat '${dataFormat}' is not supported; expected 'NHWC'`);
  }
  if (dy.shape.length !== 4 || filter.shape.length !== 4 || inputShape.length !== 4) {
    throw new Error(`Conv2DBackpropInput (wasm): expected rank-4 dy, filter and inputShape, received dy ` +
      `[${dy.shape}], filter [${filter.shape}], inputShape [${inputShape}]`);
  }
  const info = backend_util.computeConv2DInfo(inputShape, filter.shape as [number, number, number, number],
    strides, 1, pad, dimRoundingMode, false, 'channelsLast');
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: Ci, outHeight: Ho, outWidth: Wo, outChannels: Co,
    filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  if (dy.shape[0] !== B || dy.shape[1] !== Ho || dy.shape[2] !== Wo || dy.shape[3] !== Co) {
    throw new Error(`Conv2DBackpropInput (wasm): dy has shape [${dy.shape}], expected [${[B, Ho, Wo, Co]}] ` +
      `for inputShape [${inputShape}] and filter [${filter.shape}]`);
  }
  const scope = new KernelScope(backend as never, 'wasm');
  try {
    const M = Math.ceil(H / sh);
    const L = Math.ceil(W / sw);
    const phases: tf.TensorInfo[] = [];
    for (let ry = 0; ry < sh; ry++) {
      for (let rx = 0; rx < sw; rx++) {
        const py = phase1d(ry, info.padInfo.top, sh, kh, Ho, M);
        const px = phase1d(rx, info.padInfo.left, sw, kw, Wo, L);
        if (py.taps === 0 || px.taps === 0) {
          phases.push(scope.zeros([B, M, L, Ci]));
          continue;
        }
        // Correlating dy with the spatially reversed filter taps of this phase, in/out channels swapped,
        // undoes the forward conv: sub[u,v,co,ci] = W[kh-1-(start_y + sh*u), kw-1-(start_x + sw*v), ci, co].
        const sub = scope.build(filter, [py.taps, px.taps, Co, Ci], (dst, src) => {
          for (let u = 0; u < py.taps; u++) {
            const a = kh - 1 - (py.start + sh * u);
            for (let v = 0; v < px.taps; v++) {
              const b = kw - 1 - (px.start + sw * v);
              const s0 = (a * kw + b) * Ci * Co;
              const d0 = (u * px.taps + v) * Co * Ci;
              for (let ci = 0; ci < Ci; ci++) {
                for (let co = 0, si = s0 + ci * Co, di = d0 + ci; co < Co; co++, si++, di += Ci) dst[di] = src[si];
              }
            }
          }
        }); // [taps_y,taps_x,Co,Ci]
        phases.push(scope.conv(dy, sub, [py.padBefore, py.padAfter, px.padBefore, px.padAfter])); // [B,M,L,Ci]
      }
    }
    if (phases.length === 1) return scope.close(phases[0]);
    // dx[b, m*sh + ry, l*sw + rx, :] = phase[ry][rx][b, m, l, :] (wasm's DepthToSpace and rank-6
    // Transpose go element by element and cost more than the convs; copying channel rows is cheap).
    return scope.close(scope.interleave(phases, [sh, sw], [B, H, W, Ci])); // [B,H,W,Ci]
  } catch (err) {
    scope.abort();
    throw err;
  }
}
