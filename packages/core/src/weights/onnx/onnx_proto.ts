// ONNX model files read and written with protobufjs from the shipped onnx.proto subset (no hand-written
// wire parser). Decoded messages are turned into the small plain types below (int64 -> number).
import protobuf from 'protobufjs';
import path from 'node:path';

export const ONNX_FLOAT = 1;
export const ONNX_UINT8 = 2;
export const ONNX_INT8 = 3;
export const ONNX_INT32 = 6;
export const ONNX_INT64 = 7;
const ONNX_DOUBLE = 11;
const ATTR = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7 } as const;
// JS numbers do not say int or float: these attributes of the ops we write are floats in the ONNX spec
// (BatchNormalization epsilon/momentum, Gemm alpha/beta); every other number is written as an int.
const FLOAT_ATTRS = new Set(['epsilon', 'momentum', 'alpha', 'beta']);

export interface OnnxTensor {
  name: string;
  dims: number[];
  dataType: number;
  /** float32 and int tensors are both returned as plain numbers here; float data keeps float32 precision
   *  (8-bit tensors are written by the int8 quantizer, never decoded) */
  data: Float32Array | Int32Array | BigInt64Array | Int8Array | Uint8Array;
  /** set by constant folding: the initializer this tensor was computed from (e.g. 'prelu.weight') */
  source?: string;
}
export type OnnxAttrValue = number | number[] | string | OnnxTensor;
export interface OnnxNode {
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attrs: Record<string, OnnxAttrValue>;
}
export interface OnnxValueInfo {
  name: string;
  elemType: number;
  /** number for a fixed dimension, string for a symbolic one (e.g. 'batch'), null when absent */
  shape: (number | string | null)[] | null;
}
export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  initializers: Map<string, OnnxTensor>;
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
}
export interface OnnxModel {
  irVersion: number;
  opset: { domain: string; version: number }[];
  producerName: string;
  producerVersion: string;
  metadata: Record<string, string>;
  graph: OnnxGraph;
}

let modelType: protobuf.Type | null = null;
function schema(): protobuf.Type {
  modelType ??= protobuf.loadSync(path.join(import.meta.dirname, 'onnx.proto')).lookupType('onnx.ModelProto');
  return modelType;
}

// ---- decoding --------------------------------------------------------------------------------------

type Obj = Record<string, any>; // protobufjs toObject output

function copyBytes(raw: Uint8Array): ArrayBuffer {
  // raw_data is a view into the file buffer and may be unaligned for typed arrays: copy it.
  return new Uint8Array(raw).buffer; // copies (Buffer.slice would only make another view)
}

function decodeTensor(t: Obj, where: string): OnnxTensor {
  const dims = (t.dims as number[]).map(Number);
  const size = dims.reduce((a, b) => a * b, 1);
  const name = t.name ?? '';
  const raw: Uint8Array | undefined = t.rawData && t.rawData.length > 0 ? t.rawData : undefined;
  if (t.dataLocation === 1) throw new Error(`${where}: tensor '${name}' keeps its data in an external file; re-save the ONNX model with all tensors embedded (onnx.save(model, path, save_as_external_data=False))`);
  let data: Float32Array | Int32Array | BigInt64Array;
  switch (t.dataType) {
    case ONNX_FLOAT:
      data = raw ? new Float32Array(copyBytes(raw)) : Float32Array.from(t.floatData as number[]);
      break;
    case ONNX_DOUBLE:
      data = Float32Array.from(raw ? new Float64Array(copyBytes(raw)) : (t.doubleData as number[]));
      break;
    case ONNX_INT32:
      data = raw ? new Int32Array(copyBytes(raw)) : Int32Array.from(t.int32Data as number[]);
      break;
    case ONNX_INT64:
      data = raw ? new BigInt64Array(copyBytes(raw)) : BigInt64Array.from((t.int64Data as number[]).map((v) => BigInt(v)));
      break;
    default:
      throw new Error(`${where}: tensor '${name}' has ONNX data type ${t.dataType}; expected FLOAT (1), DOUBLE (11), INT32 (6) or INT64 (7)`);
  }
  if (data.length !== size) throw new Error(`${where}: tensor '${name}' has ${data.length} values for dims [${dims}] (expected ${size})`);
  return { name, dims, dataType: t.dataType === ONNX_DOUBLE ? ONNX_FLOAT : t.dataType, data };
}

function decodeAttr(a: Obj, where: string): OnnxAttrValue {
  switch (a.type) {
    case ATTR.FLOAT: return a.f;
    case ATTR.INT: return Number(a.i);
    case ATTR.STRING: return Buffer.from(a.s).toString('utf8');
    case ATTR.TENSOR: return decodeTensor(a.t, where);
    case ATTR.FLOATS: return a.floats as number[];
    case ATTR.INTS: return (a.ints as number[]).map(Number);
    default: return `<unsupported attribute type ${a.type}>`;
  }
}

function decodeValueInfo(v: Obj): OnnxValueInfo {
  const tt = v.type?.tensorType;
  const dims = tt?.shape?.dim as Obj[] | undefined;
  return {
    name: v.name,
    elemType: tt?.elemType ?? 0,
    shape: dims ? dims.map((d) => (d.dimValue !== undefined ? Number(d.dimValue) : (d.dimParam ?? null))) : null,
  };
}

// ModelProto's top-level fields: number -> [name, wire type] (0 varint, 2 length-delimited).
const MODEL_FIELDS: Record<number, [string, number]> = {
  1: ['ir_version', 0], 2: ['producer_name', 2], 3: ['producer_version', 2], 4: ['domain', 2], 5: ['model_version', 0],
  6: ['doc_string', 2], 7: ['graph', 2], 8: ['opset_import', 2], 14: ['metadata_props', 2], 20: ['training_info', 2], 25: ['functions', 2],
};

/**
 * Whether bytes that do not decode (or decode without a graph) are an ONNX file that stops early: walks
 * the top-level fields with protobufjs' reader; when every field so far is a ModelProto field and one
 * declares more bytes than the file has left, says so with the sizes. Null when the bytes do not look
 * like a ModelProto at all, or are complete.
 */
export function describeTruncation(bytes: Uint8Array): string | null {
  const r = protobuf.Reader.create(bytes);
  let fields = 0;
  try {
    while (r.pos < r.len) {
      const at = r.pos;
      const tag = r.uint32();
      const known = MODEL_FIELDS[tag >>> 3];
      if (!known || known[1] !== (tag & 7)) return null; // not a ModelProto field: not (just) truncated
      fields++;
      if (known[1] === 2) {
        const len = r.uint32();
        if (r.pos + len > r.len) {
          return `the file is ${r.len} bytes, but its '${known[0]}' field at byte ${at} declares ${len} bytes and only ${r.len - r.pos} follow ` +
            `(${r.pos + len - r.len} bytes missing)`;
        }
        r.skip(len);
      } else r.skipType(0);
    }
  } catch {
    return fields > 0 ? `the file is ${bytes.length} bytes and ends in the middle of its ModelProto fields` : null;
  }
  return null;
}

/** Parses an ONNX ModelProto. `source` names the file in error messages. */
export function decodeOnnxModel(bytes: Uint8Array, source = 'ONNX model'): OnnxModel {
  let msg: protobuf.Message;
  try {
    msg = schema().decode(bytes);
  } catch (err) {
    const truncated = describeTruncation(bytes);
    if (truncated) {
      throw new Error(`${source}: the ONNX file looks truncated: ${truncated}; copy or download it again (or re-export it)`);
    }
    throw new Error(`${source}: not a readable ONNX ModelProto (${(err as Error).message})`);
  }
  const m = schema().toObject(msg, { longs: Number, arrays: true, objects: true }) as Obj;
  const g = m.graph as Obj | undefined;
  if (!g || (g.node as Obj[]).length === 0) {
    const truncated = describeTruncation(bytes);
    if (truncated) throw new Error(`${source}: the ONNX file looks truncated: ${truncated}; copy or download it again (or re-export it)`);
    throw new Error(`${source}: ONNX model has no graph nodes; expected an exported network`);
  }
  const initializers = new Map<string, OnnxTensor>();
  for (const t of g.initializer as Obj[]) initializers.set(t.name, decodeTensor(t, source));
  const nodes: OnnxNode[] = (g.node as Obj[]).map((n, i) => {
    const attrs: Record<string, OnnxAttrValue> = {};
    for (const a of n.attribute as Obj[]) attrs[a.name] = decodeAttr(a, `${source}: node ${n.name || i} attribute ${a.name}`);
    return { name: n.name ?? '', opType: n.opType, domain: n.domain ?? '', inputs: n.input, outputs: n.output, attrs };
  });
  // Constant nodes hold parameters too (some exporters emit them instead of initializers).
  for (const n of nodes) {
    if (n.opType === 'Constant' && n.attrs.value && typeof n.attrs.value === 'object' && !Array.isArray(n.attrs.value)) {
      initializers.set(n.outputs[0], { ...(n.attrs.value as OnnxTensor), name: n.outputs[0] });
    }
  }
  return {
    irVersion: Number(m.irVersion ?? 0),
    opset: (m.opsetImport as Obj[]).map((o) => ({ domain: o.domain ?? '', version: Number(o.version) })),
    producerName: m.producerName ?? '',
    producerVersion: m.producerVersion ?? '',
    metadata: Object.fromEntries((m.metadataProps as Obj[]).map((p) => [p.key, p.value])),
    graph: {
      name: g.name ?? '',
      nodes: nodes.filter((n) => n.opType !== 'Constant' || !initializers.has(n.outputs[0])),
      initializers,
      inputs: (g.input as Obj[]).map(decodeValueInfo).filter((v) => !initializers.has(v.name)),
      outputs: (g.output as Obj[]).map(decodeValueInfo),
    },
  };
}

// ---- encoding --------------------------------------------------------------------------------------

function encodeTensor(t: OnnxTensor): Obj {
  const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  return { name: t.name, dims: t.dims, dataType: t.dataType, rawData: bytes };
}

function encodeAttr(name: string, v: OnnxAttrValue): Obj {
  if (typeof v === 'string') return { name, type: ATTR.STRING, s: Buffer.from(v, 'utf8') };
  if (Array.isArray(v)) {
    return FLOAT_ATTRS.has(name) ? { name, type: ATTR.FLOATS, floats: v } : { name, type: ATTR.INTS, ints: v };
  }
  if (typeof v === 'number') return FLOAT_ATTRS.has(name) ? { name, type: ATTR.FLOAT, f: v } : { name, type: ATTR.INT, i: v };
  return { name, type: ATTR.TENSOR, t: encodeTensor(v) };
}

function encodeValueInfo(v: OnnxValueInfo): Obj {
  const dim = (v.shape ?? []).map((d) => (typeof d === 'number' ? { dimValue: d } : typeof d === 'string' ? { dimParam: d } : {}));
  return { name: v.name, type: { tensorType: { elemType: v.elemType, shape: { dim } } } };
}

/** Serialises a model to ONNX ModelProto bytes. */
export function encodeOnnxModel(model: OnnxModel): Uint8Array {
  const g = model.graph;
  const obj = {
    irVersion: model.irVersion,
    opsetImport: model.opset,
    producerName: model.producerName,
    producerVersion: model.producerVersion,
    metadataProps: Object.entries(model.metadata).map(([key, value]) => ({ key, value })),
    graph: {
      name: g.name,
      node: g.nodes.map((n) => ({
        name: n.name, opType: n.opType, domain: n.domain, input: n.inputs, output: n.outputs,
        attribute: Object.entries(n.attrs).map(([k, v]) => encodeAttr(k, v)),
      })),
      initializer: [...g.initializers.values()].map(encodeTensor),
      input: g.inputs.map(encodeValueInfo),
      output: g.outputs.map(encodeValueInfo),
    },
  };
  const type = schema();
  return type.encode(type.fromObject(obj)).finish();
}

/** Float view of a decoded tensor (int tensors converted), for parameters. */
export function tensorFloats(t: OnnxTensor): Float32Array {
  if (t.data instanceof Float32Array) return t.data;
  return Float32Array.from(t.data as ArrayLike<number | bigint>, (v) => Number(v));
}
