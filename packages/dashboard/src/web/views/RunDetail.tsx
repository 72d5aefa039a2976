// Run detail: resolved config, learning curves with smoothing, per-fold evaluation, ROC/DET/CMC, routing.
import { useMemo, useState } from 'react';
import { qs, useApi, useLiveEvents, useThrottled, type EvalCurve, type MetricsResponse, type RoutingRow, type RunResponse, type RunsResponse } from '../api.ts';
import { useMeta } from '../App.tsx';
import { CmcChart, CurveChart, DetChart, RocChart, RoutingHeatmap } from '../charts.tsx';
import { fmtDuration, fmtMeanStd, fmtMetric, fmtNumber, fmtTime, skippedEntries, specOf } from '../format.ts';
import { StatusBadge } from './Runs.tsx';
import { flatten } from './Compare.tsx';

const isLoss = (k: string) => /loss|^l_/i.test(k);

/** Group metric keys into charts: loss terms together, every other key (img/s, lr, ...) on its own. */
export function groupKeys(keys: string[]): Array<{ title: string; keys: string[] }> {
  const losses = keys.filter(isLoss);
  return [...(losses.length ? [{ title: 'losses', keys: losses }] : []), ...keys.filter((k) => !isLoss(k)).map((k) => ({ title: k, keys: [k] }))];
}

export function RunDetailView({ id }: { id: number }) {
  const meta = useMeta();
  const [version, setVersion] = useState(0);
  const [curveVersion, setCurveVersion] = useState(0);
  const [smoothing, setSmoothing] = useState(0.6);
  const [maxPoints, setMaxPoints] = useState(1000);
  const [protocolSel, setProtocolSel] = useState('');
  const refreshRun = useThrottled(() => setVersion((v) => v + 1), 1000);
  const refreshCurves = useThrottled(() => setCurveVersion((v) => v + 1), 2000);
  useLiveEvents((ev) => {
    if (ev.type === 'metrics' && ev.points.some((p) => p.runId === id)) refreshCurves();
    if (ev.type === 'run-updated' && ev.run.id === id) refreshRun();
  });
  const { data, error } = useApi<RunResponse>(`/api/runs/${id}`, version);
  const metrics = useApi<MetricsResponse>(`/api/runs/${id}/metrics${qs({ maxPoints })}`, curveVersion + version);
  const curves = useApi<{ curves: EvalCurve[] }>(`/api/runs/${id}/curves`, version);
  const routing = useApi<{ routing: RoutingRow[] }>(`/api/runs/${id}/routing`, version);
  const children = useApi<RunsResponse>(data?.run.kind === 'sweep' ? `/api/runs${qs({ parent: id, limit: 1000, sort: 'id', order: 'asc' })}` : null, version);

  const protocols = useMemo(() => [...new Set((data?.evaluations ?? []).map((e) => e.protocol))], [data]);
  const evalMetrics = useMemo(() => [...new Set((data?.evaluations ?? []).map((e) => e.metric))].sort(), [data]);
  const folds = useMemo(() => [...new Set((data?.evaluations ?? []).map((e) => `${e.protocol}\0${e.fold}`))], [data]);
  const routingRows = (routing.data?.routing ?? []).filter((r) => !protocolSel || r.protocol === protocolSel);

  if (error) return <div className="error">{error.message}</div>;
  if (!data) return <div className="dim">loading run {id}…</div>;
  const r = data.run;
  const seriesByKey = new Map((metrics.data?.series ?? []).map((s) => [s.key, s]));
  const plotted = metrics.data?.series.reduce((a, s) => a + s.plotted, 0) ?? 0;
  const total = metrics.data?.series.reduce((a, s) => a + s.total, 0) ?? 0;
  const flat = flatten(r.config);

  return (
    <div>
      <div className="toolbar">
        <h1 style={{ margin: 0 }} data-testid="run-title">#{r.id} {r.name}</h1>
        <StatusBadge status={r.status} />
        <span className="dim">{r.experiment} · {r.method ?? r.kind} · {r.backbone} · N={r.numExperts ?? '–'} · {r.protocol}/{r.fold}</span>
        {Object.entries(r.tags).map(([k, v]) => <span key={k} className="tag">{v ? `${k}=${v}` : k}</span>)}
      </div>
      {r.error && <div className="error">failed: {r.error}</div>}
      {r.parentRunId !== null && <div className="dim" style={{ marginBottom: 8 }}>part of sweep <a href={`#/runs/${r.parentRunId}`}>#{r.parentRunId}</a></div>}
      {children.data && (
        <div className="panel">
          <div className="toolbar">
            <h2 style={{ margin: 0 }}>Sweep runs</h2>
            <span className="dim">{children.data.total} runs</span>
            {children.data.runs.length >= 2 && <a href={`#/compare?ids=${children.data.runs.slice(0, 8).map((c) => c.id).join(',')}`}>compare {Math.min(8, children.data.runs.length)}</a>}
          </div>
          <table className="grid" data-testid="sweep-runs">
            <thead><tr><th>#</th><th>name</th><th>status</th><th>N</th><th>protocol</th><th>fold</th>
              {(meta?.listMetrics ?? []).map((m) => <th key={m} className="num">{specOf(meta?.metricSpecs, m).label}</th>)}</tr></thead>
            <tbody>
              {children.data.runs.map((c) => (
                <tr key={c.id}>
                  <td><a href={`#/runs/${c.id}`}>{c.id}</a></td>
                  <td><a href={`#/runs/${c.id}`}>{c.name}</a></td>
                  <td><StatusBadge status={c.status} /></td>
                  <td>{c.numExperts ?? '–'}</td>
                  <td>{c.protocol ?? '–'}</td>
                  <td>{c.fold ?? '–'}</td>
                  {(meta?.listMetrics ?? []).map((m) => <td key={m} className="num">{fmtMetric(c.metrics[m], specOf(meta?.metricSpecs, m))}</td>)}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <div className="row">
        <div className="panel grow" style={{ flex: 3 }}>
          <div className="toolbar">
            <h2 style={{ margin: 0 }}>Learning curves</h2>
            <label className="check">
              smoothing
              <input type="range" min={0} max={0.99} step={0.01} value={smoothing} onChange={(e) => setSmoothing(Number(e.target.value))} aria-label="smoothing" />
              <span className="dim">{smoothing.toFixed(2)}</span>
            </label>
            <label className="check">
              max points
              <select value={maxPoints} onChange={(e) => setMaxPoints(Number(e.target.value))} aria-label="max points">
                {[200, 1000, 5000, 20000].map((n) => <option key={n} value={n}>{n}</option>)}
              </select>
            </label>
            <span className="dim small" data-testid="points-plotted">plotting {plotted.toLocaleString()} of {total.toLocaleString()} points</span>
          </div>
          {groupKeys(data.metricKeys.map((k) => k.key)).map((g) => (
            <div key={g.title}>
              <div className="chart-title">
                {g.title}
                <span className="dim small">{g.keys.map((k) => `${k}: ${seriesByKey.get(k)?.plotted ?? 0}/${seriesByKey.get(k)?.total ?? 0}`).join(' · ')}</span>
              </div>
              <CurveChart testId={`curve-${g.title}`} smoothing={smoothing} height={g.keys.length > 1 ? 260 : 160}
                series={g.keys.flatMap((k) => (seriesByKey.get(k) ? [{ name: k, steps: seriesByKey.get(k)!.steps, values: seriesByKey.get(k)!.values }] : []))} />
            </div>
          ))}
          {data.metricKeys.length === 0 && <div className="dim">No metrics logged yet.</div>}
        </div>
        <div className="panel grow" style={{ flex: 2, maxWidth: 560 }}>
          <h2 style={{ marginTop: 0 }}>Run</h2>
          <div className="kv">
            <span className="k">created</span><span>{fmtTime(r.createdAt)}</span>
            <span className="k">started</span><span>{fmtTime(r.startedAt)}</span>
            <span className="k">duration</span><span>{fmtDuration(r.startedAt, r.finishedAt)}</span>
            <span className="k">step</span><span data-testid="run-step">{r.step}{r.totalSteps ? ` / ${r.totalSteps}` : ''}</span>
            <span className="k">engine</span><span>{r.engine ?? '–'}</span>
            <span className="k">code</span><span>{r.codeVersion ?? '–'}</span>
            <span className="k">seed</span><span>{r.seed}</span>
            <span className="k">attempts</span><span>{r.attempts}</span>
          </div>
          <h2>Resolved config</h2>
          <div className="kv" data-testid="config">
            {Object.entries(flat).map(([k, v]) => [<span key={`${k}k`} className="k">{k}</span>, <span key={`${k}v`}>{fmtNumber(v)}</span>])}
          </div>
          {data.files.length > 0 && (
            <>
              <h2>Files</h2>
              {data.files.map((f) => (
                <div key={`${f.kind}${f.path}`} className="small">
                  <span className="tag">{f.kind}{f.step !== null ? ` @${f.step}` : ''}</span>
                  {f.kind === 'checkpoint' ? <span title={f.path}>{f.path}</span> : <a href={`/api/runs/${r.id}/artifact${qs({ path: f.path })}`} download>{f.path}</a>}
                </div>
              ))}
            </>
          )}
        </div>
      </div>

      <div className="panel">
        <h2 style={{ marginTop: 0 }}>Evaluation per fold</h2>
        {skippedEntries(data.evaluations) && (
          <div className="error" data-testid="skipped-entries">
            {skippedEntries(data.evaluations)} list entries left out: their files are missing (dataset.onMissing=skip); per fold in the skipped columns below
          </div>
        )}
        {folds.length === 0 ? (
          <div className="dim">Not evaluated yet.</div>
        ) : (
          <table className="grid" data-testid="eval-table">
            <thead>
              <tr>
                <th>protocol</th>
                <th>fold</th>
                {evalMetrics.map((m) => <th key={m} className="num">{specOf(meta?.metricSpecs, m).label}</th>)}
              </tr>
            </thead>
            <tbody>
              {folds.map((pf) => {
                const [p, f] = pf.split('\0');
                return (
                  <tr key={pf}>
                    <td>{p}</td>
                    <td>{f}</td>
                    {evalMetrics.map((m) => {
                      const e = data.evaluations.find((x) => x.protocol === p && x.fold === f && x.metric === m);
                      return <td key={m} className="num">{fmtMetric(e?.value, specOf(meta?.metricSpecs, m))}</td>;
                    })}
                  </tr>
                );
              })}
              {protocols.map((p) => (
                <tr key={`mean-${p}`} style={{ fontWeight: 600 }}>
                  <td>{p}</td>
                  <td>mean ± std</td>
                  {evalMetrics.map((m) => {
                    const s = data.summary.find((x) => x.protocol === p && x.metric === m);
                    return <td key={m} className="num">{s ? fmtMeanStd(s.mean, s.std, specOf(meta?.metricSpecs, m)) : '–'}</td>;
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>

      {(curves.data?.curves.length ?? 0) > 0 && (
        <div className="row">
          <div className="panel grow">
            <div className="chart-title">ROC <span className="dim small">TAR vs FAR (log)</span></div>
            <RocChart curves={curves.data!.curves.filter((c) => c.kind === 'roc')} />
          </div>
          <div className="panel grow">
            <div className="chart-title">DET <span className="dim small">FRR vs FAR (probit axes)</span></div>
            <DetChart curves={curves.data!.curves.filter((c) => c.kind === 'roc')} />
          </div>
          <div className="panel grow">
            <div className="chart-title">CMC <span className="dim small">identification rate vs rank</span></div>
            <CmcChart curves={curves.data!.curves.filter((c) => c.kind === 'cmc')} />
          </div>
        </div>
      )}

      {(routing.data?.routing.length ?? 0) > 0 && (
        <div className="panel">
          <div className="toolbar">
            <h2 style={{ margin: 0 }}>Routing</h2>
            <span className="dim small">probe images per expert, per SSMB block (summed over folds)</span>
            <select value={protocolSel} onChange={(e) => setProtocolSel(e.target.value)} aria-label="routing protocol">
              <option value="">all protocols</option>
              {[...new Set(routing.data!.routing.map((x) => x.protocol))].map((p) => <option key={p}>{p}</option>)}
            </select>
          </div>
          <RoutingHeatmap rows={routingRows} />
        </div>
      )}
    </div>
  );
}
