// Which Vulkan driver the GPU check runs on. onnxruntime's WebGPU provider runs on Dawn, Dawn on the Vulkan
// loader, and the loader on a driver found through its JSON manifest (ICD). On a bare node the driver is
// whatever the vendor's package or the container runtime put there, so the check looks where they put
// manifests, asks each one for its devices with the adapter probe (vk_adapter.c), and runs on the best one:
// VK_DRIVER_FILES, when set, wins (the loader's own override; VK_ICD_FILENAMES is its older name).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';

/** Where drivers and containers put Vulkan driver manifests: distributions and Mesa, vendor installers,
 *  the NVIDIA container toolkit. */
export const ICD_DIRS = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d', '/usr/local/nvidia/share/vulkan/icd.d'] as const;

export type DeviceType = 'discrete' | 'integrated' | 'virtual' | 'cpu' | 'other';

export interface VulkanDevice {
  type: DeviceType;
  name: string;
  driver: string;
  driverInfo: string;
  apiVersion: string;
  vendorId: string;
}

export interface ManifestProbe {
  /** VK_DRIVER_FILES value the probe ran with (one manifest, or the user's list) */
  manifest: string;
  devices: VulkanDevice[];
  /** why no device (empty when there is one) */
  error: string;
}

export interface AdapterChoice {
  /** 'VK_DRIVER_FILES' (the user's), or the folder the manifest was found in */
  source: string;
  manifest: string;
  device: VulkanDevice;
  /** a CPU-type Vulkan device (lavapipe/llvmpipe, SwiftShader): its figures say nothing about GPU speed */
  software: boolean;
}

export interface DiscoveryResult {
  choice: AdapterChoice | null;
  /** every manifest probed, in order */
  probes: ManifestProbe[];
  /** why there is no choice (empty when there is one) */
  reason: string;
}

/** Runs the adapter probe with the given VK_DRIVER_FILES; returns its stdout and exit status. */
export type ProbeRunner = (vkDriverFiles: string) => { stdout: string; status: number | null; error?: string };

/** A runner of the probe binary, through `loader` (the bundle's ld.so, with its library path) when given. */
export function probeRunner(probe: string, opts: { loader?: string; libraryPath?: string; env?: NodeJS.ProcessEnv } = {}): ProbeRunner {
  return (vkDriverFiles) => {
    const [cmd, args] = opts.loader ? [opts.loader, ['--library-path', opts.libraryPath ?? '', probe]] : [probe, []];
    const { VK_ICD_FILENAMES: _older, ...env } = opts.env ?? process.env;
    const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000, env: { ...env, VK_DRIVER_FILES: vkDriverFiles } });
    return { stdout: r.stdout ?? '', status: r.status, error: r.error ? r.error.message : (r.stderr ?? '').trim().split('\n').pop() };
  };
}

/** The probe's lines: `device\t<type>\t<name>\t<driver>\t<driver info>\t<vulkan>\t<vendor>`, or `error\t<why>`. */
export function parseProbe(manifest: string, out: { stdout: string; status: number | null; error?: string }): ManifestProbe {
  const devices: VulkanDevice[] = [];
  let error = '';
  for (const line of out.stdout.split('\n')) {
    const [kind, ...f] = line.split('\t');
    if (kind === 'device' && f.length >= 6) {
      devices.push({ type: f[0] as DeviceType, name: f[1], driver: f[2], driverInfo: f[3], apiVersion: f[4], vendorId: f[5] });
    } else if (kind === 'error') {
      error = f.join(' ');
    }
  }
  if (!devices.length && !error) {
    error = out.status === 2 ? 'the driver loaded but reports no device'
      : `the adapter probe exited with status ${out.status}${out.error ? `: ${out.error}` : ''}`;
  }
  return { manifest, devices, error };
}

/** *.json manifests in each folder that exists, folder order then name order. */
export function listManifests(dirs: readonly string[]): string[] {
  return dirs.flatMap((d) => (existsSync(d) ? readdirSync(d).filter((f) => f.endsWith('.json')).sort().map((f) => path.join(d, f)) : []));
}

// Dawn asks for a high-performance adapter: a discrete GPU before an integrated one, a software one last.
const RANK: Record<DeviceType, number> = { discrete: 0, integrated: 1, virtual: 2, other: 3, cpu: 4 };

function best(probes: readonly ManifestProbe[]): { probe: ManifestProbe; device: VulkanDevice } | null {
  let pick: { probe: ManifestProbe; device: VulkanDevice } | null = null;
  for (const probe of probes) {
    for (const device of probe.devices) {
      if (!pick || (RANK[device.type] ?? 3) < (RANK[pick.device.type] ?? 3)) pick = { probe, device };
    }
  }
  return pick;
}

/** The driver manifest and device the WebGPU provider will run on, with every manifest probed. */
export function discoverAdapter(opts: { env?: NodeJS.ProcessEnv; dirs?: readonly string[]; run: ProbeRunner }): DiscoveryResult {
  const env = opts.env ?? process.env;
  const dirs = opts.dirs ?? ICD_DIRS;
  const forced = env.VK_DRIVER_FILES || env.VK_ICD_FILENAMES;
  if (forced) {
    const name = env.VK_DRIVER_FILES ? 'VK_DRIVER_FILES' : 'VK_ICD_FILENAMES';
    const probe = parseProbe(forced, opts.run(forced));
    const pick = best([probe]);
    return {
      choice: pick ? { source: name, manifest: forced, device: pick.device, software: pick.device.type === 'cpu' } : null,
      probes: [probe],
      reason: pick ? '' : `${name}='${forced}' gives no Vulkan device: ${probe.error}`,
    };
  }
  const manifests = listManifests(dirs);
  if (manifests.length === 0) {
    return { choice: null, probes: [], reason: `no Vulkan driver manifest (*.json) in ${dirs.join(', ')}; install the GPU vendor's driver, or set VK_DRIVER_FILES to its manifest` };
  }
  const probes = manifests.map((m) => parseProbe(m, opts.run(m)));
  const pick = best(probes);
  if (!pick) {
    return { choice: null, probes, reason: `no Vulkan driver gives a device: ${probes.map((p) => `${p.manifest}: ${p.error}`).join('; ')}` };
  }
  return { choice: { source: path.dirname(pick.probe.manifest), manifest: pick.probe.manifest, device: pick.device, software: pick.device.type === 'cpu' }, probes, reason: '' };
}

export function describeDevice(d: VulkanDevice): string {
  return `${d.name} (${d.type}; driver ${d.driver}, ${d.driverInfo}; Vulkan ${d.apiVersion}; vendor ${d.vendorId})`;
}
