// Runs: filterable, sortable table of every run; select runs to compare, tag and archive in place.
import { useState } from 'react';
import { api, qs, useApi, useLiveEvents, useThrottled, type RunsResponse, type RunSummary } from '../api.ts';
import { navigate, useMeta } from '../App.tsx';
import { fmtMetric, fmtTime, specOf, STATUS_COLORS } from '../format.ts';

const STATUSES = ['queued', 'running', 'completed', 'failed', 'cancelled'];
const PAGE = 200;

export function StatusBadge({ status }: { status: string }) {
  return <span className="badge" style={{ background: STATUS_COLORS[status] ?? '#999' }}>{status}</span>;
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
  const [selected, setSelected] = useState<number[]>([]);
  const [version, setVersion] = useState(0);
  const [error, setError] = useState('');
  const refresh = useThrottled(() => setVersion((v) => v + 1), 1000);
  useLiveEvents((ev) => {
    if (ev.type !== 'metrics') refresh();
  });
  const url = `/api/runs${qs({ search, status, experiment, tag, archived, sort, order, limit })}`;
  const { data, error: loadError } = useApi<RunsResponse>(url, version);

  const sortBy = (key: string) => {
    if (sort === key) setOrder(order === 'asc' ? 'desc' : 'asc');
    else (setSort(key), setOrder(key === 'eer' || key === 'name' ? 'asc' : 'desc'));
  };
  const write = async (fn: () => Promise<unknown>) => {
    try {
      setError('');
      await fn();
      setVersion((v) => v + 1);
    } catch (e) {
      setError((e as Error).message);
    }
  };
  const addTag = (run: RunSummary) => {
    const text = window.prompt(`Tag run ${run.id} (key or key=value)`);
    if (!text) return;
    const [key, ...rest] = text.split('=');
    void write(() => api(`/api/runs/${run.id}/tags`, { method: 'PUT', body: JSON.stringify({ key: key.trim(), value: rest.join('=').trim() }) }));
  };
  const Th = ({ k, label, num }: { k: string; label: string; num?: boolean }) => (
    <th className={`sortable ${num ? 'num' : ''} ${sort === k ? 'sorted' : ''}`} onClick={() => sortBy(k)} data-sort={k}>
      {label}
      {sort === k ? (order === 'asc' ? ' ▲' : ' ▼') : ''}
    </th>
  );
  const metrics = meta?.listMetrics ?? ['rank1', 'tar_far_1e2', 'eer'];

  return (
    <div>
      <div className="toolbar">
        <h1 style={{ margin: 0 }}>Runs</h1>
        <span className="dim" data-testid="runs-count">{data ? `${data.runs.length} of ${data.total}` : '…'}</span>
        <input placeholder="filter: name, protocol, backbone…" value={search} onChange={(e) => setSearch(e.target.value)} style={{ width: 210 }} aria-label="search" />
        <select value={experiment} onChange={(e) => setExperiment(e.target.value)} aria-label="experiment">
          <option value="">all experiments</option>
          {meta?.experiments.map((e) => (
            <option key={e.id} value={e.id}>{e.name} ({e.runs})</option>
          ))}
        </select>
        {STATUSES.map((s) => (
          <label key={s} className="check">
            <input type="checkbox" checked={status.includes(s)} onChange={(e) => setStatus(e.target.checked ? [...status, s] : status.filter((x) => x !== s))} />
            {s}
          </label>
        ))}
        <input placeholder="tag (key or key=value)" value={tag} onChange={(e) => setTag(e.target.value)} style={{ width: 150 }} aria-label="tag filter" />
        <select value={archived} onChange={(e) => setArchived(e.target.value)} aria-label="archived">
          <option value="exclude">active</option>
          <option value="include">active + archived</option>
          <option value="only">archived only</option>
        </select>
        <span className="spacer" style={{ flex: 1 }} />
        <button className="primary" disabled={selected.length < 2} onClick={() => navigate(`compare?ids=${selected.join(',')}`)} data-testid="compare-selected">
          Compare {selected.length ? `(${selected.length})` : ''}
        </button>
      </div>
      {(error || loadError) && <div className="error">{error || loadError?.message}</div>}
      <div className="panel" style={{ padding: 0 }}>
        <table className="grid sticky" data-testid="runs-table">
          <thead>
            <tr>
              <th />
              <Th k="id" label="#" num />
              <Th k="name" label="name" />
              <Th k="experiment" label="experiment" />
              <Th k="status" label="status" />
              <Th k="backbone" label="backbone" />
              <Th k="numExperts" label="N" num />
              <Th k="protocol" label="protocol" />
              <Th k="fold" label="fold" />
              <Th k="step" label="progress" />
              {metrics.map((m) => (
                <Th key={m} k={m} label={specOf(meta?.metricSpecs, m).label} num />
              ))}
              <th>tags</th>
              <Th k="created_at" label="created" />
              <th />
            </tr>
          </thead>
          <tbody>
            {data?.runs.map((r) => (
              <tr key={r.id} className={selected.includes(r.id) ? 'selected' : ''} data-run-id={r.id}>
                <td>
                  <input
                    type="checkbox"
                    aria-label={`select run ${r.id}`}
                    checked={selected.includes(r.id)}
                    onChange={(e) => setSelected(e.target.checked ? [...selected, r.id] : selected.filter((x) => x !== r.id))}
                  />
                </td>
                <td className="num"><a href={`#/runs/${r.id}`}>{r.id}</a></td>
                <td><a href={`#/runs/${r.id}`}>{r.name || `run ${r.id}`}</a>{r.archived && <span className="tag">archived</span>}</td>
                <td>{r.experiment}</td>
                <td><StatusBadge status={r.status} /></td>
                <td>{r.backbone ?? '–'}</td>
                <td className="num">{r.numExperts ?? '–'}</td>
                <td>{r.protocol ?? '–'}</td>
                <td>{r.fold ?? '–'}</td>
                <td>
                  {r.totalSteps ? (
                    <>
                      <span className="progress"><span style={{ width: `${Math.min(100, (100 * r.step) / r.totalSteps)}%` }} /></span>
                      <span className="dim small">{r.step}/{r.totalSteps}</span>
                    </>
                  ) : (
                    <span className="dim small">{r.step || ''}</span>
                  )}
                </td>
                {metrics.map((m) => (
                  <td key={m} className="num" data-metric={m}>{fmtMetric(r.metrics[m], specOf(meta?.metricSpecs, m))}</td>
                ))}
                <td>
                  {Object.entries(r.tags).map(([k, v]) => (
                    <span key={k} className="tag">
                      {v ? `${k}=${v}` : k}
                      <button title="remove tag" onClick={() => void write(() => api(`/api/runs/${r.id}/tags/${encodeURIComponent(k)}`, { method: 'DELETE' }))}>×</button>
                    </span>
                  ))}
                  <button className="link" onClick={() => addTag(r)} title="add a tag">+tag</button>
                </td>
                <td className="dim small">{fmtTime(r.createdAt)}</td>
                <td>
                  <button className="link" onClick={() => void write(() => api(`/api/runs/${r.id}/archive`, { method: 'POST', body: JSON.stringify({ archived: !r.archived }) }))}>
                    {r.archived ? 'restore' : 'archive'}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {data && data.runs.length < data.total && (
          <div style={{ padding: 10 }}>
            <button onClick={() => setLimit(limit + PAGE)}>show {Math.min(PAGE, data.total - data.runs.length)} more</button>
          </div>
        )}
        {data && data.total === 0 && <div style={{ padding: 14 }} className="dim">No runs match. Queue one on the Launch page or with `ssmb launch`.</div>}
      </div>
    </div>
  );
}
