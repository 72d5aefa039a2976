// The GPU check as a user gets it: `npm run gpu-bundle`'s archive built (xz -0 here: the same files, built
// faster), unpacked into an empty folder and run with a clean environment (env -i: PATH=/usr/bin:/bin and
// HOME only) on this machine's software Vulkan adapter (Mesa's lavapipe). The runs are kept small: one
// tiny model, batch 2, inference only (a cold Mesa shader cache compiles every training kernel: ~1-2 min on
// 2 cores); the full run's figures are in the closing note of the change that added the check.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGpuBundle, MAX_MIB } from '../../../scripts/gpu-bundle.mjs';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'ssmb-gpu-bundle-'));
const dir = path.join(tmp, 'unpacked', 'ssmb-gpu-check');
let mib = 0;

beforeAll(async () => {
  const built = await buildGpuBundle({ out: path.join(tmp, 'build'), level: 0, log: () => {} });
  mib = built.mib;
  mkdirSync(path.join(tmp, 'unpacked'));
  const tar = spawnSync('tar', ['xJf', built.archive, '-C', path.join(tmp, 'unpacked')], { encoding: 'utf8' });
  expect(tar.status, tar.stderr).toBe(0);
  rmSync(path.join(tmp, 'build'), { recursive: true, force: true }); // nothing of the build tree is used
}, 600_000);

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** `./ssmb-gpu-check/run args` with only PATH and HOME (the user's home: Mesa keeps its shader cache there). */
function run(args: string[], env: Record<string, string> = {}) {
  const t0 = performance.now();
  const r = spawnSync(path.join(dir, 'run'), args, { cwd: tmp, encoding: 'utf8', timeout: 300_000, env: { PATH: '/usr/bin:/bin', HOME: os.homedir(), ...env } });
  return { status: r.status, out: r.stdout, err: r.stderr, s: (performance.now() - t0) / 1e3 };
}

const LVP = '/usr/share/vulkan/icd.d/lvp_icd.json';
const HUGE = 1_000_000_000; // images in a batch: never fits

describe('ssmb-gpu-check bundle', () => {
  it(`holds node, onnxruntime, the Vulkan loader and the C runtime, in at most ${MAX_MIB} MiB`, () => {
    expect(mib).toBeGreaterThan(1);
    expect(mib).toBeLessThanOrEqual(MAX_MIB);
    for (const f of ['run', 'node', 'check.js', 'vk_adapter', 'onnx.proto', 'node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1',
      'node_modules/onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node', 'lib/vulkan/libvulkan.so.1', 'lib/GLIBC_VERSION', 'lib/ld-linux-x86-64.so.2', 'lib/libc.so.6', 'lib/libstdc++.so.6']) {
      expect(existsSync(path.join(dir, f)), f).toBe(true);
    }
  });

  it('runs in a clean environment: names the software adapter, measures webgpu and cpu, skips what does not fit', () => {
    // through the bundled ld.so and glibc, as on a machine whose own glibc is older
    const r = run(['--limit', '240', '--models', 'iresnet-tiny', '--batches', `2,${HUGE}`, '--work', 'infer', '--grad-model', 'none', '--reps', '1'], { SSMB_GPU_CHECK_RUNTIME: 'bundled' });
    expect(r.status, `${r.out}\n${r.err}`).toBe(0);
    expect(r.out).toMatch(/^C runtime: the bundled glibc 2\.\d+ \(this machine's: 2\.\d+\)$/m);
    expect(r.out).toContain(`driver manifest used: ${LVP} (found in /usr/share/vulkan/icd.d)`);
    expect(r.out).toMatch(/^adapter: llvmpipe [^\n]*\(cpu; driver llvmpipe, Mesa /m);
    expect(r.out).toContain('NOTE: a software adapter (a CPU-type Vulkan device): its webgpu figures say nothing about GPU speed');
    for (const provider of ['webgpu', 'cpu']) {
      const row = r.out.match(new RegExp(`^iresnet-tiny\\s+${provider}\\s+2\\s+-\\s+([\\d.]+)\\s`, 'm'));
      expect(row, `${provider} row in\n${r.out}`).not.toBeNull();
      expect(Number(row![1])).toBeGreaterThan(0);
      // HUGE = 5e8 x the measured batch: estimated far past what is left on any machine, so skipped and listed
      expect(r.out).toMatch(new RegExp(`^iresnet-tiny\\s+${provider}\\s+${HUGE}\\s+skipped: needs ~\\d+ s, \\d+ s left`, 'm'));
    }
    expect(r.out).toMatch(new RegExp(`^2 rows measured, 2 skipped: iresnet-tiny cpu batch ${HUGE} \\(needs ~\\d+ s, \\d+ s left\\); iresnet-tiny webgpu batch ${HUGE}`, 'm'));
    console.log(`bundle run (inference, iresnet-tiny batch 2, webgpu + cpu): ${r.s.toFixed(1)} s`);
  });

  it('takes the Vulkan driver manifest from VK_DRIVER_FILES over the manifest folders', () => {
    const mine = path.join(tmp, 'my-driver', 'my_icd.json');
    mkdirSync(path.dirname(mine));
    copyFileSync(LVP, mine);
    const r = run(['--adapter-only'], { VK_DRIVER_FILES: mine });
    expect(r.status, `${r.out}\n${r.err}`).toBe(0);
    expect(r.out).toContain(`driver manifest used: ${mine} (from VK_DRIVER_FILES)`);
    // this machine's glibc is as new as the bundled one (the bundle was built here): its own is used
    expect(r.out).toMatch(/^C runtime: this machine's glibc 2\.\d+ \(bundled: 2\.\d+, not needed\)$/m);
    expect(r.out).not.toContain('/usr/share/vulkan/icd.d'); // the folders were not searched
  });

  it('names a driver that gives no device and says why the webgpu rows are skipped (exit 2)', () => {
    const r = run(['--adapter-only'], { VK_DRIVER_FILES: '/nonexistent/icd.json' });
    expect(r.status).toBe(2);
    expect(r.out).toContain("adapter: none: VK_DRIVER_FILES='/nonexistent/icd.json' gives no Vulkan device: vkCreateInstance failed with VkResult -9 (no usable Vulkan driver");
    expect(r.out).toContain('webgpu rows skipped: no Vulkan adapter for the WebGPU provider');
  });

  it('is stopped at its time limit when a row overruns it', () => {
    const r = run(['--limit', '2']);
    expect(r.status).toBe(124); // timeout(1)'s status
    expect(r.out).toContain('ssmb-gpu-check: stopped at the 2 s limit; the lines above are what was measured');
    expect(r.s).toBeLessThan(15);
  });

  it('refuses bad options by name', () => {
    expect(run(['--limit', 'soon'])).toMatchObject({ status: 2, err: "ssmb-gpu-check: --limit is 'soon'; expected whole seconds\n" });
    expect(run(['--adapter-only'], { SSMB_GPU_CHECK_RUNTIME: 'musl' })).toMatchObject({ status: 2, err: "ssmb-gpu-check: SSMB_GPU_CHECK_RUNTIME is 'musl'; expected bundled or host\n" });
    const r = run(['--providers', 'tpu', '--adapter-only']);
    expect(r.status).toBe(1);
    expect(r.err).toContain('ssmb-gpu-check: --providers has tpu; expected some of webgpu, cpu, cuda');
    // cuda is offered by onnxruntime-node but its libraries are an extra install: named, with the command
    const c = run(['--providers', 'cuda', '--adapter-only']);
    expect(c.status).toBe(1);
    expect(c.err).toMatch(/ssmb-gpu-check: --providers has cuda: the onnxruntime execution provider 'cuda' is not installed \(missing libonnxruntime_providers_cuda.so, libonnxruntime_providers_shared.so in \S+ssmb-gpu-check\/node_modules\/onnxruntime-node\/bin\/napi-v6\/linux\/x64\); install it with /);
    expect(run(['--models', 'iresnet7', '--adapter-only']).err).toMatch(/ssmb-gpu-check: unknown IResNet "iresnet7"; registered IResNets: .*iresnet100/);
  });
});
