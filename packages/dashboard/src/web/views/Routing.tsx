// Routing across runs and folds: per run and fold, each block's separation score (NMI between modality and
// expert) and the experts no image uses, then the runs' heatmaps side by side. Runs are picked as whole
// configurations over their folds (the runs list's groups) or one by one, or come in the URL
// (#/routing?ids=1,2).
import { useEffect, useMemo, useState } from 'react';
import { api, qs, useApi, type RoutingRow, type RunGroupsResponse, type RunsResponse } from '../api.ts';
import { navigate } from '../router.ts';
import { ErrorBox } from '../components.tsx';
import { BlockSummary, RoutingHeatmap } from '../routing_heatmap.tsx';
import { blockRouting, routingByFold } from '../routing.ts';
import { compareBlocks } from '@ssmb/trainer/display-order';

/** SSMB runs with an evaluation: the runs that have routing to compare. */
const WHERE = 'method=ssmb status=completed';

/** Every picked run's routing rows (one request per run), or the first error. */
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

export function RoutingView({ ids: asked }: { ids: number[] }) {
  const groups = useApi<RunGroupsResponse>(`/api/runs/groups${qs({ where: WHERE, limit: 5000, sort: 'name', order: 'asc' })}`);
  const list = useApi<RunsResponse>(`/api/runs${qs({ where: WHERE, limit: 5000, sort: 'id', order: 'asc' })}`);
  const picked = useApi<RunsResponse>(asked.length ? `/api/runs${qs({ ids: asked.join(','), archived: 'include', limit: 5000 })}` : null);
  const byId = useMemo(() => new Map([...(list.data?.runs ?? []), ...(picked.data?.runs ?? [])].map((r) => [r.id, r])), [list.data, picked.data]);
  // Ids the URL names that the store does not have: named, the others still shown.
  const unknown = picked.data ? asked.filter((id) => !picked.data!.runs.some((r) => r.id === id)) : [];
  const ids = picked.data ? asked.filter((id) => !unknown.includes(id)) : [];
  const { rows, error } = useRouting(ids);
  const setIds = (next: number[]) => navigate(`routing${next.length ? `?ids=${[...new Set(next)].sort((a, b) => a - b).join(',')}` : ''}`);
  const toggle = (id: number) => setIds(asked.includes(id) ? asked.filter((x) => x !== id) : [...asked, id]);

  return (
    <div>
      <div className="toolbar">
        <h1>Routing across runs</h1>
        <span className="dim small">NMI: normalised mutual information between an image's modality and its expert, per block (1 = experts split by modality, 0 = routing ignores it)</span>
      </div>
      <ErrorBox error={groups.error ?? list.error ?? picked.error ?? error} />
      {unknown.length > 0 && <div className="error" data-testid="unknown-runs">{unknown.length === 1 ? `Run ${unknown[0]} is` : `Runs ${unknown.join(', ')} are`} not in this store (ids received in the URL); showing the others.</div>}
      <div className="panel">
        <h2>Pick runs</h2>
        <div className="toolbar" data-testid="routing-configs">
          <span className="dim small">a configuration over its folds:</span>
          {(groups.data?.groups ?? []).map((g) => (
            <button key={g.key} onClick={() => setIds([...asked, ...g.runIds])} title={`runs ${g.runIds.join(', ')}`}>{g.label} ({g.runIds.length})</button>
          ))}
          {asked.length > 0 && <button className="link" onClick={() => setIds([])}>clear</button>}
        </div>
        <details>
          <summary className="small">single runs ({list.data?.runs.length ?? '…'})</summary>
          <div className="keys">
            {(list.data?.runs ?? []).map((r) => (
              <label key={r.id} className="check" style={{ display: 'flex' }}>
                <input type="checkbox" checked={asked.includes(r.id)} onChange={() => toggle(r.id)} aria-label={`routing run ${r.id}`} />
                #{r.id} {r.name}
              </label>
            ))}
          </div>
        </details>
      </div>
      {asked.length === 0 ? (
        <div className="dim" data-testid="routing-empty">Pick runs above: a configuration over its folds, or single runs.</div>
      ) : (
        <RoutingCompare ids={ids} rows={rows} numExperts={(id) => byId.get(id)?.numExperts ?? null} name={(id) => byId.get(id)?.name ?? ''} />
      )}
    </div>
  );
}

function RoutingCompare({ ids, rows, numExperts, name }: { ids: number[]; rows: Map<number, RoutingRow[]>; numExperts: (id: number) => number | null; name: (id: number) => string }) {
  const lines = ids.flatMap((id) => routingByFold(rows.get(id) ?? []).map((f) => ({ id, protocol: f.protocol, fold: f.fold, blocks: blockRouting(f.rows, numExperts(id)) })));
  const blocks = [...new Set(lines.flatMap((l) => l.blocks.map((b) => b.block)))].sort(compareBlocks);
  const missing = ids.filter((id) => rows.get(id)?.length === 0);
  return (
    <>
      <div className="panel">
        <h2>Separation per block <span className="dim small">per run and fold</span></h2>
        {missing.length > 0 && <div className="warn" data-testid="no-routing">No routing recorded for runs {missing.join(', ')} (not evaluated, or not SSMB).</div>}
        <div className="scroll-x">
          <table className="grid" data-testid="routing-compare">
            <thead><tr><th>run</th><th>N</th><th>protocol / fold</th>{blocks.map((b) => <th key={b}>{b}</th>)}</tr></thead>
            <tbody>
              {lines.map((l) => (
                <tr key={`${l.id}/${l.protocol}/${l.fold}`} data-run-id={l.id}>
                  <td><a href={`#/runs/${l.id}`}>#{l.id} {name(l.id)}</a></td>
                  <td>{numExperts(l.id) ?? '–'}</td>
                  <td>{l.protocol} / {l.fold}</td>
                  {blocks.map((b) => {
                    const x = l.blocks.find((y) => y.block === b);
                    return <td key={b} data-block={b}>{x ? <BlockSummary b={x} compact /> : '–'}</td>;
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
            <div className="chart-title"><a href={`#/runs/${id}`}>#{id} {name(id)}</a> <span className="dim small">summed over folds</span></div>
            <RoutingHeatmap rows={rows.get(id)!} numExperts={numExperts(id)} />
          </div>
        ))}
      </div>
    </>
  );
}
