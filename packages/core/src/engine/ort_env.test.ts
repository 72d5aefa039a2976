// No telemetry: a process that opens an onnxruntime session through the engine leaves nothing under
// ~/.cache/Microsoft/DeveloperTools/.onnxruntime (queued events, device id) and no $TMPDIR/mat-debug-<pid>.log.
// Each probe is a fresh process (the library reads the variable once, when it initialises) with its
// own HOME and TMPDIR; the control run with ORT_DISABLE_TELEMETRY=0 (the user's opt-in) shows the
// files this guards against are real.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { OnnxGraphBuilder } from '../weights/onnx/onnx_graph_builder.ts';
import { encodeOnnxModel } from '../weights/onnx/onnx_proto.ts';

const SESSION = path.join(import.meta.dirname, 'ort_session.ts');
/** A one-Relu model, built here so the probe process loads only the engine's onnxruntime module. */
function relu(file: string): string {
  const b = new OnnxGraphBuilder();
  b.output(b.op1('Relu', [b.input('x', [1, 4])], {}), 'y', [1, 4]);
  writeFileSync(file, encodeOnnxModel(b.toModel({ graphName: 't', opset: 13 })));
  return file;
}
const script = (model: string) => `
const { loadOrt } = await import(${JSON.stringify(SESSION)});
const ort = await loadOrt();
const s = await ort.InferenceSession.create(${JSON.stringify(model)});
await s.run({ x: new ort.Tensor('float32', new Float32Array(4), [1, 4]) });
await s.release();
process.stdout.write(String(process.pid));
`;

/** Files the probe process left in its HOME and TMPDIR (tsx's own cache excluded). */
function probe(telemetry: string | undefined): { pid: string; left: string[] } {
  const home = mkdtempSync(path.join(tmpdir(), 'ssmb-ort-home-'));
  try {
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: home, TMPDIR: home };
    if (telemetry !== undefined) env.ORT_DISABLE_TELEMETRY = telemetry;
    const model = relu(path.join(home, 'relu.onnx'));
    const pid = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script(model)], { env, cwd: import.meta.dirname, encoding: 'utf8' });
    const left = readdirSync(home, { recursive: true, encoding: 'utf8' }).filter((f) => !f.startsWith('tsx-') && f !== 'relu.onnx');
    return { pid, left };
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

describe('onnxruntime telemetry', () => {
  it('is off in every process that loads onnxruntime through the engine: no event cache, no device id, no mat-debug log', () => {
    const off = probe(undefined);
    expect(off.left).toEqual([]);
    const optedIn = probe('0');
    expect(optedIn.left).toEqual(expect.arrayContaining([path.join('.cache', 'Microsoft', 'DeveloperTools', '.onnxruntime', 'onnxruntime.db'), `mat-debug-${optedIn.pid}.log`]));
  });
});
