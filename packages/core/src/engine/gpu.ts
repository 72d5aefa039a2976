// What onnxruntime's WebGPU provider needs from the machine, and what it found. The provider ships inside
// onnxruntime-node (Dawn); Dawn runs on Vulkan: the Vulkan loader (libvulkan.so.1) plus a driver named by
// an ICD manifest (JSON) in the loader's directories: the GPU vendor's driver, or Mesa's software Vulkan
// (lavapipe, "llvmpipe") on a machine without a GPU. A software adapter computes correctly (the CI runs the
// parity suite on it) but far slower than the CPU provider, so `auto` never picks it.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { OnnxGraphBuilder } from '../weights/onnx/onnx_graph_builder.ts';
import { encodeOnnxModel } from '../weights/onnx/onnx_proto.ts';

/** Where drivers and containers put Vulkan ICD manifests (the loader's own directories, then NVIDIA's
 *  container toolkit's); `VK_DRIVER_FILES` (or the older `VK_ICD_FILENAMES`) replaces them. */
export const ICD_DIRS = ['/etc/vulkan/icd.d', '/usr/local/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d', '/usr/share/vulkan/icd.d', '/usr/local/nvidia/share/vulkan/icd.d'];

/** The WebGPU provider's options, chosen by measurement (docs/engines.md, "The GPU path"): NHWC, the
 *  provider's default in onnxruntime-node 1.30, against NCHW on the IResNet training step. */
export const WEBGPU_OPTIONS: Readonly<Record<string, unknown>> = { preferredLayout: 'NHWC' };

/** onnxruntime's execution provider entry for a provider name (with its options where we set any). */
export function providerEntry(provider: string): string | { name: string } {
  return provider === 'webgpu' ? { name: 'webgpu', ...WEBGPU_OPTIONS } : provider;
}

/** Library names of software Vulkan drivers (Mesa lavapipe, SwiftShader). */
const SOFTWARE_DRIVER = /(lvp|lavapipe|swiftshader)/i;

export interface VulkanDriver {
  manifest: string;
  /** the driver library the manifest names ('' when the manifest cannot be read) */
  library: string;
  software: boolean;
  /** a manifest VK_DRIVER_FILES names that does not exist */
  missing?: boolean;
}

/** The ICD manifests the Vulkan loader would read: VK_DRIVER_FILES / VK_ICD_FILENAMES when set, else ICD_DIRS. */
export function vulkanDrivers(env: NodeJS.ProcessEnv = process.env, dirs: readonly string[] = ICD_DIRS): { drivers: VulkanDriver[]; source: string } {
  const fromEnv = env.VK_DRIVER_FILES ? 'VK_DRIVER_FILES' : env.VK_ICD_FILENAMES ? 'VK_ICD_FILENAMES' : '';
  const files = fromEnv
    ? env[fromEnv]!.split(':').filter(Boolean)
    : dirs.flatMap((d) => (existsSync(d) ? readdirSync(d).filter((f) => f.endsWith('.json')).sort().map((f) => path.join(d, f)) : []));
  const drivers = files.map((manifest) => {
    if (!existsSync(manifest)) return { manifest, library: '', software: false, missing: true };
    let library = '';
    try {
      library = String((JSON.parse(readFileSync(manifest, 'utf8')) as { ICD?: { library_path?: string } }).ICD?.library_path ?? '');
    } catch { /* unreadable: named with no library */ }
    return { manifest, library, software: SOFTWARE_DRIVER.test(path.basename(library || manifest)) };
  });
  return { drivers, source: fromEnv ? `$${fromEnv}` : dirs.join(', ') };
}

/** Path of the Vulkan loader library, or null when the dynamic linker would not find it. */
export function vulkanLoader(): string | null {
  const ld = spawnSync('sh', ['-c', 'ldconfig -p 2>/dev/null || /sbin/ldconfig -p 2>/dev/null'], { encoding: 'utf8' });
  const hit = /libvulkan\.so\.1 \([^)]*\) => (\S+)/.exec(ld.stdout ?? '');
  if (hit) return hit[1];
  const dirs = [...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean), '/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/usr/local/lib'];
  return dirs.map((d) => path.join(d, 'libvulkan.so.1')).find((f) => existsSync(f)) ?? null;
}

/** Display controllers on the PCI bus (class 0x03xxxx) as vendor ids, or null when the bus is not visible. */
export function pciDisplayDevices(root: string = '/sys/bus/pci/devices'): string[] | null {
  try {
    return readdirSync(root).filter((d) => readFileSync(path.join(root, d, 'class'), 'utf8').startsWith('0x03'))
      .map((d) => readFileSync(path.join(root, d, 'vendor'), 'utf8').trim());
  } catch {
    return null;
  }
}

export interface AdapterInfo {
  name: string;
  driver: string;
  /** Vulkan device type: DISCRETE_GPU, INTEGRATED_GPU, VIRTUAL_GPU, CPU, ... ('' when unknown) */
  type: string;
  software: boolean;
}

/** The device Dawn picks (high performance: discrete > integrated > virtual > CPU) as `vulkaninfo
 *  --summary` reports it, or null when vulkaninfo is not installed or finds no device. */
export function describeAdapter(env: NodeJS.ProcessEnv = process.env): AdapterInfo | null {
  const r = spawnSync('vulkaninfo', ['--summary'], { encoding: 'utf8', env, timeout: 20_000 });
  if (r.status !== 0 || !r.stdout) return null;
  const devices = r.stdout.split(/\nGPU\d+:\n/).slice(1).map((block) => {
    const field = (k: string) => new RegExp(`\\b${k}\\s*=\\s*(.*)`).exec(block)?.[1]?.trim() ?? '';
    const type = field('deviceType').replace('PHYSICAL_DEVICE_TYPE_', '');
    return { name: field('deviceName'), driver: [field('driverName'), field('driverInfo')].filter(Boolean).join(' '), type, software: type === 'CPU' };
  });
  const rank = ['DISCRETE_GPU', 'INTEGRATED_GPU', 'VIRTUAL_GPU', 'CPU'];
  const order = (t: string) => (rank.includes(t) ? rank.indexOf(t) : rank.length);
  return devices.sort((a, b) => order(a.type) - order(b.type))[0] ?? null;
}

/** The smallest ONNX model (y = x + x), opened to ask the provider for an adapter. */
export function probeWebGpuModel(): Uint8Array {
  const b = new OnnxGraphBuilder();
  const x = b.input('x', [1]);
  b.output(b.op1('Add', [x, x]), 'y', [1]);
  return encodeOnnxModel(b.toModel({ graphName: 'webgpu-probe' }));
}

/** onnxruntime needs a runtime directory for Dawn's caches; many batch nodes and containers have none. */
export function ensureRuntimeDir(env: NodeJS.ProcessEnv = process.env): void {
  if (!env.XDG_RUNTIME_DIR) env.XDG_RUNTIME_DIR = os.tmpdir();
}

/**
 * The command that starts this process's node again, for a child `node -e`: a node the GPU check bundle
 * started through its own dynamic loader (run.sh exports GPU_CHECK_LOADER, GPU_CHECK_LIBRARY_PATH and
 * GPU_CHECK_NODE) has the loader as its process.execPath, so the child goes through the same loader.
 */
export function nodeCommand(args: string[], env: NodeJS.ProcessEnv = process.env): [string, string[]] {
  const { GPU_CHECK_LOADER: loader, GPU_CHECK_LIBRARY_PATH: libs, GPU_CHECK_NODE: node } = env;
  return loader && node ? [loader, ['--library-path', libs ?? '', node, ...args]] : [process.execPath, args];
}

/** Whether onnxruntime's WebGPU provider gets an adapter, asked in a child process (Dawn keeps its
 *  instance for the life of a process, so a probe with other drivers must not run in this one).
 *  `env` is the child's environment (e.g. VK_DRIVER_FILES limited to hardware drivers). */
export function probeWebGpu(env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<{ ok: boolean; reason: string }> {
  const ortPath = createRequire(import.meta.url).resolve('onnxruntime-node');
  const code = `const ort = require(${JSON.stringify(ortPath)});
ort.InferenceSession.create(Buffer.from(process.env.SSMB_PROBE_MODEL, 'base64'), { executionProviders: ['webgpu'], logSeverityLevel: 3 })
  .then(() => { process.stdout.write('ADAPTER OK\\n'); process.exit(0); })
  .catch((e) => { process.stdout.write('ADAPTER FAILED ' + String(e && e.message || e).split('\\n')[0] + '\\n'); process.exit(3); });`;
  return new Promise((resolve) => {
    const child = spawn(...nodeCommand(['-e', code]), {
      env: { ...env, XDG_RUNTIME_DIR: env.XDG_RUNTIME_DIR || os.tmpdir(), SSMB_PROBE_MODEL: Buffer.from(probeWebGpuModel()).toString('base64') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', () => {}); // Dawn's limit warnings
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0 && out.includes('ADAPTER OK')) return resolve({ ok: true, reason: '' });
      const failed = /ADAPTER FAILED (.*)/.exec(out)?.[1];
      resolve({ ok: false, reason: failed ?? (code === null ? `the probe did not finish in ${timeoutMs / 1000} s` : `the probe exited with code ${code}`) });
    });
  });
}

/** Why this machine's WebGPU provider has no adapter, in words: loader, drivers, the provider's error. */
export function missingAdapterReason(providerError: string, env: NodeJS.ProcessEnv = process.env): string {
  const loader = vulkanLoader();
  const { drivers, source } = vulkanDrivers(env);
  const parts = [providerError];
  parts.push(loader ? `Vulkan loader ${loader}` : 'no Vulkan loader (libvulkan.so.1; Debian/Ubuntu: apt-get install libvulkan1)');
  parts.push(drivers.length
    ? `Vulkan drivers (${source}): ${drivers.map((d) => `${d.missing ? `${d.manifest} (does not exist)` : path.basename(d.manifest)}${d.software ? ' (software)' : ''}`).join(', ')}`
    : `no Vulkan driver manifest in ${source} (a GPU driver's, e.g. NVIDIA's nvidia_icd.json, or Mesa's software lvp_icd.json: apt-get install mesa-vulkan-drivers, from bookworm-backports on Debian 12)`);
  return parts.join('; ');
}
