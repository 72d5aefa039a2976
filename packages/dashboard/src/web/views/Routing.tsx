// Routing across runs and folds: per run and fold, each block's separation score (NMI between modality and
// expert) and the experts no image uses, then the runs' heatmaps side by side. Runs are picked from the
// SSMB runs (a whole config over its folds in one click) or come in the URL (#/routing?ids=1,2).
import { useEffect, useMemo, useState } from 'react';
import { api, qs, useApi, type RoutingRow, type RunListRow, type RunsResponse } from '../api.ts';
import { navigate } from '../router.ts';
import { ErrorBox } from '../components.tsx';
import { BlockSummary, RoutingHeatmap } from '../charts.tsx';
import { blockRouting } from '../routing.ts';
import { compareBlocks, compareModalities } from '@ssmb/trainer/display-order';

const ORDER = { blocks: compareBlocks, modalities: compareModalities };
/** Runs of one config over its folds and seeds share this key. */
const configKey = (r: RunListRow) => `${r.experimentName} · N=${r.numExperts} · ${r.protocol ?? '–'}`;

function useRouting(ids: number[]): { rows: Map<number, RoutingRow[]>; error: Error | null } {
  const [state, setState] = useState<{ rows: Map<number, RoutingRow[]>; error: Error | null }>({ rows: new Map(), error: null });
  const key = ids.join(',');
  useEffect(() => {
    let live = true;
    Promise.all(ids.map((id) => api<{ routing: RoutingRow[] }>(`/api/runs/${id}/routing`).then((r) => [id, r.routing] as const)))
      .then((all) => live && setState({ rows: new Map(all), error: null }))
      .catch((e: Error) => live && setState({ rows: new Map(), error: e }));
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);
  return state;
}

export function RoutingView({ ids }: { ids: number[] }) {
  const list = useApi<RunsResponse>(`/api/runs${qs({ limit: 5000, sort: 'id', order: 'asc' })}`);
  const ssmbRuns = useMemo(() => (list.data?.runs ?? []).filter((r) => r.numExperts !== null && r.kind === 'train' && r.status === 'completed'), [list.data]);
  const byId = useMemo(() => new Map((list.data?.runs ?? []).map((r) => [r.id, r])), [list.data]);
  const configs = useMemo(() => {
    const m = new Map<string, number[]>();
    for (const r of ssmbRuns) m.set(configKey(r), [...(m.get(configKey(r)) ?? []), r.id]);
    return [...m];
  }, [ssmbRuns]);
  // Ids the store does not have are named, not fetched (one 404 would hide the others' routing).
  const known = list.data ? ids.filter((id) => byId.has(id)) : [];
  const unknown = list.data ? ids.filter((id) => !byId.has(id)) : [];
  const { rows, error } = useRouting(known);
  const setIds = (next: number[]) => navigate(`routing${next.length ? `?ids=${[...new Set(next)].sort((a, b) => a - b).join(',')}` : ''}`);
  const toggle = (id: number) => setIds(ids.includes(id) ? ids.filter((x) => x !== id) : [...ids, id]);

  return (
    <div>
      <div className="toolbar">
        <h1>Routing across runs</h1>
        <span className="dim small">NMI: normalised mutual information between an image's modality and its expert, per block (1 = experts split by modality, 0 = routing ignores it)</span>
      </div>
      <ErrorBox error={list.error ?? error} />
      {unknown.length > 0 && <div className="error" data-testid="unknown-runs">Runs {unknown.join(', ')} are not in this store (ids received in the URL); showing the others.</div>}
      <div className="panel">
        <h2>Pick runs</h2>
        <div className="toolbar" data-testid="routing-configs">
          <span className="dim small">a config over its folds:</span>
          {configs.map(([label, runIds]) => (
            <button key={label} onClick={() => setIds([...ids, ...runIds])} title={`runs ${runIds.join(', ')}`}>{label} ({runIds.length})</button>
          ))}
          {ids.length > 0 && <button className="link" onClick={() => setIds([])}>clear</button>}
        </div>
        <details>
          <summary className="small">single runs ({ssmbRuns.length})</summary>
          <div className="keys">
            {ssmbRuns.map((r) => (
              <label key={r.id} className="check" style={{ display: 'flex' }}>
                <input type="checkbox" checked={ids.includes(r.id)} onChange={() => toggle(r.id)} aria-label={`routing run ${r.id}`} />
                #{r.id} {r.name}
              </label>
            ))}
          </div>
        </details>
      </div>
      {ids.length === 0 ? (
        <div className="dim">Pick runs above: a config over its folds, or single runs.</div>
      ) : (
        <RoutingCompare ids={known} rows={rows} byId={byId} />
      )}
    </div>
  );
}

function RoutingCompare({ ids, rows, byId }: { ids: number[]; rows: Map<number, RoutingRow[]>; byId: Map<number, RunListRow> }) {
  const lines = ids.flatMap((id) => {
    const all = rows.get(id) ?? [];
    const n = byId.get(id)?.numExperts ?? null;
    const folds = [...new Set(all.map((r) => `${r.protocol}\0${r.fold}`))];
    return folds.map((pf) => {
      const [protocol, fold] = pf.split('\0');
      return { id, protocol, fold, blocks: blockRouting(all.filter((r) => r.protocol === protocol && r.fold === fold), n, ORDER) };
    });
  });
  const blocks = [...new Set(lines.flatMap((l) => l.blocks.map((b) => b.block)))].sort(compareBlocks);
  const missing = ids.filter((id) => rows.has(id) && rows.get(id)!.length === 0);
  return (
    <>
      <div className="panel">
        <h2>Separation per block</h2>
        {missing.length > 0 && <div className="warn" data-testid="no-routing">No routing recorded for runs {missing.join(', ')} (not evaluated, or not SSMB).</div>}
        <div className="scroll-x">
          <table className="grid" data-testid="routing-compare">
            <thead><tr><th>run</th><th>N</th><th>protocol / fold</th>{blocks.map((b) => <th key={b}>{b}</th>)}</tr></thead>
            <tbody>
              {lines.map((l) => (
                <tr key={`${l.id}/${l.protocol}/${l.fold}`} data-run-id={l.id}>
                  <td><a href={`#/runs/${l.id}`}>#{l.id} {byId.get(l.id)?.name ?? ''}</a></td>
                  <td>{byId.get(l.id)?.numExperts ?? '–'}</td>
                  <td>{l.protocol} / {l.fold}</td>
                  {blocks.map((b) => {
                    const x = l.blocks.find((y) => y.block === b);
                    return <td key={b} data-block={b}>{x ? <BlockSummary b={x} /> : '–'}</td>;
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </div>
      <div className="multiples">
        {ids.filter((id) => (rows.get(id)?.length ?? 0) > 0).map((id) => (
          <div key={id} className="panel" data-routing-run={id}>
            <div className="chart-title"><a href={`#/runs/${id}`}>#{id} {byId.get(id)?.name ?? ''}</a> <span className="dim small">summed over folds</span></div>
            <RoutingHeatmap rows={rows.get(id)!} numExperts={byId.get(id)?.numExperts ?? null} />
          </div>
        ))}
      </div>
    </>
  );
}
