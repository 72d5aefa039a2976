// Every file or folder a user types as an option (`--root data`, `--store runs.sqlite`, `--images a.png
// b.png`) is made absolute against the working directory as the option is parsed, once for every
// command: what a command records (a run's config, a report, a Slurm script) and what it hands to
// readers and workers then names the same place from any folder. Which options are paths is read from
// their placeholder, so a new command's `--x <file>` is covered without a line here.
import type { Command, Option } from 'commander';
import { userPath } from '@ssmb/protocols';

/** Placeholders of options whose value is a path: `<file>`, `<dir>`, `<json>`, `<files...>`. */
const PATH_PLACEHOLDER = /<(file|dir|json|files)(\.\.\.)?>/;

export function isPathOption(o: Option): boolean {
  return PATH_PLACEHOLDER.test(o.flags);
}

/** The command and every subcommand below it. */
export function allCommands(c: Command): Command[] {
  return [c, ...c.commands.flatMap((s) => allCommands(s as Command))];
}

/** Wraps the value parser of every path option of `program` (and its subcommands) with userPath. */
export function resolvePathOptions(program: Command): void {
  for (const cmd of allCommands(program)) {
    for (const o of cmd.options as Option[]) {
      if (!isPathOption(o) || (o.parseArg as { userPath?: true } | undefined)?.userPath) continue;
      const parse = o.parseArg;
      const wrapped = parse
        ? (v: string, prev: unknown) => parse(userPath(v), prev)
        : o.variadic
          ? (v: string, prev: unknown) => (prev === o.defaultValue || !Array.isArray(prev) ? [userPath(v)] : [...prev, userPath(v)])
          : (v: string) => userPath(v);
      o.argParser(Object.assign(wrapped, { userPath: true as const }));
    }
  }
}
