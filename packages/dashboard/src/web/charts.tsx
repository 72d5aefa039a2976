// Chart components (recharts, plus an SVG parallel-coordinates plot). Every chart titles both axes with
// their units; y domains and ticks come from niceAxis (round bounds, constant series padded, ticks never
// repeat a label). Animations are off: researchers reload often and screenshots must be stable.
import { useMemo, useState } from 'react';
import {
  Area, CartesianGrid, ComposedChart, ErrorBar, Legend, Line, LineChart, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis,
} from 'recharts';
import type { CurveGroup, EvalCurve, ParallelRun, WireNumber } from './api.ts';
import { fmtNumber, niceAxis, PALETTE, probit, smooth, tickFormatter } from './format.ts';

export interface LineSeries {
  name: string;
  steps: number[];
  /** As the API sends them: +-Infinity as strings (not drawn, counted under the chart). */
  values: WireNumber[];
  /** NaN points the series holds besides (the API counts them; not drawn, counted under the chart). */
  nan?: number;
  color?: string;
}

const H = 220;
const AXIS = { fontSize: 11 };
const xTitle = (value: string) => ({ value, position: 'insideBottom' as const, offset: -6, fontSize: 11, fill: '#4b5563' });
const yTitle = (value: string) => ({ value, angle: -90, position: 'insideLeft' as const, offset: 4, fontSize: 11, fill: '#4b5563', style: { textAnchor: 'middle' as const } });
const MARGIN = { top: 8, right: 16, bottom: 18, left: 10 };

/** Learning curves on a numeric step axis; smoothing draws the EMA over a faint raw line. */
/** Step axis: the data's range, ticks at round steps inside it. */
function stepAxis(steps: number[]): { domain: [number, number]; ticks: number[] } {
  const lo = Math.min(...steps);
  const hi = Math.max(...steps);
  if (!Number.isFinite(lo)) return { domain: [0, 1], ticks: [0, 1] };
  if (lo === hi) return { domain: [lo - 1, hi + 1], ticks: [lo] };
  const ticks = niceAxis([lo, hi], { count: 6 }).ticks.filter((t) => t >= lo && t <= hi && Number.isInteger(t));
  return { domain: [lo, hi], ticks };
}

export function CurveChart({ series, smoothing, yLabel, xLabel = 'step', height = H, testId, percent = false }: {
  series: LineSeries[]; smoothing: number; yLabel: string; xLabel?: string; height?: number; testId?: string; percent?: boolean;
}) {
  const scale = percent ? 100 : 1;
  // A line has no point at +-Infinity: such points (and NaN ones) are left out of the line and counted below it.
  const finite = useMemo(() => series.map((s) => {
    const keep = s.values.map((v) => Number.isFinite(Number(v)));
    return { ...s, steps: s.steps.filter((_, i) => keep[i]), values: s.values.map(Number).filter((_, i) => keep[i]), skipped: keep.filter((k) => !k).length + (s.nan ?? 0) };
  }), [series]);
  const skipped = finite.reduce((a, s) => a + s.skipped, 0);
  const axis = useMemo(() => niceAxis(finite.flatMap((s) => s.values.map((v) => v * scale))), [finite, scale]);
  const x = useMemo(() => stepAxis(finite.flatMap((s) => [s.steps[0], s.steps[s.steps.length - 1]]).filter((v) => v !== undefined)), [finite]);
  const fmt = tickFormatter(axis.ticks);
  return (
    <div data-testid={testId} className="chart">
      <ResponsiveContainer width="100%" height={height}>
        <LineChart margin={MARGIN}>
          <CartesianGrid stroke="#eef0f3" />
          <XAxis dataKey="step" type="number" domain={x.domain} ticks={x.ticks} allowDuplicatedCategory={false} tick={AXIS} label={xTitle(xLabel)} />
          <YAxis type="number" domain={axis.domain} ticks={axis.ticks} tick={AXIS} width={58} tickFormatter={fmt} label={yTitle(yLabel)} allowDataOverflow />
          <Tooltip formatter={(v) => fmtNumber(v)} labelFormatter={(l) => `${xLabel} ${l}`} isAnimationActive={false} />
          {series.length > 1 && <Legend verticalAlign="top" height={20} wrapperStyle={{ fontSize: 11 }} itemSorter={null} />}
          {finite.map((s, i) => {
            const color = s.color ?? PALETTE[i % PALETTE.length];
            const sm = smooth(s.values, smoothing);
            return [
              smoothing > 0 && (
                <Line key={`${s.name}-raw`} data={s.steps.map((step, j) => ({ step, v: s.values[j] * scale }))} dataKey="v" name={`${s.name} (raw)`} stroke={color}
                  strokeOpacity={0.22} dot={false} isAnimationActive={false} legendType="none" />
              ),
              <Line key={s.name} data={s.steps.map((step, j) => ({ step, v: sm[j] * scale }))} dataKey="v" name={s.name} stroke={color} dot={false} strokeWidth={1.6}
                isAnimationActive={false} />,
            ];
          })}
        </LineChart>
      </ResponsiveContainer>
      {skipped > 0 && (
        <div className="warn-text small" data-testid="points-not-drawn" title="a line has no point at NaN or +-Infinity">
          {finite.filter((s) => s.skipped > 0).map((s) => `${s.name}: ${s.skipped.toLocaleString('en-US')}`).join(', ')} point(s) not drawn (NaN or ±Infinity)
        </div>
      )}
    </div>
  );
}

/** Grouped curves: per group the mean over its runs and a mean +- std band (where n > 1). */
export function BandChart({ groups, yLabel, xLabel = 'step', testId }: { groups: CurveGroup[]; yLabel: string; xLabel?: string; testId?: string }) {
  const axis = niceAxis(groups.flatMap((g) => g.mean.flatMap((m, i) => [m - (g.std[i] ?? 0), m + (g.std[i] ?? 0)])));
  const x = stepAxis(groups.flatMap((g) => g.steps.map(Math.round)));
  return (
    <div data-testid={testId} className="chart">
      <ResponsiveContainer width="100%" height={300}>
        <ComposedChart margin={MARGIN}>
          <CartesianGrid stroke="#eef0f3" />
          <XAxis dataKey="step" type="number" domain={['dataMin', 'dataMax']} ticks={x.ticks} allowDuplicatedCategory={false} tick={AXIS} label={xTitle(xLabel)} />
          <YAxis type="number" domain={axis.domain} ticks={axis.ticks} tick={AXIS} width={58} tickFormatter={tickFormatter(axis.ticks)} label={yTitle(yLabel)} allowDataOverflow />
          <Tooltip formatter={(v) => (Array.isArray(v) ? `${fmtNumber(v[0])} – ${fmtNumber(v[1])}` : fmtNumber(v))} labelFormatter={(l) => `${xLabel} ${Math.round(Number(l))}`} isAnimationActive={false} />
          <Legend verticalAlign="top" height={20} wrapperStyle={{ fontSize: 11 }} itemSorter={null} />
          {groups.map((g, i) => {
            const color = PALETTE[i % PALETTE.length];
            const data = g.steps.map((step, j) => ({ step, mean: g.mean[j], band: [g.mean[j] - (g.std[j] ?? 0), g.mean[j] + (g.std[j] ?? 0)] }));
            return [
              <Area key={`${g.label}-band`} data={data} dataKey="band" stroke="none" fill={color} fillOpacity={0.16} isAnimationActive={false} legendType="none" name={`${g.label} ± std`} />,
              <Line key={g.label} data={data} dataKey="mean" name={`${g.label} (n=${Math.max(...g.n)})`} stroke={color} dot={false} strokeWidth={1.8} isAnimationActive={false} />,
            ];
          })}
        </ComposedChart>
      </ResponsiveContainer>
    </div>
  );
}

/** An evaluation curve to draw; `label` and `color` when it stands for a run or group (Compare overlays). */
export type DrawnCurve = EvalCurve & { label?: string; color?: string };
const curveName = (c: DrawnCurve) => c.label ?? `${c.protocol}/${c.fold}`;
const curveColor = (c: DrawnCurve, i: number) => c.color ?? PALETTE[i % PALETTE.length];
const FAR_TICKS = [1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1];
const pct = (p: number) => `${+(p * 100).toPrecision(2)}%`;

/** ROC: TAR against FAR on a log axis (FAR = 0 cannot be drawn on a log axis and is left out). */
export function RocChart({ curves, testId }: { curves: DrawnCurve[]; testId?: string }) {
  const minFar = Math.min(1e-1, ...curves.flatMap((c) => c.x.filter((x) => x > 0)));
  const lo = 10 ** Math.floor(Math.log10(minFar));
  const y = niceAxis(curves.flatMap((c) => c.y), { clamp: [0, 1] });
  return (
    <div data-testid={testId ?? 'roc-chart'} className="chart">
      <ResponsiveContainer width="100%" height={H + 20}>
        <LineChart margin={MARGIN}>
          <CartesianGrid stroke="#eef0f3" />
          <XAxis dataKey="far" type="number" scale="log" domain={[lo, 1]} ticks={FAR_TICKS.filter((t) => t >= lo)} allowDataOverflow tickFormatter={pct} tick={AXIS} label={xTitle('FAR (log)')} />
          <YAxis type="number" domain={y.domain} ticks={y.ticks} tick={AXIS} width={52} tickFormatter={tickFormatter(y.ticks, 100, '%')} label={yTitle('TAR')} />
          <Tooltip formatter={(v) => `${(Number(v) * 100).toFixed(2)}%`} labelFormatter={(l) => `FAR ${(Number(l) * 100).toPrecision(3)}%`} isAnimationActive={false} />
          {curves.length > 1 && <Legend verticalAlign="top" height={20} wrapperStyle={{ fontSize: 11 }} itemSorter={null} />}
          {curves.map((c, i) => (
            <Line key={curveName(c)} name={curveName(c)} data={c.x.map((far, j) => ({ far, tar: c.y[j] })).filter((p) => p.far > 0)} dataKey="tar"
              stroke={curveColor(c, i)} dot={false} isAnimationActive={false} />
          ))}
        </LineChart>
      </ResponsiveContainer>
    </div>
  );
}

const DET_TICKS = [0.0001, 0.001, 0.01, 0.05, 0.2, 0.5, 0.8, 0.95];

/** DET: FNMR (= 1 - TAR) against FMR (= FAR), both on probit (normal deviate) axes. */
export function DetChart({ curves, testId }: { curves: DrawnCurve[]; testId?: string }) {
  const ticks = DET_TICKS.map(probit);
  const label = (v: number) => pct(DET_TICKS[ticks.findIndex((t) => Math.abs(t - v) < 1e-9)] ?? 0);
  return (
    <div data-testid={testId ?? 'det-chart'} className="chart">
      <ResponsiveContainer width="100%" height={H + 20}>
        <LineChart margin={MARGIN}>
          <CartesianGrid stroke="#eef0f3" />
          <XAxis dataKey="x" type="number" domain={[ticks[0], ticks[ticks.length - 1]]} ticks={ticks} allowDataOverflow tickFormatter={label} tick={AXIS} label={xTitle('FMR')} />
          <YAxis type="number" domain={[ticks[0], ticks[ticks.length - 1]]} ticks={ticks} allowDataOverflow tickFormatter={label} tick={AXIS} width={52} label={yTitle('FNMR')} />
          {curves.length > 1 && <Legend verticalAlign="top" height={20} wrapperStyle={{ fontSize: 11 }} itemSorter={null} />}
          {curves.map((c, i) => (
            <Line key={curveName(c)} name={curveName(c)} dataKey="y" stroke={curveColor(c, i)} dot={false} isAnimationActive={false}
              data={c.x.map((far, j) => ({ x: probit(far), y: probit(1 - c.y[j]) })).filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y))} />
          ))}
        </LineChart>
      </ResponsiveContainer>
    </div>
  );
}

/** CMC: identification rate against rank; the rate axis stops at 100%. */
export function CmcChart({ curves, testId }: { curves: DrawnCurve[]; testId?: string }) {
  const y = niceAxis(curves.flatMap((c) => c.y), { clamp: [0, 1] });
  const maxRank = Math.max(1, ...curves.flatMap((c) => c.x));
  const rankTicks = [1, ...niceAxis([0, maxRank], { count: 6 }).ticks.filter((t) => t > 1 && t <= maxRank && Number.isInteger(t))];
  return (
    <div data-testid={testId ?? 'cmc-chart'} className="chart">
      <ResponsiveContainer width="100%" height={H + 20}>
        <LineChart margin={MARGIN}>
          <CartesianGrid stroke="#eef0f3" />
          <XAxis dataKey="rank" type="number" domain={[1, maxRank]} ticks={rankTicks} allowDecimals={false} tick={AXIS} label={xTitle('rank')} />
          <YAxis type="number" domain={y.domain} ticks={y.ticks} tick={AXIS} width={52} tickFormatter={tickFormatter(y.ticks, 100, '%')} label={yTitle('identification rate')} />
          <Tooltip formatter={(v) => `${(Number(v) * 100).toFixed(2)}%`} labelFormatter={(l) => `rank ${l}`} isAnimationActive={false} />
          {curves.length > 1 && <Legend verticalAlign="top" height={20} wrapperStyle={{ fontSize: 11 }} itemSorter={null} />}
          {curves.map((c, i) => (
            <Line key={curveName(c)} name={curveName(c)} data={c.x.map((rank, j) => ({ rank, rate: c.y[j] }))} dataKey="rate" stroke={curveColor(c, i)}
              dot={{ r: 2 }} isAnimationActive={false} />
          ))}
        </LineChart>
      </ResponsiveContainer>
    </div>
  );
}

export interface AblationPoint2 { x: string; mean: number; std: number | null; n: number }

export interface AblationPanel {
  protocol: string;
  /** One line per value of the second knob (e.g. the expert kind); a single line has no name. */
  lines: Array<{ name: string | null; points: AblationPoint2[] }>;
  baseline?: { mean: number; std: number | null; n: number };
}

/**
 * Small multiples: one panel per protocol (its own y scale), the metric against the config value with
 * mean +- std error bars, one line per value of a second knob when there is one (e.g. one line per
 * expert kind against N), and the frozen baseline as a dashed reference line, so "does N > 1 beat
 * N = 1 here, for this kind, and the baseline?" reads off each panel.
 */
export function AblationCharts({ panels, xs, xLabel, yLabel, percent }: { panels: AblationPanel[]; xs: string[]; xLabel: string; yLabel: string; percent: boolean }) {
  const scale = percent ? 100 : 1;
  const names = [...new Set(panels.flatMap((p) => p.lines.map((l) => l.name)))];
  const many = names.length > 1;
  return (
    <div className="multiples" data-testid="ablation-chart">
      {panels.map((p, i) => {
        const values = p.lines.flatMap((l) => l.points.flatMap((q) => [(q.mean - (q.std ?? 0)) * scale, (q.mean + (q.std ?? 0)) * scale]));
        if (p.baseline) values.push(p.baseline.mean * scale);
        const axis = niceAxis(values, { count: 4, pad: 0.12, clamp: percent ? [0, 100] : undefined });
        const baseY = p.baseline ? p.baseline.mean * scale : null;
        // The baseline's label goes on the side of its line with more room, so a line by the x axis (a
        // percent axis stops at 0) keeps its label off the axis' tick labels, and one at the top inside the plot.
        const labelBelow = baseY !== null && baseY - axis.domain[0] > axis.domain[1] - baseY;
        // one row per x; line j's mean, error and n under m<j>, e<j>, n<j>
        const data = xs.map((x) => {
          const row: Record<string, string | number> = { x };
          p.lines.forEach((l) => {
            const j = names.indexOf(l.name);
            const q = l.points.find((pt) => pt.x === x);
            if (q) Object.assign(row, { [`m${j}`]: q.mean * scale, [`e${j}`]: q.n > 1 && q.std !== null ? q.std * scale : 0, [`n${j}`]: q.n });
          });
          return row;
        });
        const colorOf = (j: number) => PALETTE[(many ? j : i) % PALETTE.length];
        return (
          <div key={p.protocol} className="multiple" data-protocol={p.protocol}>
            <div className="chart-title">{p.protocol}{p.lines.length === 0 && <span className="dim small" data-testid="baseline-only">frozen baseline only: no run {xLabel} applies to</span>}</div>
            <ResponsiveContainer width="100%" height={many ? 270 : 250}>
              <ComposedChart data={data} margin={{ top: 8, right: 12, bottom: 18, left: 10 }}>
                <CartesianGrid stroke="#eef0f3" />
                <XAxis dataKey="x" type="category" tick={AXIS} padding={{ left: 28, right: 28 }} label={xTitle(xLabel)} />
                <YAxis type="number" domain={axis.domain} ticks={axis.ticks} tick={AXIS} width={50} tickFormatter={tickFormatter(axis.ticks)} label={yTitle(yLabel)} />
                <Tooltip
                  formatter={(v, name, item) => {
                    const j = Number(String(item.dataKey ?? '').slice(1));
                    return String(item.dataKey ?? '').startsWith('m') ? `${fmtNumber(v)} (n=${(item.payload as Record<string, number>)[`n${j}`] ?? 0})` : fmtNumber(v);
                  }}
                  isAnimationActive={false} />
                {many && <Legend verticalAlign="top" height={20} wrapperStyle={{ fontSize: 11 }} itemSorter={null} />}
                {p.baseline && (
                  <ReferenceLine y={baseY!} stroke="#6b7280" strokeDasharray="5 4" ifOverflow="extendDomain"
                    label={{ value: `frozen baseline ${baseY!.toFixed(percent ? 2 : 4)}`, position: labelBelow ? 'insideTopRight' /* under the line */ : 'insideBottomRight' /* over it */, fontSize: 10, fill: '#4b5563' }} />
                )}
                {p.lines.map((l) => {
                  const j = names.indexOf(l.name);
                  const color = colorOf(j);
                  return (
                    <Line key={String(l.name)} dataKey={`m${j}`} name={l.name ?? 'mean'} stroke={color} strokeWidth={2} dot={{ r: 4, fill: color }} isAnimationActive={false} connectNulls>
                      <ErrorBar dataKey={`e${j}`} width={8} strokeWidth={1.4} stroke={color} direction="y" />
                    </Line>
                  );
                })}
              </ComposedChart>
            </ResponsiveContainer>
          </div>
        );
      })}
    </div>
  );
}

/** Colour of a value in [0, 1] on a blue (worse) -> orange (better) scale. */
const ramp = (t: number) => {
  const a = [49, 54, 149];
  const b = [244, 109, 67];
  const c = a.map((v, i) => Math.round(v + (b[i] - v) * Math.min(1, Math.max(0, t))));
  return `rgb(${c.join(',')})`;
};

interface Axis { key: string; kind: 'number' | 'category'; values: unknown[]; pos: (v: unknown) => number; ticks: Array<{ v: unknown; y: number; label: string }>; log: boolean }

function buildAxis(key: string, raw: unknown[], top: number, bottom: number): Axis {
  const vals = raw.filter((v) => v !== null && v !== undefined);
  const numeric = vals.length > 0 && vals.every((v) => typeof v === 'number');
  if (numeric) {
    const nums = vals as number[];
    const log = Math.min(...nums) > 0 && Math.max(...nums) / Math.min(...nums) >= 20;
    // Linear axes get round bounds; log axes the data's range.
    const [lo, hi] = log || new Set(nums).size <= 6 ? [Math.min(...nums), Math.max(...nums)] : niceAxis(nums, { count: 4 }).domain;
    const f = (v: number) => (log ? Math.log10(v) : v);
    const span = f(hi) - f(lo) || 1;
    const pos = (v: unknown) => (typeof v === 'number' ? bottom - ((f(v) - f(lo)) / span) * (bottom - top) : bottom + 14);
    const distinct = [...new Set(nums)].sort((a, b) => a - b);
    const tickVals = distinct.length <= 6 ? distinct : niceAxis(nums, { count: 4 }).ticks.filter((t) => t >= lo && t <= hi);
    const ticks = tickVals.map((v) => ({ v: v as unknown, y: pos(v), label: fmtNumber(v) }));
    if (vals.length < raw.length) ticks.push({ v: null, y: bottom + 14, label: 'n/a' });
    return { key, kind: 'number', values: vals, pos, log, ticks };
  }
  const cats = [...new Set(raw.map((v) => JSON.stringify(v ?? null)))].sort();
  const pos = (v: unknown) => {
    const i = cats.indexOf(JSON.stringify(v ?? null));
    return cats.length === 1 ? (top + bottom) / 2 : top + (i / (cats.length - 1)) * (bottom - top);
  };
  return { key, kind: 'category', values: raw, pos, log: false, ticks: cats.map((c) => ({ v: JSON.parse(c), y: pos(JSON.parse(c)), label: c === 'null' ? 'n/a' : fmtNumber(JSON.parse(c)) })) };
}

/**
 * Parallel coordinates: one vertical axis per config key and a last one for the metric; one line per run,
 * coloured by its metric (orange = better). Drag along an axis to keep only runs inside the range; click
 * a line to open its run.
 */
export function ParallelCoordinates({ runs, keys, metricLabel, metricNote, better, percent, onOpen }: {
  runs: ParallelRun[]; keys: string[]; metricLabel: string; metricNote: string; better: 'higher' | 'lower'; percent: boolean; onOpen: (id: number) => void;
}) {
  const W = 1160;
  const Hh = 400;
  const top = 48;
  const bottom = Hh - 40;
  const left = 90;
  const right = W - 110;
  const scale = percent ? 100 : 1;
  const axes = [...keys.map((k) => buildAxis(k, runs.map((r) => r.values[k]), top, bottom)), buildAxis('__metric', runs.map((r) => (r.value === null ? null : r.value * scale)), top, bottom)];
  const xOf = (i: number) => (axes.length === 1 ? (left + right) / 2 : left + (i / (axes.length - 1)) * (right - left));
  const [brush, setBrush] = useState<Record<string, [number, number]>>({});
  const [drag, setDrag] = useState<{ key: string; y0: number; y1: number } | null>(null);
  const [hover, setHover] = useState<number | null>(null);
  const metricVals = runs.map((r) => r.value).filter((v): v is number => v !== null);
  const mlo = Math.min(...metricVals);
  const mhi = Math.max(...metricVals);
  const goodness = (v: number | null) => (v === null || mhi === mlo ? 0.5 : better === 'higher' ? (v - mlo) / (mhi - mlo) : (mhi - v) / (mhi - mlo));
  const valueOf = (r: ParallelRun, a: Axis) => (a.key === '__metric' ? (r.value === null ? null : r.value * scale) : r.values[a.key]);
  const inside = (r: ParallelRun) =>
    axes.every((a) => {
      const b = brush[a.key];
      if (!b) return true;
      const y = a.pos(valueOf(r, a));
      return y >= Math.min(...b) && y <= Math.max(...b);
    });
  const svgY = (e: React.MouseEvent<SVGElement>) => {
    const box = (e.currentTarget.ownerSVGElement ?? (e.currentTarget as unknown as SVGSVGElement)).getBoundingClientRect();
    return ((e.clientY - box.top) / box.height) * Hh;
  };
  const shown = runs.filter(inside).length;
  return (
    <div data-testid="parallel-chart" className="parallel">
      <div className="dim small">{shown} of {runs.length} runs shown{Object.keys(brush).length ? ' (drag on an axis to filter; double-click an axis to clear)' : ' — drag along an axis to filter'}</div>
      <svg viewBox={`0 0 ${W} ${Hh}`} width="100%" role="img" aria-label="parallel coordinates">
        {runs.map((r) => {
          const pts = axes.map((a, i) => `${xOf(i)},${a.pos(valueOf(r, a))}`).join(' ');
          const on = inside(r);
          return (
            <polyline key={r.id} className="pc-line" data-run-id={r.id} points={pts} fill="none"
              stroke={on ? ramp(goodness(r.value)) : '#d1d5db'} strokeOpacity={hover === null ? (on ? 0.75 : 0.35) : hover === r.id ? 1 : 0.15}
              strokeWidth={hover === r.id ? 3 : 1.4} onMouseEnter={() => setHover(r.id)} onMouseLeave={() => setHover(null)} onClick={() => onOpen(r.id)} style={{ cursor: 'pointer' }}>
              <title>{`#${r.id} ${r.name}\n${axes.map((a) => `${a.key === '__metric' ? metricLabel : a.key}: ${fmtNumber(valueOf(r, a))}`).join('\n')}`}</title>
            </polyline>
          );
        })}
        {axes.map((a, i) => {
          const x = xOf(i);
          const b = drag?.key === a.key ? [drag.y0, drag.y1] : brush[a.key];
          return (
            <g key={a.key} className="pc-axis" data-axis={a.key === '__metric' ? 'metric' : a.key}>
              <line x1={x} x2={x} y1={top} y2={bottom} stroke="#374151" />
              <text x={x} y={top - 24} textAnchor="middle" fontSize={12} fontWeight={600} fill="#1d2330" className="pc-title">
                {a.key === '__metric' ? metricLabel : a.key}{a.log ? ' (log)' : ''}
              </text>
              {a.key === '__metric' && <text x={x} y={top - 10} textAnchor="middle" fontSize={10} fill="#4b5563">{metricNote}</text>}
              {a.ticks.map((t) => (
                <g key={String(t.label)}>
                  <line x1={x - 4} x2={x} y1={t.y} y2={t.y} stroke="#374151" />
                  <text x={x - 7} y={t.y + 4} textAnchor="end" fontSize={10} fill="#4b5563">{t.label}</text>
                </g>
              ))}
              {b && <rect x={x - 8} y={Math.min(...b)} width={16} height={Math.abs(b[1] - b[0])} fill="#2563eb" fillOpacity={0.18} stroke="#2563eb" />}
              <rect x={x - 12} y={top - 6} width={24} height={bottom - top + 12} fill="transparent" style={{ cursor: 'ns-resize' }}
                onMouseDown={(e) => setDrag({ key: a.key, y0: svgY(e), y1: svgY(e) })}
                onMouseMove={(e) => drag?.key === a.key && setDrag({ ...drag, y1: svgY(e) })}
                onMouseUp={() => {
                  if (drag && Math.abs(drag.y1 - drag.y0) > 3) setBrush({ ...brush, [a.key]: [drag.y0, drag.y1] });
                  setDrag(null);
                }}
                onDoubleClick={() => {
                  const { [a.key]: _gone, ...rest } = brush;
                  setBrush(rest);
                }} />
            </g>
          );
        })}
      </svg>
    </div>
  );
}

/**
 * A chart with SVG and PNG downloads of what is drawn (the recharts SVG serialised with its fonts; the
 * PNG rendered from it at 2x for print).
 */
export function Exportable({ name, children }: { name: string; children: React.ReactNode }) {
  const [box, setBox] = useState<HTMLDivElement | null>(null);
  const svgText = () => {
    const svg = box?.querySelector('.recharts-wrapper > svg.recharts-surface') as SVGSVGElement | null;
    if (!svg) return null;
    const copy = svg.cloneNode(true) as SVGSVGElement;
    copy.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
    copy.setAttribute('style', 'font: 11px system-ui, sans-serif; background: #fff');
    return { text: new XMLSerializer().serializeToString(copy), width: svg.width.baseVal.value, height: svg.height.baseVal.value };
  };
  const save = (blob: Blob, ext: string) => {
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `${name}.${ext}`;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  };
  const svg = () => {
    const s = svgText();
    if (s) save(new Blob([s.text], { type: 'image/svg+xml' }), 'svg');
  };
  const png = () => {
    const s = svgText();
    if (!s) return;
    const img = new Image();
    img.onload = () => {
      const c = document.createElement('canvas');
      c.width = s.width * 2;
      c.height = s.height * 2;
      const g = c.getContext('2d')!;
      g.fillStyle = '#fff';
      g.fillRect(0, 0, c.width, c.height);
      g.drawImage(img, 0, 0, c.width, c.height);
      c.toBlob((b) => b && save(b, 'png'), 'image/png');
    };
    img.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(s.text)}`;
  };
  return (
    <div ref={setBox} className="exportable">
      {children}
      <div className="export-buttons small">
        <button className="link" onClick={svg} aria-label={`download ${name} as SVG`}>SVG</button>
        <button className="link" onClick={png} aria-label={`download ${name} as PNG`}>PNG</button>
      </div>
    </div>
  );
}
