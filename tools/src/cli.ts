// `ssmb <command>`: every file in ./commands exports `register(program)`; they are discovered, not
// listed, so adding a command never edits this file. Their path options are then made absolute against
// the working directory as they are parsed (user_paths.ts).
import { Command } from 'commander';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { resolvePathOptions } from './user_paths.ts';

export interface CommandModule {
  register(program: Command): void;
}

export async function buildProgram(): Promise<Command> {
  const program = new Command('ssmb')
    .description('Modality-agnostic heterogeneous face recognition with Switch Style Modulation Blocks')
    .showHelpAfterError()
    .exitOverride();
  const dir = path.join(import.meta.dirname, 'commands');
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts')).sort();
  for (const file of files) {
    const mod = (await import(pathToFileURL(path.join(dir, file)).href)) as Partial<CommandModule>;
    if (typeof mod.register !== 'function') throw new Error(`tools/src/commands/${file} must export register(program)`);
    mod.register(program);
  }
  resolvePathOptions(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = await buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    const e = err as { code?: string; exitCode?: number; message?: string };
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return 0;
    if (e.code?.startsWith('commander.')) return e.exitCode ?? 1;
    console.error(`error: ${e.message ?? String(err)}`);
    return 1;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
