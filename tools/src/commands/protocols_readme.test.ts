// Pins packages/protocols/README.md "Adding a protocol without touching the package": a user who never opens
// packages/ saves the README's two files into a folder outside the repository, has a tree in the native
// layout, and runs the README's shell block as written (its four path variables set to temporary folders)
// through the real `ssmb` executable, in child processes, from that folder.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIResNet, initBackend, saveWeights } from '@ssmb/core';
import { greyPng } from '@ssmb/protocols/testing';

const REPO = path.resolve(import.meta.dirname, '..', '..', '..');
const README = fs.readFileSync(path.join(REPO, 'packages/protocols/README.md'), 'utf8');
const SECTION = README.slice(README.indexOf('## Adding a protocol without touching the package'));
const PROTOCOL = 'ssmb-exampleswir-vis-swir-s5-seed2026';

const home = fs.mkdtempSync(path.join(os.tmpdir(), 'ssmb-readme-'));
afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

/** "Save as `~/ssmb-protocols/x`:" followed by a fenced block -> [relative path, content]. */
function savedFiles(text: string): [string, string][] {
  return [...text.matchAll(/Save as\s+`~\/([^`]+)`:\s*\n\s*```[a-z]*\n([\s\S]*?)```/g)].map((m) => [m[1], m[2]]);
}

/** A face-like grey image that differs per subject and modality (the pipeline decodes and aligns it). */
function image(seed: number): Promise<Buffer> {
  return greyPng(40, 40, (x, y) => Math.round(Math.sin((x + seed) * 0.3) * 60 + Math.cos(y * seed * 0.05) * 60 + 128));
}

let data: string;
let weights: string;

beforeAll(async () => {
  // the dataset as its owner has it: <root>/<subject id>/{vis,swir}/<anything>.png, ids 01..40, plus macOS debris
  data = path.join(home, 'data', 'exampleswir');
  for (let id = 1; id <= 40; id++) {
    const subject = String(id).padStart(2, '0');
    for (const [folder, k] of [['vis', 0], ['swir', 1]] as const) {
      fs.mkdirSync(path.join(data, subject, folder), { recursive: true });
      for (const n of [1, 2]) fs.writeFileSync(path.join(data, subject, folder, `img_${n}.png`), await image(id * 7 + k * 3 + n));
    }
  }
  fs.writeFileSync(path.join(data, '.DS_Store'), 'junk');
  fs.writeFileSync(path.join(data, '03', 'vis', '._img_1.png'), 'AppleDouble');
  // a pre-trained backbone in our weights format (the test's small architecture)
  weights = path.join(home, 'models', 'backbone.safetensors');
  fs.mkdirSync(path.dirname(weights), { recursive: true });
  await initBackend();
  const model = createIResNet('iresnet-tiny', { seed: 3 });
  saveWeights(model, weights);
  model.dispose();
});

describe('packages/protocols README walk-through, run as a user would', () => {
  it('saves the reader and the spec, then the shell block: splits, list, check, evaluate all succeed', () => {
    const files = savedFiles(SECTION);
    expect(files.map(([f]) => f)).toEqual(['ssmb-protocols/exampleswir.reader.mjs', `ssmb-protocols/${PROTOCOL}.yaml`]);
    for (const [rel, text] of files) {
      fs.mkdirSync(path.dirname(path.join(home, rel)), { recursive: true });
      fs.writeFileSync(path.join(home, rel), text);
    }
    const block = /```sh\n([\s\S]*?)```/.exec(SECTION)![1];
    const mine: Record<string, string> = { PROTOCOLS: path.join(home, 'ssmb-protocols'), DATA: data, MODEL: 'iresnet-tiny', WEIGHTS: weights };
    const lines = block.trim().split('\n');
    // the README sets exactly these four paths; everything else runs verbatim
    expect(lines.filter((l) => /^[A-Z_]+=/.test(l)).map((l) => l.split('=')[0])).toEqual(Object.keys(mine));
    const script = lines.map((l) => {
      const m = /^([A-Z_]+)=/.exec(l);
      return m ? `${m[1]}=${JSON.stringify(mine[m[1]])}` : l;
    });
    // `ssmb` on PATH, as the README tells the user to set it up; run from the user's own folder
    const bin = path.join(home, 'bin');
    fs.mkdirSync(bin, { recursive: true });
    fs.symlinkSync(path.join(REPO, 'tools/bin/ssmb'), path.join(bin, 'ssmb'));
    const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${bin}:${process.env.PATH}`, HOME: home };
    delete env.SSMB_PROTOCOLS_DIR;
    delete env.VITEST; // the CLI as users run it
    const r = spawnSync('bash', ['-euo', 'pipefail', '-c', script.join('\n')], { cwd: home, env, encoding: 'utf8', timeout: 540_000 });
    const out = r.stdout;
    expect(r.status, `stdout:\n${out}\nstderr:\n${r.stderr}`).toBe(0);

    const split = path.join(home, 'ssmb-protocols', 'ssmb-exampleswir-20-20-s5-seed2026.json');
    expect(out).toContain(`wrote ${split}: 5 folds of 20 train / 20 test subjects (seed 2026)`);
    expect(JSON.parse(fs.readFileSync(split, 'utf8')).folds).toHaveLength(5);
    expect(out).toMatch(new RegExp(`^${PROTOCOL}\\s+ssmb\\s+\\./exampleswir\\.reader\\.mjs\\s+5 folds`, 'm'));
    expect(out).not.toContain('INVALID'); // the split file beside the spec is not read as a spec
    expect(out).toMatch(/^fold 1:\n\s+train\s+20 subjects\s+SWIR 40, VIS 40\n\s+gallery\s+20 subjects\s+VIS 20\n\s+probe\s+20 subjects\s+SWIR 40$/m);
    expect(out).toContain('note: ignored 2 system files');
    expect(out).toMatch(/^OK: every listed file is present and readable; headers only: run again with --deep/m);
    expect(out).toMatch(/^run 1$/m);
    for (let k = 1; k <= 5; k++) expect(out).toMatch(new RegExp(`^${PROTOCOL} fold ${k} rank1 \\d\\.\\d{4}$`, 'm'));
    expect(out).toMatch(new RegExp(`^${PROTOCOL} fold 3 tar_far_1e2 (\\d\\.\\d{4}|NaN) \\(\\d+ impostors\\)$`, 'm'));
    expect(fs.existsSync(path.join(home, 'runs.sqlite'))).toBe(true);
  });
});
