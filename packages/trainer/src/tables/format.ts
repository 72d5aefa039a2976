// Paper table exporters: Markdown (README/reports), CSV (long format, one line per cell), LaTeX
// (booktabs), and aligned plain text for the terminal. All take the PaperTable from build.ts.
import type { PaperTable, Stat, TableCell } from './build.ts';
import type { MetricSpec } from './metrics.ts';

type Style = { pm: string; bold: (s: string) => string; tie: string; dash: string; skipMark: string; sigMark: string };
const MD: Style = { pm: ' ± ', bold: (s) => `**${s}**`, tie: '≈ ', dash: '–', skipMark: '†', sigMark: '§' };
const TEXT: Style = { pm: ' ± ', bold: (s) => `${s}*`, tie: '≈', dash: '-', skipMark: '†', sigMark: '§' };
const TEX: Style = { pm: ' $\\pm$ ', bold: (s) => `\\textbf{${s}}`, tie: '$\\approx$', dash: '--', skipMark: '$^\\dagger$', sigMark: '$^\\S$' };
/** Marks a cell whose folds skipped list entries (files missing); the notes give the counts. */
export const SKIPPED_MARK = '†';
/** Marks a cell whose difference from the table's reference row has a 95% interval excluding 0. */
export const SIGNIFICANT_MARK = '§';
/** After the label of a row told each image's modality at inference (a label-aware method). */
export const LABEL_AWARE_MARK = ' (label)';

/** A standard deviation is shown only over more than one fold: one fold has none (it is not 0). */
export function showsStd(stat: Stat): boolean {
  return stat.std !== null && (stat.n === null || stat.n > 1);
}

function fmtStat(stat: Stat, m: MetricSpec, pm: string): string {
  const mean = stat.mean.toFixed(m.decimals);
  return showsStd(stat) ? `${mean}${pm}${stat.std!.toFixed(m.decimals)}` : mean;
}

/**
 * One cell as text: "93.40 ± 1.20", incomplete "(3/10 folds)", a single fold "(n=1)" (no std),
 * literature "[lit. 96.70]".
 */
export function formatCell(cell: TableCell | null, m: MetricSpec, style: Style = TEXT): string {
  if (cell === null) return '';
  let s = cell.stat ? fmtStat(cell.stat, m, style.pm) : style.dash;
  if (cell.stat && cell.best) s = style.bold(s);
  else if (cell.stat && cell.tied) s = style.tie + s;
  if (cell.stat && cell.skipped) s += style.skipMark;
  if (cell.stat && cell.vsReference?.significant) s += style.sigMark;
  if (cell.stat && cell.stat.n !== null && cell.expected !== null && cell.stat.n < cell.expected) {
    s += ` (${cell.stat.n}/${cell.expected} folds)`;
  } else if (cell.stat && cell.stat.n === 1) {
    s += ' (n=1)';
  }
  if (cell.reference) s += ` [lit. ${fmtStat({ mean: cell.reference.mean, std: cell.reference.std ?? null, n: null }, m, style.pm)}]`;
  return s;
}

function headerCells(t: PaperTable): string[] {
  return t.columns.flatMap((c) => t.metrics.map((m) => `${c.label} ${m.label}`));
}

function rowLabel(r: PaperTable['rows'][number]): string {
  return r.kind === 'literature' ? `${r.label} (reported)` : r.labelAware ? `${r.label}${LABEL_AWARE_MARK}` : r.label;
}

/** Fold counts of our cells, ascending (literature cells have none). */
function foldCounts(t: PaperTable): number[] {
  const ns = new Set<number>();
  for (const r of t.rows) if (r.kind === 'ours') for (const c of r.cells) for (const x of c ?? []) if (x.stat?.n) ns.add(x.stat.n);
  return [...ns].sort((a, b) => a - b);
}

/** What a cell's number is: mean ± sample std over n folds, with n stated. */
export function statNote(ns: number[]): string {
  if (ns.length === 0) return 'Mean ± sample standard deviation over folds';
  if (ns.length === 1) return ns[0] === 1 ? 'One fold per cell (n = 1): values without a standard deviation' : `Mean ± sample standard deviation over n = ${ns[0]} folds`;
  return `Mean ± sample standard deviation over n = ${ns[0]}-${ns.at(-1)} folds (n below the expected count is given in the cell; n = 1 cells have no standard deviation)`;
}

/** What bold and ≈ mean (the tables' significance rule). */
export const BEST_NOTE = 'Bold: significantly better than every other of our rows (paired t-test over folds and bootstrap over probes within folds, both at 5%); ≈: not significantly different from the best mean, when no row is significantly best';

function notes(t: PaperTable, best = BEST_NOTE): string[] {
  const out = [`${statNote(foldCounts(t))}; percentages except where noted. ${best}.`];
  const lower = t.metrics.filter((m) => m.better === 'lower').map((m) => m.label);
  if (lower.length) out.push(`Lower is better for: ${lower.join(', ')}.`);
  const lit = t.rows.filter((r) => r.kind === 'literature');
  const beside = t.rows.some((r) => r.cells.some((c) => c?.some((x) => x.reference)));
  if (lit.length || beside) {
    const sources = new Set<string>();
    for (const r of lit) if (r.source) sources.add(r.source);
    for (const r of t.rows) for (const c of r.cells) for (const x of c ?? []) if (x.reference) sources.add(x.reference.source);
    out.push(`"(reported)" rows and [lit. ...] values are copied from the literature: ${[...sources].join('; ')}.`);
  }
  const skipped = t.rows.flatMap((r) =>
    r.cells.flatMap((c, ci) => {
      const sk = c?.find((x) => x.stat && x.skipped)?.skipped;
      return sk ? [`${rowLabel(r)} / ${t.columns[ci].label}: ${skippedText(sk, ', ')}`] : [];
    }),
  );
  if (skipped.length) out.push(`${SKIPPED_MARK} List entries left out because their files are missing (dataset.onMissing=skip), over all folds: ${skipped.join('; ')}.`);
  if (t.reference && t.rows.some((r) => r.cells.some((c) => c?.some((x) => x.vsReference?.significant)))) {
    out.push(`${SIGNIFICANT_MARK} Differs from "${t.reference.label}" (same column and metric) with a 95% interval that excludes 0: a bootstrap over probes within folds for Rank-k and TAR, a paired t-test over folds otherwise; both must agree where both run.`);
  }
  if (t.rows.some((r) => r.labelAware)) out.push(`"${LABEL_AWARE_MARK.trim()}" rows are told each image's modality label at training and inference; the other rows never are.`);
  const universal = t.rows.filter((r) => r.train);
  if (universal.length) out.push(`${universal.map((r) => rowLabel(r)).join(', ')}: one model per fold trained on ${[...new Set(universal.map((r) => r.train))].join(', ')}, evaluated on every column (same fold, test identities never trained on).`);
  return out;
}

/** "3 probe, 1 gallery" (roles in train, gallery, probe order). */
function skippedText(sk: NonNullable<TableCell['skipped']>, sep: string): string {
  return (['train', 'gallery', 'probe'] as const).filter((r) => sk[r]).map((r) => `${sk[r]} ${r}`).join(sep);
}

const mdEscape = (s: string) => s.replace(/\|/g, '\\|');

export function toMarkdown(t: PaperTable): string {
  const head = [t.rowHeader ?? 'Method', ...headerCells(t)];
  const lines = [`### ${mdEscape(t.title)}`, ''];
  if (t.caption) lines.push(t.caption, '');
  lines.push(`| ${head.map(mdEscape).join(' | ')} |`);
  lines.push(`|${head.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`);
  for (const r of t.rows) {
    const cells = r.cells.flatMap((col) => t.metrics.map((m, mi) => formatCell(col ? col[mi] : null, m, MD)));
    lines.push(`| ${[rowLabel(r), ...cells].map(mdEscape).join(' | ')} |`);
  }
  lines.push('', ...notes(t).map((n) => `_${n}_`));
  return lines.join('\n') + '\n';
}

function csvField(v: string | number | null | undefined): string {
  if (v === null || v === undefined || (typeof v === 'number' && !Number.isFinite(v))) return '';
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export const CSV_HEADER = [
  'table', 'row', 'row_label', 'kind', 'column', 'column_label', 'protocol', 'metric', 'metric_label',
  'mean', 'std', 'n', 'expected', 'reference_mean', 'reference_std', 'reference_source', 'skipped', 'best', 'tied',
  'label_aware', 'train_protocol', 'diff_vs_reference', 'ci95_low', 'ci95_high', 'p_ttest', 'significant',
] as const;

/** Long format: one line per (row, column, metric); values in display units; std empty for n = 1. */
export function toCsv(t: PaperTable): string {
  const lines = [CSV_HEADER.join(',')];
  for (const r of t.rows) {
    r.cells.forEach((col, ci) => {
      if (!col) return;
      const c = t.columns[ci];
      col.forEach((cell, mi) => {
        if (r.kind === 'literature' && !cell.stat) return;
        const m = t.metrics[mi];
        const ref = cell.reference;
        lines.push(
          [
            t.name, r.id, r.label, r.kind, c.id, c.label, c.protocol, m.key, m.label,
            cell.stat?.mean, cell.stat && showsStd(cell.stat) ? cell.stat.std : null, cell.stat?.n, cell.expected,
            ref?.mean, ref?.std, ref?.source ?? (r.kind === 'literature' ? r.source : undefined),
            cell.skipped ? skippedText(cell.skipped, '; ') : undefined,
            r.kind === 'ours' && cell.stat ? String(cell.best) : undefined, r.kind === 'ours' && cell.stat ? String(cell.tied ?? false) : undefined,
            r.kind === 'ours' ? String(r.labelAware ?? false) : undefined, r.train,
            cell.vsReference?.diff, cell.vsReference?.ci95?.[0], cell.vsReference?.ci95?.[1], cell.vsReference?.p,
            cell.vsReference ? String(cell.vsReference.significant) : undefined,
          ].map(csvField).join(','),
        );
      });
    });
  }
  return lines.join('\n') + '\n';
}

export function latexEscape(s: string): string {
  return s.replace(/[\\&%$#_{}~^]/g, (ch) =>
    ch === '\\' ? '\\textbackslash{}' : ch === '~' ? '\\textasciitilde{}' : ch === '^' ? '\\textasciicircum{}' : `\\${ch}`,
  );
}

/** booktabs table: protocol groups over metric sub-columns; literature rows after a rule. */
/**
 * LaTeX (booktabs). `perMetric`: one table per metric with the protocols as columns, so a table of many
 * protocols x metrics fits a paper column (protocols x metrics side by side is one wide table otherwise).
 */
export function toLatex(t: PaperTable, opts: { perMetric?: boolean } = {}): string {
  if (opts.perMetric && t.metrics.length > 1) {
    return t.metrics
      .map((m, mi) =>
        toLatex({
          ...t,
          name: `${t.name}-${m.key}`,
          title: `${t.title}: ${m.label}`,
          caption: t.caption ? `${t.caption} ${m.label}${m.percent ? ' (\\%)' : ''}.` : undefined,
          metrics: [m],
          rows: t.rows.map((r) => ({ ...r, cells: r.cells.map((c) => (c ? [c[mi]] : null)) })),
        }),
      )
      .join('\n');
  }
  const k = t.metrics.length;
  const spec = 'l' + t.columns.map(() => 'c'.repeat(k)).join('');
  const out = ['\\begin{table}[t]', '\\centering', '\\small'];
  out.push(`\\caption{${latexEscape(t.caption ?? t.title)}}`, `\\label{tab:${t.name}}`);
  out.push(`\\begin{tabular}{${spec}}`, '\\toprule');
  out.push(['', ...t.columns.map((c) => `\\multicolumn{${k}}{c}{${latexEscape(c.label)}}`)].join(' & ') + ' \\\\');
  out.push(t.columns.map((_, i) => `\\cmidrule(lr){${2 + i * k}-${1 + (i + 1) * k}}`).join(' '));
  out.push([latexEscape(t.rowHeader ?? 'Method'), ...t.columns.flatMap(() => t.metrics.map((m) => latexEscape(m.label)))].join(' & ') + ' \\\\');
  out.push('\\midrule');
  let litStarted = false;
  for (const r of t.rows) {
    if (r.kind === 'literature' && !litStarted) {
      out.push('\\midrule');
      litStarted = true;
    }
    const cells = r.cells.flatMap((col) => t.metrics.map((m, mi) => formatCell(col ? col[mi] : null, m, TEX)));
    out.push([latexEscape(rowLabel(r)), ...cells.map((c) => c.replace(/\[lit\. /g, '[lit.~'))].join(' & ') + ' \\\\');
  }
  out.push('\\bottomrule', '\\end{tabular}');
  out.push(`\\par\\smallskip{\\footnotesize ${notes(t).map((n) => latexEscape(n).replace(/±/g, '$\\pm$').replaceAll(SKIPPED_MARK, TEX.skipMark).replaceAll(SIGNIFICANT_MARK, TEX.sigMark)).join(' ')}}`);
  out.push('\\end{table}');
  return out.join('\n') + '\n';
}

/** Aligned columns: first column left-aligned, the others right-aligned. */
function grid(rows: string[][], sep: (i: number) => string): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).map((c, i) => (i === 0 ? c : sep(i) + c)).join(''));
}

/**
 * Aligned plain text for terminals: protocol groups over metric sub-columns; when that is wider than
 * `maxWidth`, one block per metric (rows x protocols) instead. Best of our rows marked with "*".
 */
export function toText(t: PaperTable, opts: { maxWidth?: number } = {}): string {
  const k = t.metrics.length;
  const label = (r: PaperTable['rows'][number]) => rowLabel(r);
  const cell = (r: PaperTable['rows'][number], ci: number, mi: number) => formatCell(r.cells[ci] ? r.cells[ci]![mi] : null, t.metrics[mi], TEXT);
  // Wide layout: a group header line, a metric header line, then the rows.
  const metricHead = [t.rowHeader ?? 'Method', ...t.columns.flatMap(() => t.metrics.map((m) => m.label))];
  const body = t.rows.map((r) => [label(r), ...t.columns.flatMap((_, ci) => t.metrics.map((__, mi) => cell(r, ci, mi)))]);
  const sep = (i: number) => ((i - 1) % k === 0 ? ' | ' : '  ');
  let lines = grid([metricHead, ...body], sep);
  const colStart = (ci: number) => {
    // character offset where protocol ci's first metric column starts in the aligned lines
    const widths = metricHead.map((_, i) => Math.max(...[metricHead, ...body].map((r) => r[i].length)));
    let x = widths[0];
    for (let i = 1; i < 1 + ci * k; i++) x += sep(i).length + widths[i];
    return x + 3;
  };
  let groupHead = '';
  t.columns.forEach((c, ci) => {
    groupHead = groupHead.padEnd(colStart(ci)) + c.label;
  });
  const width = Math.max(...lines.map((l) => l.length));
  if (width <= (opts.maxWidth ?? 140) || k === 1) {
    const rule = '-'.repeat(width);
    return [t.title, rule, groupHead, lines[0], rule, ...lines.slice(1), rule, ...notes(t, BEST_NOTE.replace('Bold:', '*:'))].join('\n') + '\n';
  }
  // Per-metric layout: narrower, one block per metric.
  const out = [t.title];
  t.metrics.forEach((m, mi) => {
    const head = [`${m.label}${m.better === 'lower' ? ' (lower is better)' : ''}`, ...t.columns.map((c) => c.label)];
    const rows = t.rows.map((r) => [label(r), ...t.columns.map((_, ci) => cell(r, ci, mi))]);
    lines = grid([head, ...rows], () => '   ');
    const rule = '-'.repeat(Math.max(...lines.map((l) => l.length)));
    out.push(rule, lines[0], rule, ...lines.slice(1));
  });
  out.push('', ...notes(t, BEST_NOTE.replace('Bold:', '*:')));
  return out.join('\n') + '\n';
}
