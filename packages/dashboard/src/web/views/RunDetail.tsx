// Run detail: learning curves grouped (losses, evaluation, routing, learning rate, throughput) with titled
// axes, per-fold evaluation (std only when n > 1), ROC/DET/CMC, the routing heatmap (VIS included),
// resolved config and files; cancel, archive and tag from here.
import { useMemo, useState } from 'react';
import { api, download, post, qs, useApi, useLiveEvents, useThrottled, type EvalCurve, type MetricKeyInfo, type MetricsResponse, type RoutingRow, type RunResponse, type RunsResponse } from '../api.ts';
import { useMeta } from '../meta.ts';
import { ErrorBox, FewFalseAccepts, StatusBadge } from '../components.tsx';
// The charts come in their own download (charts_lazy.tsx): the title, sidebar and tables show first.
import { CmcChart, CurveChart, DetChart, Exportable, RocChart, RoutingHeatmap, ScoreHistogramPanel } from '../charts_lazy.tsx';
import type { LineSeries } from '../charts.tsx';
import { EmbeddingPanel } from '../embedding_map.tsx';
import { DEFAULT_MAX_POINTS, runPageUrls } from '../run_page.ts';
import { Progressive } from '../progressive.tsx';
import { convergenceText, fmtAgo, fmtDuration, fmtExecutor, fmtMeanStd, fmtMetric, fmtNumber, fmtTime, GROUP_TITLES, labelWithUnit, skippedEntries, specOf } from '../format.ts';
import { flattenConfig } from '@ssmb/trainer/flatten';
import { compareBlocks } from '@ssmb/trainer/display-order';

interface ChartSpec { id: string; title: string; yLabel: string; keys: string[]; percent?: boolean; wide?: boolean }

const COUNT_KEYS = new Set(['eval/genuine', 'eval/impostor']);
const PERF_TITLES: Record<string, string> = { 'perf/img_per_sec': 'Throughput', 'perf/step_seconds': 'Step time', 'perf/loss_fixed_seconds': 'Fixed-pair loss estimate time' };

/** The run page's charts: one per metric group, routing split into entropy and per-block expert shares. */
export function chartSpecs(keys: MetricKeyInfo[]): ChartSpec[] {
  const by = (g: string) => keys.filter((k) => k.group === g).map((k) => k.key);
  const out: ChartSpec[] = [];
  if (by('losses').length) out.push({ id: 'losses', title: GROUP_TITLES.losses, yLabel: 'loss', keys: by('losses'), wide: true });
  if (by('loss-fixed').length) out.push({ id: 'loss-fixed', title: GROUP_TITLES['loss-fixed'], yLabel: 'loss', keys: by('loss-fixed') });
  const ev = by('eval').filter((k) => !COUNT_KEYS.has(k));
  if (ev.length) out.push({ id: 'eval', title: GROUP_TITLES.eval, yLabel: 'metric (%)', keys: ev, percent: true });
  const routing = by('routing');
  const entropy = routing.filter((k) => k.endsWith('/entropy'));
  if (entropy.length) out.push({ id: 'routing-entropy', title: 'Router entropy', yLabel: 'entropy (nats)', keys: entropy });
  const taps = [...new Set(routing.filter((k) => k.includes('/share/')).map((k) => k.split('/')[1]))].sort(compareBlocks);
  for (const tap of taps) out.push({ id: `routing-share-${tap}`, title: `Expert shares · ${tap}`, yLabel: 'fraction of batch', keys: routing.filter((k) => k.startsWith(`routing/${tap}/share/`)) });
  if (by('lr').length) out.push({ id: 'lr', title: GROUP_TITLES.lr, yLabel: 'learning rate', keys: by('lr') });
  for (const k of by('perf')) {
    const unit = keys.find((x) => x.key === k)?.unit;
    out.push({ id: `perf-${k.split('/')[1]}`, title: PERF_TITLES[k] ?? k, yLabel: unit || k, keys: [k] });
  }
  for (const k of by('other')) out.push({ id: `other-${k}`, title: k, yLabel: k, keys: [k] });
  return out;
}

/** Legend name of a key inside its chart: `loss/cc` -> `cc`, `routing/stem/share/2` -> `expert 2`. */
const shortName = (key: string) => {
  const m = /^routing\/[^/]+\/share\/(\d+)$/.exec(key);
  if (m) return `expert ${m[1]}`;
  const e = /^routing\/([^/]+)\/entropy$/.exec(key);
  if (e) return e[1];
  return key === 'loss' ? 'loss (total)' : key.replace(/^loss\//, 'L_').replace(/^eval\//, '');
};

export function RunDetailView({ id }: { id: number }) {
  const meta = useMeta();
  const [version, setVersion] = useState(0);
  const [curveVersion, setCurveVersion] = useState(0);
  const [smoothing, setSmoothing] = useState(0.6);
  const [maxPoints, setMaxPoints] = useState(DEFAULT_MAX_POINTS);
  const [protocolSel, setProtocolSel] = useState('');
  const [actionError, setActionError] = useState<Error | null>(null);
  const refreshRun = useThrottled(() => setVersion((v) => v + 1), 1000);
  const refreshCurves = useThrottled(() => setCurveVersion((v) => v + 1), 2000);
  useLiveEvents((ev) => {
    if (ev.type === 'metrics' && ev.points.some((p) => p.runId === id)) refreshCurves();
    if (ev.type === 'run-updated' && ev.run.id === id) refreshRun();
  });
  const urls = runPageUrls(id, maxPoints);
  const { data, error } = useApi<RunResponse>(urls.run, version);
  const metrics = useApi<MetricsResponse>(urls.metrics, curveVersion + version);
  const curves = useApi<{ curves: EvalCurve[] }>(urls.curves, version);
  const routing = useApi<{ routing: RoutingRow[] }>(urls.routing, version);
  const children = useApi<RunsResponse>(data?.run.kind === 'sweep' ? `/api/runs${qs({ parent: id, limit: 1000, sort: 'id', order: 'asc' })}` : null, version);

  const protocols = useMemo(() => [...new Set((data?.evaluations ?? []).map((e) => e.protocol))], [data]);
  const evalMetrics = useMemo(() => {
    const order = meta?.evalMetrics ?? [];
    const rank = (m: string) => (order.includes(m) ? order.indexOf(m) : order.length);
    return [...new Set((data?.evaluations ?? []).map((e) => e.metric))].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  }, [data, meta]);
  const folds = useMemo(() => [...new Set((data?.evaluations ?? []).map((e) => `${e.protocol}\0${e.fold}`))], [data]);
  const routingRows = useMemo(() => (routing.data?.routing ?? []).filter((r) => !protocolSel || r.protocol === protocolSel), [routing.data, protocolSel]);
  // Each chart section is drawn again only when its own data (or the smoothing) changes, not whenever
  // another of the page's four reads answers: the page draws each chart once on a cold load.
  const curveCharts = useMemo(() => {
    if (!data) return null;
    const seriesByKey = new Map((metrics.data?.series ?? []).map((s) => [s.key, s]));
    return chartSpecs(data.metricKeys).map((c) => {
      const series: LineSeries[] = c.keys.flatMap((k) => (seriesByKey.get(k) ? [{ name: shortName(k), steps: seriesByKey.get(k)!.steps, values: seriesByKey.get(k)!.values, nan: seriesByKey.get(k)!.nan }] : []));
      const last = data.metricKeys.filter((k) => c.keys.includes(k.key));
      const height = c.wide ? 240 : 200;
      return (
        <div key={c.id} className={c.wide ? 'wide' : ''} data-chart={c.id}>
          <div className="chart-title">
            {c.title}
            <span className="dim small">
              {last.slice(0, 4).map((k) => `${shortName(k.key)} ${fmtNumber(k.value === null ? null : +k.value.toPrecision(4))}${k.better ? ` (best ${fmtNumber(k.better === 'lower' ? (k.min === null ? null : +k.min.toPrecision(4)) : (k.max === null ? null : +k.max.toPrecision(4)))})` : ''}`).join(' · ')}
            </span>
          </div>
          <Progressive height={height}>
            <CurveChart testId={`curve-${c.id}`} smoothing={c.id === 'lr' || c.id === 'loss-fixed' ? 0 : smoothing /* lr and the fixed-pair estimate are drawn as they are: an EMA over a point every lossEvery steps would lag */} series={series} yLabel={c.yLabel} percent={c.percent} height={height} />
          </Progressive>
        </div>
      );
    });
  }, [data, metrics.data, smoothing]);
  const evalCharts = useMemo(() => {
    const all = curves.data?.curves ?? [];
    if (!data || all.length === 0) return null;
    const rid = data.run.id;
    return (
      <div className="three">
        <div className="panel">
          <div className="chart-title">ROC <span className="dim small">TAR against FAR</span></div>
          <Progressive height={260}><Exportable name={`run-roc-${rid}`}><RocChart curves={all.filter((c) => c.kind === 'roc')} /></Exportable></Progressive>
        </div>
        <div className="panel">
          <div className="chart-title">DET <span className="dim small">FNMR against FMR, probit axes</span></div>
          <Progressive height={260}><Exportable name={`run-det-${rid}`}><DetChart curves={all.filter((c) => c.kind === 'roc')} /></Exportable></Progressive>
        </div>
        <div className="panel">
          <div className="chart-title">CMC <span className="dim small">identification rate against rank</span></div>
          <Progressive height={260}><Exportable name={`run-cmc-${rid}`}><CmcChart curves={all.filter((c) => c.kind === 'cmc')} /></Exportable></Progressive>
        </div>
      </div>
    );
  }, [data, curves.data]);
  const numExperts = data?.run.numExperts ?? null;
  const heatmap = useMemo(() => <RoutingHeatmap rows={routingRows} numExperts={numExperts} />, [routingRows, numExperts]);

  if (error) return <ErrorBox error={error} />;
  if (!data) return <div className="dim">loading run {id}…</div>;
  const r = data.run;
  const plotted = metrics.data?.series.reduce((a, s) => a + s.plotted, 0) ?? 0;
  const total = metrics.data?.series.reduce((a, s) => a + s.total, 0) ?? 0;
  const flat = flattenConfig(r.config);
  const act = async (fn: () => Promise<unknown>) => {
    try {
      setActionError(null);
      await fn();
      setVersion((v) => v + 1);
    } catch (e) {
      setActionError(e as Error);
    }
  };
  const multiFold = data.summary.some((s) => s.n > 1);
  const where = [r.protocol, r.fold].filter((x) => x !== null).join(' / ');

  return (
    <div>
      <div className="toolbar">
        <h1 data-testid="run-title">#{r.id} {r.name}</h1>
        <StatusBadge run={r} />
        <span className="dim">{[r.experimentName, r.method ?? r.kind, r.backbone, r.numExperts !== null ? `N=${r.numExperts}` : null, where || null].filter(Boolean).join(' · ')}</span>
        {Object.entries(r.tags).map(([k, v]) => <span key={k} className="tag">{v ? `${k}=${v}` : k}</span>)}
        <span className="spacer" />
        {r.kind !== 'sweep' && <a href={`#/launch?clone=${r.id}`} data-testid="clone-run" title="open the Launch form with this run's resolved config">clone this run</a>}
        {(r.status === 'queued' || r.status === 'running') && (
          <button data-testid="cancel-run" disabled={!!r.cancelRequestedAt} onClick={() => void act(() => post(`/api/runs/${id}/cancel`))}
            title="queued: cancelled at once; running: the worker checkpoints and stops">
            {r.cancelRequestedAt ? 'cancel requested…' : 'Cancel run'}
          </button>
        )}
        <button onClick={() => void act(() => post(`/api/runs/${id}/archive`, { archived: !r.archived }))}>{r.archived ? 'Restore' : 'Archive'}</button>
        <button onClick={() => {
          const text = window.prompt(`Tag run ${id} (key or key=value)`);
          if (!text) return;
          const [key, ...rest] = text.split('=');
          void act(() => api(`/api/runs/${id}/tags`, { method: 'PUT', body: JSON.stringify({ key: key.trim(), value: rest.join('=').trim() }) }));
        }}>Tag…</button>
      </div>
      <ErrorBox error={actionError} />
      {r.stale && (
        <div className="warn" data-testid="stale-note">
          Stale: this run is marked running, but its worker's lease expired {fmtAgo(r.leaseExpiresAt)} (last heartbeat {fmtAgo(r.heartbeatAt)}, worker {r.leaseOwner}).
          The worker crashed or hangs; the tracking server (or a live worker) re-queues the run, which resumes from its last checkpoint (attempt {r.attempts} of {r.maxAttempts}).
        </div>
      )}
      {r.error && <div className="error">failed: {r.error}</div>}
      {r.parentRunId !== null && <div className="dim" style={{ marginBottom: 8 }}>part of sweep <a href={`#/runs/${r.parentRunId}`}>#{r.parentRunId}</a></div>}
      {children.data && (
        <div className="panel">
          <div className="toolbar">
            <h2>Sweep runs</h2>
            <span className="dim">{children.data.total} runs</span>
            {children.data.runs.length >= 2 && <a href={`#/compare?ids=${children.data.runs.slice(0, 8).map((c) => c.id).join(',')}`}>compare {Math.min(8, children.data.runs.length)}</a>}
          </div>
          <div className="scroll-x">
            <table className="grid" data-testid="sweep-runs">
              <thead><tr><th>#</th><th>name</th><th>status</th><th>N</th><th>protocol / fold</th>
                {(meta?.listMetrics ?? []).map((m) => <th key={m} className="num">{labelWithUnit(specOf(meta?.metricSpecs, m))}</th>)}</tr></thead>
              <tbody>
                {children.data.runs.map((c) => (
                  <tr key={c.id}>
                    <td><a href={`#/runs/${c.id}`}>{c.id}</a></td>
                    <td><a href={`#/runs/${c.id}`}>{c.name}</a></td>
                    <td><StatusBadge run={c} /></td>
                    <td>{c.numExperts ?? '–'}</td>
                    <td>{[c.protocol, c.fold].filter((x) => x !== null).join(' / ') || '–'}</td>
                    {(meta?.listMetrics ?? []).map((m) => <td key={m} className="num">{fmtMetric(c.metrics[m], specOf(meta?.metricSpecs, m))}</td>)}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </div>
      )}
      <div className="detail">
        <div className="panel detail-main">
          <div className="toolbar">
            <h2>Learning curves</h2>
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
            <span className="dim small" data-testid="points-plotted">plotting {plotted.toLocaleString('en-US')} of {total.toLocaleString('en-US')} points</span>
          </div>
          {data.convergence && <div className="small" data-testid="convergence">{convergenceText(data.convergence)}</div>}
          <div className="chart-grid">{curveCharts}</div>
          {data.metricKeys.length === 0 && <div className="dim">{r.kind === 'sweep'
            ? 'A sweep logs nothing itself: its runs (above) do.'
            : r.method === 'baseline'
              ? 'A frozen baseline trains nothing, so it has no training curves: its evaluation is below.'
              : r.status === 'queued' ? 'No metrics logged yet: the run is queued.' : 'No metrics logged yet.'}</div>}
        </div>
        <div className="panel detail-side">
          <h2>Run</h2>
          <div className="kv">
            <span className="k">kind</span><span>{r.kind}{r.method ? ` · ${r.method}` : ''}</span>
            <span className="k">created</span><span>{fmtTime(r.createdAt)}</span>
            <span className="k">started</span><span>{fmtTime(r.startedAt)}</span>
            <span className="k">duration</span><span>{fmtDuration(r.startedAt, r.finishedAt)}</span>
            <span className="k">step</span><span data-testid="run-step">{r.step}{r.totalSteps ? ` / ${r.totalSteps}` : ''}</span>
            <span className="k">worker</span><span>{r.leaseOwner ?? '–'}{r.leaseExpiresAt && r.status === 'running' ? ` (lease ${r.stale ? 'expired' : 'until'} ${fmtTime(r.leaseExpiresAt)})` : ''}</span>
            {fmtExecutor(r) && (<><span className="k">executor</span><span data-testid="run-executor">{fmtExecutor(r)}</span></>)}
            {/* What ran, as recorded by the run (its tags), not the config's request ("auto"). */}
            <span className="k">training</span><span data-testid="engine-train" title={data.engines.fallback ? `fell back: ${data.engines.fallback}` : undefined}>
              {data.engines.train ?? '–'}{data.engines.provider ? ` · ${data.engines.provider}` : ''}{data.engines.threads ? ` · ${data.engines.threads} threads` : ''}
            </span>
            <span className="k">evaluation</span><span data-testid="engine-eval">{data.engines.eval ?? '–'}</span>
            <span className="k">tf backend</span><span data-testid="engine-backend">{data.engines.backend ?? '–'}</span>
            <span className="k">code</span><span>{r.codeVersion ?? '–'}</span>
            <span className="k">seed</span><span>{r.seed}</span>
            <span className="k">attempts</span><span>{r.attempts} of {r.maxAttempts}</span>
          </div>
          {data.files.length > 0 && (
            <>
              <h2>Files</h2>
              {data.files.map((f) => (
                <div key={`${f.kind}${f.storedPath}`} className="small file">
                  <span className="tag">{f.kind}{f.step !== null ? ` @${f.step}` : ''}</span>
                  {f.storedPath
                    ? <button className="link" title={f.storedPath} onClick={() => void act(() => download(`/api/runs/${r.id}/artifact${qs({ path: f.storedPath })}`, f.storedPath.split('/').at(-1) ?? 'file'))}>{f.storedPath}</button>
                    : <span className="dim">(no file)</span>}
                </div>
              ))}
            </>
          )}
          <h2>Resolved config <span className="dim small">{data.inapplicable.length ? 'dimmed: not used by this run' : ''}</span></h2>
          <div className="kv config" data-testid="config">
            {Object.entries(flat).map(([k, v]) => {
              const na = data.inapplicable.includes(k);
              return [
                <span key={`${k}k`} className={`k ${na ? 'na' : ''}`} title={na ? 'not used by this run' : undefined}>{k}</span>,
                <span key={`${k}v`} className={na ? 'na' : ''}>{fmtNumber(v)}</span>,
              ];
            })}
          </div>
        </div>
      </div>

      {r.kind !== 'sweep' && <div className="panel">
        <h2>Evaluation per fold</h2>
        {skippedEntries(data.evaluations) && (
          <div className="error" data-testid="skipped-entries">
            {skippedEntries(data.evaluations)} list entries left out: their files are missing (dataset.onMissing=skip); per fold in the skipped columns below
          </div>
        )}
        {folds.length === 0 ? (
          <div className="dim">Not evaluated yet.</div>
        ) : (
          <div className="scroll-x">
            <table className="grid" data-testid="eval-table">
              <thead>
                <tr>
                  <th>protocol</th>
                  <th>fold</th>
                  {evalMetrics.map((m) => <th key={m} className="num">{labelWithUnit(specOf(meta?.metricSpecs, m))}</th>)}
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
                        return <td key={m} className="num">{fmtMetric(e?.value, specOf(meta?.metricSpecs, m))}{e && <FewFalseAccepts s={e} />}</td>;
                      })}
                    </tr>
                  );
                })}
                {multiFold && protocols.map((p) => (
                  <tr key={`mean-${p}`} className="summary-row">
                    <td>{p}</td>
                    <td>mean ± std</td>
                    {evalMetrics.map((m) => {
                      const s = data.summary.find((x) => x.protocol === p && x.metric === m);
                      return <td key={m} className="num">{s ? fmtMeanStd(s.mean, s.std, s.n, specOf(meta?.metricSpecs, m)) : '–'}<span className="dim small">{s ? ` n=${s.n}` : ''}</span>{s && <FewFalseAccepts s={s} />}</td>;
                    })}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </div>}

      {evalCharts}

      {r.kind !== 'sweep' && <ScoreHistogramPanel runId={r.id} version={version} />}
      {r.kind !== 'sweep' && <EmbeddingPanel runId={r.id} version={version} />}

      {(routing.data?.routing.length ?? 0) > 0 && (
        <div className="panel">
          <div className="toolbar">
            <h2>Routing</h2>
            <span className="dim small">share of each modality's gallery and probe images per expert, per SSMB block (summed over folds)</span>
            <select value={protocolSel} onChange={(e) => setProtocolSel(e.target.value)} aria-label="routing protocol">
              <option value="">all protocols</option>
              {[...new Set(routing.data!.routing.map((x) => x.protocol))].map((p) => <option key={p}>{p}</option>)}
            </select>
            <a href={`#/routing?ids=${r.id}`} data-testid="routing-across" title="this run's routing per fold beside other runs'">compare across runs</a>
          </div>
          {heatmap}
        </div>
      )}
    </div>
  );
}
