// Which int8 conv form onnxruntime runs fastest here (a script, not a test): the same 3x3 conv as fp32
// Conv, as QLinearConv (uint8 x, int8 per-channel w, uint8 y), as QDQ (QuantizeLinear/DequantizeLinear
// around a float Conv, left to onnxruntime's QDQ fusion) and as ConvInteger (int32 out, rescaled in float).
// Each form includes quantizing its float input and dequantizing its output, as in the engine's graphs.
//   npx tsx bench/int8_forms_bench.ts     (BENCH_REPS fastest-of, default 10; threads = all cores)
import { OnnxGraphBuilder } from '../src/weights/onnx/onnx_graph_builder.ts';
import { encodeOnnxModel, ONNX_INT32, ONNX_INT8, ONNX_UINT8 } from '../src/weights/onnx/onnx_proto.ts';
import { activationQuant, quantizeBias, quantizeWeightPerChannel } from '../src/engine/int8/quant_params.ts';
import { createSession, loadOrt, resolveThreads } from '../src/engine/ort_session.ts';

const REPS = Number(process.env.BENCH_REPS ?? 10);
const B = 16;
const CASES: [string, number, number][] = [['64 ch, 56x56', 64, 56], ['128 ch, 28x28', 128, 28], ['256 ch, 14x14', 256, 14]];
const FORMS = ['fp32', 'qlinear', 'qdq', 'convinteger', 'qlinear-u8-io'] as const;

function rand(n: number, s: number, seed: number): Float32Array {
  let t = seed >>> 0;
  return Float32Array.from({ length: n }, () => { t = (t * 1664525 + 1013904223) >>> 0; return ((t / 2 ** 32) * 2 - 1) * s; });
}

function graph(form: (typeof FORMS)[number], C: number, S: number): Uint8Array {
  const b = new OnnxGraphBuilder();
  const raw = form === 'qlinear-u8-io'; // the kernel alone: uint8 in and out, no quantize/dequantize pass
  const x = b.input('x', [B, C, S, S], raw ? ONNX_UINT8 : 1);
  const w = rand(C * C * 9, 0.05, 1), bias = rand(C, 0.1, 2);
  const attrs = { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [1, 1], dilations: [1, 1], group: 1 };
  const xq = activationQuant(-1, 1), yq = activationQuant(-3, 3);
  const wq = quantizeWeightPerChannel(w, C);
  const sc = (v: number) => b.constant('s', [], Float32Array.of(v));
  const zp = (v: number) => b.typed('zp', [], ONNX_UINT8, Uint8Array.of(v));
  const wInt = () => b.typed('wq', [C, C, 3, 3], ONNX_INT8, wq.q);
  const wScale = () => b.constant('ws', [C], wq.scale);
  const wZero = () => b.typed('wz', [C], ONNX_INT8, new Int8Array(C));
  const qx = () => b.op1('QuantizeLinear', [x, sc(xq.scale), zp(xq.zeroPoint)]); // [B,C,S,S] uint8
  let y: string;
  if (form === 'fp32') y = b.op1('Conv', [x, b.weight('w', [C, C, 3, 3], w), b.weight('b', [C], bias)], attrs);
  else if (form === 'qlinear' || raw) {
    const bq = b.typed('bq', [C], ONNX_INT32, quantizeBias(bias, xq.scale, wq.scale));
    const yi = b.op1('QLinearConv', [raw ? x : qx(), sc(xq.scale), zp(xq.zeroPoint), wInt(), wScale(), wZero(), sc(yq.scale), zp(yq.zeroPoint), bq], attrs);
    y = raw ? yi : b.op1('DequantizeLinear', [yi, sc(yq.scale), zp(yq.zeroPoint)]);
  } else if (form === 'qdq') {
    const xd = b.op1('DequantizeLinear', [qx(), sc(xq.scale), zp(xq.zeroPoint)]);
    const wd = b.op1('DequantizeLinear', [wInt(), wScale(), wZero()], { axis: 0 });
    const bs = Float32Array.from(wq.scale, (s) => s * Math.fround(xq.scale));
    const bd = b.op1('DequantizeLinear', [b.typed('bq', [C], ONNX_INT32, quantizeBias(bias, xq.scale, wq.scale)), b.constant('bs', [C], bs), b.typed('bz', [C], ONNX_INT32, new Int32Array(C))], { axis: 0 });
    const yf = b.op1('Conv', [xd, wd, bd], attrs);
    y = b.op1('DequantizeLinear', [b.op1('QuantizeLinear', [yf, sc(yq.scale), zp(yq.zeroPoint)]), sc(yq.scale), zp(yq.zeroPoint)]);
  } else {
    const yi = b.op1('ConvInteger', [qx(), wInt(), zp(xq.zeroPoint)], attrs); // [B,C,S,S] int32
    const scale = b.constant('rescale', [C, 1, 1], Float32Array.from(wq.scale, (s) => s * Math.fround(xq.scale)));
    y = b.op1('Add', [b.op1('Mul', [b.op1('Cast', [yi], { to: 1 }), scale]), b.weight('b', [C, 1, 1], bias)]);
  }
  b.output(y, 'y', [B, C, S, S], raw ? ONNX_UINT8 : 1);
  return encodeOnnxModel(b.toModel({ graphName: `conv-${form}`, opset: 13 }));
}

async function main(): Promise<void> {
  const ort = await loadOrt();
  const threads = resolveThreads(0);
  console.log(`3x3 conv, batch ${B}, ${threads} threads, fastest of ${REPS} (ms; speed-up vs fp32)`);
  console.log(['conv', ...FORMS].map((h, i) => (i ? h.padStart(18) : h.padEnd(16))).join(''));
  for (const [label, C, S] of CASES) {
    const xf = new ort.Tensor('float32', rand(B * C * S * S, 1, 3), [B, C, S, S]);
    const xu = new ort.Tensor('uint8', Uint8Array.from(rand(B * C * S * S, 127, 3), (v) => 128 + v), [B, C, S, S]);
    const ms: number[] = [];
    for (const form of FORMS) {
      const x = form === 'qlinear-u8-io' ? xu : xf;
      const s = await createSession(ort, graph(form, C, S), { provider: 'cpu', threads }, `${form} conv`);
      await s.run({ x });
      let best = Infinity;
      for (let r = 0; r < REPS; r++) { const t0 = performance.now(); await s.run({ x }); best = Math.min(best, performance.now() - t0); }
      ms.push(best);
      await s.release();
    }
    console.log([label.padEnd(16), ...ms.map((m) => `${m.toFixed(1)} (${(ms[0] / m).toFixed(2)}x)`.padStart(18))].join(''));
  }
}

main().catch((err) => { console.error(err); process.exit(1); });
