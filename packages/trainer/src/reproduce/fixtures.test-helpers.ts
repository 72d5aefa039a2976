// Shared test fixture for reproduce tests: a 2-row x 2-column table over a synthetic-like dataset.
import { parseTableConfig, type TableConfig } from '../tables/config.ts';

export function demoTable(): TableConfig {
  return parseTableConfig({
    name: 'demo',
    title: 'Demo',
    datasets: { synth: { root: 'data/synth' } },
    weights: 'weights/backbone.safetensors',
    base: { steps: 5, backbone: { model: 'iresnet-tiny' } },
    rows: [
      { id: 'baseline', label: 'Baseline', set: { method: 'baseline' } },
      { id: 'n2', label: 'SSMB N=2', set: { method: 'ssmb', 'ssmb.numExperts': 2 } },
    ],
    columns: [
      { id: 'vv', label: 'VIS-VIS', dataset: 'synth', protocol: 'p-vis-vis', folds: ['1'], rows: ['baseline'] },
      { id: 'vn', label: 'VIS-NIR', dataset: 'synth', protocol: 'p-vis-nir' },
    ],
  });
}

export const foldsOf = (p: string) => (p === 'p-vis-nir' ? ['1', '2', '3'] : ['1']);
