// Paper table exporters: Markdown (README/reports), CSV (long format, one line per cell), LaTeX
// (booktabs), and aligned plain text for the terminal. All take the PaperTable from build.ts.
import type { PaperTable, Stat, TableCell } from './build.ts';
import type { MetricSpec } from './metrics.ts';

type Style = { pm: string; bold: (s: string) => string; dash: string };
const MD: Style = { pm: ' ± ', bold: (s) => `**${s}**`, dash: '–' };
const TEXT: Style = { pm: ' ± ', bold: (s) => s, dash: '-' };
const TEX: Style = { pm: ' $\\pm$ ', bold: (s) => `\\textbf{${s}}`, dash: '--' };

function fmtStat(stat: Stat, m: MetricSpec, pm: string): string {
  const mean = stat.mean.toFixed(m.decimals);
  return stat.std === null ? mean : `${mean}${pm}${stat.std.toFixed(m.decimals)}`;
}

/** One cell as text: "93.40 ± 1.20", incomplete "(3/10 folds)", literature "[lit. 96.70]". */
export function formatCell(cell: TableCell | null, m: MetricSpec, style: Style = TEXT): string {
  if (cell === null) return '';
  let s = cell.stat ? fmtStat(cell.stat, m, style.pm) : style.dash;
  if (cell.stat && cell.best) s = style.bold(s);
  if (cell.stat && cell.stat.n !== null && cell.expected !== null && cell.stat.n < cell.expected) {
    s += ` (${cell.stat.n}/${cell.expected} folds)`;
  }
  if (cell.reference) s += ` [lit. ${fmtStat({ mean: cell.reference.mean, std: cell.reference.std ?? null, n: null }, m, style.pm)}]`;
  return s;
}

function headerCells(t: PaperTable): string[] {
  return t.columns.flatMap((c) => t.metrics.map((m) => `${c.label} ${m.label}`));
}

function rowLabel(r: PaperTable['rows'][number]): string {
  return r.kind === 'literature' ? `${r.label} (reported)` : r.label;
}

function notes(t: PaperTable): string[] {
  const out = ['Mean ± sample standard deviation over folds; percentages except where noted. Best of our rows in bold.'];
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
  return out;
}

const mdEscape = (s: string) => s.replace(/\|/g, '\\|');

export function toMarkdown(t: PaperTable): string {
  const head = ['Method', ...headerCells(t)];
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
  'mean', 'std', 'n', 'expected', 'reference_mean', 'reference_std', 'reference_source',
] as const;

/** Long format: one line per (row, column, metric); values in display units. */
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
            cell.stat?.mean, cell.stat?.std, cell.stat?.n, cell.expected,
            ref?.mean, ref?.std, ref?.source ?? (r.kind === 'literature' ? r.source : undefined),
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
export function toLatex(t: PaperTable): string {
  const k = t.metrics.length;
  const spec = 'l' + t.columns.map(() => 'c'.repeat(k)).join('');
  const out = ['\\begin{table}[t]', '\\centering', '\\small'];
  out.push(`\\caption{${latexEscape(t.caption ?? t.title)}}`, `\\label{tab:${t.name}}`);
  out.push(`\\begin{tabular}{${spec}}`, '\\toprule');
  out.push(['', ...t.columns.map((c) => `\\multicolumn{${k}}{c}{${latexEscape(c.label)}}`)].join(' & ') + ' \\\\');
  out.push(t.columns.map((_, i) => `\\cmidrule(lr){${2 + i * k}-${1 + (i + 1) * k}}`).join(' '));
  out.push(['Method', ...t.columns.flatMap(() => t.metrics.map((m) => latexEscape(m.label)))].join(' & ') + ' \\\\');
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
  out.push(`\\par\\smallskip{\\footnotesize ${notes(t).map((n) => latexEscape(n).replace(/±/g, '$\\pm$')).join(' ')}}`);
  out.push('\\end{table}');
  return out.join('\n') + '\n';
}

/** Aligned plain text for terminals: a protocol header line over a metric header line. */
export function toText(t: PaperTable): string {
  const k = t.metrics.length;
  const body = t.rows.map((r) => [rowLabel(r), ...r.cells.flatMap((col) => t.metrics.map((m, mi) => formatCell(col ? col[mi] : null, m, TEXT)))]);
  const metricHead = ['Method', ...t.columns.flatMap(() => t.metrics.map((m) => m.label))];
  const widths = metricHead.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  // Widen each protocol group so its label fits over its metric columns.
  t.columns.forEach((c, ci) => {
    const span = widths.slice(1 + ci * k, 1 + (ci + 1) * k).reduce((a, b) => a + b, 0) + 2 * (k - 1);
    if (c.label.length > span) widths[1 + ci * k] += c.label.length - span;
  });
  const pad = (s: string, w: number, left = false) => (left ? s.padEnd(w) : s.padStart(w));
  const groupHead = [''.padEnd(widths[0]), ...t.columns.map((c, ci) => {
    const span = widths.slice(1 + ci * k, 1 + (ci + 1) * k).reduce((a, b) => a + b, 0) + 2 * (k - 1);
    const left = Math.floor((span - c.label.length) / 2);
    return (' '.repeat(left) + c.label).padEnd(span);
  })].join(' | ');
  const line = (cells: string[]) =>
    [pad(cells[0], widths[0], true), ...t.columns.map((_, ci) => cells.slice(1 + ci * k, 1 + (ci + 1) * k).map((c, j) => pad(c, widths[1 + ci * k + j])).join('  '))].join(' | ');
  const rule = '-'.repeat(groupHead.length);
  const out = [t.title, rule, groupHead, line(metricHead), rule, ...body.map(line), rule, ...notes(t)];
  return out.join('\n') + '\n';
}
