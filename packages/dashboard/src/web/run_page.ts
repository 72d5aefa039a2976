// What a run page reads, named once: the page (views/RunDetail.tsx) and the shell, which starts these
// reads and the charts' download as soon as the address is a run page, beside the page's own code.
import { prefetch, qs } from './api.ts';
import { loadCharts } from './charts_lazy.tsx';

/** Points per learning curve the page asks for first (the server downloads each history to this many). */
export const DEFAULT_MAX_POINTS = 1000;

export const runPageUrls = (id: number, maxPoints = DEFAULT_MAX_POINTS) => ({
  run: `/api/runs/${id}`,
  metrics: `/api/runs/${id}/metrics${qs({ maxPoints })}`,
  curves: `/api/runs/${id}/curves`,
  routing: `/api/runs/${id}/routing`,
});

/** Starts the run page's reads and its charts' download (the largest part of the page's code). */
export function prefetchRunPage(id: number): void {
  for (const url of Object.values(runPageUrls(id))) prefetch(url);
  void loadCharts();
}
