// Parallel coordinates: every evaluated run as a line across its config values (the keys that differ,
// or the ones picked) to a chosen metric on one protocol; drag along an axis to filter, click to open.
import { useState } from 'react';
import { qs, useApi, type ParallelResponse } from '../api.ts';
import { navigate } from '../router.ts';
import { useMeta } from '../meta.ts';
import { ErrorBox, MethodExperimentFilters } from '../components.tsx';
import { ParallelCoordinates } from '../charts.tsx';
import { labelWithUnit, specOf } from '../format.ts';

export function ParallelView() {
  const meta = useMeta();
  const [metric, setMetric] = useState('rank1');
  const [protocol, setProtocol] = useState('');
  const [method, setMethod] = useState('');
  const [experiment, setExperiment] = useState('');
  const [keys, setKeys] = useState<string[] | null>(null);
  const { data, error } = useApi<ParallelResponse>(`/api/parallel${qs({ metric, protocol, method, experiment, keys: keys ?? undefined })}`);
  const spec = specOf(meta?.metricSpecs, metric);
  const candidates = [...new Set([...(data?.candidates ?? []), ...(keys ?? [])])].sort();
  const current = keys ?? data?.keys ?? [];
  return (
    <div>
      <div className="toolbar">
        <h1>Parallel coordinates</h1>
        <label className="check">metric
          <select value={metric} onChange={(e) => setMetric(e.target.value)} aria-label="metric">
            {(meta?.evalMetrics ?? ['rank1']).map((m) => <option key={m} value={m}>{specOf(meta?.metricSpecs, m).label}</option>)}
          </select>
        </label>
        <label className="check">protocol
          <select value={protocol || data?.protocol || ''} onChange={(e) => setProtocol(e.target.value)} aria-label="protocol">
            {(data?.protocols ?? []).map((p) => <option key={p}>{p}</option>)}
          </select>
        </label>
        <MethodExperimentFilters method={method} setMethod={setMethod} experiment={experiment} setExperiment={setExperiment} />
      </div>
      <ErrorBox error={error} />
      <div className="toolbar">
        <span className="dim">axes (config keys that differ between these runs):</span>
        {candidates.map((k) => (
          <label key={k} className="check small">
            <input type="checkbox" checked={current.includes(k)} onChange={(e) => setKeys(e.target.checked ? [...current, k] : current.filter((x) => x !== k))} />
            {k}
          </label>
        ))}
        {keys && <button className="link" onClick={() => setKeys(null)}>reset to the differing keys</button>}
      </div>
      <div className="panel">
        {data && data.runs.length > 0 && current.length > 0 ? (
          <ParallelCoordinates runs={data.runs} keys={current} metricLabel={labelWithUnit(spec)} metricNote={data.protocol ?? ''} better={spec.better} percent={spec.percent}
            onOpen={(id) => navigate(`runs/${id}`)} />
        ) : (
          <div className="dim">
            {!data ? 'loading…' : data.runs.length === 0 ? 'No evaluated runs match.' : data.runs.length === 1 ? `Only one run was evaluated on ${data.protocol}: pick another protocol.` : data.candidates.length === 0 ? 'These runs share every config value.' : 'Pick at least one config key.'}
          </div>
        )}
        <div className="dim small">Each line is a run (its mean over the protocol's folds); orange = better {spec.label}. Keys that are paths (datasets, weights, output folders) are left out.</div>
      </div>
    </div>
  );
}
