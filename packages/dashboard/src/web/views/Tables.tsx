// Paper tables: rows = methods or ablation settings, columns = protocols, cells = mean +- std over folds.
// The table and its CSV / Markdown / LaTeX exports come from the trainer's tables module via the API.
import { useState } from 'react';
import { getToken, qs, useApi, type PaperTable } from '../api.ts';
import { useMeta } from '../App.tsx';
import { MethodExperimentFilters } from '../filters.tsx';

type Cell = NonNullable<PaperTable['rows'][number]['cells'][number]>[number];

function cellText(c: Cell | null, decimals: number): string {
  if (!c?.stat) return '–';
  const m = c.stat.mean.toFixed(decimals);
  return c.stat.std === null ? m : `${m} ± ${c.stat.std.toFixed(decimals)}`;
}

export function TablesView() {
  const meta = useMeta();
  const [rows, setRows] = useState('method');
  const [rowsDraft, setRowsDraft] = useState('method');
  // Apply the row key when it is a known key (or on blur / Enter), not on every keystroke.
  const editRows = (v: string) => {
    setRowsDraft(v);
    if (v === 'method' || meta?.configKeys.includes(v)) setRows(v);
  };
  const [metrics, setMetrics] = useState<string[]>(['rank1', 'tar_far_1e2', 'eer']);
  const [method, setMethod] = useState('');
  const [experiment, setExperiment] = useState('');
  const [preview, setPreview] = useState<'' | 'md' | 'latex' | 'csv'>('');
  const params = { rows, metrics, method, experiment };
  const { data, error } = useApi<{ table: PaperTable | null }>(metrics.length ? `/api/tables${qs(params)}` : null);
  const exportUrl = (format: string) => `/api/tables${qs({ ...params, format, token: getToken() || undefined })}`;
  const previewText = useApi<string>(preview ? exportUrl(preview) : null);
  const available = meta?.evalMetrics ?? metrics;
  const t = data?.table;

  return (
    <div>
      <div className="toolbar">
        <h1 style={{ margin: 0 }}>Paper tables</h1>
        <label className="check">rows
          <input value={rowsDraft} onChange={(e) => editRows(e.target.value.trim())} onBlur={() => setRows(rowsDraft || 'method')}
            onKeyDown={(e) => e.key === 'Enter' && setRows(rowsDraft || 'method')} list="row-keys" aria-label="rows" style={{ width: 200 }} />
          <datalist id="row-keys"><option value="method" />{meta?.configKeys.map((k) => <option key={k} value={k} />)}</datalist>
        </label>
        <MethodExperimentFilters method={method} setMethod={setMethod} experiment={experiment} setExperiment={setExperiment} />
        <span className="dim">metrics:</span>
        {available.map((m) => (
          <label key={m} className="check">
            <input type="checkbox" checked={metrics.includes(m)} onChange={(e) => setMetrics(e.target.checked ? [...metrics, m] : metrics.filter((x) => x !== m))} />
            {meta?.metricSpecs[m]?.label ?? m}
          </label>
        ))}
      </div>
      {error && <div className="error">{error.message}</div>}
      {data && !t && <div className="panel dim">No evaluated runs match these filters.</div>}
      {t && (
        <div className="panel" style={{ overflow: 'auto' }}>
          <div className="toolbar">
            <strong>{t.title}</strong>
            <span className="spacer" style={{ flex: 1 }} />
            <a href={exportUrl('csv')} download="ssmb-table.csv"><button data-testid="export-csv">Export CSV</button></a>
            <a href={exportUrl('md')} download="ssmb-table.md"><button data-testid="export-md">Export Markdown</button></a>
            <a href={exportUrl('latex')} download="ssmb-table.tex"><button data-testid="export-latex">Export LaTeX</button></a>
            <select value={preview} onChange={(e) => setPreview(e.target.value as typeof preview)} aria-label="preview format">
              <option value="">preview…</option><option value="md">Markdown</option><option value="latex">LaTeX</option><option value="csv">CSV</option>
            </select>
          </div>
          <table className="grid" data-testid="paper-table">
            <thead>
              <tr>
                <th rowSpan={2}>{rows}</th>
                {t.columns.map((c) => <th key={c.id} colSpan={t.metrics.length} style={{ textAlign: 'center' }}>{c.label}</th>)}
              </tr>
              <tr>{t.columns.flatMap((c) => t.metrics.map((m) => <th key={c.id + m.key} className="num">{m.label}{m.percent ? ' (%)' : ''}</th>))}</tr>
            </thead>
            <tbody>
              {t.rows.map((r) => (
                <tr key={r.id}>
                  <td>{r.label}</td>
                  {r.cells.flatMap((col, ci) =>
                    t.metrics.map((m, mi) => (
                      <td key={`${ci}-${mi}`} className="num" style={{ fontWeight: col?.[mi]?.best ? 700 : 400 }}>
                        {cellText(col?.[mi] ?? null, m.decimals)}
                        {col?.[mi]?.stat?.n ? <span className="dim small"> n={col[mi].stat!.n}</span> : null}
                      </td>
                    )),
                  )}
                </tr>
              ))}
            </tbody>
          </table>
          <div className="dim small" style={{ marginTop: 6 }}>Mean ± sample std over folds (runs repeating a fold count as extra folds). Best of each column in bold.</div>
          {preview && previewText.data && <pre data-testid="table-preview">{previewText.data}</pre>}
        </div>
      )}
    </div>
  );
}
