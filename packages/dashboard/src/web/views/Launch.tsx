// Launch: queue one run or a sweep for the workers. Overrides and grid use the CLI's syntax and are
// checked by the trainer on the server; errors name the field. Paths must stay inside the roots the
// server was started with (shown here), and a sweep is capped.
import { useEffect, useState } from 'react';
import { api, post, useApi, HttpError, type RunResponse } from '../api.ts';
import { useRoute } from '../router.ts';
import { useMeta } from '../meta.ts';
import { ErrorBox } from '../components.tsx';
import { fmtNumber } from '../format.ts';
import { flattenConfigValues } from '@ssmb/trainer/flatten';

interface ConfigKey { key: string; default: unknown; type: string; path?: string }

export function LaunchView() {
  const meta = useMeta();
  const [experiment, setExperiment] = useState('default');
  const [name, setName] = useState('');
  const [kind, setKind] = useState('train');
  const presets = (meta?.tableConfigs ?? []).flatMap((c) => c.presets);
  // The form starts from a shipped table's run (the quickstart's SSMB N=4 on VIS-NIR when it is there),
  // so its learning rate, schedule, weights and data root are the ones the tables use.
  const firstPreset = presets.find((p) => /SSMB N=4/.test(p.label)) ?? presets.find((p) => /ssmb/i.test(p.label)) ?? presets[0];
  const [sets, setSets] = useState('');
  const [preset, setPreset] = useState('');
  const [planned, setPlanned] = useState<Array<Record<string, unknown>> | null>(null);
  const cloneId = Number(useRoute().params.get('clone')) || null;
  const [clonedFrom, setClonedFrom] = useState<number | null>(null);
  useEffect(() => {
    if (cloneId || sets || !firstPreset) return;
    setPreset(firstPreset.label);
    setSets(firstPreset.set.join('\n'));
  }, [firstPreset?.label]);
  // "Clone this run": its resolved config (what differs from the defaults), its experiment and kind.
  useEffect(() => {
    if (!cloneId || clonedFrom === cloneId) return;
    void Promise.all([api<RunResponse>(`/api/runs/${cloneId}`), api<{ keys: ConfigKey[] }>('/api/config-keys')]).then(([r, k]) => {
      const defaults = new Map(k.keys.map((x) => [x.key, JSON.stringify(x.default)]));
      const flat = flattenConfigValues(r.run.config);
      // What the run is (method, protocol, fold) always; the rest where it differs from the defaults;
      // never its output folder (a clone writes its own).
      const always = ['method', 'dataset.protocol', 'dataset.fold'];
      const lines = Object.entries(flat)
        .filter(([key, v]) => key !== 'outputDir' && key !== 'pretrain.output' && defaults.has(key) && (always.includes(key) || defaults.get(key) !== JSON.stringify(v)))
        .map(([key, v]) => `${key}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
      setSets(lines.join('\n'));
      setExperiment(r.run.experimentName);
      setKind(r.run.kind === 'sweep' ? 'train' : r.run.kind);
      setName(`${r.run.name || `run ${cloneId}`} (clone)`);
      setPreset('');
      setClonedFrom(cloneId);
    }).catch((e: HttpError) => setError(e));
  }, [cloneId]);
  const [grid, setGrid] = useState('');
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ runIds: number[]; sweepId?: number } | null>(null);
  const [error, setError] = useState<HttpError | null>(null);
  const [showKeys, setShowKeys] = useState(false);
  const keys = useApi<{ keys: ConfigKey[] }>('/api/config-keys');

  const body = () => {
    const set = sets.split('\n').map((s) => s.trim()).filter((s) => s && !s.startsWith('#'));
    return { experiment, kind, set, ...(name ? { name } : {}), ...(grid.trim() ? { grid } : {}) };
  };
  /** Dry run: the server checks and expands everything and queues nothing. */
  const preview = async () => {
    setError(null);
    setResult(null);
    try {
      setPlanned((await post<{ planned: Array<Record<string, unknown>> }>('/api/launch', { ...body(), dryRun: true })).planned);
    } catch (err) {
      setPlanned(null);
      setError(err as HttpError);
    }
  };
  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      // Expand first, then ask: the count in the question is the server's, not a guess.
      const plan = (await post<{ planned: Array<Record<string, unknown>> }>('/api/launch', { ...body(), dryRun: true })).planned;
      setPlanned(plan);
      if (!window.confirm(`Queue ${plan.length} run${plan.length === 1 ? '' : 's'} in experiment "${experiment}"?`)) return;
      setResult(await post('/api/launch', body()));
      setPlanned(null);
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
        <div className="toolbar">
          {clonedFrom ? <span className="ok" data-testid="cloned-from">Cloned from run <a href={`#/runs/${clonedFrom}`}>#{clonedFrom}</a>: its resolved config below.</span> : null}
          <label className="check">start from
            <select value={preset} aria-label="start from" onChange={(e) => {
              const p = presets.find((x) => x.label === e.target.value);
              setPreset(e.target.value);
              if (p) setSets(p.set.join('\n'));
            }}>
              <option value="">(the overrides below)</option>
              {presets.map((p) => <option key={p.label} value={p.label}>{p.label}</option>)}
            </select>
          </label>
        </div>
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
        {planned && (
          <div className="panel" data-testid="launch-plan">
            <strong>{planned.length} run{planned.length === 1 ? '' : 's'}</strong> would be queued (nothing is queued yet):
            <ol className="small">
              {planned.slice(0, 200).map((p, i) => <li key={i}>{Object.entries(p).map(([k, v]) => `${k}=${fmtNumber(v)}`).join('  ') || 'the overrides above'}</li>)}
            </ol>
            {planned.length > 200 && <div className="dim small">… and {planned.length - 200} more</div>}
          </div>
        )}
        <button type="button" onClick={() => void preview()} data-testid="launch-preview">Preview runs</button>{' '}
        <button className="primary" type="submit" disabled={busy}>{grid.trim() ? 'Queue sweep' : 'Queue run'}</button>
      </form>
    </div>
  );
}
