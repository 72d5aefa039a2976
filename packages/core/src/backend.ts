// Picks the tensor engine once: tfjs-node-gpu, tfjs-node, wasm, cpu (SSMB_BACKEND forces one) and
// installs our wasm kernels (fast conv gradients, a correct OneHot). Runs record `activeEngine()` / `engineInfo()`.
import { createRequire } from 'node:module';
import { tf } from './tf.ts';
import * as wasmBackend from '@tensorflow/tfjs-backend-wasm';
import { registerWasmKernels } from './kernels/register.ts';

export type EngineName = 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';

/** Auto-selection order, fastest first. */
export const ENGINE_ORDER: readonly EngineName[] = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];

/** Values accepted by SSMB_BACKEND / `prefer`: the short names and the engine names themselves. */
export const ENGINE_ALIASES: Readonly<Record<string, EngineName>> = {
  gpu: 'tensorflow-gpu',
  node: 'tensorflow',
  wasm: 'wasm',
  cpu: 'cpu',
  'tensorflow-gpu': 'tensorflow-gpu',
  tensorflow: 'tensorflow',
};

export interface EngineAttempt {
  engine: EngineName;
  ok: boolean;
  /** why it could not be used (empty when ok) */
  reason: string;
}

export interface EngineInfo {
  engine: EngineName;
  /** the tfjs backend name ('tensorflow', 'wasm', 'cpu') */
  backendName: string;
  /** short human description, e.g. 'wasm (simd, 1 thread)' */
  description: string;
  /** true when SSMB_BACKEND or `prefer` chose the engine */
  forced: boolean;
  /** every engine tried, in order, with the reason it was skipped */
  tried: EngineAttempt[];
}

export interface InitBackendOptions {
  /** force an engine (overrides SSMB_BACKEND); gpu|node|wasm|cpu or an EngineName */
  prefer?: string;
  /** loads a native package by name; tests replace it to simulate installs (default: require) */
  requireModule?: (name: string) => unknown;
}

const NATIVE_PACKAGE: Partial<Record<EngineName, string>> = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
};

const nodeRequire = createRequire(import.meta.url);
let chosen: EngineInfo | null = null;
let pending: Promise<EngineInfo> | null = null;

/** Parses an engine name or alias; throws naming the value and the accepted ones. */
export function parseEngineName(value: string, source = 'SSMB_BACKEND'): EngineName {
  const engine = ENGINE_ALIASES[value.trim().toLowerCase()];
  if (!engine) {
    throw new Error(`${source}='${value}' is not a known backend; expected one of ` +
      `${Object.keys(ENGINE_ALIASES).join(', ')}`);
  }
  return engine;
}

function errorReason(err: unknown): string {
  const e = err as { code?: string; message?: string };
  const first = String(e?.message ?? err).split('\n')[0];
  return e?.code ? `${e.code}: ${first}` : first;
}

function describe(engine: EngineName): string {
  if (engine === 'wasm') {
    const simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT') ? 'simd' : 'no simd';
    const threads = wasmBackend.getThreadsCount();
    return `wasm (${simd}, ${threads} thread${threads === 1 ? '' : 's'})`;
  }
  if (engine === 'cpu') return 'cpu (pure JavaScript)';
  const onGpu = (tf.backend() as { isUsingGpuDevice?: boolean }).isUsingGpuDevice === true;
  return `tensorflow (libtensorflow, ${onGpu ? 'CUDA' : 'CPU'})`;
}

/** Tries one engine; returns the tfjs backend name or throws with the reason. */
async function tryEngine(engine: EngineName, load: (name: string) => unknown): Promise<string> {
  const pkg = NATIVE_PACKAGE[engine];
  if (pkg) {
    load(pkg); // registers the 'tensorflow' backend; throws MODULE_NOT_FOUND when not installed
    if (!(await tf.setBackend('tensorflow'))) throw new Error(`${pkg} loaded but its backend failed to initialise`);
    const onGpu = (tf.backend() as { isUsingGpuDevice?: boolean }).isUsingGpuDevice === true;
    if (engine === 'tensorflow-gpu' && !onGpu) throw new Error(`${pkg} loaded but found no CUDA device`);
    return 'tensorflow';
  }
  if (!(await tf.setBackend(engine))) throw new Error(`tfjs backend '${engine}' failed to initialise`);
  await tf.ready();
  if (engine === 'wasm') registerWasmKernels();
  return engine;
}

async function pick(forcedName: string | undefined, load: (name: string) => unknown): Promise<EngineInfo> {
  const forced = forcedName ? parseEngineName(forcedName, 'SSMB_BACKEND') : undefined;
  const candidates = forced ? [forced] : ENGINE_ORDER;
  const tried: EngineAttempt[] = [];
  for (const engine of candidates) {
    try {
      const backendName = await tryEngine(engine, load);
      tried.push({ engine, ok: true, reason: '' });
      return { engine, backendName, description: describe(engine), forced: !!forced, tried };
    } catch (err) {
      tried.push({ engine, ok: false, reason: errorReason(err) });
      if (forced) {
        const pkg = NATIVE_PACKAGE[engine] ?? '@tensorflow/tfjs-backend-' + engine;
        throw new Error(`backend '${forcedName}' was forced (SSMB_BACKEND or prefer) but ${pkg} cannot be ` +
          `used: ${errorReason(err)}. Install it or unset SSMB_BACKEND to pick automatically.`);
      }
    }
  }
  throw new Error(`no tfjs backend could be initialised: ${tried.map((t) => `${t.engine}: ${t.reason}`).join('; ')}`);
}

/**
 * Picks and activates the engine once and returns its name. Later calls return the same engine unless
 * a different one is forced, which switches to it (or throws naming it and why it cannot load).
 */
export async function initBackend(opts: InitBackendOptions = {}): Promise<EngineName> {
  const forcedName = opts.prefer ?? (process.env.SSMB_BACKEND || undefined);
  const load = opts.requireModule ?? nodeRequire;
  if (forcedName !== undefined) {
    const wanted = parseEngineName(forcedName, opts.prefer !== undefined ? 'prefer' : 'SSMB_BACKEND');
    if (pending) await pending.catch(() => undefined);
    if (chosen?.engine === wanted && tf.getBackend() === chosen.backendName) return chosen.engine;
    pending = pick(forcedName, load);
  } else if (!pending || !chosen) {
    pending ??= pick(undefined, load);
  }
  try {
    chosen = await pending;
  } catch (err) {
    pending = chosen ? Promise.resolve(chosen) : null;
    if (chosen && tf.getBackend() !== chosen.backendName) await tf.setBackend(chosen.backendName);
    throw err;
  }
  if (tf.getBackend() !== chosen.backendName) await tf.setBackend(chosen.backendName);
  return chosen.engine;
}

/** The engine picked by `initBackend`; throws if it has not run yet. */
export function activeEngine(): EngineName {
  return engineInfo().engine;
}

/** Engine name, description and the fallback trail, for run records. */
export function engineInfo(): EngineInfo {
  if (!chosen) throw new Error('no backend picked yet: await initBackend() first');
  return chosen;
}
