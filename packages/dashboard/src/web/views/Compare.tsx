// Compare: two or more runs; what differs in their configs, evaluation metrics per configuration (its
// runs over folds and seeds: mean ± std (n), best only when significantly best), per-step metrics last and best, and overlaid curves named by what differs, or grouped by a config
// value as mean ± std bands (over seeds or folds).
import { useEffect, useMemo, useState } from 'react';
import { api, qs, useApi, type CompareResponse, type EvalCurve, type GroupedCurvesResponse, type MetricsResponse, type RunsResponse } from '../api.ts';
import { navigate } from '../router.ts';
import { ErrorBox, StatusBadge } from '../components.tsx';
import { BandChart, CmcChart, CurveChart, DetChart, Exportable, RocChart, type DrawnCurve } from '../charts.tsx';
import { CompareMetrics } from '../compare_metrics.tsx';
import { CompareScoreHistograms } from '../compare_histograms.tsx';
import { fmtNumber, PALETTE } from '../format.ts';

function RunPicker({ ids }: { ids: number[] }) {
  const [search, setSearch] = useState('');
  const { data } = useApi<RunsResponse>(`/api/runs${qs({ search, limit: 50, status: 'completed,running,failed' })}`, 0, { keepPrevious: true });
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

export function CompareView({ ids, by }: { ids: number[]; by?: string }) {
  const enough = ids.length >= 2;
  const perRun = by === 'none';
  const { data, error } = useApi<CompareResponse>(enough ? `/api/compare${qs({ ids, by })}` : null);
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
  // Evaluation curves of every compared run, overlaid per protocol (coloured by group).
  const [evalCurves, setEvalCurves] = useState<Map<number, EvalCurve[]>>(new Map());
  useEffect(() => {
    if (!enough) return;
    let alive = true;
    Promise.all(ids.map((id) => api<{ curves: EvalCurve[] }>(`/api/runs/${id}/curves`).then((c) => [id, c.curves] as const)))
      .then((all) => alive && setEvalCurves(new Map(all)))
      .catch(() => alive && setEvalCurves(new Map()));
    return () => {
      alive = false;
    };
  }, [ids.join(',')]);
  const grouped = useApi<GroupedCurvesResponse>(enough && groupBy ? `/api/curves${qs({ ids, key: metricKey, by: groupBy })}` : null);
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
      <div className={data.groups.length <= 3 ? 'two' : ''}>
        <div className="panel">
          <h2>
            Evaluation <span className="dim small">{perRun ? 'one column per run: mean ± std over its folds (n)' : 'one column per configuration: mean ± std over folds (n), seeds averaged within a fold'}</span>
          </h2>
          <div className="toolbar small">
            <label className="check">columns
              <select value={perRun ? 'none' : by ? 'custom' : ''} onChange={(e) => navigate(`compare?ids=${ids.join(',')}${e.target.value === 'none' ? '&by=none' : e.target.value === 'custom' ? '&by=ssmb.numExperts' : ''}`)} aria-label="compare columns">
                <option value="">configurations (over folds & seeds)</option>
                <option value="none">runs</option>
                <option value="custom">grouped by keys…</option>
              </select>
            </label>
            {by && !perRun && <input defaultValue={by} aria-label="compare group keys" onBlur={(e) => navigate(`compare?ids=${ids.join(',')}&by=${e.target.value}`)} style={{ width: 200 }} />}
            <span className="dim small">bold = significantly best (paired t-test over folds, bootstrap over probes; 5%); ≈ = tied with the best; Δ = difference from the leader [95% interval]; ⚠ = under 10 false accepts</span>
          </div>
          <div className="scroll-x">
            <CompareMetrics data={data} />
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
      <OverlaidCurves data={data} curves={evalCurves} />
      <CompareScoreHistograms groups={data.groups} />
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
              return { name: label(r.id), steps: s.steps, values: s.values, nan: s.nan, color: color(data.runs.indexOf(r)) };
            })} />
        )}
      </div>
    </div>
  );
}

/** ROC, DET and CMC of the compared runs on one chart per protocol; a group's runs (folds) share its colour. */
function OverlaidCurves({ data, curves }: { data: CompareResponse; curves: Map<number, EvalCurve[]> }) {
  const groupOf = new Map(data.groups.flatMap((g, i) => g.runIds.map((id) => [id, { g, i }] as const)));
  const drawn: DrawnCurve[] = [...curves].flatMap(([id, cs]) => {
    const at = groupOf.get(id);
    if (!at) return [];
    return cs.map((c) => ({ ...c, order: at.i, label: at.g.runIds.length > 1 || at.g.folds.length > 1 ? `${at.g.label} / ${c.fold}` : at.g.label, color: PALETTE[at.i % PALETTE.length] }));
  }).sort((a, b) => a.order - b.order || a.fold.localeCompare(b.fold, undefined, { numeric: true }));
  const protocols = [...new Set(drawn.map((c) => c.protocol))].sort();
  if (protocols.length === 0) return null;
  return (
    <div className="panel" data-testid="compare-eval-curves">
      <h2>Evaluation curves <span className="dim small">overlaid per protocol; one colour per column of the table above, one line per fold</span></h2>
      {protocols.map((p) => {
        const of = (kind: 'roc' | 'cmc') => drawn.filter((c) => c.protocol === p && c.kind === kind);
        return (
          <div key={p} data-protocol={p}>
            <div className="chart-title">{p}</div>
            <div className="three">
              <Exportable name={`roc-${p}`}><RocChart curves={of('roc')} testId="compare-roc" /></Exportable>
              <Exportable name={`det-${p}`}><DetChart curves={of('roc')} testId="compare-det" /></Exportable>
              <Exportable name={`cmc-${p}`}><CmcChart curves={of('cmc')} testId="compare-cmc" /></Exportable>
            </div>
          </div>
        );
      })}
    </div>
  );
}
