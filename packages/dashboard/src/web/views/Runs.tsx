// Runs: by default one row per configuration (its runs over folds and seeds: mean ± std (n)), expanding
// into its runs; or one row per run. Structured filter (`ssmb.numExperts=4 rank1>40`), any config key as
// a column, and everything (filter, sort, grouping, columns, selection) in the URL; saved views.
// Select runs or groups to compare, tag, archive or restore them together, or cancel them.
// One list however long: only the rows in view are in the page (a virtual list over the window's
// scroll), and their pages are read from the server as they scroll into view.
import { useEffect, useLayoutEffect, useRef, useState, type ReactNode } from 'react';
import { useWindowVirtualizer } from '@tanstack/react-virtual';
import { api, post, qs, useApi, useLiveEvents, useThrottled, type RunGroupRow, type RunGroupsResponse, type RunListRow, type RunsResponse } from '../api.ts';
import { usePagedList } from '../paged.ts';
import { navigate, setParams, useRoute } from '../router.ts';
import { useMeta } from '../meta.ts';
import { ErrorBox, StatusBadge } from '../components.tsx';
import { fmtExecutor, fmtMeanStd, fmtMetric, fmtNumber, fmtTime, labelWithUnit, specOf } from '../format.ts';
import { SavedViews } from '../saved_views.tsx';

/** Rows read from the server at a time. */
const PAGE = 200;
/** Height of a table row in px (styles.css: .runs-table tbody tr): the virtual list places rows by it. */
const ROW_H = 33;
/** One function for every render: a new one would make the virtual list lay out all its rows again. */
const rowHeight = () => ROW_H;
const LATEST_KEYS = ['loss', 'loss/cc', 'eval/rank1'];
/** Defaults of the URL state: a parameter equal to its default is left out of the URL. */
const DEFAULTS = { where: '', status: '', experiment: '', tag: '', archived: 'exclude', sort: 'id', order: 'desc', group: '', cols: '', sel: '', latest: 'loss' };
type State = typeof DEFAULTS;

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

/** The URL's query as the view's state. */
function useUrlState(): [State, (patch: Partial<State>) => void] {
  const route = useRoute();
  const state = { ...DEFAULTS };
  for (const k of Object.keys(DEFAULTS) as Array<keyof State>) state[k] = route.params.get(k) ?? DEFAULTS[k];
  const set = (patch: Partial<State>) => {
    const next = { ...state, ...patch };
    setParams('runs', Object.fromEntries(Object.entries(next).map(([k, v]) => [k, v === DEFAULTS[k as keyof State] ? undefined : v])));
  };
  return [state, set];
}

const csv = (s: string) => s.split(',').map((x) => x.trim()).filter(Boolean);

export function RunsView() {
  const meta = useMeta();
  const [s, set] = useUrlState();
  const grouped = s.group !== 'none';
  const status = csv(s.status);
  const cols = csv(s.cols);
  const selected = csv(s.sel).map(Number);
  const setSelected = (ids: number[]) => set({ sel: [...new Set(ids)].join(',') });
  const [whereText, setWhereText] = useState(s.where);
  useEffect(() => setWhereText(s.where), [s.where]);
  // The filter box commits to the URL (and the server) a moment after typing stops.
  useEffect(() => {
    if (whereText === s.where) return;
    const t = window.setTimeout(() => set({ where: whereText }), 300);
    return () => window.clearTimeout(t);
  });
  const [expanded, setExpanded] = useState<string[]>([]);
  const [version, setVersion] = useState(0);
  const [error, setError] = useState<{ message: string } | null>(null);
  const refresh = useThrottled(() => setVersion((v) => v + 1), 1000);
  useLiveEvents((ev) => {
    if (ev.type !== 'metrics') refresh();
  });
  const filter = { where: s.where, status, experiment: s.experiment, tag: s.tag, archived: s.archived, sort: s.sort, order: s.order };
  const runsQuery = grouped ? null : qs({ ...filter, latest: s.latest, columns: cols });
  const groupsQuery = grouped ? qs({ ...filter, by: s.group }) : null;
  const runsRes = usePagedList<RunListRow, RunsResponse>(runsQuery, (offset, limit) => `/api/runs${runsQuery}${runsQuery ? '&' : '?'}${qs({ offset, limit }).slice(1)}`, version, PAGE, (r) => r.runs, (r) => r.total);
  const groupsRes = usePagedList<RunGroupRow, RunGroupsResponse>(groupsQuery, (offset, limit) => `/api/runs/groups${groupsQuery}${groupsQuery ? '&' : '?'}${qs({ offset, limit }).slice(1)}`, version, PAGE, (r) => r.groups, (r) => r.total);
  const expandedIds = grouped ? groupsRes.loaded.filter((g) => expanded.includes(g.key)).flatMap((g) => g.runIds) : [];
  const members = useApi<RunsResponse>(expandedIds.length ? `/api/runs${qs({ ids: expandedIds, archived: s.archived === 'only' ? 'only' : 'include', latest: s.latest, columns: cols, limit: 5000 })}` : null, version);
  const rows: RunListRow[] = grouped ? (members.data?.runs ?? []) : runsRes.loaded;
  const loadError = grouped ? groupsRes.error : runsRes.error;

  const sortBy = (key: string) => {
    if (s.sort === key) set({ order: s.order === 'asc' ? 'desc' : 'asc' });
    else set({ sort: key, order: key === 'name' || meta?.metricSpecs[key]?.better === 'lower' ? 'asc' : 'desc' });
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
  const statusOf = (id: number) => rows.find((x) => x.id === id)?.status;
  const bulkCancel = () =>
    void write(async () => {
      for (const id of selected) if (['queued', 'running'].includes(statusOf(id) ?? '')) await post(`/api/runs/${id}/cancel`);
    });
  const Th = ({ k, label, unit, num, title }: { k: string; label: string; unit?: string; num?: boolean; title?: string }) => (
    <th className={`sortable ${num ? 'num' : ''} ${s.sort === k ? 'sorted' : ''}`} onClick={() => sortBy(k)} data-sort={k} title={title}>
      {label}
      {s.sort === k ? (s.order === 'asc' ? ' ▲' : ' ▼') : ''}
      {unit ? <span className="unit">{unit}</span> : null}
    </th>
  );
  const metrics = meta?.listMetrics ?? [];
  const statuses = meta?.runStatuses ?? [];
  const shownIds = grouped ? groupsRes.loaded.flatMap((g) => g.runIds) : rows.map((r) => r.id);
  const allShown = shownIds.length > 0 && shownIds.every((id) => selected.includes(id));
  const cancellable = selected.some((id) => ['queued', 'running'].includes(statusOf(id) ?? ''));
  // the server says which way the latest column's key is better (the trainer's metric keys); a key with no
  // direction (lr, routing shares) shows its last value with the minimum beside it
  const better = runsRes.first?.latestBetter?.[s.latest] ?? 'lower';
  // "loaded of total": the rows read so far; scrolling reads the rest.
  const count = grouped
    ? groupsRes.first && `${groupsRes.loaded.length} of ${groupsRes.total} groups · ${groupsRes.first.runsTotal} runs`
    : runsRes.first && `${runsRes.loaded.length} of ${runsRes.total}`;
  const total = grouped ? groupsRes.total : runsRes.total;
  const addableCols = (meta?.configKeys ?? []).filter((k) => !cols.includes(k));

  // The list's items: one per run, or one per group followed by the runs of the expanded groups.
  const byId = new Map(rows.map((r) => [r.id, r]));
  type Item = { kind: 'run'; i: number } | { kind: 'group'; i: number } | { kind: 'member'; id: number; group: number };
  const items: Item[] = [];
  if (grouped) {
    for (let i = 0; i < (total ?? 0); i++) {
      items.push({ kind: 'group', i });
      const g = groupsRes.row(i);
      if (g && expanded.includes(g.key)) for (const id of g.runIds) if (byId.has(id)) items.push({ kind: 'member', id, group: i });
    }
  }
  const itemCount = grouped ? items.length : (total ?? 0);
  const itemAt = (i: number): Item => (grouped ? items[i] : { kind: 'run', i });
  const listIndex = (it: Item) => (it.kind === 'member' ? it.group : it.i);
  const want = grouped ? groupsRes.want : runsRes.want;
  const ncols = 8 + (grouped ? 0 : 3) + metrics.length + cols.length;
  const placeholder = (key: string) => (
    <tr key={key} className="loading-row"><td colSpan={ncols} className="dim">…</td></tr>
  );
  const lastLoaded = grouped ? !!groupsRes.row((total ?? 0) - 1) : !!runsRes.row(itemCount - 1);
  // Rows drawn since this view last changed are kept: while the list scrolls, a row still in view is the
  // same element, which React does not draw again.
  const drawn = new Map<number, ReactNode>();
  const renderItem = (index: number) => {
    const kept = drawn.get(index);
    if (kept) return kept;
    const it = itemAt(index);
    const row = it.kind === 'member' ? byId.get(it.id) : it.kind === 'group' ? groupsRes.row(it.i) : runsRes.row(it.i);
    if (!row) return placeholder(`p${index}`);
    const el = it.kind === 'group' ? groupRow(row as RunGroupRow) : runRow(row as RunListRow, it.kind === 'member');
    drawn.set(index, el);
    return el;
  };

  const runRow = (r: RunListRow, member = false) => (
    <tr key={`r${r.id}`} className={`${selected.includes(r.id) ? 'selected' : ''} ${member ? 'member' : ''}`} data-run-id={r.id}>
      <td>
        <input type="checkbox" aria-label={`select run ${r.id}`} checked={selected.includes(r.id)}
          onChange={(e) => setSelected(e.target.checked ? [...selected, r.id] : selected.filter((x) => x !== r.id))} />
      </td>
      <td className="num"><a href={`#/runs/${r.id}`}>{r.id}</a></td>
      <td className="name-cell">
        <div className="name-line">
          <a href={`#/runs/${r.id}`} title={r.name}>{r.name || `run ${r.id}`}</a>
          <span className="tags">
            {r.archived && <span className="tag archived">archived</span>}
            <Tags r={r} onRemove={(k) => void write(() => api(`/api/runs/${r.id}/tags/${encodeURIComponent(k)}`, { method: 'DELETE' }))} />
            <button className="link small addtag" onClick={() => addTag(r)} title="add a tag">+tag</button>
          </span>
        </div>
      </td>
      <td className="clip" title={r.experimentName}>{r.experimentName}</td>
      <td className="clip"><StatusBadge run={r} />{fmtExecutor(r) && <span className="dim small" data-testid="run-executor"> {fmtExecutor(r)}</span>}</td>
      <td className="clip">{r.backbone ?? '–'}</td>
      <td className="num" data-col="N">{r.numExperts ?? '–'}</td>
      <td className="clip" data-col="protocol" title={[r.protocol, r.fold].filter(Boolean).join(' / ')}>
        {r.protocol ?? '–'}{r.fold !== null ? <span className="dim"> / {r.fold}</span> : null}
      </td>
      {!grouped && <td><Progress r={r} /></td>}
      {metrics.map((m) => <td key={m} className="num" data-metric={m}>{fmtMetric(r.metrics[m], specOf(meta?.metricSpecs, m))}</td>)}
      {cols.map((c) => <td key={c} className="clip" data-col={c}>{fmtNumber(r.values?.[c] ?? null)}</td>)}
      {!grouped && <td className="num nowrap" data-col="latest"><LastBest latest={r.latest[s.latest]} better={better} /></td>}
      {!grouped && <td className="dim small nowrap">{fmtTime(r.createdAt)}</td>}
    </tr>
  );
  const groupRow = (g: RunGroupRow) => {
    const open = expanded.includes(g.key);
    const all = g.runIds.every((id) => selected.includes(id));
    return (
      <tr key={`g${g.key}`} className={`group-row ${all ? 'selected' : ''}`} data-group={g.label}>
        <td><input type="checkbox" aria-label={`select group ${g.label}`} checked={all} onChange={(e) => setSelected(e.target.checked ? [...selected, ...g.runIds] : selected.filter((x) => !g.runIds.includes(x)))} /></td>
        <td className="num">
          <button className="link expand" aria-expanded={open} aria-label={`${open ? 'collapse' : 'expand'} ${g.label}`} onClick={() => setExpanded(open ? expanded.filter((k) => k !== g.key) : [...expanded, g.key])}>{open ? '▾' : '▸'}</button>
        </td>
        <td className="name-cell" title={Object.entries(g.values).filter(([, v]) => v !== null).map(([k, v]) => `${k}=${fmtNumber(v)}`).join('\n')}>
          <b>{g.label}</b> <span className="dim small" data-testid="group-n">{g.runIds.length} run{g.runIds.length === 1 ? '' : 's'}</span>
        </td>
        <td className="clip" title={g.experiments.join(', ')}>{g.experiments.join(', ')}</td>
        <td className="clip small">{Object.entries(g.statuses).map(([st, n]) => `${n} ${st}`).join(', ')}</td>
        <td className="clip">{g.backbone ?? '–'}</td>
        <td className="num" data-col="N">{g.numExperts ?? '–'}</td>
        <td className="clip" data-col="protocol" title={`${g.protocol ?? '–'}, folds ${g.folds.join(', ') || '–'}, seeds ${g.seeds.join(', ')}`}>
          {g.protocol ?? '–'}<span className="dim"> / {g.folds.length ? g.folds.join(',') : '–'}{g.seeds.length > 1 ? ` · seeds ${g.seeds.join(',')}` : ''}</span>
        </td>
        {metrics.map((m) => {
          const st = g.metrics[m];
          const spec = specOf(meta?.metricSpecs, m);
          return (
            <td key={m} className="num" data-metric={m} title={`${labelWithUnit(spec)}: mean ± std over ${st.n} evaluated run${st.n === 1 ? '' : 's'}`}>
              {fmtMeanStd(st.mean, st.std, st.n, spec)}{st.n > 0 && <span className="dim small"> ({st.n})</span>}
            </td>
          );
        })}
        {cols.map((c) => <td key={c} className="clip" data-col={c}>{c in g.values ? fmtNumber(g.values[c]) : '…'}</td>)}
      </tr>
    );
  };

  return (
    <div>
      <div className="toolbar">
        <h1>Runs</h1>
        <span className="dim" data-testid="runs-count">{count ?? '…'}</span>
        <input placeholder="filter: ssmb.numExperts=4 method=ssmb rank1>40 thermal" value={whereText} onChange={(e) => setWhereText(e.target.value)}
          style={{ width: 330 }} aria-label="search" title="key=value, key!=value, key>n, key<n, key~text (config keys, rank1/tar_far_1e2/eer in %, status, experiment, protocol, fold, N, tag.<key>); other words match names" />
        <select value={s.group === 'none' ? 'none' : s.group ? 'custom' : ''} onChange={(e) => set({ group: e.target.value === 'custom' ? 'ssmb.numExperts' : e.target.value })} aria-label="group">
          <option value="">group: folds & seeds</option>
          <option value="none">one row per run</option>
          <option value="custom">group by keys…</option>
        </select>
        {s.group && s.group !== 'none' && (
          <input value={s.group} onChange={(e) => set({ group: e.target.value })} aria-label="group keys" list="config-keys" style={{ width: 200 }} title="config keys, comma-separated" />
        )}
        <select value={s.experiment} onChange={(e) => set({ experiment: e.target.value })} aria-label="experiment">
          <option value="">all experiments</option>
          {meta?.experiments.map((e) => <option key={e.id} value={e.id}>{e.name} ({e.runCount})</option>)}
        </select>
        {statuses.map((st) => (
          <label key={st} className="check">
            <input type="checkbox" checked={status.includes(st)} onChange={(e) => set({ status: (e.target.checked ? [...status, st] : status.filter((x) => x !== st)).join(',') })} />
            {st}
          </label>
        ))}
        <input placeholder="tag (key or key=value)" value={s.tag} onChange={(e) => set({ tag: e.target.value })} style={{ width: 150 }} aria-label="tag filter" />
        <select value={s.archived} onChange={(e) => set({ archived: e.target.value, sel: '' })} aria-label="archived">
          <option value="exclude">active</option>
          <option value="include">active + archived</option>
          <option value="only">archived only</option>
        </select>
        <label className="check" title="per-step metric shown with its last and best value">curve
          <select value={s.latest} onChange={(e) => set({ latest: e.target.value })} aria-label="training metric">
            {LATEST_KEYS.map((k) => <option key={k}>{k}</option>)}
          </select>
        </label>
        <select value="" onChange={(e) => e.target.value && set({ cols: [...cols, e.target.value].join(',') })} aria-label="add column" style={{ width: 120 }}>
          <option value="">+ column…</option>
          {addableCols.map((k) => <option key={k} value={k}>{k}</option>)}
        </select>
        <datalist id="config-keys">{(meta?.configKeys ?? []).map((k) => <option key={k} value={k} />)}</datalist>
        <SavedViews view="runs" />
      </div>
      <div className="toolbar selection" data-testid="selection-bar">
        <span className="dim">{selected.length ? `${selected.length} runs selected` : 'select runs or groups to compare, tag, archive or cancel them together'}</span>
        <button className="primary" disabled={selected.length < 2} onClick={() => navigate(`compare?ids=${selected.join(',')}${grouped && s.group ? `&by=${s.group}` : grouped ? '' : '&by=none'}`)} data-testid="compare-selected">Compare</button>
        <button disabled={!selected.length} onClick={bulkTag} data-testid="bulk-tag">Tag…</button>
        {s.archived === 'only'
          ? <button disabled={!selected.length} onClick={() => bulkArchive(false)} data-testid="bulk-restore">Restore</button>
          : <button disabled={!selected.length} onClick={() => bulkArchive(true)} data-testid="bulk-archive">Archive</button>}
        <button disabled={!cancellable} onClick={bulkCancel} data-testid="bulk-cancel">Cancel runs</button>
        {selected.length > 0 && <button className="link" onClick={() => setSelected([])}>clear</button>}
      </div>
      <ErrorBox error={error ?? loadError} />
      <div className="panel flush runs-panel">
        <table className="grid sticky runs-table" data-testid="runs-table">
          {/* Fixed layout: the narrow columns get these widths, the name takes the rest, and long text is
              clipped, so the table fits the window whatever the runs are called. */}
          <colgroup>
            <col style={{ width: 26 }} /><col style={{ width: 54 }} /><col /><col style={{ width: 80 }} /><col style={{ width: 88 }} />
            <col style={{ width: 84 }} /><col style={{ width: 28 }} /><col style={{ width: 150 }} />{!grouped && <col style={{ width: 48 }} />}
            {metrics.map((m) => <col key={m} style={{ width: grouped ? 124 : 62 }} />)}
            {cols.map((c) => <col key={c} style={{ width: 110 }} />)}
            {!grouped && <><col style={{ width: 78 }} /><col style={{ width: 60 }} /></>}
          </colgroup>
          <thead>
            <tr>
              <th><input type="checkbox" aria-label="select all shown" checked={allShown} onChange={(e) => setSelected(e.target.checked ? [...selected, ...shownIds] : [])} /></th>
              <Th k="id" label="#" num />
              <Th k="name" label={grouped ? 'configuration' : 'name'} />
              <Th k="experiment" label="experiment" />
              <Th k="status" label="status" />
              <Th k="backbone" label="backbone" />
              <Th k="numExperts" label="N" num title="SSMB experts (only SSMB runs have one)" />
              <Th k="protocol" label={grouped ? 'protocol / folds' : 'protocol / fold'} />
              {!grouped && <Th k="step" label="progress" />}
              {metrics.map((m) => {
                const spec = specOf(meta?.metricSpecs, m);
                return <Th key={m} k={m} label={spec.label} unit={spec.percent ? (grouped ? '% mean ± std (n)' : '%') : undefined} num title={`${labelWithUnit(spec)}: ${grouped ? "mean ± std over the group's evaluated runs (n)" : "mean over the run's evaluated folds"}`} />;
              })}
              {cols.map((c) => (
                <th key={c} className="clip" title={c}>
                  {c.split('.').at(-1)}<button className="link small" aria-label={`remove column ${c}`} onClick={() => set({ cols: cols.filter((x) => x !== c).join(',') })}>×</button>
                  <span className="unit">{c}</span>
                </th>
              ))}
              {/* Per-run columns; a group row shows its runs' metrics instead (expand it for these). */}
              {!grouped && <th className="num" title={`${s.latest}: last value · best (${better === 'lower' ? 'min' : 'max'}) over the run`}>{s.latest}<span className="unit">last · best</span></th>}
              {!grouped && <Th k="created_at" label="created" />}
            </tr>
          </thead>
          <VirtualRows
            count={itemCount} ncols={ncols} render={renderItem} layout={`${!!(error ?? loadError)} ${cols.length} ${grouped}`}
            onRange={(from, to) => want(listIndex(itemAt(from)), listIndex(itemAt(to)))}
            end={lastLoaded ? <>end of the list: {total} {grouped ? 'groups' : 'runs'}</> : null}
          />
        </table>
        {total === 0 && <div style={{ padding: 14 }} className="dim" data-testid="no-runs">No runs match{s.where ? ` “${s.where}”` : ''}. Queue one on the Launch page or with <code>ssmb launch</code>.</div>}
      </div>
    </div>
  );
}

/**
 * The rows of a list of `count` items in view of the window (ROW_H apart, a few more above and below),
 * spacers for the others; `onRange` hears which items are in view (to read their pages). Scrolling
 * redraws these rows only, not the view around them. `end` is shown under the last row once it is in view.
 */
function VirtualRows({ count, ncols, render, onRange, end, layout }: {
  count: number; ncols: number; render: (index: number) => ReactNode; onRange: (from: number, to: number) => void; end: ReactNode; layout: string;
}) {
  const tbody = useRef<HTMLTableSectionElement>(null);
  const [margin, setMargin] = useState(0);
  // Where the rows start in the page (the toolbars above wrap with the window's width): measured when
  // what is above may have moved, not on every scroll.
  useLayoutEffect(() => {
    const measure = () => {
      const top = tbody.current ? tbody.current.getBoundingClientRect().top + window.scrollY : 0;
      setMargin((m) => (Math.abs(m - top) < 1 ? m : top));
    };
    measure();
    window.addEventListener('resize', measure);
    return () => window.removeEventListener('resize', measure);
  }, [count > 0, layout]);
  // Without flushSync React draws the new rows in its own time, not inside each scroll event (smoother under load).
  const virtual = useWindowVirtualizer({ count, estimateSize: rowHeight, overscan: 6, scrollMargin: margin, useFlushSync: false });
  const items = virtual.getVirtualItems();
  const from = items.length ? items[0].index : 0;
  const to = items.length ? items[items.length - 1].index : 0;
  useEffect(() => {
    if (count > 0) onRange(from, to); // every render: a page read since may be stale again
  });
  const above = items.length ? items[0].start - margin : 0;
  const below = items.length ? virtual.getTotalSize() - (items[items.length - 1].end - margin) : 0;
  return (
    <>
      <tbody ref={tbody}>
        {/* Spacers stand in for the rows out of view (none at the top of the list: its first row is first). */}
        {above > 0 && <tr className="spacer" aria-hidden><td colSpan={ncols} style={{ height: above }} /></tr>}
        {items.map((v) => render(v.index))}
        {below > 0 && <tr className="spacer" aria-hidden><td colSpan={ncols} style={{ height: below }} /></tr>}
      </tbody>
      {end && count > 0 && to === count - 1 && (
        <tfoot><tr><td colSpan={ncols} className="dim small list-end" data-testid="runs-end">{end}</td></tr></tfoot>
      )}
    </>
  );
}

/**
 * Tags, compact: the user's own tags (up to two) inline with a remove button; the dotted ones a worker
 * records on every run (train.engine=..., eval.engine=...) and any more behind one "+k" chip whose title
 * lists every tag. A row stays one line however many tags a run has.
 */
function Tags({ r, onRemove }: { r: RunListRow; onRemove: (key: string) => void }) {
  const entries = Object.entries(r.tags);
  const text = ([k, v]: [string, string]) => (v ? `${k}=${v}` : k);
  const inline = entries.filter(([k]) => !k.includes('.')).slice(0, 2);
  const rest = entries.length - inline.length;
  return (
    <>
      {inline.map(([k, v]) => (
        <span key={k} className="tag" title={text([k, v])}>
          {text([k, v])}
          <button title="remove tag" onClick={() => onRemove(k)}>×</button>
        </span>
      ))}
      {rest > 0 && <span className="tag more" title={entries.map(text).join('\n')}>+{rest}</span>}
    </>
  );
}
