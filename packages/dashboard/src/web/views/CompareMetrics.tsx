// Compare's evaluation table: one column per group (a configuration's runs over folds and seeds, or one
// run), mean ± std over folds (n). Bold only when significantly best (paired t-test over folds and a
// bootstrap over probes, both at 5%); otherwise every group within the interval is marked tied (≈).
// Each other group shows its difference from the leader with the 95% interval and p. A TAR@FAR that
// rests on fewer than 10 false accepts is flagged (⚠).
import type { CompareResponse, GroupDiff } from '../api.ts';
import { useMeta } from '../meta.ts';
import { FewFalseAccepts } from '../components.tsx';
import { labelWithUnit, PALETTE, specOf } from '../format.ts';
import type { MetricSpec as MetricSpecLike } from '../api.ts';
import { fmtMeanStd } from '../format.ts';

const pct = (v: number, spec: MetricSpecLike) => (spec.percent ? v * 100 : v).toFixed(spec.decimals);
const fmtP = (p: number) => (p < 0.001 ? 'p<0.001' : `p=${p.toFixed(3)}`);

/** "Δ −20.00 [−26.61, −13.39] p=0.012": this group minus the leader, its interval and the t-test's p. */
export function fmtDiff(d: GroupDiff, spec: MetricSpecLike): string {
  const ci = d.bootstrap?.ci95 ?? d.ttest?.ci95;
  const sign = (v: number) => (v > 0 ? '+' : v < 0 ? '−' : '') + pct(Math.abs(v), spec);
  // The stored difference is leader minus this group; shown from this group's side.
  return `Δ ${sign(-d.diff)}${ci ? ` [${sign(-ci[1])}, ${sign(-ci[0])}]` : ''}${d.ttest ? ` ${fmtP(d.ttest.p)}` : ''}`;
}

export function CompareMetrics({ data }: { data: CompareResponse }) {
  const meta = useMeta();
  const order = meta?.evalMetrics ?? [];
  const rank = (m: string) => (order.includes(m) ? order.indexOf(m) : order.length);
  const rows = [...new Set(data.groupSummary.map((s) => `${s.protocol}\0${s.metric}`))]
    .map((k) => k.split('\0') as [string, string])
    .sort((a, b) => a[0].localeCompare(b[0]) || rank(a[1]) - rank(b[1]) || a[1].localeCompare(b[1]));
  const protocols = new Set(rows.map(([p]) => p));
  return (
    <table className="grid" data-testid="compare-metrics">
      <thead>
        <tr>
          {protocols.size > 1 && <th>protocol</th>}
          <th>metric</th>
          {data.groups.map((g, i) => (
            <th key={g.key} className="num" style={{ color: PALETTE[i % PALETTE.length] }} title={`runs ${g.runIds.map((id) => `#${id}`).join(', ')}; folds ${g.folds.join(', ') || '–'}; seeds ${g.seeds.join(', ')}`}>
              {g.label}<span className="unit">{g.runIds.length} run{g.runIds.length === 1 ? '' : 's'}</span>
            </th>
          ))}
        </tr>
        {protocols.size === 1 && <tr><th className="dim small">{[...protocols][0]}</th>{data.groups.map((g) => <th key={g.key} />)}</tr>}
      </thead>
      <tbody>
        {rows.map(([p, m]) => {
          const spec = specOf(meta?.metricSpecs, m);
          const r = data.ranking.find((x) => x.protocol === p && x.metric === m);
          return (
            <tr key={p + m} data-metric={m} data-protocol={p}>
              {protocols.size > 1 && <td>{p}</td>}
              <td>{labelWithUnit(spec)}</td>
              {data.groups.map((g) => {
                const s = data.groupSummary.find((x) => x.group === g.key && x.protocol === p && x.metric === m);
                if (!s) return <td key={g.key} className="num dim">–</td>;
                const best = r?.best === g.key;
                const tied = r?.tied.includes(g.key) ?? false;
                const d = r?.differences[g.key];
                return (
                  <td key={g.key} className={`num ${best ? 'best' : ''} ${tied ? 'tied' : ''}`} data-group={g.label}
                    title={best ? 'significantly best (paired t-test over folds and bootstrap over probes, 5%)' : tied ? 'tied with the best: the difference is not significant at 5%' : undefined}>
                    {tied && <span className="tie-mark">≈ </span>}
                    {fmtMeanStd(s.mean, s.std, s.n, spec)}
                    {s.n > 1 ? <span className="dim small"> ({s.n})</span> : null}
                    <FewFalseAccepts s={s} />
                    {d && <div className="dim small diff">{fmtDiff(d, spec)}</div>}
                  </td>
                );
              })}
            </tr>
          );
        })}
        {rows.length === 0 && <tr><td colSpan={2 + data.groups.length} className="dim">No evaluations yet.</td></tr>}
      </tbody>
    </table>
  );
}
