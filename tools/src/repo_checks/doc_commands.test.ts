import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Command } from 'commander';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildProgram } from '../cli.ts';
import { checkDocCommands, documentFiles, findDocCommands } from './doc_commands.ts';
import { REPO_ROOT } from './import_cycles.ts';

let program: Command;
const tmp = mkdtempSync(path.join(tmpdir(), 'ssmb-docs-'));
beforeAll(async () => {
  program = await buildProgram();
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('commands named in the docs and shipped configs', () => {
  it('finds unknown commands, subcommands, options and npm scripts (the check can fail)', () => {
    const put = (f: string, text: string) => {
      mkdirSync(path.dirname(path.join(tmp, f)), { recursive: true });
      writeFileSync(path.join(tmp, f), text);
    };
    put('package.json', JSON.stringify({ scripts: { quickstart: 'tools/bin/ssmb quickstart', test: 'node x' }, workspaces: [] }));
    put('README.md', [
      'Run `npm run quickstart -- --no-serve`, then `npm run quikstart`.',
      'The method ssmb with N experts (prose is not a command).',
      '```sh',
      'tools/bin/ssmb runs list --store runs.sqlite && tools/bin/ssmb runs lst --store x',
      'tools/bin/ssmb reproduce --config t.yaml \\',
      '  --rooot casia=/data',
      '```',
    ].join('\n'));
    put('docs/guide.md', 'Usage: `ssmb import-weights --onnx|--safetensors FILE [--out FILE] [--verify]` and `ssmb export-onnx RUN_ID [--fold-bn]`.');
    put('tables/x.yaml', '# tools/bin/ssmb reproduce --config tables/x.yaml \\\n#   --weights W   (import weights with `ssmb weights import`)\nname: x\n');
    expect(documentFiles(tmp)).toEqual(['README.md', 'docs/guide.md', 'tables/x.yaml']);
    const found = findDocCommands(tmp).map((c) => `${c.file}:${c.line} ${c.text}`);
    expect(found).toEqual([
      'README.md:4 tools/bin/ssmb runs list --store runs.sqlite',
      'README.md:4 tools/bin/ssmb runs lst --store x',
      'README.md:5 tools/bin/ssmb reproduce --config t.yaml --rooot casia=/data',
      'README.md:1 npm run quickstart -- --no-serve',
      'README.md:1 npm run quikstart',
      'docs/guide.md:1 ssmb import-weights --onnx|--safetensors FILE [--out FILE] [--verify]',
      'docs/guide.md:1 ssmb export-onnx RUN_ID [--fold-bn]',
      'tables/x.yaml:1 tools/bin/ssmb reproduce --config tables/x.yaml --weights W',
      'tables/x.yaml:1 ssmb weights import',
    ]);
    expect(checkDocCommands(tmp, program).map((p) => `${p.file}:${p.line} ${p.problem}`)).toEqual([
      'README.md:4 `ssmb runs lst` is not a command (runs has: list, show, cancel, requeue, archive, tag)',
      expect.stringMatching(/^README\.md:5 `ssmb reproduce` has no option --rooot \(options: .*--root/),
      expect.stringMatching(/^README\.md:1 npm script "quikstart" is not in package\.json \(scripts: quickstart, test\)$/),
      expect.stringMatching(/^tables\/x\.yaml:1 `ssmb weights` is not a command \(commands: .*import-weights/),
    ]);
  });

  it('README.md, docs/, packages/*/README.md and tables/ name only commands and options the CLI has', () => {
    const commands = findDocCommands(REPO_ROOT);
    expect(commands.length).toBeGreaterThan(20); // the documents were really read
    expect(commands.some((c) => c.file === 'README.md')).toBe(true);
    expect(checkDocCommands(REPO_ROOT, program, commands).map((p) => `${p.file}:${p.line}: ${p.text}\n  ${p.problem}`)).toEqual([]);
  });
});
