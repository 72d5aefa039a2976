// A small ONNX graph writer: initializers, nodes with fresh output names, graph inputs/outputs.
import { ONNX_FLOAT, ONNX_INT64, type OnnxAttrValue, type OnnxModel, type OnnxNode, type OnnxTensor, type OnnxValueInfo } from './onnx_proto.ts';

export interface GraphBuilderOptions {
  /** Name initializers and values with bare numbers ('683'), as PyTorch's exporter does for many tensors. */
  anonymous?: boolean;
}

export class OnnxGraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers = new Map<string, OnnxTensor>();
  readonly inputs: OnnxValueInfo[] = [];
  readonly outputs: OnnxValueInfo[] = [];
  private counter = 0;

  constructor(private readonly opts: GraphBuilderOptions = {}) {}

  /** A value name not used yet; `hint` is used unless the builder is anonymous. */
  fresh(hint: string): string {
    this.counter += 1;
    return this.opts.anonymous ? String(100 + this.counter) : `${hint}_${this.counter}`;
  }

  /** Adds a float initializer; `name` is kept unless anonymous (then a number). Returns its name. */
  weight(name: string, dims: number[], data: Float32Array, keepName = false): string {
    const size = dims.reduce((a, b) => a * b, 1);
    if (data.length !== size) throw new Error(`initializer ${name}: ${data.length} values for dims [${dims}] (expected ${size})`);
    const n = this.opts.anonymous && !keepName ? this.fresh(name) : name;
    if (this.initializers.has(n)) throw new Error(`initializer ${n} added twice`);
    this.initializers.set(n, { name: n, dims, dataType: ONNX_FLOAT, data });
    return n;
  }

  /** Adds a float constant under a fresh name (gradient graphs: scales, masks, transformed weights). */
  constant(hint: string, dims: number[], data: Float32Array): string {
    const size = dims.reduce((a, b) => a * b, 1);
    if (data.length !== size) throw new Error(`constant ${hint}: ${data.length} values for dims [${dims}] (expected ${size})`);
    const n = this.fresh(hint);
    this.initializers.set(n, { name: n, dims, dataType: ONNX_FLOAT, data });
    return n;
  }

  /** A float scalar constant (rank 0). */
  scalar(hint: string, value: number): string {
    return this.constant(hint, [], Float32Array.of(value));
  }

  /** Adds an int64 initializer (shapes, axes, indices). */
  int64(hint: string, values: number[], dims: number[] = [values.length]): string {
    const n = this.fresh(hint);
    this.initializers.set(n, { name: n, dims, dataType: ONNX_INT64, data: BigInt64Array.from(values.map(BigInt)) });
    return n;
  }

  /** Adds an initializer of any element type (int8/uint8 quantized weights, int32 biases) under a fresh name. */
  typed(hint: string, dims: number[], dataType: number, data: OnnxTensor['data']): string {
    const size = dims.reduce((a, b) => a * b, 1);
    if (data.length !== size) throw new Error(`initializer ${hint}: ${data.length} values for dims [${dims}] (expected ${size})`);
    const n = this.fresh(hint);
    this.initializers.set(n, { name: n, dims, dataType, data });
    return n;
  }

  /** Appends a node and returns its output names. */
  op(opType: string, inputs: string[], attrs: Record<string, OnnxAttrValue> = {}, nOutputs = 1): string[] {
    const outputs = Array.from({ length: nOutputs }, () => this.fresh(opType.toLowerCase()));
    this.nodes.push({ name: `${opType}_${this.nodes.length}`, opType, domain: '', inputs, outputs, attrs });
    return outputs;
  }

  /** Appends a single-output node and returns its output name. */
  op1(opType: string, inputs: string[], attrs: Record<string, OnnxAttrValue> = {}): string {
    return this.op(opType, inputs, attrs, 1)[0];
  }

  input(name: string, shape: (number | string)[], elemType = ONNX_FLOAT): string {
    this.inputs.push({ name, elemType, shape });
    return name;
  }

  /** Declares `value` as a graph output under `name` (an Identity node renames it). */
  output(value: string, name: string, shape: (number | string)[], elemType = ONNX_FLOAT): void {
    this.nodes.push({ name: `output_${name}`, opType: 'Identity', domain: '', inputs: [value], outputs: [name], attrs: {} });
    this.outputs.push({ name, elemType, shape });
  }

  toModel(meta: { graphName: string; metadata?: Record<string, string>; opset?: number }): OnnxModel {
    return {
      irVersion: 7,
      opset: [{ domain: '', version: meta.opset ?? 13 }],
      producerName: 'ssmb-hfr',
      producerVersion: '0.1.0',
      metadata: meta.metadata ?? {},
      graph: { name: meta.graphName, nodes: this.nodes, initializers: this.initializers, inputs: this.inputs, outputs: this.outputs },
    };
  }
}
