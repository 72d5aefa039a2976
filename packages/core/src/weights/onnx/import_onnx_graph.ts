// Reads an insightface-layout IResNet ONNX graph into a PyTorch-layout StateDict with insightface names.
// Tensors are matched by following the data flow from the graph input (stem -> blocks -> head), not by
// initializer names: released files often name folded tensors '683' or 'onnx::Conv_683'.
import { ONNX_FLOAT, tensorFloats, type OnnxModel, type OnnxNode, type OnnxTensor } from './onnx_proto.ts';
import { BN_PARTS, insightfaceParamShapes, shapeStr, type IResNetShape, type PlainTensor, type StateDict } from './insightface_layout.ts';
import { BN_EPS } from './iresnet_onnx_graph.ts';
import { foldConstants } from './fold_constants.ts';

export interface OnnxImport {
  stateDict: StateDict;
  shape: IResNetShape;
  /** true when convs carried the BN (conv bias, no BatchNormalization after them) */
  folded: boolean;
  inputName: string;
  outputName: string;
  /** the graph starts with Sub/Mul/Div that turn 0..255 pixels into (x - 127.5) / 127.5 */
  rawPixelInput: boolean;
}

const PASS_THROUGH = new Set(['Identity', 'Dropout']);

/** A tensor read from the graph, with the name of the initializer it came from. */
type Sourced = PlainTensor & { source?: string };

class GraphWalker {
  readonly consumers = new Map<string, OnnxNode[]>();
  readonly producer = new Map<string, OnnxNode>();
  readonly usedInits = new Set<string>();

  constructor(private readonly model: OnnxModel, readonly source: string) {
    for (const n of model.graph.nodes) {
      for (const i of n.inputs) if (i) this.consumers.set(i, [...(this.consumers.get(i) ?? []), n]);
      for (const o of n.outputs) this.producer.set(o, n);
    }
  }

  fail(msg: string): never {
    throw new Error(`${this.source}: ${msg}`);
  }

  /** Consumers of `v`, looking through Identity/Dropout. */
  next(v: string): OnnxNode[] {
    return (this.consumers.get(v) ?? []).flatMap((n) => (PASS_THROUGH.has(n.opType) ? this.next(n.outputs[0]) : [n]));
  }

  /** The value `v` really is, looking back through Identity/Dropout. */
  origin(v: string): string {
    const p = this.producer.get(v);
    return p && PASS_THROUGH.has(p.opType) ? this.origin(p.inputs[0]) : v;
  }

  only(v: string, op: string | string[], where: string): OnnxNode {
    const ops = Array.isArray(op) ? op : [op];
    const next = this.next(v);
    const hit = next.filter((n) => ops.includes(n.opType));
    if (hit.length !== 1) {
      this.fail(`expected one ${ops.join('/')} node after ${where} (value '${v}'), found [${next.map((n) => `${n.opType} '${n.name}'`).join(', ') || 'nothing'}]; not an insightface IResNet graph`);
    }
    return hit[0];
  }

  init(name: string | undefined, where: string): OnnxTensor {
    const t = name ? this.model.graph.initializers.get(name) : undefined;
    if (!t) this.fail(`${where}: input '${name ?? ''}' is not a constant initializer; expected stored weights`);
    this.usedInits.add(t.name);
    if (t.source) this.usedInits.add(t.source);
    return t;
  }

  /** The initializer as floats, remembering which initializer it came from (for the name check). */
  floats(name: string | undefined, where: string): Sourced {
    const t = this.init(name, where);
    return { shape: t.dims, data: tensorFloats(t), source: t.source ?? t.name };
  }
}

interface ConvBn {
  out: string;
  weight: Sourced;
  bias?: Sourced;
  bn?: Sourced[];
}

function readBn(w: GraphWalker, n: OnnxNode): Sourced[] {
  const parts = n.inputs.slice(1, 5).map((i, k) => w.floats(i, `BatchNormalization '${n.name}' ${BN_PARTS[k]}`));
  const eps = typeof n.attrs.epsilon === 'number' ? n.attrs.epsilon : 1e-5;
  // our BN uses eps 1e-5: move any other epsilon into the running variance
  if (Math.abs(eps - BN_EPS) > 1e-12) parts[3] = { ...parts[3], data: parts[3].data.map((v) => v + eps - BN_EPS) };
  return parts;
}

function readConv(w: GraphWalker, n: OnnxNode, kernel: number, stride: number, where: string): ConvBn {
  const a = n.attrs;
  const strides = (a.strides as number[] | undefined) ?? [1, 1];
  const pads = (a.pads as number[] | undefined) ?? [0, 0, 0, 0];
  const want = kernel === 3 ? 1 : 0;
  if ((a.group ?? 1) !== 1 || strides.some((s) => s !== stride) || pads.some((p) => p !== want) || (a.dilations as number[] | undefined)?.some((d) => d !== 1)) {
    w.fail(`${where}: Conv '${n.name}' has group ${a.group ?? 1}, strides [${strides}], pads [${pads}]; expected group 1, stride ${stride}, pad ${want}`);
  }
  const weight = w.floats(n.inputs[1], `${where} Conv '${n.name}' weight`);
  if (weight.shape.length !== 4 || weight.shape[2] !== kernel || weight.shape[3] !== kernel) {
    w.fail(`${where}: Conv '${n.name}' weight has shape ${shapeStr(weight.shape)}; expected [out,in,${kernel},${kernel}]`);
  }
  const bias = n.inputs[2] ? w.floats(n.inputs[2], `${where} Conv '${n.name}' bias`) : undefined;
  const after = w.next(n.outputs[0]);
  if (after.length === 1 && after[0].opType === 'BatchNormalization') return { out: after[0].outputs[0], weight, bias, bn: readBn(w, after[0]) };
  return { out: n.outputs[0], weight, bias };
}

function readPrelu(w: GraphWalker, v: string, where: string): { out: string; slope: Sourced } {
  const n = w.only(v, 'PRelu', where);
  const s = w.floats(n.inputs[1], `${where} PRelu '${n.name}' slope`);
  return { out: n.outputs[0], slope: { ...s, shape: [s.data.length] } };
}

/** Affine input normalisation in front of the stem (insightface files sometimes embed it). */
function skipInputNormalisation(w: GraphWalker, input: string): { x: string; raw: boolean } {
  let x = input;
  let a = 1;
  let b = 0;
  for (;;) {
    const next = w.next(x);
    const n = next.length === 1 ? next[0] : undefined;
    if (!n || !['Sub', 'Mul', 'Div', 'Add'].includes(n.opType)) break;
    const c = w.floats(n.inputs[1], `input normalisation ${n.opType} '${n.name}'`);
    if (c.data.length !== 1) w.fail(`input normalisation ${n.opType} '${n.name}' has a per-channel constant ${shapeStr(c.shape)}; only scalar normalisation is supported`);
    const k = c.data[0];
    if (n.opType === 'Sub') b -= k; else if (n.opType === 'Add') b += k; else if (n.opType === 'Mul') { a *= k; b *= k; } else { a /= k; b /= k; }
    x = n.outputs[0];
  }
  if (x === input) return { x, raw: false };
  if (Math.abs(a - 1 / 127.5) > 1e-6 || Math.abs(b + 1) > 1e-5) {
    w.fail(`the graph normalises its input as ${a} * x + ${b}; only (x - 127.5) / 127.5 (or no normalisation) is supported`);
  }
  return { x, raw: true };
}

/** Whether the graph takes 0..255 pixels and normalises them itself, or takes our scaled input. */
export function inputNormalisation(model: OnnxModel, source = 'ONNX model'): 'raw-pixels' | 'none' {
  const w = new GraphWalker(foldConstants(model).model, source);
  return skipInputNormalisation(w, model.graph.inputs[0]?.name ?? '').raw ? 'raw-pixels' : 'none';
}

export function importOnnxGraph(unfolded: OnnxModel, source = 'ONNX model'): OnnxImport {
  // files exported with do_constant_folding=False keep weights behind Unsqueeze/Identity/Cast/Reshape
  const model = foldConstants(unfolded).model;
  const w: GraphWalker = new GraphWalker(model, source); // explicit type: lets w.fail() (never) narrow
  const g = model.graph;
  if (g.inputs.length !== 1) w.fail(`expected one image input, found ${g.inputs.length} (${g.inputs.map((i) => i.name).join(', ')})`);
  const inputName = g.inputs[0].name;
  const { x: x0, raw } = skipInputNormalisation(w, inputName);
  const sd: StateDict = new Map();
  const origin = new Map<string, string>(); // parameter -> initializer it was read from
  const put = (name: string, t: Sourced) => {
    sd.set(name, { shape: t.shape, data: t.data });
    if (t.source) origin.set(name, t.source);
  };
  const putConv = (conv: string, bn: string, c: ConvBn) => {
    put(`${conv}.weight`, c.weight);
    if (c.bn) {
      c.bn.forEach((t, k) => put(`${bn}.${BN_PARTS[k]}`, t));
      // a conv bias in front of a BN shifts the running mean
      if (c.bias) put(`${bn}.running_mean`, { ...c.bn[2], data: c.bn[2].data.map((m, i) => m - c.bias!.data[i]) });
    } else if (c.bias) put(`${conv}.bias`, c.bias);
    else w.fail(`conv ${conv} has neither a bias nor a BatchNormalization after it`);
  };

  // stem: Conv [BN] PRelu
  const stem = readConv(w, w.only(x0, 'Conv', 'the input'), 3, 1, 'stem');
  putConv('conv1', 'bn1', stem);
  const p0 = readPrelu(w, stem.out, 'stem');
  put('prelu.weight', p0.slope);
  let x = p0.out;
  const depths: number[] = [];
  const widths: number[] = [];
  let folded = !stem.bn;

  // blocks: BN Conv [BN] PRelu Conv [BN] (+ downsample Conv [BN]) Add, until BN Flatten
  for (;;) {
    const bn1 = w.only(x, 'BatchNormalization', `stage output`);
    const after = w.next(bn1.outputs[0]);
    if (!(after.length === 1 && after[0].opType === 'Conv')) break;
    const downsample = w.next(x).some((n) => n.opType === 'Conv');
    if (downsample) { depths.push(0); widths.push(0); }
    if (depths.length === 0) w.fail(`the first residual block has no downsample branch; expected insightface's stride-2 first block`);
    const s = depths.length;
    const prefix = `layer${s}.${depths[s - 1]}`;
    depths[s - 1] += 1;
    readBn(w, bn1).forEach((t, k) => put(`${prefix}.bn1.${BN_PARTS[k]}`, t));
    const c1 = readConv(w, after[0], 3, 1, prefix);
    putConv(`${prefix}.conv1`, `${prefix}.bn2`, c1);
    const pr = readPrelu(w, c1.out, prefix);
    put(`${prefix}.prelu.weight`, pr.slope);
    const c2 = readConv(w, w.only(pr.out, 'Conv', `${prefix} PReLU`), 3, downsample ? 2 : 1, prefix);
    putConv(`${prefix}.conv2`, `${prefix}.bn3`, c2);
    folded ||= !c1.bn || !c2.bn;
    const add = w.only(c2.out, 'Add', `${prefix} conv2`);
    const other = w.origin(add.inputs.find((i) => w.origin(i) !== w.origin(c2.out)) ?? '');
    if (downsample) {
      const ds = w.next(x).find((n) => n.opType === 'Conv')!;
      const dc = readConv(w, ds, 1, 2, `${prefix} downsample`);
      if (dc.out !== other) w.fail(`${prefix}: the residual Add '${add.name}' does not add the downsample branch of the block input`);
      putConv(`${prefix}.downsample.0`, `${prefix}.downsample.1`, dc);
    } else if (other !== w.origin(x)) {
      w.fail(`${prefix}: the residual Add '${add.name}' does not add the block input '${x}'`);
    }
    widths[s - 1] = c2.weight.shape[0];
    x = add.outputs[0];
  }
  if (depths.length !== 4) w.fail(`found ${depths.length} stages (blocks per stage: [${depths}]); an IResNet has 4`);

  // head: BN Flatten|Reshape Gemm|MatMul(+Add) [BN]
  const bn2 = w.only(x, 'BatchNormalization', 'layer4');
  readBn(w, bn2).forEach((t, k) => put(`bn2.${BN_PARTS[k]}`, t));
  const flat = w.only(bn2.outputs[0], ['Flatten', 'Reshape'], 'bn2');
  if (flat.opType === 'Reshape') w.usedInits.add(flat.inputs[1]);
  let fc = w.only(flat.outputs[0], ['Gemm', 'MatMul'], 'the flatten');
  let weight: Sourced = w.floats(fc.inputs[1], `fc '${fc.name}' weight`);
  let bias: Sourced;
  const transB = fc.opType === 'Gemm' && fc.attrs.transB === 1;
  if (!transB) weight = { ...transpose2d(weight), source: weight.source };
  if (fc.opType === 'Gemm') {
    const alpha = (fc.attrs.alpha as number | undefined) ?? 1;
    const beta = (fc.attrs.beta as number | undefined) ?? 1;
    weight.data = weight.data.map((v) => v * alpha);
    bias = fc.inputs[2] ? w.floats(fc.inputs[2], `fc '${fc.name}' bias`) : { shape: [weight.shape[0]], data: new Float32Array(weight.shape[0]) };
    bias.data = bias.data.map((v) => v * beta);
  } else {
    fc = w.only(fc.outputs[0], 'Add', 'the fc MatMul');
    bias = w.floats(fc.inputs.find((i) => model.graph.initializers.has(i)), `fc bias Add '${fc.name}'`);
  }
  put('fc.weight', weight);
  put('fc.bias', { ...bias, shape: [weight.shape[0]] });
  let out = fc.outputs[0];
  const feat = w.next(out).filter((n) => n.opType === 'BatchNormalization');
  const e = weight.shape[0];
  if (feat.length === 1) {
    readBn(w, feat[0]).forEach((t, k) => put(`features.${BN_PARTS[k]}`, t));
    out = feat[0].outputs[0];
  } else {
    // no features BN: an identity one (gamma sqrt(1+eps), var 1) keeps the parameter set uniform
    put('features.weight', { shape: [e], data: new Float32Array(e).fill(Math.sqrt(1 + BN_EPS)) });
    put('features.bias', { shape: [e], data: new Float32Array(e) });
    put('features.running_mean', { shape: [e], data: new Float32Array(e) });
    put('features.running_var', { shape: [e], data: new Float32Array(e).fill(1) });
  }
  const outputName = g.outputs.find((o) => w.origin(o.name) === w.origin(out) || o.name === out)?.name;
  if (!outputName) w.fail(`the embedding value '${out}' is not a graph output (outputs: ${g.outputs.map((o) => o.name).join(', ')})`);

  const c4 = widths[3];
  const spatial = Math.round(Math.sqrt(weight.shape[1] / c4));
  if (spatial * spatial * c4 !== weight.shape[1]) w.fail(`fc weight ${shapeStr(weight.shape)} is not [E, ${c4}*s*s]; cannot infer the input size`);
  const shape: IResNetShape = { depths, widths, stemWidth: stem.weight.shape[0], inputSize: spatial * 16, embeddingSize: e };

  // int64 constants feed shape arithmetic (Shape/Gather/Concat before Reshape); only float tensors are weights
  const unused = [...g.initializers.values()].filter((t) => !w.usedInits.has(t.name) && t.dataType === ONNX_FLOAT);
  if (unused.length > 0) {
    w.fail(`unknown tensors not part of the IResNet structure: ${unused.map((t) => `${t.name} ${shapeStr(t.dims)}`).join(', ')}`);
  }
  checkNames(w, origin, shape);
  return { stateDict: sd, shape, folded, inputName, outputName, rawPixelInput: raw };
}

function transpose2d(t: PlainTensor): PlainTensor {
  const [r, c] = t.shape;
  const out = new Float32Array(t.data.length);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = t.data[i * c + j];
  return { shape: [c, r], data: out };
}

/** Where initializers carry insightface names, they must be the names the structure gives them. */
function checkNames(w: GraphWalker, origin: Map<string, string>, shape: IResNetShape): void {
  const expected = insightfaceParamShapes(shape);
  for (const [param, source] of origin) {
    if (expected.has(source) && source !== param) {
      w.fail(`initializer '${source}' sits where the graph structure expects '${param}'; the file's names disagree with its structure`);
    }
  }
}
