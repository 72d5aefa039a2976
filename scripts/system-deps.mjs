#!/usr/bin/env node
// Installs the Debian packages the tests need (scripts/system-packages.txt, the one list) when they are
// missing, with apt-get, so `npm ci && npm test` works on a fresh machine. Run by scripts/run-tests.mjs
// and .ci/run. Exit code 0 when every package is installed afterwards; otherwise a message saying what
// is missing and how to install it, and exit code 1.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export const PACKAGES_FILE = path.join(import.meta.dirname, 'system-packages.txt');

/** [{ name, why }] from the list file (comments and blank lines skipped). */
export function readPackageList(file = PACKAGES_FILE) {
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const [name, ...why] = l.split(/\s+/);
      if (!/^[a-z0-9][a-z0-9+.-]+$/.test(name)) throw new Error(`${file}: "${name}" is not a Debian package name`);
      return { name, why: why.join(' ') };
    });
}

const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

/** Whether dpkg says the package is installed; without dpkg, whether a command of that name exists. */
export function isInstalled(name) {
  if (!has('dpkg-query')) return has(name);
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', name], { encoding: 'utf8' });
  return r.status === 0 && /\binstall ok installed\b/.test(r.stdout);
}

/** Missing packages installed with apt-get; returns { ok, installed, missing, message }. */
export function ensureSystemPackages({ packages = readPackageList(), log = (l) => process.stderr.write(`${l}\n`) } = {}) {
  const missing = packages.filter((p) => !isInstalled(p.name));
  if (missing.length === 0) return { ok: true, installed: [], missing: [] };
  const names = missing.map((p) => p.name);
  const why = missing.map((p) => `  ${p.name}: ${p.why}`).join('\n');
  const manual = `install them yourself (Debian/Ubuntu: sudo apt-get install -y ${names.join(' ')}), then run the tests again`;
  if (!has('apt-get')) {
    return { ok: false, installed: [], missing: names, message: `the tests need these system packages and this machine has no apt-get:\n${why}\n${manual}` };
  }
  const root = process.getuid?.() === 0;
  const prefix = root ? [] : has('sudo') ? ['sudo', '-n'] : null;
  if (prefix === null) {
    return { ok: false, installed: [], missing: names, message: `the tests need these system packages; installing them needs root (no sudo here):\n${why}\n${manual}` };
  }
  log(`installing system packages the tests need: ${names.join(' ')} (apt-get)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const run = (args) => {
    const [cmd, ...rest] = [...prefix, ...args];
    return spawnSync(cmd, rest, { env, encoding: 'utf8' });
  };
  const update = run(['apt-get', 'update', '-qq']);
  const install = update.status === 0 ? run(['apt-get', 'install', '-y', '-qq', '--no-install-recommends', ...names]) : null;
  const failed = update.status !== 0 ? update : install && install.status !== 0 ? install : null;
  const still = names.filter((n) => !isInstalled(n));
  if (failed || still.length > 0) {
    const out = failed ? `${failed.stderr || failed.stdout || failed.error?.message || ''}`.trim().split('\n').slice(-5).join('\n') : '';
    const step = failed === update ? 'apt-get update' : 'apt-get install';
    return {
      ok: false,
      installed: names.filter((n) => !still.includes(n)),
      missing: still.length ? still : names,
      message: `${failed ? `${step} failed` : 'apt-get finished but these are still not installed'} (${(still.length ? still : names).join(' ')}):\n${out ? `${out}\n` : ''}${why}\n${manual}`,
    };
  }
  return { ok: true, installed: names, missing: [] };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const r = ensureSystemPackages();
  if (!r.ok) {
    process.stderr.write(`system-deps: ${r.message}\n`);
    process.exit(1);
  }
  if (r.installed.length) process.stderr.write(`system-deps: installed ${r.installed.join(' ')}\n`);
}
