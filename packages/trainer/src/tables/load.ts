// File loading for table configs and their references (the rest of tables/ is pure).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseTableConfigYaml, type TableConfig } from './config.ts';
import { parseReferencesYaml, type Reference } from './references.ts';

export interface LoadedTable {
  config: TableConfig;
  file: string;
  references: Reference[];
}

function readText(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new Error(e.code === 'ENOENT' ? `${what} ${file} does not exist` : `cannot read ${what} ${file}: ${e.message}`);
  }
}

/** Read a table config YAML and, when it names one, its references file (relative to the config). */
export function loadTableConfig(file: string): LoadedTable {
  const abs = path.resolve(file);
  const config = parseTableConfigYaml(readText(abs, 'table config'), abs);
  let references: Reference[] = [];
  if (config.references) {
    const refFile = path.resolve(path.dirname(abs), config.references);
    references = parseReferencesYaml(readText(refFile, `references file (named by ${abs})`), refFile);
    const cols = new Set(config.columns.map((c) => c.id));
    const rows = new Set(config.rows.map((r) => r.id));
    for (const r of references) {
      if (!cols.has(r.column)) throw new Error(`${refFile}: reference "${r.method}" names column "${r.column}"; ${abs} has columns ${[...cols].join(', ')}`);
      if (r.row !== undefined && !rows.has(r.row)) throw new Error(`${refFile}: reference "${r.method}" names row "${r.row}"; ${abs} has rows ${[...rows].join(', ')}`);
    }
  }
  return { config, file: abs, references };
}
