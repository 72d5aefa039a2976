// Protocol registry: loads the spec files and turns (protocol, dataset root, fold) into train/gallery/probe.
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { FileResolver } from './paths.ts';
import { getReader } from './readers/index.ts';
import { compareIds } from './readers/reader.ts';
import { parseSpec, type ProtocolSpec, type RoleSelect } from './spec.ts';
import { readSplitFile } from './splits.ts';
import { ROLES, type Fold, type MissingEntry, type ReadResult, type Role, type Sample } from './types.ts';

export const SPECS_DIR = path.join(import.meta.dirname, '..', 'specs');

const specs = new Map<string, { spec: ProtocolSpec; source: string }>();
let loaded = false;

/** Load every *.yaml / *.yml / *.json spec in a directory; the file name must be the protocol name. */
export function loadSpecDir(dir: string): ProtocolSpec[] {
  const out: ProtocolSpec[] = [];
  for (const f of fs.readdirSync(dir).sort()) {
    const ext = path.extname(f).toLowerCase();
    if (!['.yaml', '.yml', '.json'].includes(ext)) continue;
    const file = path.join(dir, f);
    const text = fs.readFileSync(file, 'utf8');
    let raw: unknown;
    try {
      raw = ext === '.json' ? JSON.parse(text) : YAML.parse(text);
    } catch (err) {
      throw new Error(`protocol spec ${file} is not valid ${ext === '.json' ? 'JSON' : 'YAML'}: ${(err as Error).message}`);
    }
    const spec = parseSpec(raw, file);
    if (spec.name !== path.basename(f, path.extname(f))) {
      throw new Error(`protocol spec ${file} declares name '${spec.name}': rename the file to ${spec.name}${ext}`);
    }
    registerProtocol(spec, file);
    out.push(spec);
  }
  return out;
}

export function registerProtocol(spec: ProtocolSpec, source = '<code>'): void {
  const prev = specs.get(spec.name);
  if (prev && prev.source !== source) {
    throw new Error(`protocol '${spec.name}' is defined twice: ${prev.source} and ${source}`);
  }
  getReader(spec.reader); // fail at load time on an unknown reader
  specs.set(spec.name, { spec, source });
}

/** Built-in specs, plus every directory in SSMB_PROTOCOLS_DIR (path-list) for user protocols. */
function ensureLoaded(): void {
  if (loaded) return;
  loaded = true;
  loadSpecDir(SPECS_DIR);
  for (const dir of (process.env.SSMB_PROTOCOLS_DIR ?? '').split(path.delimiter).filter(Boolean)) loadSpecDir(dir);
}

export function listProtocols(): ProtocolSpec[] {
  ensureLoaded();
  return [...specs.values()].map((s) => s.spec).sort((a, b) => a.name.localeCompare(b.name));
}

export function getProtocol(name: string): ProtocolSpec {
  ensureLoaded();
  const hit = specs.get(name);
  if (!hit) {
    throw new Error(`unknown protocol '${name}'; known protocols: ${[...specs.keys()].sort().join(', ')}`);
  }
  return hit.spec;
}

export function protocolSource(name: string): string {
  getProtocol(name);
  return specs.get(name)!.source;
}

/** Fold names a protocol declares. */
export function protocolFolds(spec: ProtocolSpec): string[] {
  const f = spec.folds;
  if (f.kind === 'lists') return f.names;
  if (f.kind === 'fixed-test') return [f.name];
  return readSplitFile(f.split).folds.map((x) => x.name);
}

export interface FoldRead {
  fold: Fold;
  missing: MissingEntry[];
  notes: string[];
}

function checkRoot(root: string): void {
  if (!fs.existsSync(root)) throw new Error(`dataset root ${root} does not exist`);
  if (!fs.statSync(root).isDirectory()) throw new Error(`dataset root ${root} is not a directory`);
}

function select(samples: Sample[], sel: RoleSelect, subjects?: Set<string>): Sample[] {
  const seen = new Set<string>();
  let out = samples.filter((s) => {
    if (seen.has(s.path)) return false; // a file named by two lists counts once
    seen.add(s.path);
    if (subjects && !subjects.has(s.subject)) return false;
    if (!sel.modalities.includes(s.modality)) return false;
    for (const [attr, values] of Object.entries(sel.where ?? {})) {
      if (!values.includes(s.attributes?.[attr] ?? '')) return false;
    }
    return true;
  });
  if (sel.perSubject) {
    const sorted = out.slice().sort((a, b) => compareIds(a.path, b.path));
    const count = new Map<string, number>();
    const keep = new Set<Sample>();
    for (const s of sorted) {
      const n = count.get(s.subject) ?? 0;
      if (n < sel.perSubject) keep.add(s);
      count.set(s.subject, n + 1);
    }
    out = out.filter((s) => keep.has(s));
  }
  return out;
}

/** Read one fold, returning everything that was missing and every tolerated gap alongside it. */
export function readFold(nameOrSpec: string | ProtocolSpec, root: string, fold: string): FoldRead {
  const spec = typeof nameOrSpec === 'string' ? getProtocol(nameOrSpec) : nameOrSpec;
  const folds = protocolFolds(spec);
  if (!folds.includes(fold)) {
    throw new Error(`protocol '${spec.name}' has no fold '${fold}'; its folds: ${folds.join(', ')}`);
  }
  checkRoot(root);
  const reader = getReader(spec.reader);
  const resolver = new FileResolver(root);
  const missing: MissingEntry[] = [];
  const notes: string[] = [];
  const result = { protocol: spec.name, fold } as Fold;

  if (spec.folds.kind === 'lists') {
    if (!reader.readList) throw new Error(`reader '${reader.name}' cannot read list files (protocol ${spec.name})`);
    for (const role of ROLES) {
      const all: Sample[] = [];
      for (const template of spec.folds.lists[role]) {
        const list = template.replaceAll('<fold>', fold);
        const file = resolver.resolve(list.split('/'));
        if (!file) {
          missing.push({ role, list, entry: list, reason: 'list file not found' });
          continue;
        }
        const r = reader.readList(path.relative(root, file), { root, resolver, role, options: spec.options ?? {} });
        all.push(...r.samples);
        missing.push(...r.missing.map((m) => ({ ...m, role })));
        notes.push(...r.notes);
      }
      result[role] = select(all, spec.roles[role]);
      const dropped = new Set(all.map((s) => s.path)).size - result[role].length;
      if (dropped > 0 && !spec.roles[role].perSubject) notes.push(`${role}: ${dropped} listed samples are not of modality ${spec.roles[role].modalities.join('/')}`);
    }
  } else {
    if (!reader.scan) throw new Error(`reader '${reader.name}' cannot scan a tree (protocol ${spec.name})`);
    const scan: ReadResult = reader.scan(root, resolver);
    missing.push(...scan.missing);
    notes.push(...scan.notes);
    const found = new Set(scan.samples.map((s) => s.subject));
    let train: string[];
    let test: string[];
    if (spec.folds.kind === 'subjects') {
      const split = readSplitFile(spec.folds.split).folds.find((f) => f.name === fold)!;
      ({ train, test } = split);
    } else {
      test = spec.folds.test;
      train = [...found].filter((s) => !test.includes(s)).sort(compareIds);
    }
    for (const id of [...train, ...test]) {
      if (!found.has(id)) missing.push({ entry: `subject ${id}`, reason: 'split names this subject but the root has no image of it' });
    }
    const trainSet = new Set(train);
    const testSet = new Set(test);
    result.train = select(scan.samples, spec.roles.train, trainSet);
    result.gallery = select(scan.samples, spec.roles.gallery, testSet);
    result.probe = select(scan.samples, spec.roles.probe, testSet);
    for (const role of ['gallery', 'probe'] as Role[]) {
      const have = new Set(result[role].map((s) => s.subject));
      const lack = test.filter((id) => found.has(id) && !have.has(id));
      if (lack.length) notes.push(`${role}: no ${spec.roles[role].modalities.join('/')} image for test subject${lack.length > 1 ? 's' : ''} ${lack.join(', ')}`);
    }
  }
  return { fold: result, missing, notes };
}

/** Contract entry point: the fold's samples (missing files are left out; `protocols check` lists them). */
export async function loadFold(name: string, root: string, fold: string): Promise<Fold> {
  return readFold(name, root, fold).fold;
}
