// `ssmb protocols list` and `ssmb protocols check <name> --root DIR [--fold F] [--deep]`.
import type { Command } from 'commander';
import { checkProtocol, formatCheckReport, getProtocol, listProtocols, protocolFolds, protocolSource } from '@ssmb/protocols';

type Log = (line: string) => void;

/** One line per protocol: name, whose split it is, reader, fold count, description. */
export function protocolsList(opts: { json?: boolean }, log: Log = console.log): void {
  const specs = listProtocols();
  if (opts.json) {
    log(JSON.stringify(specs.map((s) => ({ ...s, folds: protocolFolds(s), source: protocolSource(s.name) })), null, 2));
    return;
  }
  const width = Math.max(...specs.map((s) => s.name.length));
  for (const s of specs) {
    log(`${s.name.padEnd(width)}  ${s.origin.padEnd(10)} ${s.reader.padEnd(18)} ${String(protocolFolds(s).length).padStart(2)} folds  ${s.description}`);
  }
}

/** Returns the exit code: 0 when every listed file is present and readable, 1 otherwise. */
export async function protocolsCheck(
  name: string,
  opts: { root: string; fold?: string[]; deep?: boolean; json?: boolean },
  log: Log = console.log,
): Promise<number> {
  const spec = getProtocol(name); // unknown protocol: error listing the known ones
  const known = protocolFolds(spec);
  for (const f of opts.fold ?? []) {
    if (!known.includes(f)) throw new Error(`protocol '${name}' has no fold '${f}'; its folds: ${known.join(', ')}`);
  }
  const report = await checkProtocol(name, opts.root, { folds: opts.fold, deep: opts.deep });
  log(opts.json ? JSON.stringify(report, null, 2) : formatCheckReport(report));
  return report.ok ? 0 : 1;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

export function register(program: Command): void {
  const protocols = program.command('protocols').description('list protocols; check a dataset root against one');
  protocols
    .command('list')
    .description('every registered protocol (built-in specs plus SSMB_PROTOCOLS_DIR)')
    .option('--json', 'full specs as JSON')
    .action((o) => protocolsList(o));
  protocols
    .command('check <name>')
    .description('count samples per fold, role and modality; name every missing or unreadable file (exit 1 if any)')
    .requiredOption('--root <dir>', 'dataset root on disk')
    .option('--fold <fold>', 'check only this fold (repeatable)', collect)
    .option('--deep', 'decode every image fully instead of checking its header')
    .option('--json', 'machine-readable report')
    .action(async (name: string, o) => {
      const code = await protocolsCheck(name, o);
      if (code !== 0) process.exitCode = code;
    });
}
