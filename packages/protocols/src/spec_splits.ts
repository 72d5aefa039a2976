// `ssmb protocols splits <spec>`: a user protocol carries its split definition (seed, subjects, folds,
// train size) and its split file is written next to the spec, where the registry looks first.
import fs from 'node:fs';
import path from 'node:path';
import { getProtocol, protocolSource, readSpecFile } from './registry.ts';
import type { ProtocolSpec } from './spec.ts';
import { formatSplitFile, makeIdentitySplits, SPEC_GENERATOR, splitDefinitionFromSpec, type SplitFile } from './splits.ts';

export interface WrittenSplit {
  file: string;
  split: SplitFile;
  /** written: new file; unchanged: the file already held exactly this; replaced: it differed (--force) */
  status: 'written' | 'unchanged' | 'replaced';
}

/** A spec file path, or the name of a registered protocol. */
function specAndFile(target: string): { spec: ProtocolSpec; file: string } {
  if (fs.existsSync(target) && fs.statSync(target).isFile()) {
    const file = path.resolve(target);
    const spec = readSpecFile(file);
    if (!spec) throw new Error(`${file} is a split file, not a protocol spec`);
    return { spec, file };
  }
  if (/[\\/]|\.(ya?ml|json)$/i.test(target)) throw new Error(`spec file ${path.resolve(target)} does not exist`);
  const spec = getProtocol(target);
  return { spec, file: protocolSource(target) };
}

/**
 * Writes `<split>.json` next to the spec from its `folds.definition`. A different file already there is
 * only replaced with `force`: results computed on the old split would silently stop matching it.
 */
export function writeProtocolSplit(target: string, opts: { force?: boolean } = {}): WrittenSplit {
  const { spec, file: specFile } = specAndFile(target);
  if (spec.folds.kind !== 'subjects') {
    throw new Error(`protocol ${spec.name} (${specFile}) has folds.kind ${spec.folds.kind}; only kind subjects has a split file to write`);
  }
  if (!spec.folds.definition) {
    throw new Error(
      `protocol ${spec.name} (${specFile}) has no folds.definition: add one, e.g.\n` +
        `  folds: { kind: subjects, split: ${spec.folds.split}, definition: { seed: 2026, subjects: { from: 1, to: 40 }, folds: 5, train: 20 } }`,
    );
  }
  const split = makeIdentitySplits(splitDefinitionFromSpec(spec.folds.split, spec.folds.definition), SPEC_GENERATOR);
  const text = formatSplitFile(split);
  const file = path.join(path.dirname(specFile), `${spec.folds.split}.json`);
  let status: WrittenSplit['status'] = 'written';
  if (fs.existsSync(file)) {
    const old = fs.readFileSync(file, 'utf8');
    if (old === text) return { file, split, status: 'unchanged' };
    if (!opts.force) {
      throw new Error(`${file} exists and differs from what the definition in ${specFile} gives; pass --force to replace it (runs on the old split will no longer match it)`);
    }
    status = 'replaced';
  }
  fs.writeFileSync(file, text);
  return { file, split, status };
}
