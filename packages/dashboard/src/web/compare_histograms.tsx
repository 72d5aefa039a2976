// Compare: the genuine/impostor score histograms of the compared configurations overlaid, one chart per
// protocol. A group's folds are summed bin by bin (all evaluations share the bins); colour = the group's
// column in the table above, genuine solid, impostor dashed.
import { useEffect, useState } from 'react';
import { api, type CompareGroup } from './api.ts';
import { Exportable } from './charts.tsx';
import { ErrorBox } from './components.tsx';
import { PALETTE } from './format.ts';
import { histogramSeries, sumHistograms, type ScoreHistogram } from './score_hist.ts';
import { ScoreHistogramChart, type DrawnHistogram } from './score_histograms.tsx';

/** Every run's histograms (one request per run), keyed by run id. */
function useScoreHistograms(ids: number[]): { byRun: Map<number, ScoreHistogram[]>; error: Error | null } {
  const [state, setState] = useState<{ byRun: Map<number, ScoreHistogram[]>; error: Error | null }>({ byRun: new Map(), error: null });
  const key = ids.join(',');
  useEffect(() => {
    let live = true;
    Promise.all(ids.map((id) => api<{ histograms: ScoreHistogram[] }>(`/api/runs/${id}/scores`).then((r) => [id, r.histograms] as const)))
      .then((all) => live && setState({ byRun: new Map(all), error: null }))
      .catch((error: Error) => live && setState({ byRun: new Map(), error }));
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);
  return state;
}

export function CompareScoreHistograms({ groups }: { groups: CompareGroup[] }) {
  const { byRun, error } = useScoreHistograms(groups.flatMap((g) => g.runIds));
  if (error) return <ErrorBox error={error} />;
  const all = [...byRun.values()].flat();
  const protocols = [...new Set(all.map((h) => h.protocol))].sort();
  if (protocols.length === 0) return null;
  return (
    <div className="panel" data-testid="compare-score-histograms">
      <h2>Score distributions <span className="dim small">per protocol, each configuration's folds summed; genuine solid, impostor dashed; each as its share of its own comparisons</span></h2>
      <div className="multiples">
        {protocols.map((p) => {
          const series: DrawnHistogram[] = groups.flatMap((g, i) => {
            const hs = g.runIds.flatMap((id) => byRun.get(id) ?? []).filter((h) => h.protocol === p);
            if (hs.length === 0) return [];
            const [gen, imp] = histogramSeries(sumHistograms(hs), `${g.label} `);
            const color = PALETTE[i % PALETTE.length];
            return [{ ...gen, color }, { ...imp, color, dashed: true }];
          });
          const bins = all.find((h) => h.protocol === p)!;
          return (
            <div key={p} data-protocol={p}>
              <div className="chart-title">{p}</div>
              <Exportable name={`scores-${p}`}><ScoreHistogramChart bins={bins} series={series} testId="compare-score-histogram" /></Exportable>
            </div>
          );
        })}
      </div>
    </div>
  );
}
