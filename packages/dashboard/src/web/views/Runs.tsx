// Runs: filterable, sortable table of every run, fitting a 1440-px window; select runs to compare, tag,
// archive or restore them together, or cancel them.
import { useState } from 'react';
import { api, post, qs, useApi, useLiveEvents, useThrottled, type RunListRow, type RunsResponse } from '../api.ts';
import { navigate } from '../router.ts';
import { useMeta } from '../meta.ts';
import { ErrorBox, StatusBadge } from '../components.tsx';
import { fmtExecutor, fmtMetric, fmtNumber, fmtTime, labelWithUnit, specOf } from '../format.ts';

const PAGE = 200;
const LATEST_KEYS = ['loss', 'loss/cc', 'eval/rank1'];

function Progress({ r }: { r: RunListRow }) {
  if (!r.totalSteps) return <span className="dim small">{r.step || ''}</span>;
  return (
    <span className="nowrap" title={`step ${r.step} of ${r.totalSteps}`}>
      <span className="progress"><span style={{ width: `${Math.min(100, (100 * r.step) / r.totalSteps)}%` }} /></span>
      <span className="dim small">{r.step}/{r.totalSteps}</span>
    </span>
  );
}

/** "0.412 · best 0.398": the last value of a per-step key beside its best (min for losses). */
export function LastBest({ latest, better }: { latest: RunListRow['latest'][string] | undefined; better: 'lower' | 'higher' }) {
  if (!latest) return <span className="dim">–</span>;
  const best = better === 'lower' ? latest.min : latest.max;
  return (
    <span title={`last at step ${latest.step}; best (${better === 'lower' ? 'min' : 'max'}) over ${latest.points} points`}>
      {fmtNumber(latest.value === null ? null : +latest.value.toPrecision(3))}
      <span className="dim small"> · {fmtNumber(best === null ? null : +best.toPrecision(3))}</span>
    </span>
  );
}

export function RunsView() {
  const meta = useMeta();
  const [search, setSearch] = useState('');
  const [status, setStatus] = useState<string[]>([]);
  const [experiment, setExperiment] = useState('');
  const [tag, setTag] = useState('');
  const [archived, setArchived] = useState('exclude');
  const [sort, setSort] = useState('id');
  const [order, setOrder] = useState<'asc' | 'desc'>('desc');
  const [limit, setLimit] = useState(PAGE);
  const [latestKey, setLatestKey] = useState('loss');
  const [selected, setSelected] = useState<number[]>([]);
  const [version, setVersion] = useState(0);
  const [error, setError] = useState<{ message: string } | null>(null);
  const refresh = useThrottled(() => setVersion((v) => v + 1), 1000);
  useLiveEvents((ev) => {
    if (ev.type !== 'metrics') refresh();
  });
  const url = `/api/runs${qs({ search, status, experiment, tag, archived, sort, order, limit, latest: latestKey })}`;
  const { data, error: loadError } = useApi<RunsResponse>(url, version);

  const sortBy = (key: string) => {
    if (sort === key) setOrder(order === 'asc' ? 'desc' : 'asc');
    else (setSort(key), setOrder(key === 'eer' || key === 'name' ? 'asc' : 'desc'));
  };
  const write = async (fn: () => Promise<unknown>) => {
    try {
      setError(null);
      await fn();
      setVersion((v) => v + 1);
    } catch (e) {
      setError(e as Error);
    }
  };
  const askTag = (what: string): { key: string; value: string } | null => {
    const text = window.prompt(`Tag ${what} (key or key=value)`);
    if (!text) return null;
    const [key, ...rest] = text.split('=');
    return { key: key.trim(), value: rest.join('=').trim() };
  };
  const addTag = (run: RunListRow) => {
    const t = askTag(`run ${run.id}`);
    if (t) void write(() => api(`/api/runs/${run.id}/tags`, { method: 'PUT', body: JSON.stringify(t) }));
  };
  const bulkTag = () => {
    const t = askTag(`${selected.length} runs`);
    if (t) void write(() => post('/api/runs/bulk/tags', { ids: selected, ...t }));
  };
  const bulkArchive = (value: boolean) =>
    void write(async () => {
      await post('/api/runs/bulk/archive', { ids: selected, archived: value });
      setSelected([]);
    });
  const bulkCancel = () =>
    void write(async () => {
      for (const id of selected) {
        const r = data?.runs.find((x) => x.id === id);
        if (r && (r.status === 'queued' || r.status === 'running')) await post(`/api/runs/${id}/cancel`);
      }
    });
  const Th = ({ k, label, unit, num, title }: { k: string; label: string; unit?: string; num?: boolean; title?: string }) => (
    <th className={`sortable ${num ? 'num' : ''} ${sort === k ? 'sorted' : ''}`} onClick={() => sortBy(k)} data-sort={k} title={title}>
      {label}
      {sort === k ? (order === 'asc' ? ' ▲' : ' ▼') : ''}
      {unit ? <span className="unit">{unit}</span> : null}
    </th>
  );
  const metrics = meta?.listMetrics ?? [];
  const statuses = meta?.runStatuses ?? [];
  const shownIds = data?.runs.map((r) => r.id) ?? [];
  const allShown = shownIds.length > 0 && shownIds.every((id) => selected.includes(id));
  const cancellable = selected.some((id) => ['queued', 'running'].includes(data?.runs.find((r) => r.id === id)?.status ?? ''));
  const better = latestKey.startsWith('eval/') && latestKey !== 'eval/eer' ? 'higher' : 'lower';

  return (
    <div>
      <div className="toolbar">
        <h1>Runs</h1>
        <span className="dim" data-testid="runs-count">{data ? `${data.runs.length} of ${data.total}` : '…'}</span>
        <input placeholder="filter: name, protocol, backbone…" value={search} onChange={(e) => setSearch(e.target.value)} style={{ width: 200 }} aria-label="search" />
        <select value={experiment} onChange={(e) => setExperiment(e.target.value)} aria-label="experiment">
          <option value="">all experiments</option>
          {meta?.experiments.map((e) => <option key={e.id} value={e.id}>{e.name} ({e.runCount})</option>)}
        </select>
        {statuses.map((s) => (
          <label key={s} className="check">
            <input type="checkbox" checked={status.includes(s)} onChange={(e) => setStatus(e.target.checked ? [...status, s] : status.filter((x) => x !== s))} />
            {s}
          </label>
        ))}
        <input placeholder="tag (key or key=value)" value={tag} onChange={(e) => setTag(e.target.value)} style={{ width: 150 }} aria-label="tag filter" />
        <select value={archived} onChange={(e) => (setArchived(e.target.value), setSelected([]))} aria-label="archived">
          <option value="exclude">active</option>
          <option value="include">active + archived</option>
          <option value="only">archived only</option>
        </select>
        <label className="check" title="per-step metric shown with its last and best value">curve
          <select value={latestKey} onChange={(e) => setLatestKey(e.target.value)} aria-label="training metric">
            {LATEST_KEYS.map((k) => <option key={k}>{k}</option>)}
          </select>
        </label>
      </div>
      <div className="toolbar selection" data-testid="selection-bar">
        <span className="dim">{selected.length ? `${selected.length} selected` : 'select runs to compare, tag, archive or cancel them together'}</span>
        <button className="primary" disabled={selected.length < 2} onClick={() => navigate(`compare?ids=${selected.join(',')}`)} data-testid="compare-selected">Compare</button>
        <button disabled={!selected.length} onClick={bulkTag} data-testid="bulk-tag">Tag…</button>
        {archived === 'only'
          ? <button disabled={!selected.length} onClick={() => bulkArchive(false)} data-testid="bulk-restore">Restore</button>
          : <button disabled={!selected.length} onClick={() => bulkArchive(true)} data-testid="bulk-archive">Archive</button>}
        <button disabled={!cancellable} onClick={bulkCancel} data-testid="bulk-cancel">Cancel runs</button>
        {selected.length > 0 && <button className="link" onClick={() => setSelected([])}>clear</button>}
      </div>
      <ErrorBox error={error ?? loadError} />
      <div className="panel flush">
        <table className="grid sticky runs-table" data-testid="runs-table">
          {/* Fixed layout: the narrow columns get these widths, the name takes the rest, and long text is
              clipped, so the table fits the window whatever the runs are called. */}
          <colgroup>
            <col style={{ width: 28 }} /><col style={{ width: 46 }} /><col /><col style={{ width: 118 }} /><col style={{ width: 92 }} />
            <col style={{ width: 104 }} /><col style={{ width: 34 }} /><col style={{ width: 190 }} /><col style={{ width: 100 }} />
            {metrics.map((m) => <col key={m} style={{ width: 94 }} />)}<col style={{ width: 104 }} /><col style={{ width: 88 }} />
          </colgroup>
          <thead>
            <tr>
              <th><input type="checkbox" aria-label="select all shown" checked={allShown} onChange={(e) => setSelected(e.target.checked ? [...new Set([...selected, ...shownIds])] : [])} /></th>
              <Th k="id" label="#" num />
              <Th k="name" label="name" />
              <Th k="experiment" label="experiment" />
              <Th k="status" label="status" />
              <Th k="backbone" label="backbone" />
              <Th k="numExperts" label="N" num title="SSMB experts (only SSMB runs have one)" />
              <Th k="protocol" label="protocol / fold" />
              <Th k="step" label="progress" />
              {metrics.map((m) => {
                const spec = specOf(meta?.metricSpecs, m);
                return <Th key={m} k={m} label={spec.label} unit={spec.percent ? '%' : undefined} num title={`${labelWithUnit(spec)}: mean over the run's evaluated folds`} />;
              })}
              <th className="num" title={`${latestKey}: last value · best (${better === 'lower' ? 'min' : 'max'}) over the run`}>{latestKey}<span className="unit">last · best</span></th>
              <Th k="created_at" label="created" />
            </tr>
          </thead>
          <tbody>
            {data?.runs.map((r) => (
              <tr key={r.id} className={selected.includes(r.id) ? 'selected' : ''} data-run-id={r.id}>
                <td>
                  <input type="checkbox" aria-label={`select run ${r.id}`} checked={selected.includes(r.id)}
                    onChange={(e) => setSelected(e.target.checked ? [...selected, r.id] : selected.filter((x) => x !== r.id))} />
                </td>
                <td className="num"><a href={`#/runs/${r.id}`}>{r.id}</a></td>
                <td className="name-cell">
                  <a href={`#/runs/${r.id}`} title={r.name}>{r.name || `run ${r.id}`}</a>
                  {r.archived && <span className="tag archived">archived</span>}
                  {Object.entries(r.tags).map(([k, v]) => (
                    <span key={k} className="tag">
                      {v ? `${k}=${v}` : k}
                      <button title="remove tag" onClick={() => void write(() => api(`/api/runs/${r.id}/tags/${encodeURIComponent(k)}`, { method: 'DELETE' }))}>×</button>
                    </span>
                  ))}
                  <button className="link small addtag" onClick={() => addTag(r)} title="add a tag">+tag</button>
                </td>
                <td className="clip" title={r.experimentName}>{r.experimentName}</td>
                <td><StatusBadge run={r} />{fmtExecutor(r) && <div className="dim" data-testid="run-executor">{fmtExecutor(r)}</div>}</td>
                <td className="clip">{r.backbone ?? '–'}</td>
                <td className="num" data-col="N">{r.numExperts ?? '–'}</td>
                <td className="clip" data-col="protocol" title={[r.protocol, r.fold].filter(Boolean).join(' / ')}>
                  {r.protocol ?? '–'}{r.fold !== null ? <span className="dim"> / {r.fold}</span> : null}
                </td>
                <td><Progress r={r} /></td>
                {metrics.map((m) => <td key={m} className="num" data-metric={m}>{fmtMetric(r.metrics[m], specOf(meta?.metricSpecs, m))}</td>)}
                <td className="num nowrap" data-col="latest"><LastBest latest={r.latest[latestKey]} better={better} /></td>
                <td className="dim small nowrap">{fmtTime(r.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {data && data.runs.length < data.total && (
          <div style={{ padding: 10 }}>
            <button onClick={() => setLimit(limit + PAGE)}>show {Math.min(PAGE, data.total - data.runs.length)} more</button>
          </div>
        )}
        {data && data.total === 0 && <div style={{ padding: 14 }} className="dim">No runs match. Queue one on the Launch page or with <code>ssmb launch</code>.</div>}
      </div>
    </div>
  );
}
