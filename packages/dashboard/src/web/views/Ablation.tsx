// Ablation: a metric against a config key (default ssmb.numExperts), mean ± std over folds; one panel
// per protocol with the frozen baseline as a reference line, and the table with n and the change
// against the first setting (does N > 1 beat N = 1?). Only runs the key applies to are grouped.
import { useMemo, useState } from 'react';
import { qs, useApi, type AblationPoint, type AblationResponse } from '../api.ts';
import { useMeta } from '../meta.ts';
import { ErrorBox, MethodExperimentFilters } from '../components.tsx';
import { AblationCharts } from '../charts.tsx';
import { fmtMeanStd, fmtMetric, labelWithUnit, specOf } from '../format.ts';

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
  const [method, setMethod] = useState('');
  const [experiment, setExperiment] = useState('');
  const { data, error } = useApi<AblationResponse>(`/api/ablation${qs({ metric, key, method, experiment })}`);
  const spec = specOf(meta?.metricSpecs, metric);
  const { xs, protocols } = useMemo(() => {
    const pts = data?.points ?? [];
    const raw = [...new Set(pts.map((p) => p.x))];
    raw.sort((a, b) => (typeof a === 'number' && typeof b === 'number' ? a - b : String(a).localeCompare(String(b))));
    return { xs: raw.map(xLabel), protocols: [...new Set([...pts.map((p) => p.protocol), ...(data?.baselines ?? []).map((b) => b.protocol)])].sort() };
  }, [data]);
  const cell = (p: string, x: string) => data?.points.find((q) => q.protocol === p && xLabel(q.x) === x);
  const base = (p: string) => data?.baselines.find((b) => b.protocol === p);
  const delta = (p: string, x: string) => {
    const first = cell(p, xs[0]);
    const c = cell(p, x);
    if (!first || !c || first.mean === null || c.mean === null || x === xs[0]) return null;
    const d = (c.mean - first.mean) * (spec.percent ? 100 : 1);
    const good = spec.better === 'higher' ? d > 0 : d < 0;
    return <span className={good ? 'up' : 'down'} title={`change against ${key}=${xs[0]}`}> {d >= 0 ? '+' : ''}{d.toFixed(spec.decimals)}</span>;
  };

  return (
    <div>
      <div className="toolbar">
        <h1>Ablation</h1>
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
        <span className="dim small">only runs {key} applies to; the frozen baseline is the dashed line{data?.baselineScope === 'store' ? ' (from the whole store: none in this experiment)' : ''}</span>
      </div>
      <ErrorBox error={error} />
      <div className="panel">
        <div className="chart-title">{labelWithUnit(spec)} against {key} <span className="dim small">mean ± std over folds and seeds; error bars only where n &gt; 1</span></div>
        {xs.length ? (
          <AblationCharts xs={xs} xLabel={key} yLabel={labelWithUnit(spec)} percent={spec.percent}
            panels={protocols.map((p) => ({
              protocol: p,
              points: xs.flatMap((x) => { const c = cell(p, x); return c && c.mean !== null ? [{ x, mean: c.mean, std: c.std, n: c.n }] : []; }),
              baseline: base(p) && base(p)!.mean !== null ? { mean: base(p)!.mean!, std: base(p)!.std, n: base(p)!.n } : undefined,
            })).filter((panel) => panel.points.length > 0)} />
        ) : <div className="dim">No evaluated runs match.</div>}
      </div>
      <div className="panel">
        <div className="scroll-x">
          <table className="grid" data-testid="ablation-table">
            <thead>
              <tr><th>{key}</th>{protocols.map((p) => <th key={p} className="num">{p}</th>)}</tr>
            </thead>
            <tbody>
              {protocols.some((p) => base(p)) && (
                <tr className="reference-row">
                  <td>frozen baseline</td>
                  {protocols.map((p) => {
                    const b = base(p);
                    return <td key={p} className="num">{b ? fmtMeanStd(b.mean, b.std, b.n, spec) : '–'}<span className="dim small">{b ? ` n=${b.n}` : ''}</span></td>;
                  })}
                </tr>
              )}
              {xs.map((x) => (
                <tr key={x}>
                  <td>{x}</td>
                  {protocols.map((p) => {
                    const c = cell(p, x);
                    return (
                      <td key={p} className="num" title={c ? `${c.n} values from runs ${c.runIds.join(', ')}` : ''}>
                        {c ? fmtMeanStd(c.mean, c.std, c.n, spec) : '–'}<span className="dim small">{c ? ` n=${c.n}` : ''}</span>{delta(p, x)}
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <div className="dim small" style={{ marginTop: 6 }}>
          Coloured numbers: change against {key}={xs[0] ?? '…'} ({spec.better} is better{spec.percent ? ', percentage points' : ''}). Best values: {protocols.map((p) => {
            const pts = xs.map((x) => cell(p, x)).filter((c): c is AblationPoint => !!c && c.mean !== null);
            const best = pts.sort((a, b) => (spec.better === 'higher' ? b.mean! - a.mean! : a.mean! - b.mean!))[0];
            return best ? `${p} ${key}=${xLabel(best.x)} (${fmtMetric(best.mean, spec)})` : null;
          }).filter(Boolean).join('; ')}.
        </div>
      </div>
    </div>
  );
}
