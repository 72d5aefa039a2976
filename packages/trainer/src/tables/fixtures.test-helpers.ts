// Shared test fixture: a small two-row, two-column table config (not a test file itself).
import { parseTableConfig, type TableConfig } from './config.ts';

export function smallTable(extra: Record<string, unknown> = {}): TableConfig {
  return parseTableConfig({
    name: 'demo',
    title: 'Demo table',
    datasets: { synth: { root: '.ssmb/synthetic' } },
    base: { train: { steps: 10 } },
    rows: [
      { id: 'baseline', label: 'Baseline', set: { method: 'baseline' } },
      { id: 'ssmb', label: 'SSMB (N=4)', set: { method: 'ssmb', 'ssmb.experts': 4 } },
    ],
    columns: [
      { id: 'vis-vis', label: 'VIS-VIS', dataset: 'synth', protocol: 'synthetic-vis-vis', rows: ['baseline'] },
      { id: 'vis-nir', label: 'VIS-NIR', dataset: 'synth', protocol: 'synthetic-vis-nir', folds: [1, 2, 3] },
    ],
    ...extra,
  });
}
