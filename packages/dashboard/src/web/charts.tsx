// Chart components (recharts). Animations are off: researchers reload often and screenshots must be stable.
import { CartesianGrid, ErrorBar, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { EvalCurve, RoutingRow } from './api.ts';
import { fmtNumber, PALETTE, probit, smooth } from './format.ts';

export interface LineSeries {
  name: string;
  steps: number[];
  values: number[];
  color?: string;
}

const H = 260;

/** Learning curves: every series on a numeric step axis; smoothing draws the EMA over a faint raw line. */
export function CurveChart({ series, smoothing, height = H, testId }: { series: LineSeries[]; smoothing: number; height?: number; testId?: string }) {
  return (
    <div data-testid={testId} className="chart">
      <ResponsiveContainer width="100%" height={height}>
        <LineChart margin={{ top: 6, right: 16, bottom: 4, left: 0 }}>
          <CartesianGrid stroke="#eef0f3" />
          <XAxis dataKey="step" type="number" domain={['dataMin', 'dataMax']} allowDuplicatedCategory={false} tick={{ fontSize: 11 }} />
          <YAxis type="number" domain={['auto', 'auto']} tick={{ fontSize: 11 }} width={56} tickFormatter={(v) => fmtNumber(v)} />
          <Tooltip formatter={(v) => fmtNumber(v)} labelFormatter={(l) => `step ${l}`} isAnimationActive={false} />
          <Legend verticalAlign="top" height={22} wrapperStyle={{ fontSize: 11 }} />
          {series.map((s, i) => {
            const color = s.color ?? PALETTE[i % PALETTE.length];
            const sm = smooth(s.values, smoothing);
            return [
              smoothing > 0 && (
                <Line key={`${s.name}-raw`} data={s.steps.map((step, j) => ({ step, v: s.values[j] }))} dataKey="v" name={`${s.name} (raw)`} stroke={color}
                  strokeOpacity={0.25} dot={false} isAnimationActive={false} legendType="none" />
              ),
              <Line key={s.name} data={s.steps.map((step, j) => ({ step, v: sm[j] }))} dataKey="v" name={s.name} stroke={color} dot={false} strokeWidth={1.6}
                isAnimationActive={false} />,
            ];
          })}
        </LineChart>
      </ResponsiveContainer>
    </div>
  );
}

const curveName = (c: EvalCurve) => `${c.protocol}/${c.fold}`;
const FAR_TICKS = [1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1];

/** ROC: TAR against FAR on a log axis (FAR = 0 cannot be drawn on a log axis and is left out). */
export function RocChart({ curves }: { curves: EvalCurve[] }) {
  const minFar = Math.min(1e-1, ...curves.flatMap((c) => c.x.filter((x) => x > 0)));
  const lo = 10 ** Math.floor(Math.log10(minFar));
  return (
    <div data-testid="roc-chart" className="chart">
      <ResponsiveContainer width="100%" height={H}>
        <LineChart margin={{ top: 6, right: 16, bottom: 14, left: 0 }}>
          <CartesianGrid stroke="#eef0f3" />
          <XAxis dataKey="far" type="number" scale="log" domain={[lo, 1]} ticks={FAR_TICKS.filter((t) => t >= lo)} allowDataOverflow
            tickFormatter={(v) => `${+(v * 100).toPrecision(2)}%`} tick={{ fontSize: 11 }} label={{ value: 'FAR', position: 'insideBottom', offset: -8, fontSize: 11 }} />
          <YAxis type="number" domain={[0, 1]} tick={{ fontSize: 11 }} width={44} tickFormatter={(v) => `${Math.round(v * 100)}%`} />
          <Tooltip formatter={(v) => `${(Number(v) * 100).toFixed(2)}%`} labelFormatter={(l) => `FAR ${(Number(l) * 100).toPrecision(3)}%`} isAnimationActive={false} />
          <Legend verticalAlign="top" height={22} wrapperStyle={{ fontSize: 11 }} />
          {curves.map((c, i) => (
            <Line key={curveName(c)} name={curveName(c)} data={c.x.map((far, j) => ({ far, tar: c.y[j] })).filter((p) => p.far > 0)} dataKey="tar"
              stroke={PALETTE[i % PALETTE.length]} dot={false} isAnimationActive={false} />
          ))}
        </LineChart>
      </ResponsiveContainer>
    </div>
  );
}

const DET_TICKS = [0.0001, 0.001, 0.01, 0.05, 0.2, 0.5, 0.8, 0.95];
const pctLabel = (p: number) => `${+(p * 100).toPrecision(2)}%`;

/** DET: miss rate (1 - TAR) against FAR, both on probit (normal deviate) axes. */
export function DetChart({ curves }: { curves: EvalCurve[] }) {
  const ticks = DET_TICKS.map(probit);
  const label = (v: number) => pctLabel(DET_TICKS[ticks.findIndex((t) => Math.abs(t - v) < 1e-9)] ?? 0);
  return (
    <div data-testid="det-chart" className="chart">
      <ResponsiveContainer width="100%" height={H}>
        <LineChart margin={{ top: 6, right: 16, bottom: 14, left: 0 }}>
          <CartesianGrid stroke="#eef0f3" />
          <XAxis dataKey="x" type="number" domain={[ticks[0], ticks[ticks.length - 1]]} ticks={ticks} allowDataOverflow tickFormatter={label} tick={{ fontSize: 11 }}
            label={{ value: 'FAR', position: 'insideBottom', offset: -8, fontSize: 11 }} />
          <YAxis type="number" domain={[ticks[0], ticks[ticks.length - 1]]} ticks={ticks} allowDataOverflow tickFormatter={label} tick={{ fontSize: 11 }} width={48}
            label={{ value: 'FRR', angle: -90, position: 'insideLeft', fontSize: 11 }} />
          <Legend verticalAlign="top" height={22} wrapperStyle={{ fontSize: 11 }} />
          {curves.map((c, i) => (
            <Line key={curveName(c)} name={curveName(c)} dataKey="y" stroke={PALETTE[i % PALETTE.length]} dot={false} isAnimationActive={false}
              data={c.x.map((far, j) => ({ x: probit(far), y: probit(1 - c.y[j]) })).filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y))} />
          ))}
        </LineChart>
      </ResponsiveContainer>
    </div>
  );
}

/** CMC: identification rate against rank. */
export function CmcChart({ curves }: { curves: EvalCurve[] }) {
  return (
    <div data-testid="cmc-chart" className="chart">
      <ResponsiveContainer width="100%" height={H}>
        <LineChart margin={{ top: 6, right: 16, bottom: 14, left: 0 }}>
          <CartesianGrid stroke="#eef0f3" />
          <XAxis dataKey="rank" type="number" domain={[1, 'dataMax']} allowDecimals={false} tick={{ fontSize: 11 }} label={{ value: 'rank', position: 'insideBottom', offset: -8, fontSize: 11 }} />
          <YAxis type="number" domain={['auto', 1]} tick={{ fontSize: 11 }} width={44} tickFormatter={(v) => `${Math.round(v * 100)}%`} />
          <Tooltip formatter={(v) => `${(Number(v) * 100).toFixed(2)}%`} labelFormatter={(l) => `rank ${l}`} isAnimationActive={false} />
          <Legend verticalAlign="top" height={22} wrapperStyle={{ fontSize: 11 }} />
          {curves.map((c, i) => (
            <Line key={curveName(c)} name={curveName(c)} data={c.x.map((rank, j) => ({ rank, rate: c.y[j] }))} dataKey="rate" stroke={PALETTE[i % PALETTE.length]}
              dot={{ r: 2 }} isAnimationActive={false} />
          ))}
        </LineChart>
      </ResponsiveContainer>
    </div>
  );
}

/** Routing heatmap: one modality x expert table per SSMB block; colour = share of the modality's probes. */
export function RoutingHeatmap({ rows }: { rows: RoutingRow[] }) {
  // Blocks in network order (stem, layer1..layer4), then any other names.
  const order = (b: string) => { const i = ['stem', 'layer1', 'layer2', 'layer3', 'layer4'].indexOf(b); return i < 0 ? 99 : i; };
  const blocks = [...new Set(rows.map((r) => r.block))].sort((a, b) => order(a) - order(b) || a.localeCompare(b));
  const modalities = [...new Set(rows.map((r) => r.modality))].sort();
  const experts = [...new Set(rows.map((r) => r.expert))].sort((a, b) => a - b);
  const count = new Map<string, number>();
  for (const r of rows) count.set(`${r.block}|${r.modality}|${r.expert}`, (count.get(`${r.block}|${r.modality}|${r.expert}`) ?? 0) + r.count);
  return (
    <div className="row" data-testid="routing-heatmap">
      {blocks.map((b) => (
        <div key={b}>
          <div className="chart-title">{b}</div>
          <table className="heat" data-block={b}>
            <thead>
              <tr>
                <th />
                {experts.map((e) => <th key={e}>expert {e}</th>)}
              </tr>
            </thead>
            <tbody>
              {modalities.map((m) => {
                const total = experts.reduce((a, e) => a + (count.get(`${b}|${m}|${e}`) ?? 0), 0) || 1;
                return (
                  <tr key={m}>
                    <th>{m}</th>
                    {experts.map((e) => {
                      const n = count.get(`${b}|${m}|${e}`) ?? 0;
                      const share = n / total;
                      return (
                        <td key={e} title={`${(share * 100).toFixed(1)}% of ${m} probes`} style={{ background: `rgba(37, 99, 235, ${0.08 + 0.85 * share})`, color: share > 0.5 ? '#fff' : '#1d2330' }}>
                          {n}
                        </td>
                      );
                    })}
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      ))}
    </div>
  );
}

export interface AblationSeries {
  protocol: string;
  points: Array<{ x: string; mean: number; std: number }>;
}

/** Metric against a config value, one line per protocol, error bars = std over folds. */
export function AblationChart({ xs, series, xLabel, percent }: { xs: string[]; series: AblationSeries[]; xLabel: string; percent: boolean }) {
  const scale = percent ? 100 : 1;
  const data = xs.map((x) => {
    const row: Record<string, number | string | number[]> = { x };
    for (const s of series) {
      const p = s.points.find((q) => q.x === x);
      if (p) {
        row[s.protocol] = p.mean * scale;
        row[`${s.protocol}__err`] = p.std * scale;
      }
    }
    return row;
  });
  return (
    <div data-testid="ablation-chart" className="chart">
      <ResponsiveContainer width="100%" height={340}>
        <LineChart data={data} margin={{ top: 10, right: 20, bottom: 16, left: 4 }}>
          <CartesianGrid stroke="#eef0f3" />
          <XAxis dataKey="x" type="category" tick={{ fontSize: 11 }} label={{ value: xLabel, position: 'insideBottom', offset: -10, fontSize: 11 }} />
          <YAxis type="number" domain={['auto', 'auto']} tick={{ fontSize: 11 }} width={52} tickFormatter={(v) => fmtNumber(v)} />
          <Tooltip formatter={(v) => fmtNumber(v)} isAnimationActive={false} />
          <Legend verticalAlign="top" height={22} wrapperStyle={{ fontSize: 11 }} />
          {series.map((s, i) => (
            <Line key={s.protocol} dataKey={s.protocol} name={s.protocol} stroke={PALETTE[i % PALETTE.length]} strokeWidth={2} dot={{ r: 3 }} isAnimationActive={false} connectNulls>
              <ErrorBar dataKey={`${s.protocol}__err`} width={6} strokeWidth={1.2} stroke={PALETTE[i % PALETTE.length]} direction="y" />
            </Line>
          ))}
        </LineChart>
      </ResponsiveContainer>
    </div>
  );
}
