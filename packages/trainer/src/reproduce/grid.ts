// Expand a table config into its run grid: rows (methods/settings) x columns (protocols) x folds.
// Each entry carries the full override object the trainer resolves into a run config.
import path from 'node:path';
import { rowsOfColumn, type TableConfig } from '../tables/config.ts';
import { mergeConfig, overrideFor, type ConfigOverride } from '../config.ts';
import { flattenConfigValues } from '../flatten.ts';

export interface GridEntry {
  row: string;
  column: string;
  protocol: string;
  fold: string;
  /** Human label, e.g. "SSMB N=4 / VIS-NIR / fold 2". */
  label: string;
  /** Trainer config overrides for this run (base <- column.set <- row.set <- dataset/weights). */
  overrides: ConfigOverride;
  /** A universal row's run: every (column, protocol) it is evaluated on (dataset.evalProtocols);
   *  absent = the one cell (column, protocol). */
  evaluates?: Array<{ column: string; protocol: string }>;
}

/** The table cells a grid entry's run fills. */
export function cellsOf(entry: GridEntry): Array<{ column: string; protocol: string }> {
  return entry.evaluates ?? [{ column: entry.column, protocol: entry.protocol }];
}

export interface GridContext {
  /** Dataset name (table `datasets` key) -> absolute root directory. */
  roots: Record<string, string>;
  /** Pre-trained backbone weights file (absolute), or null when the table runs without one. */
  weights: string | null;
  /** Folds a protocol declares (used for columns with `folds: all`). */
  foldsOf: (protocol: string) => string[];
}

/** Dotted overrides -> nested object the trainer's mergeConfig understands. */
export function nestOverrides(flat: Record<string, unknown>): ConfigOverride {
  return Object.entries(flat).reduce<ConfigOverride>((acc, [k, v]) => mergeConfig(acc, overrideFor(k, v)), {});
}

/** Folds of a column: its explicit list, or every fold the protocol declares. */
export function columnFolds(cfg: TableConfig, columnId: string, foldsOf: GridContext['foldsOf']): string[] {
  const col = cfg.columns.find((c) => c.id === columnId);
  if (!col) throw new Error(`column "${columnId}" is not in table "${cfg.name}"`);
  if (col.folds !== 'all') return col.folds;
  const folds = foldsOf(col.protocol);
  if (folds.length === 0) throw new Error(`protocol "${col.protocol}" (table "${cfg.name}", column "${col.id}") declares no folds`);
  return folds;
}

/**
 * Every run of the table, row-major within a fold: fold 1 of every cell first, so a partial grid
 * already fills every cell of the table with at least one fold.
 */
export function expandGrid(cfg: TableConfig, ctx: GridContext): GridEntry[] {
  const perColumn = cfg.columns.map((col) => ({ col, folds: columnFolds(cfg, col.id, ctx.foldsOf), rows: rowsOfColumn(cfg, col) }));
  const maxFolds = Math.max(...perColumn.map((p) => p.folds.length));
  const out: GridEntry[] = [];
  for (let fi = 0; fi < maxFolds; fi++) {
    for (const row of cfg.rows) {
      if (row.train !== undefined) {
        // universal: one run per fold, trained on row.train, evaluated on each of its columns with this fold
        const cols = perColumn.filter((p) => fi < p.folds.length && p.rows.some((r) => r.id === row.id));
        const byFold = new Map<string, typeof cols>();
        for (const p of cols) byFold.set(p.folds[fi], [...(byFold.get(p.folds[fi]) ?? []), p]);
        for (const [fold, ps] of byFold) {
          const root = ctx.roots[ps[0].col.dataset];
          if (!root) throw new Error(`no root for dataset "${ps[0].col.dataset}" (table "${cfg.name}"); pass --root ${ps[0].col.dataset}=DIR`);
          const evaluates = ps.map((p) => ({ column: p.col.id, protocol: p.col.protocol }));
          const evalProtocols = [...new Set(evaluates.map((e) => e.protocol))];
          let o = nestOverrides(flattenConfigValues(cfg.base));
          o = mergeConfig(o, nestOverrides(flattenConfigValues(row.set)));
          o = mergeConfig(o, { dataset: { root: path.resolve(root), protocol: row.train, fold, evalProtocols } });
          if (ctx.weights !== null) o = mergeConfig(o, { backbone: { weights: path.resolve(ctx.weights) } });
          out.push({ row: row.id, column: evaluates[0].column, protocol: row.train, fold, label: `${row.label} / trained on ${row.train} / fold ${fold}`, overrides: o, evaluates });
        }
        continue;
      }
      for (const { col, folds, rows } of perColumn) {
        if (fi >= folds.length || !rows.some((r) => r.id === row.id)) continue;
        const root = ctx.roots[col.dataset];
        if (!root) throw new Error(`no root for dataset "${col.dataset}" (table "${cfg.name}"); pass --root ${col.dataset}=DIR`);
        const fold = folds[fi];
        let o = nestOverrides(flattenConfigValues(cfg.base));
        o = mergeConfig(o, nestOverrides(flattenConfigValues(col.set)));
        o = mergeConfig(o, nestOverrides(flattenConfigValues(row.set)));
        o = mergeConfig(o, { dataset: { root: path.resolve(root), protocol: col.protocol, fold } });
        if (ctx.weights !== null) o = mergeConfig(o, { backbone: { weights: path.resolve(ctx.weights) } });
        out.push({ row: row.id, column: col.id, protocol: col.protocol, fold, label: `${row.label} / ${col.label} / fold ${fold}`, overrides: o });
      }
    }
  }
  return out;
}

/** Expected folds per column (for "(k/n folds)" marks in the table). */
export function expectedFolds(cfg: TableConfig, foldsOf: GridContext['foldsOf']): Record<string, number> {
  return Object.fromEntries(cfg.columns.map((c) => [c.id, columnFolds(cfg, c.id, foldsOf).length]));
}
