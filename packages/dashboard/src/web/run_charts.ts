// Everything the run page draws with the charting library, as one module: charts_lazy.tsx loads it on
// demand (the page's first download holds no charting code).
export * from './charts.tsx';
export { RoutingHeatmap } from './routing_heatmap.tsx';
export { ScoreHistogramPanel } from './score_histograms.tsx';
