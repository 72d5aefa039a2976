// Compare: two or more runs; config differences only, overlaid curves, metric table.
import { useEffect, useMemo, useState } from 'react';
import { api, qs, useApi, type CompareResponse, type MetricsResponse, type RunsResponse } from '../api.ts';
import { navigate, useMeta } from '../App.tsx';
import { CurveChart } from '../charts.tsx';
import { fmtMeanStd, fmtNumber, PALETTE, specOf } from '../format.ts';
import { StatusBadge } from './Runs.tsx';

export function flatten(v: unknown, prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) for (const [k, c] of Object.entries(v)) flatten(c, prefix ? `${prefix}.${k}` : k, out);
  else if (prefix) out[prefix] = v;
  return out;
}

function RunPicker({ ids }: { ids: number[] }) {
  const [search, setSearch] = useState('');
  const { data } = useApi<RunsResponse>(`/api/runs${qs({ search, limit: 50, status: 'completed,running,failed' })}`);
  return (
    <div className="toolbar">
      <span className="dim">add a run:</span>
      <input placeholder="search runs" value={search} onChange={(e) => setSearch(e.target.value)} aria-label="search runs to compare" />
      <select value="" onChange={(e) => e.target.value && navigate(`compare?ids=${[...ids, Number(e.target.value)].join(',')}`)} aria-label="add run">
        <option value="">pick…</option>
        {data?.runs.filter((r) => !ids.includes(r.id)).map((r) => <option key={r.id} value={r.id}>#{r.id} {r.name}</option>)}
      </select>
    </div>
  );
}

export function CompareView({ ids }: { ids: number[] }) {
  const meta = useMeta();
  const enough = ids.length >= 2;
  const { data, error } = useApi<CompareResponse>(enough ? `/api/compare${qs({ ids })}` : null);
  const [metricKey, setMetricKey] = useState('loss');
  const [smoothing, setSmoothing] = useState(0.6);
  const [curves, setCurves] = useState<Map<number, MetricsResponse>>(new Map());
  useEffect(() => {
    if (!enough) return;
    let alive = true;
    Promise.all(ids.map((id) => api<MetricsResponse>(`/api/runs/${id}/metrics${qs({ keys: metricKey, maxPoints: 1000 })}`).then((m) => [id, m] as const)))
      .then((all) => alive && setCurves(new Map(all)))
      .catch(() => alive && setCurves(new Map()));
    return () => {
      alive = false;
    };
  }, [ids.join(','), metricKey]);
  const metricRows = useMemo(() => {
    const keys = new Set((data?.summary ?? []).map((s) => `${s.protocol}\0${s.metric}`));
    return [...keys].sort().map((k) => k.split('\0') as [string, string]);
  }, [data]);

  if (!enough) {
    return (
      <div>
        <h1>Compare</h1>
        <div className="panel">Select two or more runs in the <a href="#/runs">Runs</a> table (checkboxes), then press Compare — or add them here.</div>
        <RunPicker ids={ids} />
      </div>
    );
  }
  if (error) return <div className="error">{error.message}</div>;
  if (!data) return <div className="dim">loading…</div>;
  const color = (i: number) => PALETTE[i % PALETTE.length];
  return (
    <div>
      <div className="toolbar">
        <h1 style={{ margin: 0 }}>Compare {ids.length} runs</h1>
        <RunPicker ids={ids} />
      </div>
      <div className="panel">
        <table className="grid" data-testid="compare-runs">
          <thead><tr><th /><th>run</th><th>status</th><th>experiment</th><th /></tr></thead>
          <tbody>
            {data.runs.map((r, i) => (
              <tr key={r.id}>
                <td><span style={{ display: 'inline-block', width: 10, height: 10, borderRadius: 5, background: color(i) }} /></td>
                <td><a href={`#/runs/${r.id}`}>#{r.id} {r.name}</a></td>
                <td><StatusBadge status={r.status} /></td>
                <td>{r.experiment}</td>
                <td><button className="link" onClick={() => navigate(`compare?ids=${ids.filter((x) => x !== r.id).join(',')}`)}>remove</button></td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div className="row">
        <div className="panel grow">
          <h2 style={{ marginTop: 0 }}>Config differences</h2>
          {data.configDiff.length === 0 ? (
            <div className="dim">The configs are identical.</div>
          ) : (
            <table className="grid" data-testid="config-diff">
              <thead>
                <tr><th>key</th>{data.runs.map((r, i) => <th key={r.id} style={{ color: color(i) }}>#{r.id}</th>)}</tr>
              </thead>
              <tbody>
                {data.configDiff.map((d) => (
                  <tr key={d.key}>
                    <td>{d.key}</td>
                    {data.runs.map((r) => <td key={r.id}>{fmtNumber(d.values[r.id])}</td>)}
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
        <div className="panel grow">
          <h2 style={{ marginTop: 0 }}>Metrics (mean ± std over folds)</h2>
          <table className="grid" data-testid="compare-metrics">
            <thead>
              <tr><th>protocol</th><th>metric</th>{data.runs.map((r, i) => <th key={r.id} className="num" style={{ color: color(i) }}>#{r.id}</th>)}</tr>
            </thead>
            <tbody>
              {metricRows.map(([p, m]) => (
                <tr key={p + m}>
                  <td>{p}</td>
                  <td>{specOf(meta?.metricSpecs, m).label}</td>
                  {data.runs.map((r) => {
                    const s = data.summary.find((x) => x.runId === r.id && x.protocol === p && x.metric === m);
                    return <td key={r.id} className="num">{s ? fmtMeanStd(s.mean, s.std, specOf(meta?.metricSpecs, m)) : '–'}</td>;
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </div>
      <div className="panel">
        <div className="toolbar">
          <h2 style={{ margin: 0 }}>Curves</h2>
          <input value={metricKey} onChange={(e) => setMetricKey(e.target.value)} aria-label="curve metric" style={{ width: 140 }} list="metric-keys" />
          <label className="check">smoothing <input type="range" min={0} max={0.99} step={0.01} value={smoothing} onChange={(e) => setSmoothing(Number(e.target.value))} /></label>
          <span className="dim small" data-testid="compare-points">
            plotting {[...curves.values()].reduce((a, c) => a + (c.series[0]?.plotted ?? 0), 0).toLocaleString()} of{' '}
            {[...curves.values()].reduce((a, c) => a + (c.series[0]?.total ?? 0), 0).toLocaleString()} points
          </span>
        </div>
        <CurveChart testId="compare-curves" smoothing={smoothing}
          series={data.runs.flatMap((r, i) => {
            const s = curves.get(r.id)?.series[0];
            return s ? [{ name: `#${r.id} ${metricKey}`, steps: s.steps, values: s.values, color: color(i) }] : [];
          })} />
      </div>
    </div>
  );
}
