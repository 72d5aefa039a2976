// Genuine/impostor score histograms: the run page's panel (one chart per protocol and fold) and the chart
// Compare overlays runs on. Each class is drawn as its share of its own comparisons per bin (impostors
// outnumber genuine pairs about 100:1); the legend says how many comparisons each series holds.
import { Area, CartesianGrid, ComposedChart, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { useApi } from './api.ts';
import { Exportable } from './charts.tsx';
import { niceAxis, PALETTE, tickFormatter } from './format.ts';
import { binCentres, histogramSeries, usedRange, type HistogramSeries, type ScoreHistogram } from './score_hist.ts';

export type DrawnHistogram = HistogramSeries & { color: string; dashed?: boolean };

const AXIS = { fontSize: 11 };
const TITLE = { fontSize: 11, fill: '#4b5563' };
export const GENUINE_COLOR = PALETTE[0];
export const IMPOSTOR_COLOR = PALETTE[1];

/** Step areas of several series over shared bins (`bins`: the lo, hi and bin count they share). */
export function ScoreHistogramChart({ bins, series, testId = 'score-histogram' }: { bins: Pick<ScoreHistogram, 'lo' | 'hi' | 'genuine'>; series: DrawnHistogram[]; testId?: string }) {
  const x = binCentres(bins);
  const [lo, hi] = usedRange(bins, series);
  const rows = x.map((c, i) => Object.fromEntries([['score', c], ...series.map((s) => [s.name, s.share[i]])])).filter((r) => r.score >= lo && r.score <= hi);
  const y = niceAxis(series.flatMap((s) => s.share), { includeZero: true, clamp: [0, 1] });
  const xAxis = niceAxis([lo, hi], { count: 6 });
  return (
    <div data-testid={testId} className="chart">
      <ResponsiveContainer width="100%" height={240}>
        <ComposedChart data={rows} margin={{ top: 8, right: 16, bottom: 18, left: 10 }}>
          <CartesianGrid stroke="#eef0f3" />
          <XAxis dataKey="score" type="number" domain={[lo, hi]} ticks={xAxis.ticks.filter((t) => t >= lo && t <= hi)} allowDataOverflow tick={AXIS}
            tickFormatter={(v: number) => v.toFixed(2)} label={{ value: 'cosine score', position: 'insideBottom', offset: -6, ...TITLE }} />
          <YAxis type="number" domain={y.domain} ticks={y.ticks} tick={AXIS} width={52} tickFormatter={tickFormatter(y.ticks, 100, '%')}
            label={{ value: 'share of comparisons', angle: -90, position: 'insideLeft', offset: 4, ...TITLE, style: { textAnchor: 'middle' } }} />
          <Tooltip formatter={(v) => `${(Number(v) * 100).toFixed(2)}%`} labelFormatter={(l) => `score ${Number(l).toFixed(3)}`} isAnimationActive={false} />
          <Legend verticalAlign="top" height={20} wrapperStyle={{ fontSize: 11 }} itemSorter={null} />
          {series.map((s) => (
            <Area key={s.name} name={`${s.name} (n=${s.total.toLocaleString('en-US')})`} dataKey={s.name} type="step" stroke={s.color} fill={s.color}
              fillOpacity={series.length > 2 ? 0.08 : 0.25} strokeDasharray={s.dashed ? '4 3' : undefined} dot={false} isAnimationActive={false} />
          ))}
        </ComposedChart>
      </ResponsiveContainer>
      {series.some((s) => s.outside > 0) && (
        <div className="warn-text small" data-testid="scores-outside">
          {series.filter((s) => s.outside > 0).map((s) => `${s.outside} ${s.name} score${s.outside === 1 ? '' : 's'}`).join(', ')} outside [{bins.lo}, {bins.hi}] or NaN: counted, not drawn
        </div>
      )}
    </div>
  );
}

/** The run page's panel: per protocol and fold its genuine and impostor histograms; nothing when none were stored. */
export function ScoreHistogramPanel({ runId, version }: { runId: number; version: number }) {
  const { data } = useApi<{ runId: number; histograms: ScoreHistogram[] }>(`/api/runs/${runId}/scores`, version);
  // (data of the run shown before stays until this run's answer comes: never drawn under this run's title)
  if (data?.runId !== runId || !data.histograms.length) return null;
  return (
    <div className="panel" data-testid="score-histograms">
      <h2>Score distributions <span className="dim small">genuine and impostor cosine scores per fold, each as its share of its own comparisons</span></h2>
      <div className="multiples">
        {data.histograms.map((h) => {
          const [g, i] = histogramSeries(h);
          return (
            <div key={`${h.protocol}/${h.fold}`} data-protocol={h.protocol} data-fold={h.fold}>
              <div className="chart-title">{h.protocol} / {h.fold}</div>
              <Exportable name={`run-${runId}-scores-${h.protocol}-${h.fold}`}>
                <ScoreHistogramChart bins={h} series={[{ ...g, color: GENUINE_COLOR }, { ...i, color: IMPOSTOR_COLOR }]} />
              </Exportable>
            </div>
          );
        })}
      </div>
    </div>
  );
}
