// Ablation: a metric against a config key (default ssmb.numExperts), mean +- std over folds, one series
// per protocol, with the table beside the plot.
import { useMemo, useState } from 'react';
import { qs, useApi, type AblationPoint } from '../api.ts';
import { useMeta } from '../App.tsx';
import { MethodExperimentFilters } from '../filters.tsx';
import { AblationChart } from '../charts.tsx';
import { fmtMeanStd, specOf } from '../format.ts';

const xLabel = (x: AblationPoint['x']) => (x === null ? '(unset)' : String(x));

export function AblationView() {
  const meta = useMeta();
  const [metric, setMetric] = useState('rank1');
  const [key, setKey] = useState('ssmb.numExperts');
  const [keyDraft, setKeyDraft] = useState(key);
  // Apply the config key when it is a known key (or on blur / Enter), not on every keystroke.
  const editKey = (v: string) => {
    setKeyDraft(v);
    if (meta?.configKeys.includes(v)) setKey(v);
  };
  const [method, setMethod] = useState('ssmb');
  const [experiment, setExperiment] = useState('');
  const { data, error } = useApi<{ points: AblationPoint[] }>(`/api/ablation${qs({ metric, key, method, experiment })}`);
  const spec = specOf(meta?.metricSpecs, metric);
  const { xs, protocols } = useMemo(() => {
    const pts = data?.points ?? [];
    const raw = [...new Set(pts.map((p) => p.x))];
    raw.sort((a, b) => (typeof a === 'number' && typeof b === 'number' ? a - b : String(a).localeCompare(String(b))));
    return { xs: raw.map(xLabel), protocols: [...new Set(pts.map((p) => p.protocol))].sort() };
  }, [data]);
  const cell = (p: string, x: string) => data?.points.find((q) => q.protocol === p && xLabel(q.x) === x);

  return (
    <div>
      <div className="toolbar">
        <h1 style={{ margin: 0 }}>Ablation</h1>
        <label className="check">metric
          <select value={metric} onChange={(e) => setMetric(e.target.value)} aria-label="metric">
            {(meta?.evalMetrics ?? ['rank1']).map((m) => <option key={m} value={m}>{specOf(meta?.metricSpecs, m).label}</option>)}
          </select>
        </label>
        <label className="check">against
          <input value={keyDraft} onChange={(e) => editKey(e.target.value.trim())} onBlur={() => keyDraft && setKey(keyDraft)}
            onKeyDown={(e) => e.key === 'Enter' && keyDraft && setKey(keyDraft)} list="config-keys" aria-label="config key" style={{ width: 200 }} />
          <datalist id="config-keys">{meta?.configKeys.map((k) => <option key={k} value={k} />)}</datalist>
        </label>
        <MethodExperimentFilters method={method} setMethod={setMethod} experiment={experiment} setExperiment={setExperiment} />
      </div>
      {error && <div className="error">{error.message}</div>}
      <div className="row">
        <div className="panel grow" style={{ flex: 3 }}>
          <div className="chart-title">{spec.label}{spec.percent ? ' (%)' : ''} vs {key} <span className="dim small">mean ± std over folds</span></div>
          {xs.length ? <AblationChart xs={xs} xLabel={key} percent={spec.percent}
            series={protocols.map((p) => ({ protocol: p, points: xs.flatMap((x) => { const c = cell(p, x); return c && c.mean !== null ? [{ x, mean: c.mean, std: c.std ?? 0 }] : []; }) }))} />
            : <div className="dim">No evaluated runs match.</div>}
        </div>
        <div className="panel grow" style={{ flex: 2 }}>
          <table className="grid" data-testid="ablation-table">
            <thead>
              <tr><th>{key}</th>{protocols.map((p) => <th key={p} className="num">{p}</th>)}</tr>
            </thead>
            <tbody>
              {xs.map((x) => (
                <tr key={x}>
                  <td>{x}</td>
                  {protocols.map((p) => {
                    const c = cell(p, x);
                    return <td key={p} className="num" title={c ? `${c.n} values from runs ${c.runIds.join(', ')}` : ''}>{c ? `${fmtMeanStd(c.mean, c.std, spec)}` : '–'}<span className="dim small">{c ? ` n=${c.n}` : ''}</span></td>;
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </div>
    </div>
  );
}
