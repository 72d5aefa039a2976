import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { backportsSource, ensureSystemPackages, readPackageList } from '../../../scripts/system-deps.mjs';

// Fake dpkg-query / apt-get on PATH: a package is "installed" when a marker file exists; apt-get logs its
// arguments and, on install, writes the markers (or fails when FAKE_APT_FAIL is set).
const tmp = mkdtempSync(path.join(tmpdir(), 'ssmb-sysdeps-'));
const marks = path.join(tmp, 'installed');
const log = path.join(tmp, 'apt.log');
mkdirSync(marks);
const withApt = path.join(tmp, 'bin-apt');
const noApt = path.join(tmp, 'bin-noapt');
for (const dir of [withApt, noApt]) {
  mkdirSync(dir);
  const dpkg = path.join(dir, 'dpkg-query');
  writeFileSync(dpkg, `#!/bin/sh\neval pkg=\\$$#\nif [ -e "${marks}/$pkg" ]; then printf 'install ok installed %s' "$(cat "${marks}/$pkg" || true)"; else echo "no packages found matching $pkg" >&2; exit 1; fi\n`);
  chmodSync(dpkg, 0o755);
}
writeFileSync(path.join(withApt, 'apt-get'), `#!/bin/sh
echo "$@" >> "${log}"
if [ -n "$FAKE_APT_FAIL" ] && [ "$1" = install ]; then echo "E: Unable to locate package $FAKE_APT_FAIL" >&2; exit 100; fi
# install: each package's marker holds its version (25.0.7 from a backports suite, 1.0 otherwise)
if [ "$1" = install ]; then v=1.0; case "$*" in *-backports*) v=25.0.7;; esac
  skip=; for a in "$@"; do if [ -n "$skip" ]; then skip=; continue; fi
  case "$a" in -t) skip=1;; -*|install) ;; *) printf '%s' "$v" > "${marks}/$a";; esac; done; fi
`);
chmodSync(path.join(withApt, 'apt-get'), 0o755);
symlinkSync('/bin/sh', path.join(noApt, 'sh')); // the only other command there: no apt-get anywhere on PATH

const PATH = process.env.PATH;
const use = (bin: string) => (process.env.PATH = bin === noApt ? noApt : `${bin}:/usr/bin:/bin`);
afterEach(() => {
  process.env.PATH = PATH;
  rmSync(marks, { recursive: true, force: true });
  mkdirSync(marks);
  delete process.env.FAKE_APT_FAIL;
  rmSync(log, { force: true });
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const pkgs = [{ name: 'chromium', why: 'browser tests' }, { name: 'munge', why: 'slurm auth' }];
const quiet = { log: () => {} };

describe('scripts/system-deps.mjs (npm test and .ci/run install what the tests need)', () => {
  it('the one package list names chromium, and slurm-wlm and munge (the real-Slurm tests)', () => {
    expect(readPackageList().map((p) => p.name)).toEqual(expect.arrayContaining(['chromium', 'slurm-wlm', 'munge']));
  });

  it('installs only the missing packages with apt-get, non-interactively', () => {
    use(withApt);
    writeFileSync(path.join(marks, 'munge'), '');
    const r = ensureSystemPackages({ packages: pkgs, ...quiet });
    expect(r).toEqual({ ok: true, installed: ['chromium'], missing: [] });
    expect(readFileSync(log, 'utf8').trim().split('\n')).toEqual(['update -qq', 'install -y -qq --no-install-recommends chromium']);
    rmSync(log);
    expect(ensureSystemPackages({ packages: pkgs, ...quiet })).toEqual({ ok: true, installed: [], missing: [] }); // nothing to do now
    expect(existsSync(log)).toBe(false);
  });

  it('lists the Vulkan loader and a Mesa new enough for Dawn, from the backports suite', () => {
    expect(readPackageList().filter((p) => /vulkan/.test(p.name) && !p.name.endsWith('-dev'))).toEqual([
      expect.objectContaining({ name: 'libvulkan1' }),
      expect.objectContaining({ name: 'mesa-vulkan-drivers', min: '25', suite: 'backports' }),
      expect.objectContaining({ name: 'vulkan-tools' }),
    ]);
  });

  it('derives the backports source from the machine\'s own sources (deb822 or one-line), never a fixed host', () => {
    const os = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nVERSION_CODENAME=bookworm\n';
    const deb822 = { path: '/etc/apt/sources.list.d/debian.sources', text: 'Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm bookworm-updates\nComponents: main contrib\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\nTypes: deb\nURIs: http://mirror.example/debian-security\nSuites: bookworm-security\nComponents: main\n' };
    expect(backportsSource({ osReleaseText: os, sources: [deb822] })).toEqual({
      suite: 'bookworm-backports',
      text: 'Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm-backports\nComponents: main contrib\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n',
    });
    const oneLine = { path: '/etc/apt/sources.list', text: '# mirror\ndeb-src http://src.example/debian trixie main\ndeb [arch=amd64 signed-by=/k.gpg] http://other.example/debian trixie main non-free\n' };
    expect(backportsSource({ osReleaseText: 'VERSION_CODENAME=trixie\n', sources: [oneLine] })).toEqual({
      suite: 'trixie-backports', text: 'Types: deb\nURIs: http://other.example/debian\nSuites: trixie-backports\nComponents: main non-free\nSigned-By: /k.gpg\n',
    });
    const has = { path: '/etc/apt/sources.list.d/bp.list', text: 'deb http://mirror.example/debian bookworm-backports main\n' };
    expect(backportsSource({ osReleaseText: os, sources: [deb822, has] })).toEqual({ suite: 'bookworm-backports', present: true });
    expect(backportsSource({ osReleaseText: os, sources: [] })).toEqual({ error: "no apt source serves the release 'bookworm', so there is no archive to take bookworm-backports from" });
    expect(backportsSource({ osReleaseText: 'ID=alpine\n', sources: [deb822] })).toEqual({ error: 'os-release has no VERSION_CODENAME (not a Debian-like release)' });
  });

  it('installs a package older than its min= from the backports suite it adds (the rest as usual)', () => {
    use(withApt);
    writeFileSync(path.join(marks, 'mesa-vulkan-drivers'), '22.3.6-1+deb12u1'); // Debian 12's own: too old
    const file = path.join(tmp, 'backports.sources');
    const sources = () => ({ osReleaseText: 'VERSION_CODENAME=bookworm\n', sources: [{ path: '/etc/apt/sources.list', text: 'deb http://mirror.example/debian bookworm main\n' }] });
    const mesa = { name: 'mesa-vulkan-drivers', min: '25', suite: 'backports', why: 'software Vulkan' };
    const r = ensureSystemPackages({ packages: [mesa, { name: 'libvulkan1', why: 'loader' }], ...quiet, sources, backportsFile: file });
    expect(r).toEqual({ ok: true, installed: ['mesa-vulkan-drivers', 'libvulkan1'], missing: [] });
    expect(readFileSync(file, 'utf8')).toBe('Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm-backports\nComponents: main\n');
    expect(readFileSync(log, 'utf8').trim().split('\n')).toEqual([
      'update -qq', 'install -y -qq --no-install-recommends libvulkan1', 'install -y -qq --no-install-recommends -t bookworm-backports mesa-vulkan-drivers',
    ]);
    // a machine whose sources serve no release: named, nothing installed
    writeFileSync(path.join(marks, 'mesa-vulkan-drivers'), '22.3.6');
    const none = ensureSystemPackages({ packages: [mesa], ...quiet, sources: () => ({ osReleaseText: 'VERSION_CODENAME=bookworm\n', sources: [] }), backportsFile: file });
    expect(none).toMatchObject({ ok: false, missing: ['mesa-vulkan-drivers'] });
    expect(none.message).toContain("mesa-vulkan-drivers must come from the release's backports suite, and no apt source serves the release 'bookworm'");
    expect(none.message).toContain('mesa-vulkan-drivers (>= 25, from backports): software Vulkan');
  });

  it('says what failed and how to install by hand when apt-get fails', () => {
    use(withApt);
    process.env.FAKE_APT_FAIL = 'chromium';
    const r = ensureSystemPackages({ packages: pkgs.slice(0, 1), ...quiet });
    expect(r.ok).toBe(false);
    expect(r.missing).toEqual(['chromium']);
    expect(r.message).toContain('apt-get install failed (chromium):\nE: Unable to locate package chromium\n  chromium: browser tests\n');
    expect(r.message).toContain('sudo apt-get install -y chromium');
  });

  it('says so when the machine has no apt-get', () => {
    use(noApt);
    const r = ensureSystemPackages({ packages: pkgs.slice(0, 1), ...quiet });
    expect(r).toMatchObject({ ok: false, missing: ['chromium'] });
    expect(r.message).toBe(
      'the tests need these system packages and this machine has no apt-get:\n  chromium: browser tests\n' +
        'install them yourself (Debian/Ubuntu: sudo apt-get install -y chromium), then run the tests again',
    );
  });
});
