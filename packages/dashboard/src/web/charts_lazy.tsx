// The run page's charts, loaded on demand: the charting library is the largest part of the app's code,
// and the page's title, sidebar and tables need not wait for it. Same components as run_charts.ts; each
// shows an empty box of its size until the code is there. (Not React.lazy: React holds back content
// that suspended for a moment to reveal it together, which delayed the charts in view.)
import { useEffect, useState, type ComponentType, type ReactNode } from 'react';

type Charts = typeof import('./run_charts.ts');
let loaded: Charts | null = null;
let loading: Promise<Charts> | null = null;
/** The charts' code: started once, by the first chart shown (or by prefetching a run page). */
export const loadCharts = (): Promise<Charts> => (loading ??= import('./run_charts.ts').then((m) => (loaded = m)));

function useCharts(): Charts | null {
  const [m, setM] = useState(loaded);
  useEffect(() => {
    if (!m) void loadCharts().then(setM);
  }, [m]);
  return m;
}

function deferred<P extends object>(pick: (m: Charts) => ComponentType<P>, height: (p: P) => number) {
  return function Deferred(props: P) {
    const m = useCharts();
    if (!m) return <div className="chart-pending" style={{ height: height(props) }} />;
    const C = pick(m);
    return <C {...props} />;
  };
}

const EVAL_H = 260;
export const CurveChart = deferred((m) => m.CurveChart, (p) => p.height ?? 220);
export const RocChart = deferred((m) => m.RocChart, () => EVAL_H);
export const DetChart = deferred((m) => m.DetChart, () => EVAL_H);
export const CmcChart = deferred((m) => m.CmcChart, () => EVAL_H);
export const RoutingHeatmap = deferred((m) => m.RoutingHeatmap, () => 120);
export const ScoreHistogramPanel = deferred((m) => m.ScoreHistogramPanel, () => EVAL_H);
export const Exportable = deferred<{ name: string; children: ReactNode }>((m) => m.Exportable, () => EVAL_H);
