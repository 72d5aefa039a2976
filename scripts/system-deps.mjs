#!/usr/bin/env node
// Installs the Debian packages the tests need (scripts/system-packages.txt, the one list) when they are
// missing, with apt-get, so `npm ci && npm test` works on a fresh machine. Run by scripts/run-tests.mjs
// and .ci/run. Exit code 0 when every package is installed afterwards; otherwise a message saying what
// is missing and how to install it, and exit code 1.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export const PACKAGES_FILE = path.join(import.meta.dirname, 'system-packages.txt');

/** [{ name, why, min?, suite? }] from the list file (comments and blank lines skipped). After the name,
 *  `min=<version>` asks for at least that version and `suite=backports` says where a newer one comes from
 *  (the machine's own `<codename>-backports` suite, added from its Debian sources when missing). */
export function readPackageList(file = PACKAGES_FILE) {
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const [name, ...rest] = l.split(/\s+/);
      if (!/^[a-z0-9][a-z0-9+.-]+$/.test(name)) throw new Error(`${file}: "${name}" is not a Debian package name`);
      const p = { name };
      while (/^(min|suite)=/.test(rest[0] ?? '')) {
        const [k, v] = rest.shift().split('=');
        if (k === 'suite' && v !== 'backports') throw new Error(`${file}: ${name}: suite=${v}; the only suite this installer adds is backports`);
        p[k] = v;
      }
      return { ...p, why: rest.join(' ') };
    });
}

/** Parses an os-release file's text into its keys. */
function osRelease(text) {
  return Object.fromEntries(text.split('\n').map((l) => /^([A-Z_]+)=("?)(.*)\2$/.exec(l.trim())).filter(Boolean).map((m) => [m[1], m[3]]));
}

/** The apt entries of sources.list (one-line) and *.sources (deb822) files: [{ uris, suites, components, signedBy }]. */
export function parseAptSources(files) {
  const entries = [];
  for (const { path: file, text } of files) {
    if (file.endsWith('.sources')) {
      for (const stanza of text.split(/\n\s*\n/)) {
        const f = {};
        for (const line of stanza.split('\n')) {
          const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
          if (m) f[m[1].toLowerCase()] = m[2].trim();
        }
        if (!f.uris || !(f.types ?? '').split(/\s+/).includes('deb') || /^no$/i.test(f.enabled ?? '')) continue;
        entries.push({ uris: f.uris.split(/\s+/), suites: (f.suites ?? '').split(/\s+/), components: (f.components ?? 'main').split(/\s+/), signedBy: f['signed-by'] ?? '' });
      }
    } else {
      for (const line of text.split('\n')) {
        const m = /^deb\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)\s*(.*)$/.exec(line.trim());
        if (!m) continue;
        const signedBy = /signed-by=(\S+)/.exec(m[1] ?? '')?.[1] ?? '';
        entries.push({ uris: [m[2]], suites: [m[3]], components: m[4] ? m[4].split(/\s+/) : ['main'], signedBy });
      }
    }
  }
  return entries;
}

/** The backports suite this machine lacks, from its own sources: the archive that serves its release
 *  (`<codename>`) also serves `<codename>-backports`. Returns { suite, text } (a deb822 stanza to add),
 *  { suite, present: true } when a source already has it, or { error } saying why none can be derived. */
export function backportsSource({ osReleaseText, sources }) {
  const codename = osRelease(osReleaseText).VERSION_CODENAME;
  if (!codename) return { error: 'os-release has no VERSION_CODENAME (not a Debian-like release)' };
  const suite = `${codename}-backports`;
  const entries = parseAptSources(sources);
  if (entries.some((e) => e.suites.includes(suite))) return { suite, present: true };
  const main = entries.find((e) => e.suites.includes(codename));
  if (!main) return { error: `no apt source serves the release '${codename}', so there is no archive to take ${suite} from` };
  const lines = ['Types: deb', `URIs: ${main.uris.join(' ')}`, `Suites: ${suite}`, `Components: ${main.components.join(' ')}`];
  if (main.signedBy) lines.push(`Signed-By: ${main.signedBy}`);
  return { suite, text: `${lines.join('\n')}\n` };
}

/** The machine's os-release and apt source files, for backportsSource. */
function machineSources() {
  const dir = '/etc/apt/sources.list.d';
  const files = ['/etc/apt/sources.list', ...(existsSync(dir) ? readdirSync(dir).filter((f) => /\.(list|sources)$/.test(f)).map((f) => path.join(dir, f)) : [])];
  const read = (f) => (existsSync(f) ? readFileSync(f, 'utf8') : '');
  return { osReleaseText: read('/etc/os-release') || read('/usr/lib/os-release'), sources: files.filter(existsSync).map((f) => ({ path: f, text: read(f) })) };
}

/** Where the derived backports stanza is written. */
export const BACKPORTS_FILE = '/etc/apt/sources.list.d/ssmb-backports.sources';

const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

/** Whether dpkg says the package is installed (at version `min` or newer); without dpkg, whether a command
 *  of that name exists. */
export function isInstalled(name, min) {
  if (!has('dpkg-query')) return has(name);
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status} ${Version}', name], { encoding: 'utf8' });
  if (r.status !== 0 || !/\binstall ok installed\b/.test(r.stdout)) return false;
  if (!min) return true;
  const version = r.stdout.trim().split(' ').pop();
  return spawnSync('dpkg', ['--compare-versions', version, 'ge', min]).status === 0;
}

/** Missing packages installed with apt-get; returns { ok, installed, missing, message }. */
export function ensureSystemPackages({ packages = readPackageList(), log = (l) => process.stderr.write(`${l}\n`), sources = machineSources, backportsFile = BACKPORTS_FILE } = {}) {
  const missing = packages.filter((p) => !isInstalled(p.name, p.min));
  if (missing.length === 0) return { ok: true, installed: [], missing: [] };
  const names = missing.map((p) => p.name);
  const why = missing.map((p) => `  ${p.name}${p.min ? ` (>= ${p.min}${p.suite ? `, from ${p.suite}` : ''})` : ''}: ${p.why}`).join('\n');
  const manual = `install them yourself (Debian/Ubuntu: sudo apt-get install -y ${names.join(' ')}${missing.some((p) => p.suite) ? `; ${missing.filter((p) => p.suite).map((p) => p.name).join(' ')} with -t <codename>-backports` : ''}), then run the tests again`;
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
  const run = (args, input) => {
    const [cmd, ...rest] = [...prefix, ...args];
    return spawnSync(cmd, rest, { env, encoding: 'utf8', input });
  };
  // packages that need a newer version than the release has come from its backports suite
  const fromBackports = missing.filter((p) => p.suite === 'backports').map((p) => p.name);
  let backports = null;
  if (fromBackports.length) {
    backports = backportsSource(sources());
    if (backports.error) {
      return { ok: false, installed: [], missing: names, message: `${fromBackports.join(' ')} must come from the release's backports suite, and ${backports.error}:\n${why}\n${manual}` };
    }
    if (!backports.present) {
      log(`adding the apt source ${backports.suite} (${backportsFile}, from this machine's own Debian sources)`);
      const add = run(['sh', '-c', `cat > '${backportsFile}'`], backports.text);
      if (add.status !== 0) return { ok: false, installed: [], missing: names, message: `could not write ${backportsFile}: ${`${add.stderr}`.trim()}\n${why}\n${manual}` };
    }
  }
  const update = run(['apt-get', 'update', '-qq']);
  const plain = names.filter((n) => !fromBackports.includes(n));
  const installs = [];
  if (update.status === 0 && plain.length) installs.push(run(['apt-get', 'install', '-y', '-qq', '--no-install-recommends', ...plain]));
  if (update.status === 0 && fromBackports.length && installs.every((r) => r.status === 0)) {
    installs.push(run(['apt-get', 'install', '-y', '-qq', '--no-install-recommends', '-t', backports.suite, ...fromBackports]));
  }
  const install = installs.find((r) => r.status !== 0) ?? installs[0] ?? null;
  const failed = update.status !== 0 ? update : install && install.status !== 0 ? install : null;
  const still = missing.filter((p) => !isInstalled(p.name, p.min)).map((p) => p.name);
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
