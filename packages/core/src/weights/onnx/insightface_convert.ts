// PyTorch-layout insightface StateDict -> our IResNet parameters (conv HWIO, fc [in,out] in NHWC flatten
// order, vectors unchanged), with the IResNet shape detected from the tensors. Folded convs (bias, no BN)
// get an identity-scaled BN: gamma sqrt(1+eps), var 1, mean 0, beta = the conv bias.
import { BN_PARTS, convSlots, insightfaceParamShapes, shapeStr, type IResNetShape, type PlainTensor, type StateDict } from './insightface_layout.ts';
import { BN_EPS } from './iresnet_onnx_graph.ts';

/** Detects depths, widths, stem width, input and embedding size from insightface parameter names/shapes. */
export function detectIResNetShape(sd: StateDict, source: string): IResNetShape {
  const need = (name: string) => {
    const t = sd.get(name);
    if (!t) throw new Error(`${source}: tensor '${name}' is missing; expected an insightface IResNet state dict (conv1, bn1, prelu, layer1.0.*, ..., bn2, fc, features)`);
    return t.shape;
  };
  const stemWidth = need('conv1.weight')[0];
  const depths: number[] = [];
  const widths: number[] = [];
  for (let s = 1; s <= 4; s++) {
    let d = 0;
    while (sd.has(`layer${s}.${d}.conv1.weight`)) d++;
    if (d === 0) need(`layer${s}.0.conv1.weight`);
    depths.push(d);
    widths.push(need(`layer${s}.0.conv2.weight`)[0]);
  }
  const [embeddingSize, fcIn] = need('fc.weight');
  const spatial = Math.round(Math.sqrt(fcIn / widths[3]));
  if (spatial * spatial * widths[3] !== fcIn) {
    throw new Error(`${source}: fc.weight ${shapeStr([embeddingSize, fcIn])} is not [E, ${widths[3]}*s*s]; cannot infer the input size`);
  }
  return { depths, widths, stemWidth, inputSize: spatial * 16, embeddingSize };
}

function hwio(t: PlainTensor): PlainTensor {
  const [o, i, kh, kw] = t.shape;
  const out = new Float32Array(t.data.length);
  for (let a = 0; a < o; a++) for (let b = 0; b < i; b++) for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) {
    out[((y * kw + x) * i + b) * o + a] = t.data[((a * i + b) * kh + y) * kw + x];
  }
  return { shape: [kh, kw, i, o], data: out };
}

/** torch fc [E, C*S*S] (NCHW flatten) -> ours [S*S*C, E] (NHWC flatten). */
export function fcToNhwc(t: PlainTensor, channels: number): PlainTensor {
  const [e, n] = t.shape;
  const ss = n / channels;
  const out = new Float32Array(t.data.length);
  for (let o = 0; o < e; o++) for (let c = 0; c < channels; c++) for (let p = 0; p < ss; p++) {
    out[(p * channels + c) * e + o] = t.data[o * n + c * ss + p];
  }
  return { shape: [n, e], data: out };
}

/**
 * Converts to our parameter map; throws one error listing every missing and every unknown tensor with its
 * shape (and every tensor whose shape disagrees with the detected architecture).
 */
export function insightfaceToOurs(input: StateDict, shape: IResNetShape, source: string): Map<string, PlainTensor> {
  const sd: StateDict = new Map([...input].filter(([k]) => !k.endsWith('num_batches_tracked')));
  // unfold folded convs: conv bias without its BN
  const synthesized = new Set<string>();
  for (const slot of convSlots(shape)) {
    const bias = sd.get(`${slot.conv}.bias`);
    if (!bias || sd.has(`${slot.bn}.weight`)) continue;
    const c = bias.data.length;
    sd.set(`${slot.bn}.weight`, { shape: [c], data: new Float32Array(c).fill(Math.sqrt(1 + BN_EPS)) });
    sd.set(`${slot.bn}.bias`, { shape: [c], data: bias.data });
    sd.set(`${slot.bn}.running_mean`, { shape: [c], data: new Float32Array(c) });
    sd.set(`${slot.bn}.running_var`, { shape: [c], data: new Float32Array(c).fill(1) });
    sd.delete(`${slot.conv}.bias`);
    for (const p of BN_PARTS) synthesized.add(`${slot.bn}.${p}`);
  }
  const expected = insightfaceParamShapes(shape);
  const missing: string[] = [];
  const wrong: string[] = [];
  for (const [name, s] of expected) {
    const t = sd.get(name);
    if (!t) missing.push(`${name} ${shapeStr(s)}`);
    else if (t.data.length !== s.reduce((a, b) => a * b, 1) || (t.shape.length === s.length && t.shape.some((d, i) => d !== s[i]))) {
      wrong.push(`${name} has ${shapeStr(t.shape)}, expected ${shapeStr(s)}`);
    }
  }
  const unknown = [...sd].filter(([k]) => !expected.has(k)).map(([k, t]) => `${k} ${shapeStr(t.shape)}`);
  if (missing.length || unknown.length || wrong.length) {
    const parts = [
      missing.length ? `missing tensors: ${missing.join(', ')}` : '',
      unknown.length ? `unknown tensors: ${unknown.join(', ')}` : '',
      wrong.length ? `wrong shapes: ${wrong.join('; ')}` : '',
    ].filter(Boolean);
    throw new Error(`${source}: not an insightface IResNet (detected depths [${shape.depths}], widths [${shape.widths}]):\n  ${parts.join('\n  ')}`);
  }
  const ours = new Map<string, PlainTensor>();
  for (const [name, s] of expected) {
    const t = sd.get(name)!;
    if (name === 'fc.weight') ours.set(name, fcToNhwc(t, shape.widths[3]));
    else if (s.length === 4) ours.set(name, hwio({ shape: s, data: t.data }));
    else ours.set(name, { shape: s, data: t.data });
  }
  return ours;
}

/** Inverse of insightfaceToOurs for export: our parameters (HWIO, NHWC fc) -> PyTorch layout. */
export function oursToInsightface(ours: Map<string, PlainTensor>, shape: IResNetShape): StateDict {
  const sd: StateDict = new Map();
  for (const [name, s] of insightfaceParamShapes(shape)) {
    const t = ours.get(name);
    if (!t) throw new Error(`export: parameter '${name}' ${shapeStr(s)} is missing from the model`);
    if (name === 'fc.weight') {
      // ours [S*S*C, E] NHWC order -> torch [E, C*S*S] NCHW order
      const [n, e] = t.shape;
      const c = shape.widths[3];
      const ss = n / c;
      const out = new Float32Array(t.data.length);
      for (let o = 0; o < e; o++) for (let ch = 0; ch < c; ch++) for (let p = 0; p < ss; p++) out[o * n + ch * ss + p] = t.data[(p * c + ch) * e + o];
      sd.set(name, { shape: s, data: out });
    } else if (s.length === 4) {
      const [kh, kw, i, o] = t.shape;
      const out = new Float32Array(t.data.length);
      for (let a = 0; a < o; a++) for (let b = 0; b < i; b++) for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) {
        out[((a * i + b) * kh + y) * kw + x] = t.data[((y * kw + x) * i + b) * o + a];
      }
      sd.set(name, { shape: s, data: out });
    } else sd.set(name, { shape: s, data: t.data });
  }
  return sd;
}
