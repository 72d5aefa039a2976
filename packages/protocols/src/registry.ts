// Protocol registry: loads the spec files and turns (protocol, dataset root, fold) into train/gallery/probe.
// Built-in specs live in specs/; users add directories with SSMB_PROTOCOLS_DIR. A user spec that is
// broken (bad YAML, unknown key, unknown reader, a name taken) is recorded as invalid with its reason and
// never stops the others from loading; a built-in spec that is broken is a bug and throws.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import YAML from 'yaml';
import { escapesRoot, FileResolver, isImageName, isSystemFile, outsideRootReason, userPath } from './paths.ts';
import { getReader } from './readers/index.ts';
import { compareIds, gapNotes, idList, type DatasetReader } from './readers/reader.ts';
import { isReaderModule, parseSpec, type ProtocolSpec, type RoleSelect } from './spec.ts';
import {
  definitionHash, findSplitFile, isSplitFile, makeIdentitySplits, readSplitFile, SPEC_GENERATOR, splitDefinitionFromSpec, type SplitFile,
} from './splits.ts';
import { ROLES, type Fold, type MissingEntry, type OnMissing, type ReadResult, type Role, type Sample } from './types.ts';

export const SPECS_DIR = path.join(import.meta.dirname, '..', 'specs');

interface Entry {
  spec: ProtocolSpec;
  /** spec file, or '<code>' for registerProtocol callers */
  source: string;
  /** absolute path of the reader module when the spec names one */
  readerFile?: string;
}

/** A user spec that could not be loaded, and why (shown by `ssmb protocols list`). */
export interface InvalidSpec {
  /** protocol name: the file name without extension */
  name: string;
  source: string;
  reason: string;
}

const specs = new Map<string, Entry>();
const invalid = new Map<string, InvalidSpec>(); // by source
const readerModules = new Map<string, Promise<DatasetReader>>(); // absolute module path -> reader
const loadedReaders = new Map<string, DatasetReader>();
let loaded = false;

const SPEC_EXTENSIONS = ['.yaml', '.yml', '.json'];

/** Parse one spec file; throws with the file named. Returns null for a split file (not a spec). */
export function readSpecFile(file: string): ProtocolSpec | null {
  const ext = path.extname(file).toLowerCase();
  const text = fs.readFileSync(file, 'utf8');
  let raw: unknown;
  try {
    raw = ext === '.json' ? JSON.parse(text) : YAML.parse(text);
  } catch (err) {
    throw new Error(`protocol spec ${file} is not valid ${ext === '.json' ? 'JSON' : 'YAML'}: ${(err as Error).message}`);
  }
  if (isSplitFile(raw)) return null; // split files sit next to the specs that use them
  const spec = parseSpec(raw, file);
  if (spec.name !== path.basename(file, path.extname(file))) {
    throw new Error(`protocol spec ${file} declares name '${spec.name}': rename the file to ${spec.name}${ext}`);
  }
  return spec;
}

/**
 * Load every *.yaml / *.yml / *.json spec in a directory (the file name must be the protocol name).
 * JSON split files in the same directory are recognised and left alone. `strict` (built-in specs):
 * the first problem throws; otherwise each broken file is recorded as invalid and the rest load.
 */
export function loadSpecDir(dir: string, opts: { strict?: boolean } = {}): { specs: ProtocolSpec[]; invalid: InvalidSpec[] } {
  const out: ProtocolSpec[] = [];
  const bad: InvalidSpec[] = [];
  const fail = (file: string, err: unknown) => {
    if (opts.strict) throw err;
    const reason = (err as Error).message.replace(`invalid protocol spec ${file}:\n`, '').replace(`protocol spec ${file} `, '');
    const entry = { name: path.basename(file, path.extname(file)), source: file, reason };
    invalid.set(file, entry);
    bad.push(entry);
  };
  let names: string[];
  try {
    names = fs.readdirSync(dir).sort();
  } catch (err) {
    fail(dir, new Error(`protocol directory ${dir} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); check SSMB_PROTOCOLS_DIR`));
    return { specs: out, invalid: bad };
  }
  for (const f of names) {
    if (isSystemFile(f) || !SPEC_EXTENSIONS.includes(path.extname(f).toLowerCase())) continue;
    const file = path.join(dir, f);
    try {
      const spec = readSpecFile(file);
      if (!spec) continue;
      registerProtocol(spec, file);
      invalid.delete(file);
      out.push(spec);
    } catch (err) {
      fail(file, err);
    }
  }
  return { specs: out, invalid: bad };
}

export function registerProtocol(spec: ProtocolSpec, source = '<code>'): void {
  const prev = specs.get(spec.name);
  if (prev && prev.source !== source) {
    throw new Error(`protocol '${spec.name}' is defined twice: ${prev.source} and ${source}`);
  }
  let readerFile: string | undefined;
  if (isReaderModule(spec.reader)) {
    const base = source === '<code>' ? process.cwd() : path.dirname(source);
    readerFile = path.resolve(base, spec.reader);
    if (!fs.existsSync(readerFile)) throw new Error(`reader module ${spec.reader} not found: expected the file ${readerFile} (relative to the spec)`);
  } else {
    getReader(spec.reader); // fail at load time on an unknown reader
  }
  specs.set(spec.name, { spec, source, ...(readerFile ? { readerFile } : {}) });
}

/** Built-in specs, plus every directory in SSMB_PROTOCOLS_DIR (path-list) for user protocols. */
function ensureLoaded(): void {
  if (loaded) return;
  loaded = true;
  loadSpecDir(SPECS_DIR, { strict: true });
  for (const dir of (process.env.SSMB_PROTOCOLS_DIR ?? '').split(path.delimiter).filter(Boolean)) loadSpecDir(path.resolve(dir));
}

/** Forget every loaded spec and read the spec directories again (SSMB_PROTOCOLS_DIR as it is now). */
export function reloadProtocols(): void {
  specs.clear();
  invalid.clear();
  loaded = false;
  ensureLoaded();
}

export function listProtocols(): ProtocolSpec[] {
  ensureLoaded();
  return [...specs.values()].map((s) => s.spec).sort((a, b) => a.name.localeCompare(b.name));
}

/** User spec files that did not load, with the reason. */
export function listInvalidProtocols(): InvalidSpec[] {
  ensureLoaded();
  return [...invalid.values()].sort((a, b) => a.source.localeCompare(b.source));
}

export function getProtocol(name: string): ProtocolSpec {
  ensureLoaded();
  const hit = specs.get(name);
  if (!hit) {
    const bad = [...invalid.values()].find((i) => i.name === name);
    if (bad) throw new Error(`protocol spec ${bad.source} is invalid: ${bad.reason}`);
    throw new Error(`unknown protocol '${name}'; known protocols: ${[...specs.keys()].sort().join(', ')}`);
  }
  return hit.spec;
}

export function protocolSource(name: string): string {
  getProtocol(name);
  return specs.get(name)!.source;
}

function entryOf(spec: ProtocolSpec): Entry | undefined {
  ensureLoaded();
  const e = specs.get(spec.name);
  return e && e.spec === spec ? e : undefined;
}

/** Where the split file of a `subjects` protocol is looked for (next to its spec first), and how to write it. */
function splitPlaces(spec: ProtocolSpec & { folds: { kind: 'subjects' } }): { dirs: string[]; fix: string; target: string } {
  const source = entryOf(spec)?.source;
  const dirs = source && source !== '<code>' ? [path.dirname(source)] : [];
  const target = source && source !== '<code>' ? source : spec.name;
  const fix = spec.folds.definition
    ? `run \`ssmb protocols splits ${target}\` to write it from the spec's split definition`
    : dirs.length && path.resolve(dirs[0]) !== path.resolve(SPECS_DIR)
      ? `put ${spec.folds.split}.json next to the spec, or give the spec a folds.definition and run \`ssmb protocols splits\``
      : 'run `npm run splits -w @ssmb/protocols`';
  return { dirs, fix, target };
}

/** The split file of a `subjects` protocol: next to its spec first, then the shipped splits/. */
export function protocolSplit(spec: ProtocolSpec): SplitFile {
  if (spec.folds.kind !== 'subjects') throw new Error(`protocol '${spec.name}' has ${spec.folds.kind} folds, not a subject split`);
  const { dirs, fix } = splitPlaces(spec as ProtocolSpec & { folds: { kind: 'subjects' } });
  return readSplitFile(spec.folds.split, dirs, fix);
}

/**
 * Why the split file of a protocol with a `folds.definition` no longer matches that definition (it was
 * written before the definition changed), or null when it matches or the protocol has no definition.
 * The file records the definition's hash; a file written before hashes were recorded matches when its
 * folds are the ones the definition gives.
 */
export function staleSplitReason(spec: ProtocolSpec): string | null {
  if (spec.folds.kind !== 'subjects' || !spec.folds.definition) return null;
  const { dirs, fix, target } = splitPlaces(spec as ProtocolSpec & { folds: { kind: 'subjects' } });
  const file = findSplitFile(spec.folds.split, dirs, fix);
  const split = readSplitFile(spec.folds.split, dirs, fix);
  const def = splitDefinitionFromSpec(spec.folds.split, spec.folds.definition);
  const want = definitionHash(def);
  if (split.definition === want) return null;
  const fresh = makeIdentitySplits(def, SPEC_GENERATOR);
  if (split.definition === undefined && JSON.stringify([split.subjects, split.folds]) === JSON.stringify([fresh.subjects, fresh.folds])) return null;
  return `split file ${file} is stale: it was written from ${split.definition ? `split definition ${split.definition}` : 'another split definition'}, ` +
    `but ${target} now defines ${want} (seed ${def.seed}, ${def.subjects.length} subjects, ${def.folds} folds of ${def.train} train); ` +
    `rewrite it with \`ssmb protocols splits ${target} --force\` (results of runs on the old split will no longer match it)`;
}

/** Fold names a protocol declares. */
export function protocolFolds(spec: ProtocolSpec): string[] {
  const f = spec.folds;
  if (f.kind === 'lists') return f.names;
  if (f.kind === 'fixed-test') return [f.name];
  return protocolSplit(spec).folds.map((x) => x.name);
}

// ---- readers ----

function checkReaderExport(mod: Record<string, unknown>, file: string): DatasetReader {
  const r = (mod.default ?? mod.reader) as Partial<DatasetReader> | undefined;
  const expected = 'expected its default export to be a reader { name, description, scan(root, resolver) or readList(listFile, ctx) }';
  if (!r || typeof r !== 'object') throw new Error(`reader module ${file} exports no reader: ${expected}`);
  if (typeof r.name !== 'string' || !r.name) throw new Error(`reader module ${file}: reader.name is ${JSON.stringify(r.name)}; ${expected}`);
  if (typeof r.scan !== 'function' && typeof r.readList !== 'function') throw new Error(`reader module ${file}: reader '${r.name}' has neither scan nor readList; ${expected}`);
  return { description: '', ...r } as DatasetReader;
}

/** Loads (once per process) the reader module a spec names; built-in readers resolve at once. */
export async function loadProtocolReader(nameOrSpec: string | ProtocolSpec): Promise<DatasetReader> {
  const spec = typeof nameOrSpec === 'string' ? getProtocol(nameOrSpec) : nameOrSpec;
  const file = entryOf(spec)?.readerFile;
  if (!file) return getReader(spec.reader);
  let pending = readerModules.get(file);
  if (!pending) {
    pending = import(pathToFileURL(file).href).then(
      (mod: Record<string, unknown>) => checkReaderExport(mod, file),
      (err: Error) => {
        throw new Error(`reader module ${file} (named by ${entryOf(spec)!.source}) failed to load: ${err.message}`);
      },
    );
    readerModules.set(file, pending);
    pending.then((r) => loadedReaders.set(file, r), () => readerModules.delete(file));
  }
  const reader = await pending;
  loadedReaders.set(file, reader);
  return reader;
}

/** The reader of a spec, synchronously: a module reader must have been loaded (loadFold/checkProtocol do). */
export function protocolReader(spec: ProtocolSpec): DatasetReader {
  const file = entryOf(spec)?.readerFile;
  if (!file) return getReader(spec.reader);
  const r = loadedReaders.get(file);
  if (!r) throw new Error(`protocol '${spec.name}' reads with module ${file}, not loaded yet: await loadProtocolReader('${spec.name}') first (loadFold and checkProtocol do)`);
  return r;
}

/** A reader's result is input too: every sample needs an absolute path, a subject and a modality. */
function checkReadResult(r: ReadResult | undefined, reader: DatasetReader, what: string): ReadResult {
  const who = `reader '${reader.name}' (${what})`;
  if (!r || !Array.isArray(r.samples)) throw new Error(`${who} returned ${JSON.stringify(r)?.slice(0, 80)}; expected { samples: [...], missing?: [...], notes?: [...] }`);
  r.samples.forEach((s, i) => {
    const bad = (field: string, expected: string) => {
      throw new Error(`${who}: sample ${i} has ${field} ${JSON.stringify((s as unknown as Record<string, unknown>)?.[field])}; expected ${expected}`);
    };
    if (typeof s?.path !== 'string' || !path.isAbsolute(s.path)) bad('path', 'an absolute file path (path.join(root, ...))');
    if (typeof s.subject !== 'string' || !s.subject) bad('subject', 'a non-empty string');
    if (typeof s.modality !== 'string' || !s.modality) bad('modality', 'a non-empty string such as VIS');
  });
  return { samples: r.samples, missing: r.missing ?? [], notes: r.notes ?? [] };
}

// ---- folds ----

export interface FoldRead {
  fold: Fold;
  missing: MissingEntry[];
  notes: string[];
  /** the split file no longer matches the spec's split definition (staleSplitReason); null otherwise */
  staleSplit: string | null;
  /** system files (._*, .DS_Store, Thumbs.db, ...) the readers skipped */
  ignored: number;
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

const modalitiesOf = (spec: ProtocolSpec) => [...new Set(ROLES.flatMap((r) => spec.roles[r].modalities))];

/**
 * The rule every tree reader shares: a folder (or image file) at the top of the root that gave no sample
 * is named in a note, unless the reader already wrote one about it, so nothing on disk is passed over
 * silently (`TD_IR_Cropped/` beside the Tufts sensor folders, `Thermal/` beside Polathermal's two).
 */
function unreadNotes(root: string, resolver: FileResolver, samples: Sample[], notes: string[], reader: string): string[] {
  const used = new Set(samples.map((s) => path.relative(root, s.path).split(path.sep)[0]));
  const out: string[] = [];
  for (const name of resolver.list([])) {
    const dir = resolver.isDir([name]);
    if (used.has(name) || (!dir && !isImageName(name))) continue;
    if (notes.some((n) => n === name || n.startsWith(`${name}:`) || n.startsWith(`${name}/`))) continue;
    out.push(`${name}${dir ? '/' : ''}: not read (reader '${reader}' takes no ${dir ? 'image from this folder' : 'image at the top of the root'})`);
  }
  return out;
}

/** Read one fold, returning everything that was missing and every tolerated gap alongside it. */
export function readFold(nameOrSpec: string | ProtocolSpec, rootGiven: string, fold: string): FoldRead {
  const spec = typeof nameOrSpec === 'string' ? getProtocol(nameOrSpec) : nameOrSpec;
  const root = userPath(rootGiven); // readers join it with their parts: samples must come back absolute
  const folds = protocolFolds(spec);
  if (!folds.includes(fold)) {
    throw new Error(`protocol '${spec.name}' has no fold '${fold}'; its folds: ${folds.join(', ')}`);
  }
  checkRoot(root);
  const reader = protocolReader(spec);
  const resolver = new FileResolver(root);
  const missing: MissingEntry[] = [];
  const notes: string[] = [];
  const result = { protocol: spec.name, fold } as Fold;
  const options = spec.options ?? {};

  if (spec.folds.kind === 'lists') {
    if (!reader.readList) throw new Error(`reader '${reader.name}' cannot read list files (protocol ${spec.name})`);
    const every: Sample[] = [];
    for (const role of ROLES) {
      const all: Sample[] = [];
      for (const template of spec.folds.lists[role]) {
        const list = template.replaceAll('<fold>', fold);
        if (escapesRoot(list)) {
          missing.push({ role, kind: 'list', list, entry: list, reason: outsideRootReason(root) });
          continue;
        }
        const file = resolver.resolve(list.split('/'));
        if (!file) {
          missing.push({ role, kind: 'list', list, entry: list, reason: 'list file not found' });
          continue;
        }
        const r = checkReadResult(reader.readList(path.relative(root, file), { root, resolver, role, options }), reader, list);
        all.push(...r.samples);
        missing.push(...r.missing.map((m) => ({ kind: 'entry' as const, ...m, role })));
        notes.push(...r.notes);
      }
      every.push(...all);
      result[role] = select(all, spec.roles[role]);
      const dropped = new Set(all.map((s) => s.path)).size - result[role].length;
      if (dropped > 0 && !spec.roles[role].perSubject) notes.push(`${role}: ${dropped} listed samples are not of modality ${spec.roles[role].modalities.join('/')}`);
    }
    notes.push(...gapNotes(every, modalitiesOf(spec)));
  } else {
    if (!reader.scan) throw new Error(`reader '${reader.name}' cannot scan a tree (protocol ${spec.name})`);
    const scan = checkReadResult(reader.scan(root, resolver, { root, resolver, options }), reader, `scan of ${root}`);
    missing.push(...scan.missing.map((m) => ({ kind: 'entry' as const, ...m })));
    notes.push(...scan.notes);
    notes.push(...unreadNotes(root, resolver, scan.samples, scan.notes, reader.name));
    notes.push(...gapNotes(scan.samples, modalitiesOf(spec)));
    const found = new Set(scan.samples.map((s) => s.subject));
    let train: string[];
    let test: string[];
    if (spec.folds.kind === 'subjects') {
      const split = protocolSplit(spec).folds.find((f) => f.name === fold)!;
      ({ train, test } = split);
      const inSplit = new Set([...train, ...test]);
      const extra = [...found].filter((id) => !inSplit.has(id)).sort(compareIds);
      if (extra.length) notes.push(`subject${extra.length > 1 ? 's' : ''} ${idList(extra)} on disk ${extra.length > 1 ? 'are' : 'is'} in no fold of split ${spec.folds.split}: not used`);
    } else {
      test = spec.folds.test;
      train = [...found].filter((s) => !test.includes(s)).sort(compareIds);
    }
    const reason = 'split names this subject but the root has no image of it';
    for (const id of train) if (!found.has(id)) missing.push({ role: 'train', kind: 'subject', entry: `subject ${id}`, reason });
    for (const id of test) {
      if (!found.has(id)) for (const role of ['gallery', 'probe'] as const) missing.push({ role, kind: 'subject', entry: `subject ${id}`, reason });
    }
    const trainSet = new Set(train);
    const testSet = new Set(test);
    result.train = select(scan.samples, spec.roles.train, trainSet);
    result.gallery = select(scan.samples, spec.roles.gallery, testSet);
    result.probe = select(scan.samples, spec.roles.probe, testSet);
    for (const role of ['gallery', 'probe'] as Role[]) {
      const have = new Set(result[role].map((s) => s.subject));
      const lack = test.filter((id) => found.has(id) && !have.has(id));
      if (lack.length) notes.push(`${role}: no ${spec.roles[role].modalities.join('/')} image for test subject${lack.length > 1 ? 's' : ''} ${idList(lack)}`);
    }
  }
  const ignored = resolver.ignored.size;
  if (ignored) notes.push(`ignored ${ignored} system file${ignored > 1 ? 's' : ''} (._*, .DS_Store, __MACOSX, Thumbs.db, desktop.ini)`);
  return { fold: result, missing, notes, ignored, staleSplit: staleSplitReason(spec) };
}

// ---- loading a fold for a run ----

/** A fold as a run uses it: what was left out is counted per role (only with onMissing 'skip'). */
export interface LoadedFold extends Fold {
  skipped: Record<Role, number>;
  missing: MissingEntry[];
  notes: string[];
}

export interface LoadFoldOptions {
  /** 'error' (default): any missing entry of `roles` fails, naming them. 'skip': leave them out, counted. */
  onMissing?: OnMissing;
  /** The roles the caller uses (default all three): missing entries of other roles do not matter to it. */
  roles?: readonly Role[];
}

/** The fold's list entries have no file (or a list is missing): names them and says how to proceed. */
export class MissingFilesError extends Error {
  constructor(readonly protocol: string, readonly fold: string, readonly root: string, readonly missing: MissingEntry[], skipping: boolean) {
    const shown = missing.slice(0, 10).map((m) => `  ${m.role ?? '(no role)'} ${m.list && m.list !== m.entry ? `${m.list}: ` : ''}${m.entry} (${m.reason})`);
    if (missing.length > 10) shown.push(`  ... and ${missing.length - 10} more`);
    const what = missing.length === 1 ? '1 entry has' : `${missing.length} entries have`;
    const fix = skipping
      ? 'dataset.onMissing=skip leaves out single entries and subjects of a role, not a whole missing list file or an entry of no role: restore it'
      : 'restore them (`ssmb protocols check ' + `${protocol} --root ${root}\` lists every problem), or set dataset.onMissing=skip ` +
        '(ssmb evaluate --on-missing skip) to leave them out and record how many of each role were skipped';
    super(`protocol ${protocol} fold ${fold} under ${root}: ${what} no file:\n${shown.join('\n')}\n${fix}`);
    this.name = 'MissingFilesError';
  }
}

/**
 * The fold's samples for a run. Missing entries of the roles used fail by default (a run never scores
 * fewer probes than the protocol lists without saying so); with onMissing 'skip' they are left out and
 * counted per role in `skipped`. Loads the spec's reader module first when it names one.
 */
export async function loadFold(name: string, root: string, fold: string, opts: LoadFoldOptions = {}): Promise<LoadedFold> {
  const onMissing = opts.onMissing ?? 'error';
  if (onMissing !== 'error' && onMissing !== 'skip') throw new Error(`loadFold: onMissing must be 'error' or 'skip', received ${JSON.stringify(onMissing)}`);
  const roles = opts.roles ?? ROLES;
  const spec = getProtocol(name);
  await loadProtocolReader(spec);
  root = userPath(root);
  const r = readFold(spec, root, fold);
  // a run on a stale split would score other test subjects than the split file's name promises
  if (r.staleSplit) throw new Error(`protocol ${spec.name}: ${r.staleSplit}`);
  const relevant = r.missing.filter((m) => m.role === undefined || roles.includes(m.role));
  const unskippable = relevant.filter((m) => m.role === undefined || m.kind === 'list');
  if (onMissing === 'error' && relevant.length) throw new MissingFilesError(spec.name, fold, root, relevant, false);
  if (unskippable.length) throw new MissingFilesError(spec.name, fold, root, unskippable, true);
  const skipped = { train: 0, gallery: 0, probe: 0 } as Record<Role, number>;
  for (const m of relevant) skipped[m.role!]++;
  return { ...r.fold, skipped, missing: r.missing, notes: r.notes };
}
