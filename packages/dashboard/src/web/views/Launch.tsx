// Launch: queue one run or a sweep for the workers. Overrides and grid use the CLI's syntax and are
// checked by the trainer on the server; errors name the field. Paths must stay inside the roots the
// server was started with (shown here), and a sweep is capped.
import { useState } from 'react';
import { post, useApi, HttpError } from '../api.ts';
import { useMeta } from '../meta.ts';
import { ErrorBox } from '../components.tsx';
import { fmtNumber } from '../format.ts';

interface ConfigKey { key: string; default: unknown; type: string; path?: string }

export function LaunchView() {
  const meta = useMeta();
  const [experiment, setExperiment] = useState('default');
  const [name, setName] = useState('');
  const [kind, setKind] = useState('train');
  const [sets, setSets] = useState('ssmb.numExperts=4\ndataset.protocol=synthetic-vis-nir');
  const [grid, setGrid] = useState('');
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ runIds: number[]; sweepId?: number } | null>(null);
  const [error, setError] = useState<HttpError | null>(null);
  const [showKeys, setShowKeys] = useState(false);
  const keys = useApi<{ keys: ConfigKey[] }>('/api/config-keys');

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      const set = sets.split('\n').map((s) => s.trim()).filter((s) => s && !s.startsWith('#'));
      setResult(await post('/api/launch', { experiment, kind, set, ...(name ? { name } : {}), ...(grid.trim() ? { grid } : {}) }));
    } catch (err) {
      setError(err as HttpError);
    } finally {
      setBusy(false);
    }
  };
  const bad = (field: string) => (error?.field === field ? { borderColor: '#d62728' } : {});

  return (
    <div className="launch">
      <h1>Launch</h1>
      <form className="panel" onSubmit={submit} data-testid="launch-form">
        <div className="row">
          <div className="field grow">
            <label htmlFor="experiment">Experiment</label>
            <input id="experiment" value={experiment} onChange={(e) => setExperiment(e.target.value)} list="experiments" style={bad('body.experiment')} />
            <datalist id="experiments">{meta?.experiments.map((x) => <option key={x.id} value={x.name} />)}</datalist>
          </div>
          <div className="field grow">
            <label htmlFor="name">Name <span className="dim">(optional)</span></label>
            <input id="name" value={name} onChange={(e) => setName(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="kind">Kind</label>
            <select id="kind" value={kind} onChange={(e) => setKind(e.target.value)}>
              {(meta?.launchKinds ?? ['train']).map((k) => <option key={k}>{k}</option>)}
            </select>
          </div>
        </div>
        <div className="field">
          <label htmlFor="sets">Config overrides</label>
          <textarea id="sets" rows={5} value={sets} onChange={(e) => setSets(e.target.value)} style={bad('body.set')} spellCheck={false} />
          <span className="hint">
            One <code>key=value</code> per line, as with <code>ssmb launch --set</code>. Unknown keys are refused.{' '}
            <button type="button" className="link" onClick={() => setShowKeys(!showKeys)}>{showKeys ? 'hide' : 'show'} all keys and defaults</button>
          </span>
        </div>
        {showKeys && keys.data && (
          <div className="keys" data-testid="config-keys">
            {keys.data.keys.map((k) => (
              <div key={k.key} className="small"><code>{k.key}</code> <span className="dim">{k.type}{k.path ? `, ${k.path} path` : ''} · default {fmtNumber(k.default)}</span></div>
            ))}
          </div>
        )}
        <div className="field">
          <label htmlFor="grid">Sweep grid <span className="dim">(optional: empty = one run)</span></label>
          <textarea id="grid" rows={4} value={grid} onChange={(e) => setGrid(e.target.value)} style={bad('body.grid')} spellCheck={false}
            placeholder={'ssmb.numExperts=1,2,4,8\ndataset.fold=all'} />
          <span className="hint">
            One axis per line, <code>key=v1,v2,…</code> (as <code>ssmb launch --grid</code>); the runs are the cartesian product, at most {meta?.limits.maxSweepRuns ?? '…'} per sweep.
            <code> dataset.fold=all</code> expands to every fold.
          </span>
        </div>
        {meta && (
          <div className="hint roots" data-testid="launch-roots">
            Relative paths are relative to the store's folder. Runs write under {meta.roots.output.join(', ')}; read datasets from {meta.roots.data.join(', ')} and weights from {meta.roots.weights.join(', ')}
            {' '}(more with <code>ssmb dashboard --output-root/--data-root/--weights-root DIR</code>).
          </div>
        )}
        {error && <div data-testid="launch-error"><ErrorBox error={error} /></div>}
        {result && (
          <div className="ok" data-testid="launch-result">
            Queued {result.runIds.length} run{result.runIds.length === 1 ? '' : 's'}
            {result.sweepId ? <> in sweep <a href={`#/runs/${result.sweepId}`}>#{result.sweepId}</a></> : null}:{' '}
            {result.runIds.map((id) => <a key={id} href={`#/runs/${id}`} style={{ marginRight: 6 }}>#{id}</a>)}
            <span className="dim"> — start a worker with <code>ssmb worker</code> to run them.</span>
          </div>
        )}
        <button className="primary" type="submit" disabled={busy}>{grid.trim() ? 'Queue sweep' : 'Queue run'}</button>
      </form>
    </div>
  );
}
