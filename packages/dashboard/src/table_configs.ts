// Paper tables as the CLI prints them: a shipped table config (tables/*.yaml: rows = methods or settings,
// columns = protocols) applied to the store's runs by what each run is (its resolved config matches a
// row's and a column's overrides, the trainer's foldResultsFromRuns), with the config's references and
// expected fold counts. The quickstart's table is `synthetic`.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { buildTable, flattenConfigValues, expectedFolds, foldResultsFromRuns, loadTableConfig, protocolFoldNames, type LoadedTable, type MatchableRun, type PaperTable } from '@ssmb/trainer';

/** The repository's tables/ folder (next to packages/), when the dashboard runs from a checkout. */
export const DEFAULT_TABLES_DIR = path.resolve(import.meta.dirname, '..', '..', '..', 'tables');

export interface TableConfigInfo {
  name: string;
  title: string;
  file: string;
  rows: string[];
  columns: string[];
  /** What the Launch form starts from: each row on its first column, as `key=value` overrides. */
  presets: Array<{ label: string; set: string[] }>;
}

const setLine = ([k, v]: [string, unknown]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`;

/**
 * A table's runs as launch overrides: its base, the row's settings, the column's protocol and the dataset
 * root and weights (relative paths in a table config are relative to the checkout, the tables/ folder's parent).
 */
function launchPresets(t: LoadedTable): TableConfigInfo['presets'] {
  const repo = path.dirname(path.dirname(t.file));
  const abs = (p: string) => (path.isAbsolute(p) ? p : path.resolve(repo, p));
  return t.config.rows.flatMap((row) => {
    const col = t.config.columns.find((c) => !c.rows || c.rows.includes(row.id));
    if (!col) return [];
    const root = t.config.datasets[col.dataset]?.root;
    const flat: Record<string, unknown> = {
      ...flattenConfigValues(t.config.base),
      ...flattenConfigValues(row.set ?? {}),
      'dataset.protocol': col.protocol,
      ...(root ? { 'dataset.root': abs(root) } : {}),
      ...(t.config.weights ? { 'backbone.weights': abs(t.config.weights) } : {}),
    };
    return [{ label: `${t.config.name}: ${row.label} on ${col.label}`, set: Object.entries(flat).map(setLine) }];
  });
}

/** Every table config in `dir` (unreadable ones are reported, not skipped silently). */
export function listTableConfigs(dir: string | null): { configs: LoadedTable[]; errors: string[] } {
  if (!dir || !existsSync(dir)) return { configs: [], errors: [] };
  const configs: LoadedTable[] = [];
  const errors: string[] = [];
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.yaml') || n.endsWith('.yml')).sort()) {
    try {
      configs.push(loadTableConfig(path.join(dir, f)));
    } catch (err) {
      errors.push(`${f}: ${(err as Error).message}`);
    }
  }
  return { configs, errors };
}

export const describeTable = (t: LoadedTable): TableConfigInfo => ({
  name: t.config.name,
  title: t.config.title,
  file: t.file,
  rows: t.config.rows.map((r) => r.label),
  columns: t.config.columns.map((c) => c.label),
  presets: launchPresets(t),
});

/** Folds each protocol declares (unknown protocols: none, so the table shows no "(k/n folds)"). */
async function foldsByProtocol(protocols: string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const p of new Set(protocols)) {
    try {
      out.set(p, await protocolFoldNames(p));
    } catch {
      out.set(p, []);
    }
  }
  return out;
}

/** The table of a config over runs (oldest first: a later run of the same cell and fold wins). */
export async function tableFromConfig(t: LoadedTable, runs: MatchableRun[]): Promise<{ table: PaperTable; matched: number }> {
  const results = foldResultsFromRuns(t.config, runs);
  const folds = await foldsByProtocol(t.config.columns.map((c) => c.protocol));
  let expected: Record<string, number> | undefined;
  try {
    expected = expectedFolds(t.config, (p) => folds.get(p) ?? []);
  } catch {
    expected = undefined; // a protocol this installation does not know: counts stay unknown
  }
  return { table: buildTable(t.config, results, { expectedFolds: expected, references: t.references }), matched: results.length };
}
