// Every `ssmb <command> [subcommand] [--options]` and `npm run <script>` that the documentation and the
// shipped table configs tell a user to type, checked against the CLI's own command table (commander,
// as built by cli.ts) and the package.json scripts. Markdown is read in code (fenced blocks and `spans`),
// where commands are written; YAML configs in full (their comments carry the commands).
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';

export interface DocCommand {
  /** file relative to the repository root, and 1-based line */
  file: string;
  line: number;
  /** the command as written (joined continuation lines) */
  text: string;
}

export interface DocProblem extends DocCommand {
  problem: string;
}

/** The documents a user reads commands from, relative to the repository root. */
export function documentFiles(root: string): string[] {
  const out: string[] = [];
  const add = (rel: string) => existsSync(path.join(root, rel)) && out.push(rel);
  add('README.md');
  const inDir = (dir: string, ext: RegExp) =>
    existsSync(path.join(root, dir)) ? readdirSync(path.join(root, dir)).filter((f) => ext.test(f)).sort().map((f) => `${dir}/${f}`) : [];
  out.push(...inDir('docs', /\.md$/));
  for (const pkg of existsSync(path.join(root, 'packages')) ? readdirSync(path.join(root, 'packages')).sort() : []) add(`packages/${pkg}/README.md`);
  add('tools/README.md');
  out.push(...inDir('tables', /\.(ya?ml|md)$/));
  return out;
}

interface Segment {
  text: string;
  /** line of the segment's first character */
  line: number;
}

const lineAt = (text: string, offset: number) => text.slice(0, offset).split('\n').length;

/** Code in Markdown (fenced blocks, then inline spans outside them); all of a YAML file. */
function segments(file: string, text: string): Segment[] {
  if (/\.ya?ml$/.test(file)) return [{ text, line: 1 }];
  const out: Segment[] = [];
  const fence = /^(```|~~~)[^\n]*\n([\s\S]*?)^\1[ \t]*$/gm;
  let rest = text;
  for (const m of text.matchAll(fence)) {
    out.push({ text: m[2], line: lineAt(text, m.index! + m[0].indexOf('\n') + 1) });
    rest = rest.replace(m[0], (s) => s.replace(/[^\n]/g, ' ')); // keep offsets for the spans below
  }
  // a span may wrap onto the next line (not across a blank line); it is one command
  for (const m of rest.matchAll(/`([^`]+)`/g)) if (!m[1].includes('\n\n')) out.push({ text: m[1].replace(/\n/g, ' '), line: lineAt(rest, m.index!) });
  return out;
}

/** Logical lines: `\` continuations joined, YAML/shell comment markers of continuation lines dropped. */
function logicalLines(seg: Segment): Segment[] {
  const lines = seg.text.split('\n');
  const out: Segment[] = [];
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let text = lines[i];
    while (/\\\s*$/.test(text) && i + 1 < lines.length) text = text.replace(/\\\s*$/, ' ') + lines[++i].replace(/^\s*#?/, '');
    out.push({ text, line: seg.line + start });
  }
  return out;
}

const SEPARATORS = new Set(['&&', '||', '|', ';', '&', '#']);

function tokens(line: string): string[] {
  // backticks and quotes end a command inside prose-like YAML comments
  return line.replace(/[`]/g, ' ; ').split(/\s+/).filter(Boolean);
}

/** Every ssmb / npm run command in the documents. */
export function findDocCommands(root: string, files = documentFiles(root)): DocCommand[] {
  const out: DocCommand[] = [];
  for (const file of files) {
    const text = readFileSync(path.join(root, file), 'utf8');
    for (const seg of segments(file, text)) {
      for (const ll of logicalLines(seg)) {
        const t = tokens(ll.text);
        for (let i = 0; i < t.length; i++) {
          const isSsmb = t[i] === 'ssmb' || t[i].endsWith('/bin/ssmb');
          const isNpmRun = t[i] === 'npm' && (t[i + 1] === 'run' || t[i + 1] === 'run-script');
          if (!isSsmb && !isNpmRun) continue;
          let j = i + 1;
          while (j < t.length && !SEPARATORS.has(t[j]) && !t[j].startsWith('(')) j++;
          const cmd = t.slice(i, j);
          if (isSsmb && (cmd.length < 2 || !/^[a-z][\w-]*$/.test(cmd[1]))) continue; // the CLI's name, or `ssmb <command>`
          if (isNpmRun && cmd.length < 3) continue; // `npm run` itself, named in prose
          out.push({ file, line: ll.line, text: cmd.join(' ') });
          i = j - 1;
        }
      }
    }
  }
  return out;
}

function optionNames(cmd: Command): Set<string> {
  const names = new Set(['--help', '-h']);
  for (const o of cmd.options) {
    if (o.long) names.add(o.long);
    if (o.short) names.add(o.short);
  }
  return names;
}

/** Problems with `args` (after `ssmb`) against the program: unknown command, subcommand or option. */
export function checkSsmbArgs(program: Command, args: string[]): string | null {
  const top = program.commands.find((c) => c.name() === args[0] || c.aliases().includes(args[0]));
  if (!top) return `\`ssmb ${args[0]}\` is not a command (commands: ${program.commands.map((c) => c.name()).sort().join(', ')})`;
  let cmd = top;
  let rest = args.slice(1);
  if (top.commands.length > 0 && rest[0] && !rest[0].startsWith('-')) {
    const sub = top.commands.find((c) => c.name() === rest[0] || c.aliases().includes(rest[0]));
    if (!sub) return `\`ssmb ${args[0]} ${rest[0]}\` is not a command (${args[0]} has: ${top.commands.map((c) => c.name()).join(', ')})`;
    cmd = sub;
    rest = rest.slice(1);
  }
  const known = optionNames(cmd);
  // usage notation: [--opt X], --a|--b alternatives, repeatable `...`
  const written = rest.flatMap((a) => a.replace(/^[[(]+|[\])]+$|\.\.\.$/g, '').split('|'));
  for (const a of written) {
    if (!/^--?[A-Za-z]/.test(a)) continue;
    const name = a.split('=')[0].replace(/[\])]+$|\.\.\.$/g, '');
    if (!known.has(name)) {
      const full = cmd === top ? top.name() : `${top.name()} ${cmd.name()}`;
      return `\`ssmb ${full}\` has no option ${name} (options: ${[...known].filter((n) => n.startsWith('--')).join(', ')})`;
    }
  }
  return null;
}

type Scripts = Record<string, string>;

function scriptsOf(root: string, workspace: string | null): { scripts: Scripts; where: string } | null {
  const rootPkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts?: Scripts; workspaces?: string[] };
  if (!workspace) return { scripts: rootPkg.scripts ?? {}, where: 'package.json' };
  for (const ws of rootPkg.workspaces ?? []) {
    const file = path.join(root, ws, 'package.json');
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; scripts?: Scripts };
    if (pkg.name === workspace || ws === workspace) return { scripts: pkg.scripts ?? {}, where: `${ws}/package.json` };
  }
  return null;
}

/** Problems with `npm run <script> [-w ws] [-- args]`; an ssmb script's args are checked as ssmb's. */
export function checkNpmRun(root: string, program: Command, args: string[]): string | null {
  const dashes = args.indexOf('--');
  const own = dashes < 0 ? args : args.slice(0, dashes);
  const passed = dashes < 0 ? [] : args.slice(dashes + 1);
  let workspace: string | null = null;
  const positional: string[] = [];
  for (let i = 0; i < own.length; i++) {
    if (own[i] === '-w' || own[i] === '--workspace') workspace = own[++i] ?? null;
    else if (own[i].startsWith('--workspace=')) workspace = own[i].slice('--workspace='.length);
    else if (!own[i].startsWith('-')) positional.push(own[i]);
  }
  const script = positional[0];
  if (!script) return 'npm run without a script name';
  const found = scriptsOf(root, workspace);
  if (!found) return `npm workspace ${workspace} does not exist`;
  const body = found.scripts[script];
  if (body === undefined) return `npm script "${script}" is not in ${found.where} (scripts: ${Object.keys(found.scripts).join(', ')})`;
  const ssmb = body.match(/^(?:\S*\/)?bin\/ssmb\b(.*)$/);
  if (ssmb) {
    const viaScript = ssmb[1].trim().split(/\s+/).filter(Boolean);
    const all = [...viaScript, ...passed];
    if (all.length > 0) return checkSsmbArgs(program, all);
  }
  return null;
}

/** Every documented command that the CLI or the package scripts do not have. */
export function checkDocCommands(root: string, program: Command, commands = findDocCommands(root)): DocProblem[] {
  const problems: DocProblem[] = [];
  for (const c of commands) {
    const t = c.text.split(' ');
    const problem = t[0] === 'npm' ? checkNpmRun(root, program, t.slice(2)) : checkSsmbArgs(program, t.slice(1));
    if (problem) problems.push({ ...c, problem });
  }
  return problems;
}
