// Ablation: a metric against a config key (default ssmb.numExperts), mean ± std over folds; one panel
// per protocol with the frozen baseline as a reference line, and the table with n and the change
// against the first setting (does N > 1 beat N = 1?). Only runs the key applies to are grouped.
// "lines by" groups by a second knob at once (e.g. ssmb.expertKind against N): one line per value of
// it in every panel, table rows per (value, setting), changes against the first setting of the same line.
import { useMemo, useState } from 'react';
import { qs, useApi, type AblationPoint, type AblationResponse } from '../api.ts';
import { useMeta } from '../meta.ts';
import { ErrorBox, MethodExperimentFilters } from '../components.tsx';
import { AblationCharts } from '../charts.tsx';
import { fmtMeanStd, fmtMetric, labelWithUnit, specOf } from '../format.ts';

const xLabel = (x: AblationPoint['x']) => (x === null ? '(unset)' : String(x));
const seriesLabel = (v: AblationPoint['series']) => (v === undefined ? null : v === null ? '(unset)' : String(v));

/** A config-key box that applies a known key at once and anything else on blur / Enter. */
function KeyInput({ label, value, onChange, keys, optional }: { label: string; value: string; onChange: (k: string) => void; keys: string[] | undefined; optional?: boolean }) {
  const [draft, setDraft] = useState(value);
  const edit = (v: string) => {
    setDraft(v);
    if (keys?.includes(v) || (optional && v === '')) onChange(v);
  };
  const commit = () => (draft || optional) && onChange(draft);
  return (
    <label className="check">{label}
      <input value={draft} onChange={(e) => edit(e.target.value.trim())} onBlur={commit} onKeyDown={(e) => e.key === 'Enter' && commit()}
        list="config-keys" aria-label={label === 'against' ? 'config key' : label} placeholder={optional ? '(none)' : undefined} style={{ width: optional ? 160 : 200 }} />
    </label>
  );
}

export function AblationView() {
  const meta = useMeta();
  const [metric, setMetric] = useState('rank1');
  const [key, setKey] = useState('ssmb.numExperts');
  const [by, setBy] = useState('');
  const [method, setMethod] = useState('');
  const [experiment, setExperiment] = useState('');
  const { data, error } = useApi<AblationResponse>(`/api/ablation${qs({ metric, key, by: by || undefined, method, experiment })}`);
  const spec = specOf(meta?.metricSpecs, metric);
  const { xs, protocols, series } = useMemo(() => {
    const pts = data?.points ?? [];
    const order = (a: unknown, b: unknown) => (typeof a === 'number' && typeof b === 'number' ? a - b : String(a).localeCompare(String(b)));
    const raw = [...new Set(pts.map((p) => p.x))].sort(order);
    // the second knob's values (one line each); [null] = no second knob
    const ser = data?.by ? [...new Set(pts.map((p) => p.series))].sort(order).map(seriesLabel) : [null];
    return { xs: raw.map(xLabel), series: ser, protocols: [...new Set([...pts.map((p) => p.protocol), ...(data?.baselines ?? []).map((b) => b.protocol)])].sort() };
  }, [data]);
  const cell = (p: string, x: string, ser: string | null) => data?.points.find((q) => q.protocol === p && xLabel(q.x) === x && seriesLabel(q.series) === ser);
  // the settings each line has (a kind need not have run at every N)
  const xsOf = (ser: string | null) => xs.filter((x) => protocols.some((p) => cell(p, x, ser)));
  const base = (p: string) => data?.baselines.find((b) => b.protocol === p);
  const delta = (p: string, x: string, ser: string | null) => {
    const x0 = xsOf(ser)[0];
    const first = cell(p, x0, ser);
    const c = cell(p, x, ser);
    if (!first || !c || first.mean === null || c.mean === null || x === x0) return null;
    const d = (c.mean - first.mean) * (spec.percent ? 100 : 1);
    const good = spec.better === 'higher' ? d > 0 : d < 0;
    return <span className={good ? 'up' : 'down'} title={`change against ${key}=${x0}${ser !== null ? ` (${data?.by}=${ser})` : ''}`}> {d >= 0 ? '+' : ''}{d.toFixed(spec.decimals)}</span>;
  };
  const byKey = data?.by ?? null;

  return (
    <div>
      <div className="toolbar">
        <h1>Ablation</h1>
        <label className="check">metric
          <select value={metric} onChange={(e) => setMetric(e.target.value)} aria-label="metric">
            {(meta?.evalMetrics ?? ['rank1']).map((m) => <option key={m} value={m}>{specOf(meta?.metricSpecs, m).label}</option>)}
          </select>
        </label>
        <KeyInput label="against" value={key} onChange={setKey} keys={meta?.configKeys} />
        <KeyInput label="lines by" value={by} onChange={setBy} keys={meta?.configKeys} optional />
        <datalist id="config-keys">{meta?.configKeys.map((k) => <option key={k} value={k} />)}</datalist>
        <MethodExperimentFilters method={method} setMethod={setMethod} experiment={experiment} setExperiment={setExperiment} />
        <span className="dim small">only runs {key} applies to; the frozen baseline is the dashed line{data?.baselineScope === 'store' ? ' (from the whole store: none in this experiment)' : ''}</span>
      </div>
      <ErrorBox error={error} />
      <div className="panel">
        <div className="chart-title">{labelWithUnit(spec)} against {key}{byKey ? `, one line per ${byKey}` : ''} <span className="dim small">mean ± std over folds and seeds; error bars only where n &gt; 1</span></div>
        {xs.length ? (
          <AblationCharts xs={xs} xLabel={key} yLabel={labelWithUnit(spec)} percent={spec.percent}
            panels={protocols.map((p) => ({
              protocol: p,
              lines: series.map((ser) => ({
                name: ser,
                points: xs.flatMap((x) => { const c = cell(p, x, ser); return c && c.mean !== null ? [{ x, mean: c.mean, std: c.std, n: c.n }] : []; }),
              })).filter((l) => l.points.length > 0),
              baseline: base(p) && base(p)!.mean !== null ? { mean: base(p)!.mean!, std: base(p)!.std, n: base(p)!.n } : undefined,
            // A protocol only the frozen baseline ran on (VIS-VIS) keeps its panel: the baseline alone.
            })).filter((panel) => panel.lines.length > 0 || panel.baseline)} />
        ) : <div className="dim">No evaluated runs match.</div>}
      </div>
      <div className="panel">
        <div className="scroll-x">
          <table className="grid" data-testid="ablation-table">
            <thead>
              <tr>{byKey && <th>{byKey}</th>}<th>{key}</th>{protocols.map((p) => <th key={p} className="num">{p}</th>)}</tr>
            </thead>
            <tbody>
              {protocols.some((p) => base(p)) && (
                <tr className="reference-row">
                  <td colSpan={byKey ? 2 : 1}>frozen baseline</td>
                  {protocols.map((p) => {
                    const b = base(p);
                    return <td key={p} className="num">{b ? fmtMeanStd(b.mean, b.std, b.n, spec) : '–'}<span className="dim small">{b ? ` n=${b.n}` : ''}</span></td>;
                  })}
                </tr>
              )}
              {series.flatMap((ser) => xsOf(ser).map((x, i) => (
                <tr key={`${ser}/${x}`} className={byKey && i === 0 ? 'group-start' : undefined}>
                  {byKey && <td>{i === 0 ? ser : ''}</td>}
                  <td>{x}</td>
                  {protocols.map((p) => {
                    const c = cell(p, x, ser);
                    return (
                      <td key={p} className="num" title={c ? `${c.n} values from runs ${c.runIds.join(', ')}` : ''}>
                        {c ? fmtMeanStd(c.mean, c.std, c.n, spec) : '–'}<span className="dim small">{c ? ` n=${c.n}` : ''}</span>{delta(p, x, ser)}
                      </td>
                    );
                  })}
                </tr>
              )))}
            </tbody>
          </table>
        </div>
        <div className="dim small" style={{ marginTop: 6 }}>
          Coloured numbers: change against {key}={byKey ? `its first setting within each ${byKey}` : (xs[0] ?? '…')} ({spec.better} is better{spec.percent ? ', percentage points' : ''}). Best values: {protocols.map((p) => {
            const pts = series.flatMap((ser) => xs.map((x) => cell(p, x, ser))).filter((c): c is AblationPoint => !!c && c.mean !== null);
            const best = pts.sort((a, b) => (spec.better === 'higher' ? b.mean! - a.mean! : a.mean! - b.mean!))[0];
            return best ? `${p} ${byKey ? `${byKey}=${seriesLabel(best.series)} ` : ''}${key}=${xLabel(best.x)} (${fmtMetric(best.mean, spec)})` : null;
          }).filter(Boolean).join('; ')}.
        </div>
      </div>
    </div>
  );
}
