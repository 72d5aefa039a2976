import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ensureSystemPackages, readPackageList } from '../../../scripts/system-deps.mjs';

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
  writeFileSync(dpkg, `#!/bin/sh\neval pkg=\\$$#\nif [ -e "${marks}/$pkg" ]; then printf 'install ok installed'; else echo "no packages found matching $pkg" >&2; exit 1; fi\n`);
  chmodSync(dpkg, 0o755);
}
writeFileSync(path.join(withApt, 'apt-get'), `#!/bin/sh
echo "$@" >> "${log}"
if [ -n "$FAKE_APT_FAIL" ] && [ "$1" = install ]; then echo "E: Unable to locate package $FAKE_APT_FAIL" >&2; exit 100; fi
if [ "$1" = install ]; then for a in "$@"; do case "$a" in -*|install) ;; *) touch "${marks}/$a";; esac; done; fi
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
