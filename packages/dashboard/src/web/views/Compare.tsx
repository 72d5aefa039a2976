// Compare: two or more runs; what differs in their configs, evaluation metrics (mean ± std over folds,
// n), per-step metrics last and best, and overlaid curves named by what differs, or grouped by a config
// value as mean ± std bands (over seeds or folds).
import { useEffect, useMemo, useState } from 'react';
import { api, qs, useApi, type CompareResponse, type GroupedCurvesResponse, type MetricsResponse, type RunsResponse } from '../api.ts';
import { navigate } from '../router.ts';
import { useMeta } from '../meta.ts';
import { ErrorBox, StatusBadge } from '../components.tsx';
import { BandChart, CurveChart } from '../charts.tsx';
import { fmtMeanStd, fmtNumber, labelWithUnit, PALETTE, specOf } from '../format.ts';

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

const trimmed = (v: number | null) => fmtNumber(v === null ? null : +v.toPrecision(4));

export function CompareView({ ids }: { ids: number[] }) {
  const meta = useMeta();
  const enough = ids.length >= 2;
  const { data, error } = useApi<CompareResponse>(enough ? `/api/compare${qs({ ids })}` : null);
  const [metricKey, setMetricKey] = useState('loss');
  const [smoothing, setSmoothing] = useState(0.6);
  const [groupBy, setGroupBy] = useState('');
  const [allKeys, setAllKeys] = useState(false);
  const [curves, setCurves] = useState<Map<number, MetricsResponse>>(new Map());
  useEffect(() => {
    if (!enough || groupBy) return;
    let alive = true;
    Promise.all(ids.map((id) => api<MetricsResponse>(`/api/runs/${id}/metrics${qs({ keys: metricKey, maxPoints: 1000 })}`).then((m) => [id, m] as const)))
      .then((all) => alive && setCurves(new Map(all)))
      .catch(() => alive && setCurves(new Map()));
    return () => {
      alive = false;
    };
  }, [ids.join(','), metricKey, groupBy]);
  const grouped = useApi<GroupedCurvesResponse>(enough && groupBy ? `/api/curves${qs({ ids, key: metricKey, by: groupBy })}` : null);
  const metricRows = useMemo(() => {
    const order = meta?.evalMetrics ?? [];
    const rank = (m: string) => (order.includes(m) ? order.indexOf(m) : order.length);
    const keys = [...new Set((data?.summary ?? []).map((s) => `${s.protocol}\0${s.metric}`))].map((k) => k.split('\0') as [string, string]);
    return keys.sort((a, b) => a[0].localeCompare(b[0]) || rank(a[1]) - rank(b[1]) || a[1].localeCompare(b[1]));
  }, [data, meta]);
  const stepKeys = useMemo(() => {
    const all = [...new Set(Object.values(data?.latest ?? {}).flatMap((l) => l.map((m) => m.key)))].sort();
    return all;
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
  if (error) return <ErrorBox error={error} />;
  if (!data) return <div className="dim">loading…</div>;
  const color = (i: number) => PALETTE[i % PALETTE.length];
  const label = (id: number) => data.labels[id] ?? `#${id}`;
  const protocolsOf = new Map(data.runs.map((r) => [r.id, [...new Set(data.summary.filter((x) => x.runId === r.id).map((x) => x.protocol))]]));
  const protocolOf = new Map([...protocolsOf].map(([id, ps]) => [id, ps[0]]));
  const oneProtocolEach = [...protocolsOf.values()].every((ps) => ps.length <= 1) && new Set([...protocolOf.values()].filter(Boolean)).size > 1;
  const metricNames = [...new Set(metricRows.map(([, m]) => m))];
  const withData = data.runs.filter((r) => (curves.get(r.id)?.series[0]?.total ?? 0) > 0);
  const noData = data.runs.filter((r) => !withData.includes(r));
  const shownKeys = allKeys ? stepKeys : stepKeys.filter((k) => k === 'loss' || k.startsWith('loss/') || k.startsWith('eval/'));
  return (
    <div>
      <div className="toolbar">
        <h1>Compare {ids.length} runs</h1>
        <RunPicker ids={ids} />
      </div>
      <div className="panel">
        <div className="scroll-x">
          <table className="grid" data-testid="compare-runs">
            <thead><tr><th /><th>run</th><th>differs by</th><th>status</th><th>experiment</th><th /></tr></thead>
            <tbody>
              {data.runs.map((r, i) => (
                <tr key={r.id}>
                  <td><span className="swatch" style={{ background: color(i) }} /></td>
                  <td><a href={`#/runs/${r.id}`}>#{r.id} {r.name}</a></td>
                  <td className="dim">{label(r.id).replace(/^#\d+ ?/, '') || '–'}</td>
                  <td><StatusBadge run={r} /></td>
                  <td>{r.experimentName}</td>
                  <td><button className="link" onClick={() => navigate(`compare?ids=${ids.filter((x) => x !== r.id).join(',')}`)}>remove</button></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </div>
      <div className="panel">
        <h2>Config differences</h2>
        {data.configDiff.length === 0 ? (
          <div className="dim">The configs are identical.</div>
        ) : (
          <div className="scroll-x">
            <table className="grid" data-testid="config-diff">
              <thead>
                <tr><th>key</th>{data.runs.map((r, i) => <th key={r.id} style={{ color: color(i) }}>#{r.id}</th>)}</tr>
              </thead>
              <tbody>
                {data.configDiff.map((d) => (
                  <tr key={d.key}>
                    <td>{d.key}</td>
                    {data.runs.map((r) => <td key={r.id} className="clip" title={fmtNumber(d.values[r.id])}>{fmtNumber(d.values[r.id])}</td>)}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </div>
      <div className={data.runs.length <= 3 ? 'two' : ''}>
        <div className="panel">
          <h2>Evaluation <span className="dim small">mean ± std over folds (n)</span></h2>
          <div className="scroll-x">
            {oneProtocolEach ? (
              // Each run was evaluated on one protocol (a sweep over protocols): one row per metric.
              <table className="grid" data-testid="compare-metrics">
                <thead>
                  <tr><th>metric</th>{data.runs.map((r, i) => <th key={r.id} className="num" style={{ color: color(i) }}>#{r.id}</th>)}</tr>
                  <tr><th className="dim small">protocol</th>{data.runs.map((r) => <th key={r.id} className="num dim small">{protocolOf.get(r.id) ?? '–'}</th>)}</tr>
                </thead>
                <tbody>
                  {metricNames.map((m) => (
                    <tr key={m}>
                      <td>{labelWithUnit(specOf(meta?.metricSpecs, m))}</td>
                      {data.runs.map((r) => {
                        const s = data.summary.find((x) => x.runId === r.id && x.metric === m);
                        return <td key={r.id} className="num">{s ? fmtMeanStd(s.mean, s.std, s.n, specOf(meta?.metricSpecs, m)) : '–'}{s && s.n > 1 ? <span className="dim small"> n={s.n}</span> : null}</td>;
                      })}
                    </tr>
                  ))}
                </tbody>
              </table>
            ) : (
              <table className="grid" data-testid="compare-metrics">
                <thead>
                  <tr><th>protocol</th><th>metric</th>{data.runs.map((r, i) => <th key={r.id} className="num" style={{ color: color(i) }}>#{r.id}</th>)}</tr>
                </thead>
                <tbody>
                  {metricRows.map(([p, m]) => (
                    <tr key={p + m}>
                      <td>{p}</td>
                      <td>{labelWithUnit(specOf(meta?.metricSpecs, m))}</td>
                      {data.runs.map((r) => {
                        const s = data.summary.find((x) => x.runId === r.id && x.protocol === p && x.metric === m);
                        return (
                          <td key={r.id} className="num">
                            {s ? fmtMeanStd(s.mean, s.std, s.n, specOf(meta?.metricSpecs, m)) : '–'}
                            {s && s.n > 1 ? <span className="dim small"> n={s.n}</span> : null}
                          </td>
                        );
                      })}
                    </tr>
                  ))}
                  {metricRows.length === 0 && <tr><td colSpan={2 + data.runs.length} className="dim">No evaluations yet.</td></tr>}
                </tbody>
              </table>
            )}
          </div>
        </div>
        <div className="panel">
          <h2>
            Training metrics <span className="dim small">last · best</span>
            <label className="check small" style={{ marginLeft: 10 }}><input type="checkbox" checked={allKeys} onChange={(e) => setAllKeys(e.target.checked)} /> all keys</label>
          </h2>
          <div className="scroll-x">
            <table className="grid" data-testid="compare-latest">
              <thead>
                <tr><th>key</th>{data.runs.map((r, i) => <th key={r.id} className="num" style={{ color: color(i) }}>#{r.id}</th>)}</tr>
              </thead>
              <tbody>
                {shownKeys.map((k) => (
                  <tr key={k}>
                    <td>{k}</td>
                    {data.runs.map((r) => {
                      const m = data.latest[r.id]?.find((x) => x.key === k);
                      if (!m) return <td key={r.id} className="num dim">–</td>;
                      const best = m.better === 'lower' ? m.min : m.better === 'higher' ? m.max : null;
                      return <td key={r.id} className="num nowrap">{trimmed(m.value)}{best !== null ? <span className="dim small"> · {trimmed(best)}</span> : null}</td>;
                    })}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </div>
      </div>
      <div className="panel">
        <div className="toolbar">
          <h2>Curves</h2>
          <input value={metricKey} onChange={(e) => setMetricKey(e.target.value)} aria-label="curve metric" style={{ width: 170 }} list="metric-keys" />
          <datalist id="metric-keys">{stepKeys.map((k) => <option key={k} value={k} />)}</datalist>
          <label className="check">group by
            <select value={groupBy} onChange={(e) => setGroupBy(e.target.value)} aria-label="group by">
              <option value="">— (one line per run)</option>
              {data.configDiff.map((d) => <option key={d.key} value={d.key}>{d.key}</option>)}
            </select>
          </label>
          {!groupBy && <label className="check">smoothing <input type="range" min={0} max={0.99} step={0.01} value={smoothing} onChange={(e) => setSmoothing(Number(e.target.value))} /></label>}
          {!groupBy && (
            <span className="dim small" data-testid="compare-points">
              plotting {[...curves.values()].reduce((a, c) => a + (c.series[0]?.plotted ?? 0), 0).toLocaleString('en-US')} of{' '}
              {[...curves.values()].reduce((a, c) => a + (c.series[0]?.total ?? 0), 0).toLocaleString('en-US')} points
            </span>
          )}
          {!groupBy && noData.length > 0 && curves.size > 0 && <span className="dim small" data-testid="no-data">no {metricKey} logged by {noData.map((r) => `#${r.id}`).join(', ')}</span>}
          {groupBy && grouped.data && grouped.data.missing.length > 0 && <span className="dim small">no {metricKey} logged by {grouped.data.missing.map((i) => `#${i}`).join(', ')}</span>}
        </div>
        {groupBy ? (
          grouped.data && <BandChart testId="compare-bands" groups={grouped.data.groups} yLabel={metricKey} />
        ) : (
          <CurveChart testId="compare-curves" smoothing={smoothing} yLabel={metricKey}
            series={withData.map((r) => {
              const s = curves.get(r.id)!.series[0];
              return { name: label(r.id), steps: s.steps, values: s.values, color: color(data.runs.indexOf(r)) };
            })} />
        )}
      </div>
    </div>
  );
}
