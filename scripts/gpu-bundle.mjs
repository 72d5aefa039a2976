#!/usr/bin/env -S npx tsx
// `npm run gpu-bundle`: the GPU check as one archive that runs on a bare x86-64 Linux node with a GPU
// driver and nothing else installed: `tar xJf ssmb-gpu-check.tar.xz && ./ssmb-gpu-check/run`.
// It holds this machine's node binary, onnxruntime-node's binding and library, the Vulkan loader, the
// C/C++ runtime they link (glibc with its loader, libstdc++, libgcc_s: where the node's own glibc is older
// than this one, `run` starts node through the bundled ld.so), the adapter probe
// (tools/src/gpu_check/vk_adapter.c, compiled here) and the check itself (tools/src/gpu_check/check.ts)
// bundled into one JS file by esbuild, with tfjs's wasm binaries beside it.
//   npx tsx scripts/gpu-bundle.mjs [--out DIR] [--level 0-9]   (tsx: it reads the op table's TypeScript list)
// --out: where ssmb-gpu-check.tar.xz is written (default dist/); --level: xz preset (default 9; tests use 0).
// Needs a C compiler (cc), the Vulkan headers (Debian: libvulkan-dev), the Vulkan loader, tar and xz.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, mkdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';

const root = path.resolve(import.meta.dirname, '..');
const src = path.join(root, 'tools', 'src', 'gpu_check');
export const ARCHIVE = 'ssmb-gpu-check.tar.xz';
export const MAX_MIB = 60;
const require = createRequire(path.join(root, 'packages', 'core', 'package.json'));

function sh(cmd, args, what, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 26, ...opts });
  if (r.error || r.status !== 0) {
    throw new Error(`gpu-bundle: ${what} failed (${cmd} ${args.join(' ')}): ${r.error?.message ?? (r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}`);
  }
  return r.stdout;
}

/** The shared libraries a binary loads (ldd), by soname -> real path; the interpreter included. */
function sharedLibs(file) {
  const libs = new Map();
  for (const line of sh('ldd', [file], `listing the libraries of ${file}`).split('\n')) {
    const m = line.match(/^\s*(\S+)\s+=>\s+(\/\S+)/) ?? line.match(/^\s*(\/\S+\/(ld-linux[^\s/]*))\s/);
    if (!m) continue;
    const [name, file2] = line.includes('=>') ? [m[1], m[2]] : [m[2], m[1]];
    libs.set(name, realpathSync(file2));
  }
  return libs;
}

/** The system's Vulkan loader (onnxruntime's Dawn opens it by name at run time, so ldd does not list it). */
function vulkanLoader() {
  const out = sh('ldconfig', ['-p'], 'looking up libvulkan.so.1 (ldconfig -p)');
  const hit = out.split('\n').find((l) => /libvulkan\.so\.1 \(.*x86-64.*\) => /.test(l));
  if (!hit) throw new Error('gpu-bundle: the Vulkan loader libvulkan.so.1 is not installed here; install it (Debian: apt-get install libvulkan1)');
  return hit.split('=> ')[1].trim();
}

export async function buildGpuBundle({ out = path.join(root, 'dist'), level = 9, log = console.log } = {}) {
  if (process.platform !== 'linux' || process.arch !== 'x64') throw new Error(`gpu-bundle: builds on x86-64 Linux only (this is ${process.platform}/${process.arch})`);
  if (!Number.isInteger(level) || level < 0 || level > 9) throw new Error(`gpu-bundle: --level is ${level}; expected an xz preset 0..9`);
  const t0 = performance.now();
  const stage = path.join(out, 'ssmb-gpu-check');
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(path.join(stage, 'lib'), { recursive: true });

  // the check as one CommonJS file; onnxruntime-node's binding is loaded from beside it
  const ortDir = path.dirname(require.resolve('onnxruntime-node/package.json'));
  const ortBin = path.join(ortDir, 'bin', 'napi-v6', 'linux', 'x64');
  const ORT_BIN = 'node_modules/onnxruntime-node/bin/napi-v6/linux/x64';
  await esbuild.build({
    entryPoints: [path.join(src, 'check.ts')],
    outfile: path.join(stage, 'check.js'),
    bundle: true, platform: 'node', format: 'cjs', target: 'node20', legalComments: 'none', logLevel: 'error',
    // ESM's import.meta in a CommonJS file: the bundle's own location
    banner: { js: 'const __importMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
    define: { 'import.meta.url': '__importMetaUrl', 'import.meta.dirname': '__dirname' },
    // tfjs-node(-gpu) are optional native engines the check never asks for (tfjs runs on wasm here)
    external: ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'],
    plugins: [{
      // the op table registers every file of its folder by a directory scan at import time
      // (engine/ops/index.ts); in one file that scan becomes the same imports, made static here
      name: 'op-table',
      setup(b) {
        b.onLoad({ filter: /engine[\\/]ops[\\/]index\.ts$/ }, async (args) => {
          const { opFiles } = await import(pathToFileURL(args.path).href);
          const files = opFiles(path.dirname(args.path));
          if (!files.length) throw new Error(`gpu-bundle: no op files next to ${args.path}`);
          return {
            contents: `${files.map((f) => `import './${f}';`).join('\n')}\nexport function opFiles() { return ${JSON.stringify(files)}; }\n`,
            loader: 'ts', resolveDir: path.dirname(args.path),
          };
        });
      },
    }, {
      name: 'onnxruntime-binding',
      setup(b) {
        b.onLoad({ filter: /onnxruntime-node[\\/]dist[\\/]binding\.js$/ }, (args) => ({
          contents: readFileSync(args.path, 'utf8').replace(/require\(`\.\.\/bin\/napi-v6\/[^`]*`\)/, `require(${JSON.stringify(`./${ORT_BIN}/onnxruntime_binding.node`)})`),
          loader: 'js',
        }));
        b.onResolve({ filter: /onnxruntime_binding\.node$/ }, (args) => ({ path: args.path, external: true }));
      },
    }],
  });
  // onnxruntime-node's own layout, so that core's ortBinDir() (where a CUDA provider would be installed)
  // resolves inside the bundle as it does in a checkout
  mkdirSync(path.join(stage, ORT_BIN), { recursive: true });
  copyFileSync(path.join(ortDir, 'package.json'), path.join(stage, 'node_modules', 'onnxruntime-node', 'package.json'));
  for (const f of ['onnxruntime_binding.node', 'libonnxruntime.so.1']) copyFileSync(path.join(ortBin, f), path.join(stage, ORT_BIN, f));
  // onnxruntime-node's JavaScript (and onnxruntime-common, which it requires) as installed: the engine's
  // WebGPU adapter probe and placement count open a session in a child `node -e` that requires the package
  // by its resolved path, outside check.js.
  const js = (src) => !/\.(map|ts)$/.test(src);
  cpSync(path.join(ortDir, 'dist'), path.join(stage, 'node_modules', 'onnxruntime-node', 'dist'), { recursive: true, filter: js });
  // its package.json is not an export: the package root is two folders above its CommonJS entry (dist/cjs/index.js)
  const commonDir = path.resolve(path.dirname(createRequire(path.join(ortDir, 'package.json')).resolve('onnxruntime-common')), '..', '..');
  mkdirSync(path.join(stage, 'node_modules', 'onnxruntime-common'), { recursive: true });
  copyFileSync(path.join(commonDir, 'package.json'), path.join(stage, 'node_modules', 'onnxruntime-common', 'package.json'));
  cpSync(path.join(commonDir, 'dist', 'cjs'), path.join(stage, 'node_modules', 'onnxruntime-common', 'dist', 'cjs'), { recursive: true, filter: js });
  // files core reads beside its modules (import.meta.dirname is check.js's folder in the bundle)
  copyFileSync(path.join(root, 'packages', 'core', 'src', 'weights', 'onnx', 'onnx.proto'), path.join(stage, 'onnx.proto'));
  const wasmDir = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
  for (const f of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm']) copyFileSync(path.join(wasmDir, f), path.join(stage, f));

  // the adapter probe, the node binary, the launcher
  const probe = path.join(stage, 'vk_adapter');
  sh('cc', ['-O2', '-Wall', '-o', probe, path.join(src, 'vk_adapter.c'), '-ldl'], 'compiling the adapter probe (needs cc and the Vulkan headers: Debian libvulkan-dev)');
  copyFileSync(process.execPath, path.join(stage, 'node'));
  chmodSync(path.join(stage, 'node'), 0o755);
  copyFileSync(path.join(src, 'run.sh'), path.join(stage, 'run'));
  chmodSync(path.join(stage, 'run'), 0o755);

  // the libraries all of them link, and the Vulkan loader, under their sonames
  const loader = vulkanLoader();
  const libs = new Map([['libvulkan.so.1', realpathSync(loader)]]);
  for (const f of [path.join(stage, 'node'), path.join(stage, ORT_BIN, 'onnxruntime_binding.node'), path.join(stage, ORT_BIN, 'libonnxruntime.so.1'), probe, loader]) {
    for (const [name, file] of sharedLibs(f)) if (!file.startsWith(stage)) libs.set(name, file);
  }
  // the loader apart (always used), the C runtime beside it (used where the node's glibc is older)
  mkdirSync(path.join(stage, 'lib', 'vulkan'));
  for (const [name, file] of libs) copyFileSync(file, path.join(stage, 'lib', name === 'libvulkan.so.1' ? 'vulkan' : '', name));
  const glibc = sh('getconf', ['GNU_LIBC_VERSION'], 'reading the glibc version').trim().replace(/^glibc /, '');
  if (!/^\d+\.\d+/.test(glibc)) throw new Error(`gpu-bundle: getconf GNU_LIBC_VERSION gave '${glibc}'; expected glibc's version`);
  writeFileSync(path.join(stage, 'lib', 'GLIBC_VERSION'), `${glibc}\n`);
  if (![...libs.keys()].some((n) => n.startsWith('ld-linux'))) throw new Error('gpu-bundle: ldd named no ld-linux loader for node; cannot make a bundle that runs on another glibc');

  // one archive, checked against the size a cluster node should have to fetch
  const archive = path.join(out, ARCHIVE);
  rmSync(archive, { force: true });
  sh('sh', ['-c', `tar -C "$1" -cf - ssmb-gpu-check | xz -T0 -${level} > "$2"`, 'sh', out, archive], 'writing the archive (tar | xz)');
  const mib = statSync(archive).size / 2 ** 20;
  const unpacked = Number(sh('du', ['-sb', stage], 'measuring the bundle').split('\t')[0]) / 2 ** 20;
  if (mib > MAX_MIB) throw new Error(`gpu-bundle: ${archive} is ${mib.toFixed(1)} MiB; expected at most ${MAX_MIB} MiB (xz level ${level})`);
  log(`gpu-bundle: ${archive}: ${mib.toFixed(1)} MiB (xz -${level}; ${unpacked.toFixed(0)} MiB unpacked) in ${((performance.now() - t0) / 1e3).toFixed(1)} s; ` +
    `node ${process.version}, onnxruntime-node ${JSON.parse(readFileSync(path.join(ortDir, 'package.json'), 'utf8')).version}, libraries: ${[...libs.keys()].sort().join(' ')}`);
  log(`run it on a GPU node: tar xJf ${ARCHIVE} && ./ssmb-gpu-check/run`);
  return { archive, mib, stage };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const { values } = parseArgs({ options: { out: { type: 'string' }, level: { type: 'string', default: '9' } } });
  buildGpuBundle({ out: values.out ? path.resolve(values.out) : undefined, level: Number(values.level) }).catch((err) => {
    console.error(err.message);
    process.exit(1);
  });
}
