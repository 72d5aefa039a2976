// Paper tables: by default the table the quickstart prints (the shipped `synthetic` table config, or the
// first config the store's runs match), rows = the config's methods/settings, columns = protocols,
// cells = mean ± std over folds (std only when n > 1). Or rows grouped by any config key. Exports (CSV,
// Markdown, LaTeX) come from the trainer's tables module, downloaded through signed links.
import { useState } from 'react';
import { download, qs, useApi, type PaperTable, type TablesResponse } from '../api.ts';
import { useMeta } from '../meta.ts';
import { ErrorBox, MethodExperimentFilters } from '../components.tsx';

type Cell = NonNullable<PaperTable['rows'][number]['cells'][number]>[number];

function CellText({ c, decimals }: { c: Cell | null; decimals: number }) {
  if (!c) return <span className="dim">·</span>;
  if (c.reference) return <span title={c.reference.source}>{c.reference.mean.toFixed(decimals)}{c.reference.std !== undefined ? ` ± ${c.reference.std.toFixed(decimals)}` : ''}<span className="dim small"> lit.</span></span>;
  if (!c.stat) return <span className="dim" title="no completed fold yet">–{c.expected ? <span className="small"> 0/{c.expected}</span> : null}</span>;
  const n = c.stat.n ?? 0;
  const partial = c.expected !== null && n < c.expected;
  return (
    <span title={c.best ? 'significantly better than every other row (paired t-test over folds, bootstrap over probes; 5%)' : c.tied ? 'tied with the best mean: no row is significantly best (5%)' : undefined}>
      {c.tied && <span className="tie-mark" data-testid="tied">≈ </span>}
      {c.stat.mean.toFixed(decimals)}
      {n > 1 && c.stat.std !== null ? ` ± ${c.stat.std.toFixed(decimals)}` : ''}
      <span className={`small ${partial ? 'warn-text' : 'dim'}`} title={partial ? `${n} of ${c.expected} folds done` : `${n} fold${n === 1 ? '' : 's'}`}>
        {partial ? ` ${n}/${c.expected}` : ` n=${n}`}
      </span>
    </span>
  );
}

export function TablesView() {
  const meta = useMeta();
  const [source, setSource] = useState(''); // '' = the server's default, 'config:<name>', or 'rows'
  const [rows, setRows] = useState('ssmb.numExperts');
  const [rowsDraft, setRowsDraft] = useState(rows);
  const editRows = (v: string) => {
    setRowsDraft(v);
    if (v === 'method' || meta?.configKeys.includes(v)) setRows(v);
  };
  const [metrics, setMetrics] = useState<string[]>([]);
  const [method, setMethod] = useState('');
  const [experiment, setExperiment] = useState('');
  const [preview, setPreview] = useState<'' | 'md' | 'latex' | 'csv'>('');
  const [layout, setLayout] = useState<'auto' | 'wide' | 'per-metric'>('auto');
  const [exportError, setExportError] = useState<Error | null>(null);
  const params = {
    ...(source.startsWith('config:') ? { config: source.slice(7) } : source === 'rows' ? { rows, metrics } : {}),
    method, experiment,
  };
  const { data, error } = useApi<TablesResponse>(`/api/tables${qs(params)}`);
  const exportUrl = (format: string) => `/api/tables${qs({ ...params, format, layout: format === 'latex' ? layout : undefined })}`;
  const previewText = useApi<string>(preview ? exportUrl(preview) : null);
  const available = meta?.evalMetrics ?? [];
  const t = data?.table;
  const chosen = data?.source && 'config' in data.source ? `config:${data.source.config}` : 'rows';
  const rowsShown = data?.source && 'rows' in data.source ? data.source.rows : rows;
  const cfgInfo = meta?.tableConfigs.find((c) => `config:${c.name}` === chosen);
  // Protocols x metrics side by side fits about ten cells at 1440 px; past that, one table per metric
  // (rows x protocols), as the terminal table does.
  const perMetric = t ? (layout === 'auto' ? t.columns.length * t.metrics.length > (meta?.tables.wideCells ?? 10) : layout === 'per-metric') : false;
  const save = (format: string, ext: string) => {
    setExportError(null);
    download(exportUrl(format), `${t?.name ?? 'table'}.${ext}`).catch((e: Error) => setExportError(e));
  };

  return (
    <div>
      <div className="toolbar">
        <h1>Paper tables</h1>
        <label className="check">table
          <select value={source || chosen} onChange={(e) => setSource(e.target.value)} aria-label="table">
            {meta?.tableConfigs.map((c) => <option key={c.name} value={`config:${c.name}`}>{c.name} — {c.title}</option>)}
            <option value="rows">rows grouped by a config key…</option>
          </select>
        </label>
        {(source || chosen) === 'rows' && (
          <>
            <label className="check">rows
              <input value={rowsDraft} onChange={(e) => editRows(e.target.value.trim())} onBlur={() => setRows(rowsDraft || 'method')}
                onKeyDown={(e) => e.key === 'Enter' && setRows(rowsDraft || 'method')} list="row-keys" aria-label="rows" style={{ width: 180 }} />
              <datalist id="row-keys"><option value="method" />{meta?.configKeys.map((k) => <option key={k} value={k} />)}</datalist>
            </label>
            <span className="dim">metrics:</span>
            {available.map((m) => (
              <label key={m} className="check">
                <input type="checkbox" checked={(metrics.length ? metrics : (meta?.tables.defaultMetrics ?? [])).includes(m)}
                  onChange={(e) => { const cur = metrics.length ? metrics : (meta?.tables.defaultMetrics ?? []); setMetrics(e.target.checked ? [...cur, m] : cur.filter((x) => x !== m)); }} />
                {meta?.metricSpecs[m]?.label ?? m}
              </label>
            ))}
          </>
        )}
        <MethodExperimentFilters method={method} setMethod={setMethod} experiment={experiment} setExperiment={setExperiment} />
      </div>
      <ErrorBox error={error ?? exportError} />
      {data && !t && <div className="panel dim">No evaluated runs match these filters.</div>}
      {t && (
        <div className="panel">
          <div className="toolbar">
            <div>
              <strong data-testid="table-title">{t.title}</strong>
              <div className="dim small">{cfgInfo ? `table config ${cfgInfo.name} (${cfgInfo.file.split('/').slice(-2).join('/')}): runs are matched to rows and columns by their resolved config` : `rows = values of ${rowsShown}; runs the key does not apply to are rows of their own (the frozen baseline)`}</div>
            </div>
            <span className="spacer" />
            <button data-testid="export-csv" onClick={() => save('csv', 'csv')}>Export CSV</button>
            <button data-testid="export-md" onClick={() => save('md', 'md')}>Export Markdown</button>
            <button data-testid="export-latex" onClick={() => save('latex', 'tex')}>Export LaTeX</button>
            <select value={layout} onChange={(e) => setLayout(e.target.value as typeof layout)} aria-label="layout">
              <option value="auto">layout: auto</option><option value="wide">protocols × metrics</option><option value="per-metric">one table per metric</option>
            </select>
            <select value={preview} onChange={(e) => setPreview(e.target.value as typeof preview)} aria-label="preview format">
              <option value="">preview…</option><option value="md">Markdown</option><option value="latex">LaTeX</option><option value="csv">CSV</option>
            </select>
          </div>
          <div data-testid="paper-table" data-layout={perMetric ? 'per-metric' : 'wide'}>
            {perMetric ? (
              t.metrics.map((m, mi) => (
                <div key={m.key} className="scroll-x metric-block">
                  <div className="chart-title">{m.label}{m.percent ? ' (%)' : ''} <span className="dim small">{m.better} is better</span></div>
                  <table className="grid paper">
                    <thead>
                      <tr><th>{t.rowHeader ?? 'Method'}</th>{t.columns.map((c) => <th key={c.id} className="num">{c.label}</th>)}</tr>
                    </thead>
                    <tbody>
                      {t.rows.map((r) => (
                        <tr key={r.id} className={r.kind === 'literature' ? 'reference-row' : ''}>
                          <td className="nowrap">{r.label}{r.kind === 'literature' ? <span className="dim small"> (reported)</span> : null}</td>
                          {r.cells.map((col, ci) => (
                            <td key={ci} className="num nowrap" style={{ fontWeight: col?.[mi]?.best ? 700 : 400 }}><CellText c={col?.[mi] ?? null} decimals={m.decimals} /></td>
                          ))}
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              ))
            ) : (
              <div className="scroll-x">
                <table className="grid paper">
                  <thead>
                    <tr>
                      <th rowSpan={2}>{t.rowHeader ?? 'Method'}</th>
                      {t.columns.map((c) => <th key={c.id} colSpan={t.metrics.length} className="group">{c.label}</th>)}
                    </tr>
                    <tr>{t.columns.flatMap((c) => t.metrics.map((m) => <th key={c.id + m.key} className="num">{m.label}{m.percent ? ' (%)' : ''}</th>))}</tr>
                  </thead>
                  <tbody>
                    {t.rows.map((r) => (
                      <tr key={r.id} className={r.kind === 'literature' ? 'reference-row' : ''}>
                        <td className="nowrap">{r.label}{r.kind === 'literature' ? <span className="dim small"> (reported)</span> : null}</td>
                        {r.cells.flatMap((col, ci) =>
                          t.metrics.map((m, mi) => (
                            <td key={`${ci}-${mi}`} className={`num nowrap ${mi === 0 ? 'group-start' : ''}`} style={{ fontWeight: col?.[mi]?.best ? 700 : 400 }}>
                              <CellText c={col?.[mi] ?? null} decimals={m.decimals} />
                            </td>
                          )),
                        )}
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </div>
          <div className="dim small" style={{ marginTop: 6 }}>
            Mean ± sample std over folds (runs repeating a fold count as extra folds); n = folds averaged, k/n = folds done of those the protocol declares. Bold: significantly better than every other row (paired t-test over folds, 5%); ≈: tied with the best mean when no row is.
          </div>
          {preview && previewText.data && <pre data-testid="table-preview">{previewText.data}</pre>}
        </div>
      )}
    </div>
  );
}
