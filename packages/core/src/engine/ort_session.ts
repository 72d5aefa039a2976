// onnxruntime-node for the engine: loaded on first use (so a broken install is a reason to fall back to
// tfjs, not a crash at import), execution providers checked before a session is made, intra-op threads
// defaulting to every core. onnxruntime-node ships the CPU provider in its npm package; CUDA/TensorRT
// providers are extra shared libraries its install script fetches (`--onnxruntime-node-install=cuda12`),
// so "listed" and "installed" are different questions, both answered here.
import './ort_env.ts'; // before onnxruntime-node: telemetry off
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import type * as OrtModule from 'onnxruntime-node';

export type Ort = typeof OrtModule;
export type OrtSession = OrtModule.InferenceSession;
export type OrtTensor = OrtModule.Tensor;

export interface OrtLoadOptions {
  /** loads the onnxruntime-node module (tests replace it to simulate a broken install) */
  importModule?: () => Promise<unknown>;
}

let loaded: Promise<Ort> | null = null;

/** The onnxruntime-node module; throws naming the package and the reason when it cannot load. */
export async function loadOrt(opts: OrtLoadOptions = {}): Promise<Ort> {
  const load = async () => {
    let mod: unknown;
    try {
      mod = await (opts.importModule ?? (() => import('onnxruntime-node')))();
    } catch (err) {
      throw new Error(`onnxruntime-node could not be loaded: ${String((err as Error)?.message ?? err).split('\n')[0]}`);
    }
    const m = ((mod as { default?: unknown }).default ?? mod) as Ort;
    if (typeof m?.InferenceSession?.create !== 'function') throw new Error('onnxruntime-node could not be loaded: the module has no InferenceSession');
    return m;
  };
  if (opts.importModule) return load(); // a test's loader is never cached
  loaded ??= load().catch((err) => {
    loaded = null;
    throw err;
  });
  return loaded;
}

export interface ProviderInfo {
  name: string;
  /** shipped inside the npm package */
  bundled: boolean;
  /** usable here: bundled, or its shared libraries are present next to the binding */
  installed: boolean;
  /** why not installed (empty when installed) */
  reason: string;
}

// Shared libraries of the providers that onnxruntime-node's install script downloads (script/install-metadata.js).
const PROVIDER_LIBS: Record<string, string[]> = {
  cuda: ['libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_shared.so'],
  tensorrt: ['libonnxruntime_providers_tensorrt.so', 'libonnxruntime_providers_shared.so'],
};

/** Directory of onnxruntime-node's native binding (where extra provider libraries are installed). */
export function ortBinDir(): string {
  const pkg = path.dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
  return path.join(pkg, 'bin', 'napi-v6', process.platform, process.arch);
}

export const CUDA_INSTALL_HINT = 'node node_modules/onnxruntime-node/script/install --onnxruntime-node-install=cuda12 ' +
  '(downloads the CUDA 12 provider from NuGet into onnxruntime-node; needs CUDA 12 and cuDNN 9 on the machine)';

export function listProviders(ort: Ort, opts: { binDir?: string } = {}): ProviderInfo[] {
  const dir = opts.binDir ?? ortBinDir();
  const backends = (ort as unknown as { listSupportedBackends?: () => { name: string; bundled: boolean }[] }).listSupportedBackends?.() ?? [{ name: 'cpu', bundled: true }];
  return backends.map(({ name, bundled }) => {
    if (bundled) return { name, bundled, installed: true, reason: '' };
    const libs = PROVIDER_LIBS[name] ?? [];
    const missing = libs.filter((l) => !existsSync(path.join(dir, l)));
    const installed = libs.length > 0 && missing.length === 0;
    return {
      name, bundled, installed,
      reason: installed ? '' : libs.length ? `missing ${missing.join(', ')} in ${dir}` : 'not bundled with onnxruntime-node and no known install',
    };
  });
}

/** Checks a provider name (config `train.provider`, env SSMB_ORT_PROVIDER wins); returns it. */
export function resolveProvider(ort: Ort, requested: string | undefined, opts: { binDir?: string; env?: NodeJS.ProcessEnv } = {}): string {
  const fromEnv = (opts.env ?? process.env).SSMB_ORT_PROVIDER;
  const name = (fromEnv || requested || 'cpu').trim().toLowerCase();
  const source = fromEnv ? `SSMB_ORT_PROVIDER='${fromEnv}'` : `train.provider '${name}'`;
  const all = listProviders(ort, opts);
  const p = all.find((x) => x.name === name);
  if (!p) {
    throw new Error(`${source}: onnxruntime-node has no execution provider '${name}'; it offers ${all.map((x) => x.name).join(', ')}`);
  }
  if (!p.installed) {
    const hint = name === 'cuda' || name === 'tensorrt' ? `; install it with ${CUDA_INSTALL_HINT}` : '';
    throw new Error(`${source}: the onnxruntime execution provider '${name}' is not installed (${p.reason})${hint}; ` +
      `installed: ${all.filter((x) => x.installed).map((x) => x.name).join(', ')}`);
  }
  return name;
}

/** Intra-op threads: 0 = every core of this machine. */
export function resolveThreads(threads: number | undefined, what = 'train.threads'): number {
  const t = threads ?? 0;
  if (!Number.isInteger(t) || t < 0) throw new Error(`${what} is ${t}; expected 0 (all cores) or a positive integer`);
  return t === 0 ? (os.availableParallelism?.() ?? os.cpus().length) : t;
}

export interface SessionOptions {
  /** resolved thread count (resolveThreads) */
  threads: number;
  /** resolved provider (resolveProvider) */
  provider: string;
}

/** An inference session on the given provider and threads, graph optimisation 'all'. */
export async function createSession(ort: Ort, bytes: Uint8Array, opts: SessionOptions, what = 'model'): Promise<OrtSession> {
  try {
    return await ort.InferenceSession.create(bytes, {
      executionProviders: [opts.provider],
      intraOpNumThreads: opts.threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
      logSeverityLevel: 3,
    });
  } catch (err) {
    throw new Error(`onnxruntime could not open the ${what} on provider '${opts.provider}' with ${opts.threads} thread(s): ${String((err as Error)?.message ?? err).split('\n')[0]}`);
  }
}

/** What a trainer records about the session it runs on. */
export interface EngineDescription {
  engine: 'onnxruntime';
  provider: string;
  threads: number;
  /** graph sizes and the time to build the graph and open the session */
  nodes: { forward: number; gradient: number };
  buildMs: number;
}

export interface GraphSessionOptions extends OrtLoadOptions {
  /** intra-op threads, 0 = all cores (config train.threads) */
  threads?: number;
  /** execution provider (config train.provider; env SSMB_ORT_PROVIDER wins) */
  provider?: string;
}

/** The trainers' way to a session: onnxruntime loaded, provider and threads resolved (before the graph is
 *  built, so a bad provider fails fast), the graph built by `build`, its session opened and described. */
export async function openGraphSession<G extends { bytes: Uint8Array }>(
  opts: GraphSessionOptions,
  build: () => G,
  describe: (g: G) => { what: string; nodes: { forward: number; gradient: number } },
): Promise<{ ort: Ort; session: OrtSession; graph: G; description: EngineDescription }> {
  const t0 = performance.now();
  const ort = await loadOrt(opts);
  const provider = resolveProvider(ort, opts.provider);
  const threads = resolveThreads(opts.threads);
  const graph = build();
  const { what, nodes } = describe(graph);
  const session = await createSession(ort, graph.bytes, { provider, threads }, what);
  return { ort, session, graph, description: { engine: 'onnxruntime', provider, threads, nodes, buildMs: performance.now() - t0 } };
}
