// DepthwiseConv2dNativeBackpropInput for the wasm backend, which has none (any gradient through a
// depthwise conv, e.g. the frozen faceres MobileNet under an SSMB student, failed there). Same phase
// decomposition as our Conv2DBackpropInput: dx is stride*stride stride-1 depthwise correlations of dy with
// the spatially reversed filter taps of each phase (on wasm's own XNNPACK depthwise conv), interleaved.
// Channel multiplier m > 1: dy has C*m channels; each input channel's gradient is the sum of its m
// correlations (a reshape [.., C, m] and a sum over the last axis).
import { tf } from '../tf.ts';
import { KernelScope } from './kernel_scope.ts';
import { phase1d } from './conv_geometry.ts';

const { backend_util } = tf;

export interface DepthwiseBackpropInputAttrs {
  strides: number | [number, number];
  dilations?: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  inputShape: [number, number, number, number];
}

export function depthwiseConv2dBackpropInputWasm(args: {
  inputs: { dy: tf.TensorInfo; filter: tf.TensorInfo };
  attrs: DepthwiseBackpropInputAttrs;
  backend: tf.KernelBackend;
}): tf.TensorInfo {
  const { inputs: { dy, filter }, attrs, backend } = args;
  const { strides, dilations, pad, dimRoundingMode, inputShape } = attrs;
  if (dy.shape.length !== 4 || filter.shape.length !== 4 || inputShape.length !== 4) {
    throw new Error(`DepthwiseConv2dNativeBackpropInput (wasm): expected rank-4 dy, filter and inputShape, received dy ` +
      `[${dy.shape}], filter [${filter.shape}], inputShape [${inputShape}]`);
  }
  const dil = dilations ?? 1;
  if (!(dil === 1 || (Array.isArray(dil) && dil[0] === 1 && dil[1] === 1))) {
    throw new Error(`DepthwiseConv2dNativeBackpropInput (wasm): dilations ${JSON.stringify(dil)} are not supported; expected 1`);
  }
  const info = backend_util.computeConv2DInfo(inputShape, filter.shape as [number, number, number, number],
    strides, 1, pad, dimRoundingMode, true, 'channelsLast');
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: C, outHeight: Ho, outWidth: Wo, outChannels: Co,
    filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const m = Co / C; // channel multiplier
  if (filter.shape[2] !== C || !Number.isInteger(m)) {
    throw new Error(`DepthwiseConv2dNativeBackpropInput (wasm): filter [${filter.shape}] does not fit inputShape [${inputShape}]; expected [kh,kw,${C},m]`);
  }
  if (dy.shape[0] !== B || dy.shape[1] !== Ho || dy.shape[2] !== Wo || dy.shape[3] !== Co) {
    throw new Error(`DepthwiseConv2dNativeBackpropInput (wasm): dy has shape [${dy.shape}], expected [${[B, Ho, Wo, Co]}] ` +
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
          phases.push(scope.zeros([B, M, L, C]));
          continue;
        }
        // dy's channel c*m+q correlates with the reversed taps of filter[:, :, c, q]: as a depthwise
        // filter over dy's C*m channels with multiplier 1, sub[u,v,c*m+q,0] = W[kh-1-(y0+sh*u), kw-1-(x0+sw*v), c, q].
        const sub = scope.build(filter, [py.taps, px.taps, Co, 1], (dst, src) => {
          for (let u = 0; u < py.taps; u++) {
            const a = kh - 1 - (py.start + sh * u);
            for (let v = 0; v < px.taps; v++) {
              const b = kw - 1 - (px.start + sw * v);
              dst.set(src.subarray((a * kw + b) * Co, (a * kw + b + 1) * Co), (u * px.taps + v) * Co); // [C*m] rows: same order
            }
          }
        }); // [taps_y,taps_x,C*m,1]
        let ph = scope.depthwise(dy, sub, [py.padBefore, py.padAfter, px.padBefore, px.padAfter]); // [B,M,L,C*m]
        if (m > 1) ph = scope.run('Sum', { x: scope.reshape(ph, [B, M, L, C, m]) }, { axis: [4], keepDims: false }); // [B,M,L,C]
        phases.push(ph);
      }
    }
    if (phases.length === 1) return scope.close(phases[0]);
    return scope.close(scope.interleave(phases, [sh, sw], [B, H, W, C])); // [B,H,W,C]
  } catch (err) {
    scope.abort();
    throw err;
  }
}
