// Which execution provider onnxruntime assigns each node of a graph to. A GPU provider hands the nodes it
// has no kernel for to the CPU provider, silently, and each such node costs a copy from the device and one
// back per run. onnxruntime says where every node went only in its verbose session log, which its native
// logger writes to the process's stderr: so the session is opened in a child process (the same
// onnxruntime-node, the same provider options) and its log read back.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { nodeCommand } from './gpu.ts';

export interface Placement {
  /** nodes per provider name as onnxruntime writes it (CPUExecutionProvider, WebGpuExecutionProvider, ...) */
  byProvider: Record<string, number>;
  /** the nodes not on `provider`: op type and node name */
  fallback: { opType: string; node: string }[];
}

/** Op type -> count of the nodes that fell back. */
export function fallbackOps(p: Placement): Record<string, number> {
  const ops: Record<string, number> = {};
  for (const f of p.fallback) ops[f.opType] = (ops[f.opType] ?? 0) + 1;
  return ops;
}

/** onnxruntime's provider names in its logs for our short names. */
const EP_NAMES: Record<string, string> = { cpu: 'CPUExecutionProvider', webgpu: 'WebGpuExecutionProvider', cuda: 'CUDAExecutionProvider', tensorrt: 'TensorrtExecutionProvider' };

/** Parses onnxruntime's verbose "Node placements" section (VerifyEachNodeIsAssignedToAnEp). */
export function parsePlacementLog(log: string, provider: string): Placement {
  const ep = EP_NAMES[provider] ?? provider;
  const byProvider: Record<string, number> = {};
  const fallback: Placement['fallback'] = [];
  let current = '';
  for (const line of log.split('\n')) {
    const head = /(?:All nodes|Node\(s\)) placed on \[(\w+)\]\. Number of nodes: (\d+)/.exec(line);
    if (head) {
      current = head[1];
      byProvider[current] = Number(head[2]);
      // "All nodes placed on [X]" lists no nodes: when X is not the provider asked for, each is a fallback
      if (line.includes('All nodes') && current !== ep) for (let i = 0; i < byProvider[current]; i++) fallback.push({ opType: '(every node)', node: '' });
      continue;
    }
    const node = /VerifyEachNodeIsAssignedToAnEp\]\s+(\w+) \((.*)\)\s*$/.exec(line);
    if (node && current && current !== ep) fallback.push({ opType: node[1], node: node[2] });
  }
  if (Object.keys(byProvider).length === 0) throw new Error('onnxruntime wrote no node placements in its verbose log (a minimal build, or the session did not open)');
  return { byProvider, fallback };
}

/** Where onnxruntime places each node of `bytes` on `provider` (with its `providerOptions`). */
export async function nodePlacement(bytes: Uint8Array, provider: string, providerOptions: Record<string, unknown> = {}, timeoutMs = 300_000): Promise<Placement> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ssmb-placement-'));
  const file = path.join(dir, 'graph.onnx');
  writeFileSync(file, bytes);
  const ortPath = createRequire(import.meta.url).resolve('onnxruntime-node');
  const ep = { name: provider, ...providerOptions };
  const code = `const ort = require(${JSON.stringify(ortPath)});
const fs = require('fs');
ort.InferenceSession.create(fs.readFileSync(${JSON.stringify(file)}), { executionProviders: [${JSON.stringify(ep)}], graphOptimizationLevel: 'all', logSeverityLevel: 0, logVerbosityLevel: 0 })
  .then(() => { fs.writeSync(2, 'SESSION OPENED\\n'); process.exit(0); }, (e) => { fs.writeSync(2, 'SESSION FAILED ' + String(e && e.message || e).split('\\n')[0] + '\\n'); process.exit(3); });`;
  try {
    const { log, code: exit, signal } = await new Promise<{ log: string; code: number | null; signal: string | null }>((resolve) => {
      const child = spawn(...nodeCommand(['-e', code]), { env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR || os.tmpdir() }, stdio: ['ignore', 'pipe', 'pipe'] });
      const chunks: Buffer[] = [];
      child.stdout.on('data', (d: Buffer) => chunks.push(d));
      child.stderr.on('data', (d: Buffer) => chunks.push(d));
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.on('close', (c, sig) => {
        clearTimeout(timer);
        // only the placement section is kept: the verbose log of a large graph runs to megabytes
        const lines = Buffer.concat(chunks).toString().split('\n').filter((l) => /VerifyEachNodeIsAssignedToAnEp|SESSION (FAILED|OPENED)/.test(l));
        resolve({ log: lines.join('\n'), code: c, signal: sig });
      });
    });
    const failed = /SESSION FAILED (.*)/.exec(log)?.[1];
    // the placement is known once the session opened, whatever the child's exit (Dawn's teardown has
    // been seen to end a child by a signal on a loaded machine)
    if (failed || !log.includes('SESSION OPENED')) {
      throw new Error(`node placement on '${provider}': the session did not open (${failed ?? (signal ? `the child ended by ${signal}` : `exit code ${exit}`)})`);
    }
    return parsePlacementLog(log, provider);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
