// `ssmb protocols list`, `ssmb protocols check <name> --root DIR [--fold F] [--deep]` and
// `ssmb protocols splits <spec>` (writes a user protocol's split file next to its spec).
import type { Command } from 'commander';
import { DEFAULT_FACE_PICK, FACE_PICKS, initBackend, type FacePick } from '@ssmb/core';
import {
  checkProtocol, formatCheckReport, getProtocol, listInvalidProtocols, listProtocols, protocolFolds, protocolSource, writeProtocolSplit,
  type ProtocolSpec,
} from '@ssmb/protocols';
import { faceLandmarker } from '@ssmb/trainer';

type Log = (line: string) => void;

/** Fold count, or why it cannot be known yet (a user split file not written). */
function foldsOrReason(s: ProtocolSpec): { folds: string[] } | { error: string } {
  try {
    return { folds: protocolFolds(s) };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

/**
 * One line per protocol: name, whose split it is, reader, fold count, description; then every user
 * spec file that did not load, with the reason (listing still succeeds: one bad file breaks nothing).
 * Returns how many spec files are invalid.
 */
export function protocolsList(opts: { json?: boolean }, log: Log = console.log): number {
  const specs = listProtocols();
  const invalid = listInvalidProtocols();
  if (opts.json) {
    log(JSON.stringify([
      ...specs.map((s) => {
        const f = foldsOrReason(s);
        return { ...s, ...('folds' in f ? { folds: f.folds } : { foldsError: f.error }), source: protocolSource(s.name) };
      }),
      ...invalid.map((i) => ({ name: i.name, source: i.source, invalid: i.reason })),
    ], null, 2));
    return invalid.length;
  }
  const width = Math.max(...specs.map((s) => s.name.length), ...invalid.map((i) => i.name.length));
  const readerWidth = Math.max(18, ...specs.map((s) => s.reader.length));
  for (const s of specs) {
    const f = foldsOrReason(s);
    const folds = 'folds' in f ? `${String(f.folds.length).padStart(2)} folds` : 'no split file';
    log(`${s.name.padEnd(width)}  ${s.origin.padEnd(10)} ${s.reader.padEnd(readerWidth)} ${folds}  ${s.description}`);
    if ('error' in f) log(`${''.padEnd(width)}  ${f.error}`);
  }
  for (const i of invalid) {
    const [first, ...rest] = i.reason.split('\n');
    log(`${i.name.padEnd(width)}  INVALID    ${i.source}: ${first.trim()}`);
    for (const line of rest) log(`${''.padEnd(width)}             ${line.trim()}`);
  }
  return invalid.length;
}

/** `--detect-faces [pick]`: true (the flag alone) is the default rule; anything else must name a rule. */
export function facePickOption(value: string | boolean | undefined): FacePick | null {
  if (value === undefined || value === false) return null;
  if (value === true) return DEFAULT_FACE_PICK;
  if (!(FACE_PICKS as readonly string[]).includes(value)) throw new Error(`--detect-faces must be one of ${FACE_PICKS.join(', ')} (or no value: ${DEFAULT_FACE_PICK}), received ${JSON.stringify(value)}`);
  return value as FacePick;
}

/** Returns the exit code: 0 when every listed file is present and readable, 1 otherwise. */
export async function protocolsCheck(
  name: string,
  opts: { root: string; fold?: string[]; deep?: boolean; json?: boolean; detectFaces?: string | boolean },
  log: Log = console.log,
): Promise<number> {
  const spec = getProtocol(name); // unknown protocol: error listing the known ones
  const known = protocolFolds(spec);
  for (const f of opts.fold ?? []) {
    if (!known.includes(f)) throw new Error(`protocol '${name}' has no fold '${f}'; its folds: ${known.join(', ')}`);
  }
  const pick = facePickOption(opts.detectFaces);
  if (pick) await initBackend(); // the detector runs on the tf engine
  const detectFaces = pick ? { landmarker: faceLandmarker(pick), pick } : undefined;
  const report = await checkProtocol(name, opts.root, { folds: opts.fold, deep: opts.deep, detectFaces });
  log(opts.json ? JSON.stringify(report, null, 2) : formatCheckReport(report));
  return report.ok ? 0 : 1;
}

/** `ssmb protocols splits <spec file | protocol>`: the split file from the spec's folds.definition, next to the spec. */
export function protocolsSplits(target: string, opts: { force?: boolean }, log: Log = console.log): void {
  const w = writeProtocolSplit(target, opts);
  const f = w.split.folds[0];
  const what = `${w.split.folds.length} folds of ${f.train.length} train / ${f.test.length} test subjects (seed ${w.split.seed})`;
  log(w.status === 'unchanged' ? `${w.file} is up to date: ${what}` : `${w.status === 'replaced' ? 'replaced' : 'wrote'} ${w.file}: ${what}`);
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

export function register(program: Command): void {
  const protocols = program.command('protocols').description('list protocols; check a dataset root against one; write a user split file');
  protocols
    .command('list')
    .description('every registered protocol (built-in specs plus SSMB_PROTOCOLS_DIR), then user spec files that are invalid, with the reason')
    .option('--json', 'full specs as JSON')
    .action((o) => void protocolsList(o));
  protocols
    .command('check <name>')
    .description('count samples per fold, role and modality; name every missing or unreadable file (exit 1 if any)')
    .requiredOption('--root <dir>', 'dataset root on disk')
    .option('--fold <fold>', 'check only this fold (repeatable)', collect)
    .option('--deep', 'decode every image fully instead of checking its header (the footer says how long that takes)')
    .option('--detect-faces [pick]', `run the face detector on images without eye annotations, as dataset.detectFaces does, and count per role the images with no face or several faces (pick: ${FACE_PICKS.join('|')}, default ${DEFAULT_FACE_PICK})`)
    .option('--json', 'machine-readable report')
    .action(async (name: string, o) => {
      const code = await protocolsCheck(name, o);
      if (code !== 0) process.exitCode = code;
    });
  protocols
    .command('splits <spec>')
    .description("write a protocol's split file next to its spec from the spec's folds.definition (seed, subjects, folds, train)")
    .option('--force', 'replace a split file that differs from the definition')
    .action((spec: string, o) => protocolsSplits(spec, o));
}
