// onnxruntime-node for the engine: loaded on first use (so a broken install is a reason to fall back to
// tfjs, not a crash at import), execution providers checked before a session is made, intra-op threads
// defaulting to every core. onnxruntime-node ships the CPU and WebGPU providers in its npm package (WebGPU
// needs a Vulkan adapter on the machine: gpu.ts); CUDA/TensorRT providers are extra shared libraries its
// install script fetches (`--onnxruntime-node-install=cuda12`), so "listed", "installed" and "has an
// adapter" are different questions, all answered here; `auto` decides between them (chooseProvider).
import './ort_env.ts'; // before onnxruntime-node: telemetry off
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import type * as OrtModule from 'onnxruntime-node';
import { fallbackOps, nodePlacement, type Placement } from './placement.ts';
import { describeAdapter, ensureRuntimeDir, missingAdapterReason, providerEntry, WEBGPU_OPTIONS, pciDisplayDevices, probeWebGpu, vulkanDrivers, type AdapterInfo } from './gpu.ts';

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

/** What `train.provider` / `eval.provider` accept besides the names onnxruntime-node lists. */
export const PROVIDER_CHOICES = ['auto', 'cpu', 'webgpu', 'cuda', 'tensorrt'] as const;

/** The requested provider name and where it came from (env SSMB_ORT_PROVIDER wins over the config). */
function requestedProvider(requested: string | undefined, env: NodeJS.ProcessEnv, what: string): { name: string; source: string } {
  const fromEnv = env.SSMB_ORT_PROVIDER;
  const name = (fromEnv || requested || 'cpu').trim().toLowerCase();
  return { name, source: fromEnv ? `SSMB_ORT_PROVIDER='${fromEnv}'` : `${what} '${name}'` };
}

/** Checks a provider name (config `train.provider`, env SSMB_ORT_PROVIDER wins) against what onnxruntime-node
 *  offers and has installed; returns it. `auto` and the WebGPU adapter are chooseProvider's. */
export function resolveProvider(ort: Ort, requested: string | undefined, opts: { binDir?: string; env?: NodeJS.ProcessEnv; what?: string } = {}): string {
  const { name, source } = requestedProvider(requested, opts.env ?? process.env, opts.what ?? 'train.provider');
  if (name === 'auto') return name;
  const all = listProviders(ort, opts);
  const p = all.find((x) => x.name === name);
  if (!p) {
    throw new Error(`${source}: onnxruntime-node has no execution provider '${name}'; it offers ${all.map((x) => x.name).join(', ')} (or auto)`);
  }
  if (!p.installed) {
    const hint = name === 'cuda' || name === 'tensorrt' ? `; install it with ${CUDA_INSTALL_HINT}` : '';
    throw new Error(`${source}: the onnxruntime execution provider '${name}' is not installed (${p.reason})${hint}; ` +
      `installed: ${all.filter((x) => x.installed).map((x) => x.name).join(', ')}`);
  }
  return name;
}

export interface ProviderChoice {
  /** the provider sessions run on */
  name: string;
  /** why (auto's decision, or 'configured'), logged and recorded by the caller */
  reason: string;
  /** the WebGPU adapter (vulkaninfo's view; null when unknown or another provider) */
  adapter: AdapterInfo | null;
}

const webgpuChecks = new Map<string, Promise<AdapterInfo | null>>();
const autoChoices = new Map<string, Promise<ProviderChoice>>();

/** Asks the WebGPU provider for an adapter once per environment (in a child process: Dawn keeps its first
 *  instance for the life of a process): a provider without one fails here, before any graph is built,
 *  naming what is missing on the machine. */
async function checkWebGpu(source: string, env: NodeJS.ProcessEnv): Promise<AdapterInfo | null> {
  ensureRuntimeDir();
  const key = `${env.VK_DRIVER_FILES ?? ''}|${env.VK_ICD_FILENAMES ?? ''}`;
  if (!webgpuChecks.has(key)) {
    webgpuChecks.set(key, probeWebGpu(env).then((r) => {
      if (!r.ok) {
        webgpuChecks.delete(key);
        throw new Error(`${source}: onnxruntime's WebGPU provider has no adapter: ${missingAdapterReason(r.reason, env)}`);
      }
      return describeAdapter(env);
    }));
  }
  return webgpuChecks.get(key)!;
}

export interface ChooseProviderOptions {
  binDir?: string;
  env?: NodeJS.ProcessEnv;
  /** the config key named in errors (default train.provider) */
  what?: string;
  /** where auto looks for GPUs and Vulkan drivers (tests): the PCI device directory, the ICD directories */
  machine?: { pciRoot?: string; icdDirs?: string[] };
}

/** auto: a GPU provider when one has a hardware adapter, else cpu; the reason says which and why. */
async function chooseAuto(ort: Ort, opts: ChooseProviderOptions): Promise<ProviderChoice> {
  const env = opts.env ?? process.env;
  const cuda = listProviders(ort, opts).find((p) => p.name === 'cuda');
  if (cuda?.installed) return { name: 'cuda', reason: 'auto: the CUDA provider is installed', adapter: null };
  const cpu = (why: string): ProviderChoice => ({ name: 'cpu', reason: `auto: cpu, no GPU for webgpu: ${why}`, adapter: null });
  const gpus = pciDisplayDevices(opts.machine?.pciRoot);
  if (gpus && gpus.length === 0) return cpu('no display controller on the PCI bus');
  const { drivers, source } = vulkanDrivers(env, opts.machine?.icdDirs);
  const hardware = drivers.filter((d) => !d.software && !d.missing);
  if (hardware.length === 0) {
    return cpu(drivers.length ? `only software Vulkan drivers (${drivers.map((d) => path.basename(d.manifest)).join(', ')}), slower than the CPU provider` : `no Vulkan driver manifest in ${source}`);
  }
  const files = hardware.map((d) => d.manifest).join(':');
  const probe = await probeWebGpu({ ...env, VK_DRIVER_FILES: files, VK_ICD_FILENAMES: '' });
  if (!probe.ok) return cpu(`no hardware adapter (${probe.reason}; drivers ${hardware.map((d) => path.basename(d.manifest)).join(', ')})`);
  // this process's Dawn then sees the same drivers, never the software one
  if (!env.VK_DRIVER_FILES) process.env.VK_DRIVER_FILES = files;
  const adapter = describeAdapter({ ...process.env, VK_DRIVER_FILES: files });
  return { name: 'webgpu', reason: `auto: webgpu on ${adapter ? `${adapter.name} (${adapter.driver})` : `the adapter of ${files}`}`, adapter };
}

/** The provider a session runs on: auto decided (once per process), or the named one checked (installed;
 *  for webgpu an adapter). Throws naming the provider and what is missing. */
export async function chooseProvider(ort: Ort, requested: string | undefined, opts: ChooseProviderOptions = {}): Promise<ProviderChoice> {
  const name = resolveProvider(ort, requested, opts);
  if (name === 'auto') {
    const env = opts.env ?? process.env;
    const key = `${opts.binDir ?? ''}|${env.VK_DRIVER_FILES ?? ''}|${env.VK_ICD_FILENAMES ?? ''}|${opts.machine?.pciRoot ?? ''}|${opts.machine?.icdDirs?.join(':') ?? ''}`;
    if (!autoChoices.has(key)) autoChoices.set(key, chooseAuto(ort, opts));
    return autoChoices.get(key)!;
  }
  if (name === 'webgpu') {
    const env = opts.env ?? process.env;
    const adapter = await checkWebGpu(requestedProvider(requested, env, opts.what ?? 'train.provider').source, env);
    return { name, reason: 'configured', adapter };
  }
  return { name, reason: 'configured', adapter: null };
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
  /** resolved provider (chooseProvider) */
  provider: string;
}

/** An inference session on the given provider and threads, graph optimisation 'all'. */
export async function createSession(ort: Ort, bytes: Uint8Array, opts: SessionOptions, what = 'model'): Promise<OrtSession> {
  if (opts.provider === 'webgpu') ensureRuntimeDir();
  try {
    return await ort.InferenceSession.create(bytes, {
      executionProviders: [providerEntry(opts.provider) as OrtModule.InferenceSession.ExecutionProviderConfig],
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
  /** why this provider (auto's decision, or 'configured') */
  providerReason: string;
  /** the WebGPU adapter, when known */
  adapter: AdapterInfo | null;
  threads: number;
  /** graph sizes and the time to build the graph and open the session */
  nodes: { forward: number; gradient: number };
  /** on a GPU provider: the nodes onnxruntime placed there and elsewhere (null: not counted) */
  placement: Placement | null;
  buildMs: number;
}

export interface GraphSessionOptions extends OrtLoadOptions {
  /** intra-op threads, 0 = all cores (config train.threads) */
  threads?: number;
  /** execution provider (config train.provider; env SSMB_ORT_PROVIDER wins) */
  provider?: string;
  /** count where onnxruntime places the nodes on a GPU provider (a child process opens the graph once
   *  more; default true) and warn about the ones that fell back to the CPU */
  checkPlacement?: boolean;
  /** where warnings go (default console.warn) */
  warn?: (message: string) => void;
}

/** The nodes of a GPU session that onnxruntime placed on another provider: counted, warned about (count and
 *  op types), returned for the run's record. Null on cpu or when not asked. */
export async function checkPlacement(bytes: Uint8Array, provider: string, what: string, opts: Pick<GraphSessionOptions, 'checkPlacement' | 'warn'>): Promise<Placement | null> {
  if (provider === 'cpu' || opts.checkPlacement === false) return null;
  const placement = await nodePlacement(bytes, provider, provider === 'webgpu' ? { ...WEBGPU_OPTIONS } : {});
  if (placement.fallback.length) {
    const ops = Object.entries(fallbackOps(placement)).map(([op, n]) => `${op} x${n}`).join(', ');
    (opts.warn ?? console.warn)(`onnxruntime placed ${placement.fallback.length} node(s) of the ${what} on another provider than '${provider}' ` +
      `(each costs a copy from the device and back per run): ${ops}`);
  }
  return placement;
}

/** The trainers' way to a session: onnxruntime loaded, provider and threads resolved (before the graph is
 *  built, so a bad provider fails fast), the graph built by `build` for that provider, its session opened,
 *  its placement counted on a GPU provider, and described. */
export async function openGraphSession<G extends { bytes: Uint8Array }>(
  opts: GraphSessionOptions,
  build: (provider: string) => G,
  describe: (g: G) => { what: string; nodes: { forward: number; gradient: number } },
): Promise<{ ort: Ort; session: OrtSession; graph: G; description: EngineDescription }> {
  const t0 = performance.now();
  const ort = await loadOrt(opts);
  const choice = await chooseProvider(ort, opts.provider);
  const threads = resolveThreads(opts.threads);
  const graph = build(choice.name);
  const { what, nodes } = describe(graph);
  const session = await createSession(ort, graph.bytes, { provider: choice.name, threads }, what);
  const placement = await checkPlacement(graph.bytes, choice.name, what, opts);
  return {
    ort, session, graph,
    description: { engine: 'onnxruntime', provider: choice.name, providerReason: choice.reason, adapter: choice.adapter, threads, nodes, placement, buildMs: performance.now() - t0 },
  };
}
